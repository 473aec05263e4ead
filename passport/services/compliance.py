"""The compliance check: what a battery model or a battery still lacks, or falls short of, under
Regulation (EU) 2023/1542, as of a date. THE home of these rules; the API, the command and the
pages only present its reports.

Four kinds of rule, each finding naming the attribute, the rule and its source:

- ``missing``: a mandatory attribute of the category (the attribute table, whose category
  columns follow the Battery Pass longlist v1.2) has no value. Item values that only exist once
  a battery is in use (dynamic values, the date of putting into service) count only for a
  battery that has been put into service.
- ``recycled-content``: pre- plus post-consumer recycled share of cobalt, lithium and nickel
  (in active materials) and of lead, against the Art. 8(2) minimums from 18 August 2031 and
  8(3) from 18 August 2036, for industrial (incl. stationary) and EV batteries. A material
  declared "not contained" is outside the rule; 0 % is not.
- ``carbon-footprint``: the declaration (Art. 7(1)) and the performance class (Art. 7(2)) from
  the dates they apply per category; and the absolute footprint must agree with the footprint
  per functional unit times the energy over the service life (Art. 7(1)(d)).
- ``dynamic-data``: a battery in use that reports dynamic data must have had them updated
  within a day (Art. 14(1), Annex VII: "up to date").

A finding with severity ``upcoming`` names a rule that does not apply yet on the date checked
but would fail when it does; it does not make the subject non-compliant. What the check cannot
know: the dates of the delegated acts (Art. 7 applies "or 18 months after" them, whichever is
later), whether values are true (it checks presence, ranges and consistency, not measurements),
and a battery's capacity class (Art. 8 and 77 apply above 2 kWh; the register holds batteries
that need a passport).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from passport.access import organisation_of
from passport.attributes import BY_KEY, Attribute, Entry, Level, mandatory
from passport.models import Battery, BatteryModel, Organisation, Passport, Version
from passport.services.permissions import require_member
from passport.values import NOT_CONTAINED
from passport.vocabulary import BatteryStatus, Category, PassportState


@dataclass(frozen=True)
class Finding:
    attribute: str
    rule: str
    severity: str  # missing | below-minimum | not-declared | inconsistent | stale | upcoming
    reason: str
    source: str

    def as_dict(self) -> dict:
        return {"attribute": self.attribute, "rule": self.rule, "severity": self.severity,
                "reason": self.reason, "source": self.source}


@dataclass(frozen=True)
class ComplianceReport:
    subject: str  # "battery-model:<id>" or the battery identifier
    kind: str  # model | battery
    category: str
    checked_on: dt.date
    findings: list[Finding] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        return all(finding.severity == "upcoming" for finding in self.findings)

    def as_dict(self) -> dict:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "category": self.category,
            "checked_on": self.checked_on.isoformat(),
            "compliant": self.compliant,
            "findings": [finding.as_dict() for finding in self.findings],
        }


# --- the rules' numbers ------------------------------------------------------------------------

# Art. 8(2) and 8(3): minimum recycled share, by element, from each date.
RECYCLED_CONTENT_MINIMUMS: tuple[tuple[dt.date, dict[str, float], str], ...] = (
    (dt.date(2031, 8, 18), {"cobalt": 16, "lithium": 6, "nickel": 6, "lead": 85}, "Art. 8(2)"),
    (dt.date(2036, 8, 18), {"cobalt": 26, "lithium": 12, "nickel": 15, "lead": 85}, "Art. 8(3)"),
)
# Art. 8(2): industrial batteries above 2 kWh (stationary ones included), EV and SLI batteries;
# LMT batteries are not (yet) covered.
RECYCLED_CONTENT_CATEGORIES = frozenset({Category.EV, Category.INDUSTRIAL, Category.STATIONARY})

# Art. 7(1) (declaration) and 7(2) (performance class), per category: the earliest date each
# applies (the regulation adds "or 18 months after the delegated act, whichever is later").
CARBON_FOOTPRINT_DECLARATION_FROM = {
    Category.EV: dt.date(2025, 2, 18),
    Category.INDUSTRIAL: dt.date(2026, 2, 18),
    Category.STATIONARY: dt.date(2026, 2, 18),
    Category.LMT: dt.date(2028, 8, 18),
}
CARBON_FOOTPRINT_CLASS_FROM = {
    Category.EV: dt.date(2026, 8, 18),
    Category.INDUSTRIAL: dt.date(2027, 8, 18),
    Category.STATIONARY: dt.date(2027, 8, 18),
    Category.LMT: dt.date(2030, 2, 18),
}
CARBON_FOOTPRINT_DECLARATION_KEYS = (
    "carbon_footprint_kg_co2e_per_kwh",
    "carbon_footprint_raw_material_pct",
    "carbon_footprint_production_pct",
    "carbon_footprint_distribution_pct",
    "carbon_footprint_end_of_life_pct",
    "carbon_footprint_study_url",
    "carbon_footprint_declaration_info",
)
# Cradle-to-gate footprints of lithium-ion batteries are some 60-150 kg CO2e per kWh of capacity
# (IVL report C444, 2019) at 0.1-0.25 kWh per kg, i.e. under 40 kg CO2e per kg of battery; a
# declaration implying more than this bound mistakes the functional unit.
CARBON_FOOTPRINT_MAX_KG_CO2E_PER_KG = 100.0
# How far the absolute footprint may stray from per-unit footprint x lifetime energy: the
# lifetime energy here is an estimate from the model's own figures.
CARBON_FOOTPRINT_TOLERANCE = 0.25

# Art. 14(1), Annex VII: the BMS data are "up to date", which the reference reads as daily.
DYNAMIC_DATA_MAX_AGE = dt.timedelta(days=1)
IN_USE_STATUSES = frozenset(
    {BatteryStatus.ORIGINAL, BatteryStatus.REUSED, BatteryStatus.REPURPOSED, BatteryStatus.REMANUFACTURED}
)
# Versions looked at for the latest dynamic update: daily telemetry makes the latest one recent.
DYNAMIC_LOOKBACK_VERSIONS = 200


# --- rules ---------------------------------------------------------------------------------------


def _missing(attribute: Attribute, category: str, where: str) -> Finding:
    return Finding(
        attribute=attribute.key, rule="mandatory-attribute", severity="missing",
        reason=f"attribute {attribute.number} ({attribute.name}) is mandatory for "
               f"{Category(category).label.lower()}s and has no value on the {where}",
        source=attribute.regulation or "Battery Pass longlist v1.2",
    )


def _model_missing(model: BatteryModel) -> list[Finding]:
    return [
        _missing(attribute, model.category, "battery model")
        for attribute in mandatory(model.category, Level.MODEL)
        if attribute.entry is not Entry.SYSTEM and model.data.get(attribute.key) is None
    ]


def _recycled_content(model: BatteryModel, on: dt.date) -> list[Finding]:
    if model.category not in RECYCLED_CONTENT_CATEGORIES:
        return []
    findings: list[Finding] = []
    reported: set[str] = set()
    for starts, minimums, article in RECYCLED_CONTENT_MINIMUMS:
        for element, minimum in minimums.items():
            pre = model.data.get(f"pre_consumer_recycled_{element}_pct")
            post = model.data.get(f"post_consumer_recycled_{element}_pct")
            key = f"post_consumer_recycled_{element}_pct"
            if NOT_CONTAINED in (pre, post):
                continue
            applies = starts <= on
            if not applies and element in reported:
                continue
            if pre is None and post is None:
                continue  # a missing share is reported by the mandatory-attribute rule
            total = (pre or 0) + (post or 0)
            if total < minimum:
                reported.add(element)
                findings.append(Finding(
                    attribute=key, rule="recycled-content",
                    severity="below-minimum" if applies else "upcoming",
                    reason=f"recycled {element} (pre- {pre or 0} % + post-consumer {post or 0} % = "
                           f"{total:g} %) is below the minimum of {minimum:g} % that applies from "
                           f"{starts.isoformat()}",
                    source=article,
                ))
    return findings


def _lifetime_energy_kwh(data: dict) -> float | None:
    """Energy over the service life, estimated as nominal energy x expected cycles x the depth
    of discharge of the cycle-life test (the functional unit's denominator, Art. 7(1)(d))."""
    voltage, capacity = data.get("nominal_voltage_v"), data.get("rated_capacity_ah")
    cycles = data.get("expected_lifetime_cycles")
    depth = (data.get("cycle_life_reference_test") or {}).get("depth_of_discharge_pct")
    if not all(isinstance(v, int | float) for v in (voltage, capacity, cycles, depth)):
        return None
    return voltage * capacity / 1000 * cycles * depth / 100


def _carbon_footprint(model: BatteryModel, on: dt.date) -> list[Finding]:
    findings: list[Finding] = []
    class_from = CARBON_FOOTPRINT_CLASS_FROM[model.category]
    class_value = model.data.get("carbon_footprint_performance_class")
    if class_value is None and on < class_from:
        findings.append(Finding(
            attribute="carbon_footprint_performance_class", rule="carbon-footprint-class",
            severity="upcoming",
            reason=f"the carbon footprint performance class is required from {class_from.isoformat()}",
            source="Art. 7(2)",
        ))
    per_unit = model.data.get("carbon_footprint_kg_co2e_per_kwh")
    absolute = model.data.get("absolute_carbon_footprint_t_co2e")
    mass = model.data.get("battery_mass_kg")
    lifetime = _lifetime_energy_kwh(model.data)
    if isinstance(per_unit, int | float) and isinstance(mass, int | float) and lifetime:
        per_kg = per_unit * lifetime / mass
        if per_kg > CARBON_FOOTPRINT_MAX_KG_CO2E_PER_KG:
            findings.append(Finding(
                attribute="carbon_footprint_kg_co2e_per_kwh", rule="carbon-footprint-functional-unit",
                severity="inconsistent",
                reason=f"{per_unit:g} kg CO2e per kWh over about {lifetime:,.0f} kWh delivered in the "
                       f"service life makes {per_unit * lifetime / 1000:,.1f} t CO2e for a {mass:g} kg "
                       f"battery ({per_kg:,.0f} kg CO2e per kg; batteries are made with tens): the "
                       "functional unit is a kWh of the total energy delivered over the service life, "
                       "not a kWh of capacity",
                source="Art. 7(1)(d)",
            ))
    if isinstance(per_unit, int | float) and isinstance(absolute, int | float) and lifetime:
        expected_t = per_unit * lifetime / 1000
        if abs(absolute - expected_t) > CARBON_FOOTPRINT_TOLERANCE * expected_t:
            findings.append(Finding(
                attribute="absolute_carbon_footprint_t_co2e", rule="carbon-footprint-functional-unit",
                severity="inconsistent",
                reason=f"{absolute:g} t CO2e does not match {per_unit:g} kg CO2e per kWh over about "
                       f"{lifetime:,.0f} kWh delivered in the service life ({expected_t:,.2f} t): the "
                       "footprint per functional unit is per kWh of total energy over the service "
                       "life, not per kWh of capacity",
                source="Art. 7(1)(d)",
            ))
    return findings


def _applies(attribute: Attribute, category: str, on: dt.date) -> bool:
    """Whether a mandatory attribute is due on `on` (the carbon footprint ones from their dates)."""
    if attribute.key == "carbon_footprint_performance_class" or attribute.key == "carbon_footprint_label":
        return on >= CARBON_FOOTPRINT_CLASS_FROM[category]
    if attribute.key in CARBON_FOOTPRINT_DECLARATION_KEYS:
        return on >= CARBON_FOOTPRINT_DECLARATION_FROM[category]
    return True


def model_findings(model: BatteryModel, on: dt.date) -> list[Finding]:
    missing = [
        finding for finding in _model_missing(model)
        if _applies(BY_KEY[finding.attribute], model.category, on)
    ]
    return [*missing, *_recycled_content(model, on), *_carbon_footprint(model, on)]


def _item_value(battery: Battery, key: str) -> object:
    if key == "manufacturing_date":
        return battery.manufacturing_date
    if key == "put_into_service_on":
        return battery.put_into_service_on
    if key == "status":
        return battery.status
    value = battery.data.get(key)
    if value is None and BY_KEY[key].model_default:
        value = battery.model.data.get(key)
    return value


def _battery_missing(battery: Battery) -> list[Finding]:
    category = battery.model.category
    in_use = battery.put_into_service_on is not None and battery.status in IN_USE_STATUSES
    findings: list[Finding] = []
    for attribute in mandatory(category, Level.ITEM):
        if attribute.entry is Entry.SYSTEM:
            continue
        if attribute.entry is Entry.LATER and not in_use:
            # Values given after registration (the date of putting into service, use data)
            # cannot be missing before the battery is in use; the register cannot tell a
            # battery in stock from one in service whose date nobody entered.
            continue
        if attribute.key == "accident_information":
            continue  # no accident is a valid state: the list is empty, not missing
        if _item_value(battery, attribute.key) is None:
            findings.append(_missing(attribute, category, "battery"))
    return findings


def _last_dynamic_update(passport: Passport) -> dt.datetime | None:
    versions = (
        Version.objects.filter(passport=passport).order_by("-seq")
        .values_list("created_at", "changes")[:DYNAMIC_LOOKBACK_VERSIONS]
    )
    for created_at, changes in versions:
        if any(BY_KEY.get(key) is not None and BY_KEY[key].dynamic and key != "status" for key in changes):
            return created_at
    return None


def _dynamic_data(battery: Battery, now: dt.datetime) -> list[Finding]:
    reports = any(BY_KEY.get(key) is not None and BY_KEY[key].dynamic for key in battery.data)
    if not reports or battery.status not in IN_USE_STATUSES:
        return []
    passport = battery.passports.exclude(state=PassportState.SUPERSEDED).first()
    if passport is None or passport.state != PassportState.ACTIVE:
        return []
    last = _last_dynamic_update(passport)
    if last is not None and now - last <= DYNAMIC_DATA_MAX_AGE:
        return []
    when = f"was last updated {last.isoformat(timespec='minutes')}" if last else "has not been updated recently"
    return [Finding(
        attribute="remaining_capacity_ah", rule="dynamic-data-up-to-date", severity="stale",
        reason=f"the battery reports dynamic data (state of health, use data), which {when}; the "
               "battery management system's data must be up to date, at least daily",
        source="Art. 14(1); Annex VII",
    )]


def _state_of_health_at_changes(battery: Battery) -> list[Finding]:
    """Repurposing and remanufacturing record the state of health at that point (Art. 14(3),
    Annex XIII 4(a)): the project keeps what the passport held; it cannot measure it."""
    for entry in battery.performance_history:
        if entry.get("status") in (BatteryStatus.REPURPOSED, BatteryStatus.REMANUFACTURED) and entry.get(
            "state_of_health_pct"
        ) is None:
            return [Finding(
                attribute="performance_history", rule="state-of-health-at-status-change",
                severity="missing",
                reason=f"no state of health was recorded when the battery became {entry['status']} "
                       f"({entry['at']}): record remaining_capacity_ah before the change",
                source="Annex XIII 4(a); Art. 14(3)",
            )]
    return []


# --- entry points --------------------------------------------------------------------------------


def compliance_reader_require(user: Any, responsible: Organisation) -> None:
    """Who may ask: members of the organisation responsible (the model's manufacturer, the
    battery's responsible operator), authorities, and staff. A report tells which attributes a
    passport lacks, which is the operator's business and the market surveillance's."""
    if user is not None and getattr(user, "is_authenticated", False):
        if user.is_staff:
            return
        organisation = organisation_of(user)
        if organisation is not None and organisation.is_authority:
            return
    require_member(user, responsible, "read this compliance report (or an authority)")


def _today(on: dt.date | None) -> dt.date:
    return on if on is not None else timezone.now().date()


def compliance_of_model(*, model: BatteryModel, on: dt.date | None = None) -> ComplianceReport:
    """The findings of a battery model as of `on` (today when None)."""
    day = _today(on)
    return ComplianceReport(
        subject=f"battery-model:{model.pk}", kind="model", category=model.category,
        checked_on=day, findings=model_findings(model, day),
    )


def compliance_of_battery(
    *, battery: Battery, on: dt.date | None = None, now: dt.datetime | None = None
) -> ComplianceReport:
    """The findings of one battery: its model's, then its own (missing item values, stale
    dynamic data, state of health at status changes)."""
    day = _today(on)
    moment = now or timezone.now()
    findings = [
        *model_findings(battery.model, day),
        *_battery_missing(battery),
        *_dynamic_data(battery, moment),
        *_state_of_health_at_changes(battery),
    ]
    return ComplianceReport(
        subject=battery.identifier, kind="battery", category=battery.model.category,
        checked_on=day, findings=findings,
    )


def compliance_report_all(*, on: dt.date | None = None) -> Iterator[ComplianceReport]:
    """Every model, then every battery, one report at a time."""
    for model in BatteryModel.objects.order_by("pk").iterator(chunk_size=500):
        yield compliance_of_model(model=model, on=on)
    batteries = Battery.objects.select_related("model").order_by("pk")
    for battery in batteries.iterator(chunk_size=500):
        yield compliance_of_battery(battery=battery, on=on)
