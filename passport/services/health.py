"""State of health and use data (Art. 14, Annex VII) from a bms_core analysis report: the one home
of how a report maps onto the passport's attributes, and of the analysis options a battery model
implies.

The report must cover the battery's whole life since it was put into service (the analytics
library's incremental Analyzer keeps it so across batches): Annex VII Part B counts are
lifetime totals, not per batch.

Every value written carries its own provenance in the passport (`dynamic_values_provenance`):
when it was last updated, the moment of the data it describes, and how it was counted; the
regulation leaves several counting methods open (full cycles, which direction of throughput), so
the method is stated beside the value. A value the analysis cannot support (no capacity anchor
yet, SOC unknown after a data gap, no per-battery attribute in the data model) is not written: the
passport keeps its previous value and `HealthMapping.missing` says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bms_core.options import AnalysisOptions
from passport.attributes import BY_KEY, Level
from passport.models import Battery, BatteryModel, Passport
from passport.services.batteries import battery_update
from passport.vocabulary import Chemistry

HEALTH_REASON = "state of health and use data from the BMS history (bms_core analysis)"

# Nominal cell voltages of the chemistries whose value the industry agrees on (IEC 62620 data
# sheets: LFP 3.2 V, LTO 2.4 V, lead-acid 2.0 V, NiMH 1.2 V). NMC, NCA, LMO and LCO cells are
# sold as 3.6 V and as 3.7 V, so a pack voltage does not tell their cell count.
NOMINAL_CELL_VOLTAGE_V: dict[str, float] = {
    Chemistry.LFP: 3.2,
    Chemistry.LTO: 2.4,
    Chemistry.LEAD_ACID: 2.0,
    Chemistry.NIMH: 1.2,
}
# How far nominal pack / nominal cell voltage may be from a whole number of cells.
SERIES_CELLS_TOLERANCE = 0.02
# bms_core versions with per-chemistry defaults take the model's chemistry as an option.
ANALYSIS_TAKES_CHEMISTRY = "chemistry" in AnalysisOptions.__dataclass_fields__
DEFAULT_LOW_TEMP_C = 0.0
DEFAULT_HIGH_TEMP_C = 45.0


@dataclass(frozen=True)
class AnalysisSettings:
    """What the analysis of one battery needs from its model, and why a default was used."""

    rated_capacity_ah: float | None
    series_cells: int | None
    low_temp_c: float
    high_temp_c: float
    chemistry: str = ""
    notes: dict[str, str] = field(default_factory=dict)

    def analyzer_options(self) -> dict[str, Any]:
        """Keyword arguments of bms_core.Analyzer (rated capacity apart). The chemistry goes
        along where bms_core takes it, so it picks that chemistry's voltage window or refuses
        one it does not know, rather than judge every cell by LFP's."""
        options: dict[str, Any] = {"low_temp_c": self.low_temp_c, "high_temp_c": self.high_temp_c}
        if self.series_cells is not None:
            options["series_cells"] = self.series_cells
        if ANALYSIS_TAKES_CHEMISTRY and self.chemistry:
            options["chemistry"] = self.chemistry
        return options


def series_cells_of_model(model: BatteryModel) -> int | None:
    """Cells in series, from the model's nominal voltage and its chemistry's nominal cell
    voltage (the passport has no attribute for the cell count); None when they do not tell it.
    Ingestion checks a batch's cell columns against it; the analysis judges cell limits on pack
    voltage / cells when a history has no cell columns."""
    cell_v = NOMINAL_CELL_VOLTAGE_V.get(model.chemistry)
    nominal_v = (model.data or {}).get("nominal_voltage_v")
    if cell_v is None or not isinstance(nominal_v, int | float) or nominal_v <= 0:
        return None
    ratio = nominal_v / cell_v
    cells = round(ratio)
    if cells < 1 or abs(ratio - cells) > SERIES_CELLS_TOLERANCE * ratio:
        return None
    return cells


