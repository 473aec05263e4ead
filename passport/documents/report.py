"""What the passport report (PDF) says, section by section, from an access-filtered document.

A section appears only when the reader may see its data: the report is made from the same
filtered document as the JSON export, never from the stored values directly. Charts come from
`passport.charts`, the same code the pages use.

Recycled content is set against the minimum shares of Art. 8(2) (from 18 August 2031) and
Art. 8(3) (from 18 August 2036) of Regulation (EU) 2023/1542 as the compliance check holds them
(passport.services.compliance): a material declared "not contained" is outside the rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from passport import charts, selectors
from passport.attributes import BY_KEY
from passport.documents.batterypass import rated_energy_kwh
from passport.health_sources import CellSpreadPoint
from passport.models import Passport
from passport.services.compliance import RECYCLED_CONTENT_CATEGORIES, RECYCLED_CONTENT_MINIMUMS
from passport.values import NOT_CONTAINED
from passport.vocabulary import BatteryStatus, Category, Chemistry, PerformanceClass

# The Art. 8 minimums and the categories they cover have one home: the compliance check.
MINIMUMS_2031, MINIMUMS_2036 = (minimums for _, minimums, _ in RECYCLED_CONTENT_MINIMUMS)


@dataclass(frozen=True)
class Row:
    label: str
    value: str


@dataclass(frozen=True)
class RecycledRow:
    element: str
    pre: str
    post: str
    total_pct: float | None
    minimum_2031_pct: float
    minimum_2036_pct: float
    # Why the minimums do not apply ("" when they do).
    outside_rule: str

    @property
    def meets_2031(self) -> bool:
        return self.total_pct is not None and self.total_pct >= self.minimum_2031_pct

    @property
    def meets_2036(self) -> bool:
        return self.total_pct is not None and self.total_pct >= self.minimum_2036_pct


@dataclass
class Report:
    title: str
    identity: list[Row]
    specifications: list[Row]
    carbon: dict[str, Any] | None
    recycled: list[RecycledRow]
    health: list[Row]
    charts: list[str]
    events: list[Row]
    accidents: list[dict]
    end_of_life: list[Row]
    safety: list[Row]
    hazardous: list[dict]
    documents: list[dict]
    notes: list[str] = field(default_factory=list)


def _fmt(value: Any, unit: str | None = None) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        value = f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    text = str(value)
    return f"{text} {unit}" if unit and unit != "None" else text


def _rows(document: dict, keys: list[tuple[str, str | None]]) -> list[Row]:
    """Rows for the keys present (visible and given) in the document, labelled by the table."""
    rows = []
    for key, label in keys:
        value = document.get(key)
        if value is None:
            continue
        attribute = BY_KEY.get(key)
        rows.append(Row(label or (attribute.name if attribute else key),
                        _fmt(value, attribute.unit if attribute else None)))
    return rows


def _address(value: dict | None) -> str:
    if not value:
        return ""
    return ", ".join(str(value[part]) for part in ("street", "postal_code", "city", "country") if value.get(part))


def _label(choices: Any, value: str) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value


# {attribute key: [(moment of the data, value), ...]}
History = dict[str, list[tuple[dt.datetime, Any]]]


def health_history(*, passport: Passport, upto_seq: int) -> History:
    """Remaining capacity (Ah) and full cycles over the time of their data, from the passport's
    versions up to `upto_seq` (the versions are the history of its dynamic values)."""
    return selectors.passport_value_series(passport=passport, keys=charts.HEALTH_SERIES_KEYS, upto_seq=upto_seq)


def report_build(
    *, document: dict, history: History,
    cell_spread: list[CellSpreadPoint] | None = None,
) -> Report:
    """The report's sections from an access-filtered `document`; `history` and `cell_spread`
    must come from the same reader's rights (callers pass [] when the reader may not see use
    data: passport.health_sources.battery_cell_spread does so)."""
    d = document
    manufacturer = d.get("manufacturer_information") or {}
    identity = [
        *_rows(d, [("passport_identifier", "Passport identifier"), ("battery_identifier", "Battery identifier"),
                   ("model_name", "Battery model"), ("gtin", "GTIN"), ("serial_number", "Serial number"),
                   ("batch", "Batch")]),
        *([Row("Manufacturer", f"{manufacturer.get('name')} ({manufacturer.get('identifier')})"
               if manufacturer.get("identifier") else str(manufacturer.get("name")))] if manufacturer else []),
        *([Row("Manufacturing place", _address(d.get("manufacturing_place")))] if d.get("manufacturing_place") else []),
        *_rows(d, [("manufacturing_date", "Manufacturing date"), ("put_into_service_on", "Put into service on")]),
        *([Row("Category", _label(Category, d["category"]))] if d.get("category") else []),
        *([Row("Chemistry", _label(Chemistry, d["chemistry"]))] if d.get("chemistry") else []),
        *([Row("Status", _label(BatteryStatus, d["status"]))] if d.get("status") else []),
        *_rows(d, [("state", "Passport state"), ("warranty_period_years", "Warranty period")]),
    ]
    specifications = _rows(d, [
        ("rated_capacity_ah", None), ("nominal_voltage_v", None), ("min_voltage_v", None),
        ("max_voltage_v", None), ("battery_mass_kg", None), ("max_permitted_power_w", None),
        ("initial_round_trip_efficiency_pct", None), ("expected_lifetime_years", None),
        ("expected_lifetime_cycles", None), ("idle_temperature_lower_c", None), ("idle_temperature_upper_c", None),
    ])
    energy = rated_energy_kwh(d)
    if energy is not None:
        specifications.insert(1, Row("Rated energy (rated capacity x nominal voltage)", _fmt(energy, "kWh")))

    carbon = None
    if d.get("carbon_footprint_kg_co2e_per_kwh") is not None:
        stages = [(label, d.get(key)) for label, key in (
            ("Raw material acquisition", "carbon_footprint_raw_material_pct"),
            ("Production", "carbon_footprint_production_pct"),
            ("Distribution", "carbon_footprint_distribution_pct"),
            ("End of life and recycling", "carbon_footprint_end_of_life_pct"))]
        carbon = {
            "value": _fmt(d["carbon_footprint_kg_co2e_per_kwh"], "kg CO2e/kWh"),
            "performance_class": d.get("carbon_footprint_performance_class"),
            "classes": list(PerformanceClass.values),
            "stages": [(label, share) for label, share in stages if share is not None],
            "study_url": d.get("carbon_footprint_study_url"),
        }

    recycled = []
    covered = d.get("category") in RECYCLED_CONTENT_CATEGORIES
    for element in ("cobalt", "lead", "lithium", "nickel"):
        pre = d.get(f"pre_consumer_recycled_{element}_pct")
        post = d.get(f"post_consumer_recycled_{element}_pct")
        if pre is None or post is None:
            continue
        contained = NOT_CONTAINED not in (pre, post)
        total = round(pre + post, 4) if contained else None
        outside = ("" if contained and covered else
                   "not contained in the battery" if not contained else "Art. 8 does not cover this category")
        recycled.append(RecycledRow(element, _fmt(pre, "%") if contained else str(pre),
                                    _fmt(post, "%") if contained else str(post), total,
                                    MINIMUMS_2031[element], MINIMUMS_2036[element], outside))

    health = _rows(d, [("remaining_capacity_ah", None), ("state_of_charge_pct", None),
                       ("full_cycles_count", None), ("energy_throughput_kwh", None),
                       ("capacity_throughput_ah", None), ("remaining_round_trip_efficiency_pct", None),
                       ("state_of_certified_energy_pct", None)])
    rated = d.get("rated_capacity_ah")
    if d.get("remaining_capacity_ah") is not None and rated:
        health.insert(0, Row("State of health (remaining / rated capacity)",
                             _fmt(round(d["remaining_capacity_ah"] / rated * 100, 1), "%")))
    chart_svgs = charts.health_chart_svgs(
        series={key: points for key, points in history.items() if key in d},
        rated_capacity_ah=rated, cell_spread=cell_spread or [],
    )

    events = _rows(d, [("deep_discharge_events_count", None), ("overcharge_events_count", None),
                       ("time_above_temperature_boundary_minutes", None),
                       ("time_below_temperature_boundary_minutes", None),
                       ("time_charging_above_temperature_boundary_minutes", None),
                       ("time_charging_below_temperature_boundary_minutes", None)])
    end_of_life = _rows(d, [("end_user_waste_prevention_info", "Waste prevention"),
                            ("end_user_separate_collection_info", "Separate collection"),
                            ("collection_and_treatment_info", "Collection, second life and treatment")])
    safety = []
    if d.get("extinguishing_agent"):
        safety.append(Row("Extinguishing agent", ", ".join(d["extinguishing_agent"])))
    if d.get("safety_measures"):
        safety.append(Row("Safety measures", d["safety_measures"]["instructions"]))
    safety += _rows(d, [("substance_impact_information", "Impact of substances")])
    model = d.get("model_name") or "Battery"
    return Report(
        title=f"{model}",
        identity=identity,
        specifications=specifications,
        carbon=carbon,
        recycled=recycled,
        health=health,
        charts=chart_svgs,
        events=events,
        accidents=d.get("accident_information") or [],
        end_of_life=end_of_life,
        safety=safety,
        hazardous=d.get("hazardous_substances") or [],
        documents=d.get("dismantling_documents") or [],
    )
