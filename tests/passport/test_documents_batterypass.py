"""The Battery Pass v1.2 export: the complete view validates against the consortium's own JSON
Schemas (../shared/reference/batterypass-1.2), except for the deviations named here one by one
(docs/documents.md says why each cannot be expressed there); every view validates against our
schema; nothing a view may not show reaches its export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from jsonschema import Draft4Validator, FormatChecker

from passport.attributes import BY_KEY, Level, View, mandatory
from passport.demo import (
    demo_dataset_build,
    demo_gtin,
    lfp_home_battery_model_data,
    lfp_item_dynamic_data,
)
from passport.documents.batterypass import ASPECTS
from passport.documents.exports import passport_export_view
from passport.documents.schemas import schema_errors, view_schema
from passport.models import Passport
from passport.services import battery_model_create, battery_register, battery_update
from passport.values import Object
from passport.vocabulary import Category, Chemistry

REFERENCE = Path(settings.BASE_DIR).parent / "shared/reference/batterypass-1.2"
SCHEMA_FILES = {
    "GeneralProductInformation": "GeneralProductInformation-1.2.0-schema.json",
    "CarbonFootprintForBatteries": "CarbonFootprintForBatteries-1.2.0-schema.json",
    "Circularity": "Circularity-1.2.0-schema.json",
    "MaterialComposition": "MaterialComposition-1.2.0-schema.json",
    "PerformanceAndDurability": "PerformanceAndDurability-1.2.1-schema.json",
    "Labeling": "Labeling-1.2.0-schema.json",
    "SupplyChainDueDiligence": "SupplyChainDueDiligence-1.2.0-schema.json",
}

# Each deviation: (aspect, JSON path inside the aspect, the schema keyword that fails). Paths
# with "*" match any list position. docs/documents.md, "Deviations", explains each.
PASSPORT_ID_PATTERN = ("GeneralProductInformation", "batteryPassportIdentifier", "pattern")
WARRANTY_GMONTH = ("GeneralProductInformation", "warrentyPeriod", "pattern")
RECYCLED_STATUS = ("GeneralProductInformation", "batteryStatus", "enum")
HAZARD_CLASS_NOT_CODED = ("MaterialComposition", "hazardousSubstances.*", "required:hazardousSubstanceClass")
NOT_IN_SERVICE_DATE = ("GeneralProductInformation", "", "required:puttingIntoService")
NOT_IN_SERVICE_CONDITION = ("PerformanceAndDurability", "batteryCondition", "required:*")
ALWAYS = {PASSPORT_ID_PATTERN, WARRANTY_GMONTH}


def reference_schemas() -> dict[str, dict]:
    if not REFERENCE.is_dir():
        pytest.skip(f"the consortium schemas are not at {REFERENCE} (shared reference folder absent)")
    return {name: json.loads((REFERENCE / file).read_text(encoding="utf-8"))
            for name, file in SCHEMA_FILES.items()}


def _matches(pattern: str, path: str) -> bool:
    wanted, actual = pattern.split("."), path.split(".")
    return len(wanted) == len(actual) and all(w in ("*", a) for w, a in zip(wanted, actual, strict=True))


def consortium_failures(export: dict) -> set[tuple[str, str, str]]:
    """Every way the export's aspects break the consortium schemas, as (aspect, path, keyword);
    a missing required property is reported as keyword "required:<property>"."""
    failures = set()
    for name, schema in reference_schemas().items():
        for error in Draft4Validator(schema, format_checker=FormatChecker()).iter_errors(export[name]):
            path = ".".join(str(part) for part in error.absolute_path)
            keyword = error.validator
            if keyword == "required":
                keyword = f"required:{error.message.split(chr(39))[1]}"
            failures.add((name, path, keyword))
    return failures


def unexplained(failures: set, deviations: set) -> set:
    return {f for f in failures
            if not any(f[0] == d[0] and _matches(d[1], f[1]) and _keyword_matches(d[2], f[2])
                       for d in deviations)}


def _keyword_matches(pattern: str, keyword: str) -> bool:
    return pattern == keyword or (pattern.endswith(":*") and keyword.startswith(pattern[:-1]))


def test_complete_view_of_a_battery_in_service_validates_against_the_consortium_schemas(
    complete_battery, passport
) -> None:
    export, _ = passport_export_view(passport=passport, view=View.FULL)
    failures = consortium_failures(export)
    assert unexplained(failures, ALWAYS | {HAZARD_CLASS_NOT_CODED}) == set()
    # The deviations are real: each one named here does occur for this passport.
    assert {f[:2] for f in failures} >= {PASSPORT_ID_PATTERN[:2], WARRANTY_GMONTH[:2]}
    assert ("MaterialComposition", "hazardousSubstances.1", "required:hazardousSubstanceClass") in failures
    for name in ASPECTS:
        assert export[name], f"{name} is empty"


@pytest.mark.django_db
def test_complete_view_of_every_demo_passport_validates_against_the_consortium_schemas() -> None:
    demo_dataset_build()
    checked = 0
    for passport in Passport.objects.select_related("battery"):
        export, _ = passport_export_view(passport=passport, view=View.FULL)
        deviations = ALWAYS | {HAZARD_CLASS_NOT_CODED, RECYCLED_STATUS}
        if passport.battery.put_into_service_on is None:
            deviations |= {NOT_IN_SERVICE_DATE, NOT_IN_SERVICE_CONDITION}
        assert unexplained(consortium_failures(export), deviations) == set(), (
            passport.battery.identifier, passport.state)
        checked += 1
    assert checked >= 12


def only_required(value: Any, kind: Any) -> Any:
    """`value` without the optional fields of its kind (recursively)."""
    if isinstance(kind, Object) and isinstance(value, dict):
        return {name: only_required(value[name], spec.kind) for name, spec in kind.fields.items()
                if spec.required and name in value}
    item = getattr(kind, "item", None)
    if item is not None and isinstance(value, list):
        return [only_required(entry, item) for entry in value]
    return value


# The consortium schema requires these, the regulation does not for a stationary battery
# (voluntary attributes, or an EV-only one); a passport with only what is mandatory lacks them.
VOLUNTARY_BUT_REQUIRED_THERE = {
    ("PerformanceAndDurability", "batteryTechicalProperties", "required:initialSelfDischarge"),
    ("PerformanceAndDurability", "batteryTechicalProperties", "required:capacityThresholdForExhaustion"),
    ("PerformanceAndDurability", "batteryTechicalProperties", "required:lifetimeReferenceTest"),
    ("PerformanceAndDurability", "batteryCondition", "required:stateOfCertifiedEnergy"),
    ("PerformanceAndDurability", "batteryCondition", "required:remainingEnergy"),
    ("PerformanceAndDurability", "batteryCondition", "required:currentSelfDischargingRate"),
    ("PerformanceAndDurability", "batteryCondition", "required:internalResistanceIncrease"),
    ("GeneralProductInformation", "operatorInformation", "required:identifier"),
}


def test_a_passport_with_only_what_is_mandatory_validates_but_for_named_deviations(
    organisations, users
) -> None:
    category = Category.STATIONARY
    full = lfp_home_battery_model_data(capacity_ah=100, mass_kg=45.0)
    model_data = {a.key: only_required(full[a.key], a.kind)
                  for a in mandatory(category, Level.MODEL, at_creation=False) if a.key in full}
    model = battery_model_create(user=users.manufacturer, manufacturer=organisations.manufacturer,
                                 name="Minimal rack", category=category, chemistry=Chemistry.LFP,
                                 data={**model_data, "extinguishing_agent": full["extinguishing_agent"]})
    registered = battery_register(user=users.manufacturer, model=model, item={
        "identifier": f"(01){demo_gtin('003')}(21)MIN0001", "manufacturing_date": "2026-03-02"})
    dynamic = lfp_item_dynamic_data(soh_pct=97, capacity_ah=100, cycles=50, days=90)
    item = {a.key: only_required(dynamic[a.key], a.kind)
            for a in mandatory(category, Level.ITEM) if a.key in dynamic}
    battery_update(user=users.manufacturer, battery=registered.battery, reason="commissioned",
                   data={"put_into_service_on": "2026-04-01", **item})
    export, _ = passport_export_view(passport=registered.passport, view=View.FULL)
    failures = consortium_failures(export)
    assert sorted(unexplained(failures, ALWAYS | {HAZARD_CLASS_NOT_CODED} | VOLUNTARY_BUT_REQUIRED_THERE)) == []
    assert BY_KEY["initial_self_discharge_pct_per_month"].mandatory_for == frozenset()


@pytest.mark.parametrize("view", list(View))
def test_every_view_validates_against_our_schema_and_shows_nothing_more(complete_battery, passport, view) -> None:
    export, tiers = passport_export_view(passport=passport, view=view)
    assert schema_errors(export, view) == []
    if view is View.PUBLIC:
        assert "batteryCondition" not in export["PerformanceAndDurability"]
        assert "puttingIntoService" not in export["GeneralProductInformation"]
        assert "test_reports" not in export["additionalAttributes"]
        assert "resultOfTestReport" not in export["Labeling"]
        assert "safetyInstructions" not in export["Circularity"].get("safetyMeasures", {})
    if view is View.AUTHORITY:
        # Authorities never read point 4 (use data), but do read test reports (point 3).
        assert "batteryCondition" not in export["PerformanceAndDurability"]
        assert "resultOfTestReport" in export["Labeling"]
    if view is View.LEGITIMATE:
        assert "resultOfTestReport" not in export["Labeling"]
        assert export["PerformanceAndDurability"]["batteryCondition"]["stateOfCharge"]["lastUpdate"]


def test_our_public_schema_refuses_a_public_document_carrying_use_data(complete_battery, passport) -> None:
    public, _ = passport_export_view(passport=passport, view=View.PUBLIC)
    full, _ = passport_export_view(passport=passport, view=View.FULL)
    public["PerformanceAndDurability"]["batteryCondition"] = full["PerformanceAndDurability"]["batteryCondition"]
    public["additionalAttributes"]["accident_information"] = []
    paths = {path for path, _ in schema_errors(public, View.PUBLIC)}
    assert paths == {"PerformanceAndDurability", "additionalAttributes"}


def test_schemas_are_draft_2020_12_with_one_per_view() -> None:
    for view in View:
        schema = view_schema(view)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["properties"]["view"] == {"const": view.value}