def analysis_settings_of_model(model: BatteryModel) -> AnalysisSettings:
    """Rated capacity, series cells and the extreme-temperature boundaries of Annex VII Part B (4)
    for batteries of `model`. The boundaries are the model's declared idle-state temperature range
    (#85, #86, Annex XIII (1l)); bms_core's defaults (0 / 45 °C) only when the model declares
    none, and the notes then say so."""
    notes: dict[str, str] = {}
    rated = model.data.get("rated_capacity_ah")
    if not rated:
        notes["rated_capacity_ah"] = "the battery model declares no rated capacity (#52)"
    series = series_cells_of_model(model)
    if series is None:
        notes["series_cells"] = (
            "unknown: the model declares no nominal voltage (#61), or its chemistry's cells do "
            "not have one agreed nominal voltage; histories then need per-cell columns"
        )
    lower = model.data.get("idle_temperature_lower_c")
    upper = model.data.get("idle_temperature_upper_c")
    if isinstance(lower, int | float) and isinstance(upper, int | float) and lower < upper:
        low_c, high_c = float(lower), float(upper)
    else:
        low_c, high_c = DEFAULT_LOW_TEMP_C, DEFAULT_HIGH_TEMP_C
        notes["temperature_boundaries"] = (
            "the battery model declares no idle temperature range (#85, #86); bms_core's default "
            f"boundaries {low_c:g} / {high_c:g} °C were used"
        )
    return AnalysisSettings(
        rated_capacity_ah=float(rated) if rated else None,
        series_cells=series,
        low_temp_c=low_c,
        high_temp_c=high_c,
        chemistry=model.chemistry,
        notes=notes,
    )


@dataclass(frozen=True)
class HealthMapping:
    """What a report gives the passport: the values, how each was counted, the moment of the
    data each describes, and why the others are left as they were."""

    values: dict[str, Any]
    methods: dict[str, str]
    as_of: dict[str, str]
    missing: dict[str, str]


def _writable_per_battery(key: str) -> str | None:
    """None when `key` is an item-level attribute a system update may write, else why not."""
    attribute = BY_KEY.get(key)
    if attribute is None:
        return "the data model has no such attribute"
    if attribute.level is not Level.ITEM:
        return (
            f"#{attribute.number} {attribute.name.lower()} is declared on the battery model "
            f"({attribute.regulation}), not per battery; the analysis's figure is in the snapshot"
        )
    return None


def _options(report: dict[str, Any]) -> dict[str, Any]:
    return report.get("options") or {}


def health_mapping(report: dict[str, Any]) -> HealthMapping:
    """The passport's dynamic values a bms_core report determines (Annex VII, Annex XIII point 4).

    Values the report could not estimate are missing with the report's own reason, never
    guessed. Counts are lifetime totals, so the report must cover the whole service life."""
    options = _options(report)
    low_c = options.get("low_temp_c", DEFAULT_LOW_TEMP_C)
    high_c = options.get("high_temp_c", DEFAULT_HIGH_TEMP_C)
    end = report.get("end")
    candidates: dict[str, Any] = {}
    methods: dict[str, str] = {}
    as_of: dict[str, str] = {}
    missing: dict[str, str] = {}

    def put(key: str, value: Any, method: str, moment: str | None = end) -> None:
        candidates[key] = value
        methods[key] = method
        if moment:
            as_of[key] = moment

    put("full_cycles_count", int(report["equivalent_full_cycles"]),
        "equivalent full cycles: ampere-hours discharged / rated capacity "
        f"({options.get('rated_capacity_ah', 'rated')} Ah), completed cycles counted (rounded down)")
    put("capacity_throughput_ah", round(report["discharge_throughput_ah"], 1),
        "ampere-hours the battery delivered (discharge), trapezoidal integration of the pack "
        "current, current-sensor offset removed when estimable")
    put("energy_throughput_kwh", round(report["energy_discharged_kwh"], 2),
        "energy the battery delivered (discharge), trapezoidal integration of pack voltage × "
        "current, current-sensor offset removed when estimable")
    hottest = "minutes with the hottest temperature reading above"
    coldest = "minutes with the coldest temperature reading below"
    boundary = "(the battery model's idle temperature boundary or bms_core's default)"
    put("time_above_temperature_boundary_minutes", round(report["time_above_high_temp_min"]),
        f"{hottest} {high_c:g} °C {boundary}, left-Riemann over sampled intervals, gaps excluded")
    put("time_below_temperature_boundary_minutes", round(report["time_below_low_temp_min"]),
        f"{coldest} {low_c:g} °C {boundary}, left-Riemann over sampled intervals, gaps excluded")
    put("time_charging_above_temperature_boundary_minutes",
        round(report["time_charging_above_high_temp_min"]),
        f"{hottest} {high_c:g} °C while charging, left-Riemann, gaps excluded")
    put("time_charging_below_temperature_boundary_minutes",
        round(report["time_charging_below_low_temp_min"]),
        f"{coldest} {low_c:g} °C while charging, left-Riemann, gaps excluded")
    put("deep_discharge_events_count", int(report["deep_discharge_events"]),
        f"excursions of the lowest cell below {options.get('min_cell_v', 2.5):g} V, "
        f"ended {options.get('event_hysteresis_v', 0.1):g} V above it")
    put("overcharge_events_count", int(report["overvoltage_events"]),
        f"excursions of the highest cell above {options.get('max_cell_v', 3.65):g} V, "
        f"ended {options.get('event_hysteresis_v', 0.1):g} V below it")

    if report.get("capacity_ah") is not None and report.get("capacity_rated_basis_ah") is not None:
        # Annex VII Part A (1) compares with the rated capacity, so the passport takes the
        # estimate on the rated definition (C/5 at 25 °C) where the analysis gives one.
        put("remaining_capacity_ah", round(report["capacity_rated_basis_ah"], 1),
            "ampere-hours counted between voltage anchors of known state of charge, weighted "
            "median of recent pairs (the limiting cell), brought to the rated definition "
            "(C/5 discharge at 25 °C)", report.get("capacity_as_of") or end)
    elif report.get("capacity_ah") is not None:
        put("remaining_capacity_ah", round(report["capacity_ah"], 1),
            "ampere-hours counted between voltage anchors of known state of charge, weighted "
            "median of recent pairs (the limiting cell)", report.get("capacity_as_of") or end)
    else:
        missing["remaining_capacity_ah"] = (
            f"not estimated: {report.get('capacity_reason') or 'no suitable anchor pair yet'}"
        )
    retention = report.get("capacity_retention_pct")
    if retention is not None:
        put("capacity_fade_pct", round(max(0.0, 100.0 - retention), 1),
            "100 % − estimated capacity / rated capacity", report.get("capacity_as_of") or end)
    else:
        missing["capacity_fade_pct"] = "not estimated: the capacity is not known yet"

    soc = report.get("soc_pct")
    if soc is not None:
        put("state_of_charge_pct", round(min(max(soc, 0.0), 100.0), 1),
            "coulomb counting from the latest voltage anchor "
            f"({(report.get('soc_source') or {}).get('kind', 'unknown')})")
    else:
        reason = (report.get("soc_source") or {}).get("reason") or "no anchor since the last data gap"
        missing["state_of_charge_pct"] = f"not known: {reason}"

    if report.get("temperature_min_c") is not None and report.get("temperature_max_c") is not None:
        put("temperature_information", [{
            "period_start": report["start"],
            "period_end": report["end"],
            "min_c": round(report["temperature_min_c"], 1),
            "max_c": round(report["temperature_max_c"], 1),
        }], "lowest and highest temperature reading (pack and cell sensors) since put into service")
    else:
        missing["temperature_information"] = "the history has no temperature readings"

    _map_performance(report, put, missing)

    resistance = (report.get("resistance_mohm") or {}).get("pack")
    missing["internal_resistance"] = (
        "the data model has no per-battery internal resistance attribute (#74 initial and #75 "
        "increase are declared on the battery model); "
        + ("the pack figure is in the snapshot" if resistance is not None
           else "no resistance estimate yet (too few current steps)")
    )

    for key in list(missing):
        # "No such attribute per battery" outranks "not estimated this time".
        refusal = _writable_per_battery(key) if key in BY_KEY else None
        if refusal is not None:
            missing[key] = refusal
    values: dict[str, Any] = {}
    for key, value in candidates.items():
        refusal = _writable_per_battery(key)
        if refusal is None:
            values[key] = value
        else:
            missing[key] = refusal
    return HealthMapping(
        values=values,
        methods={key: methods[key] for key in values},
        as_of={key: as_of[key] for key in values if key in as_of},
        missing=missing,
    )


def _map_performance(report: dict[str, Any], put: Any, missing: dict[str, str]) -> None:
    """The rest of Annex VII Part A where the report has it (bms_core versions that estimate
    usable energy, round-trip efficiency and self-discharge): each an object with its value and,
    when withheld, a `reason`."""
    figures = (
        ("remaining_usable_energy_kwh", "usable_energy_kwh", "kwh", 2,
         "energy of a full C/5 discharge at 25 °C from the rated-basis capacity and the mean "
         "open-circuit voltage less the C/5 resistive loss (IEC 62620 sec. 6.3.1)"),
        ("remaining_round_trip_efficiency_pct", "round_trip_efficiency", "pct", 1,
         "energy out / energy in between consecutive full charges, offset-corrected "
         "(IEC 62933-2-1 sec. 6.2.3), over the last stretches"),
        ("current_self_discharge_pct_per_month", "self_discharge", "pct_per_month", 2,
         "net charge between full charges less the sensor's zero and the BMS's own draw "
         "(charge balance), per 30 days"),
    )
    for attribute, key, field_name, digits, method in figures:
        if key not in report:
            continue
        figure = report.get(key) or {}
        value = figure.get(field_name)
        if value is not None:
            put(attribute, round(float(value), digits), method)
        else:
            missing[attribute] = f"not estimated: {figure.get('reason') or 'the history cannot support it yet'}"
    if "power_capability_w" in report:
        missing["remaining_power_capability_w"] = (
            "the analysis gives pulse power at 50 % state of charge; the attribute asks for it at "
            "80 % and 20 % (Annex IV Part B (4)); the figure is in the snapshot"
        )
    if "self_discharge" in report:
        missing["self_discharge_evolution"] = (
            "an evolution is the series of past rates; each snapshot keeps its rate (the health "
            "history), the passport's list is not rebuilt from one report"
        )


def health_values_from_report(report: dict[str, Any]) -> dict[str, Any]:
    """The passport values a report determines (see health_mapping)."""
    return health_mapping(report).values


def battery_health_record(
    *, battery: Battery, report: dict[str, Any], user: Any = None
) -> Passport:
    """Write the report's values into the battery's passport as a new version (user None: the
    system, i.e. the telemetry pipeline), each value with its provenance."""
    return battery_values_record(
        battery=battery, values=health_mapping(report).values, report=report, user=user
    )


def battery_values_record(
    *, battery: Battery, values: dict[str, Any], report: dict[str, Any], user: Any = None
) -> Passport:
    """Write `values` (a subset of the report's mapping) with their counting method and the
    moment of their data."""
    mapping = health_mapping(report)
    provenance: dict[str, dict] = {}
    for key in values:
        provenance[key] = {"method": mapping.methods[key]}
        if key in mapping.as_of:
            provenance[key]["as_of"] = mapping.as_of[key]
    return battery_update(
        user=user, battery=battery, data=values, reason=HEALTH_REASON, provenance=provenance
    )
