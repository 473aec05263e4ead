"""Our own JSON Schemas (draft 2020-12) of the exported passport: the envelope with the seven
Battery Pass v1.2 aspects and `additionalAttributes`, one schema per view, published at
/schemas/passport/v1/<view>.json.

The consortium's schemas describe a complete passport (every property required); a view is a
subset of it. So ours follow the consortium's structure, spellings and enumerations, but:
properties are optional; a view's schema only has the properties the view may show (a public
document with a state-of-health value fails it); values are held to our attribute table's ranges
(no negative mass, shares within 0-100 %), so an import gets a JSON path for each bad value; and
no unknown property passes anywhere.

`SPEC` names, for every aspect property, the attribute keys it is made from; the view schema
keeps a property when the view may read one of them. Every exported document is validated
against its view's schema before it is served (`document_validate`).
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from passport.attributes import BY_KEY, PROVENANCE_KEY, TIER_OF, View, keys_of_tiers
from passport.documents.batterypass import ASPECTS
from passport.vocabulary import Category, DocumentType, HazardClass, LabelSubject, PerformanceClass

SCHEMA_VERSION = "v1"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

TEXT = {"type": "string", "minLength": 1}
URI = {"type": "string", "format": "uri", "maxLength": 100_000}
# The consortium's date-time pattern (ISO 8601 with seconds and an optional zone).
DATE_TIME = {"type": "string", "format": "date-time"}
# No quantity of a battery comes near 1e12 (W, Wh, kg, cycles...): larger numbers are refused with
# their path before any arithmetic on them could overflow.
LARGEST = 1e12
NUMBER = {"type": "number", "minimum": -LARGEST, "maximum": LARGEST}
NON_NEGATIVE = {"type": "number", "minimum": 0, "maximum": LARGEST}
POSITIVE = {"type": "number", "exclusiveMinimum": 0, "maximum": LARGEST}
PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
CAS = {"type": "string", "pattern": r"^\d{2,7}-\d{2}-\d$"}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


def _list(item: dict) -> dict:
    return {"type": "array", "items": item}


def _stamped(value_name: str, value: dict) -> dict:
    return _obj({value_name: value, "lastUpdate": DATE_TIME}, (value_name, "lastUpdate"))


ADDRESS = _obj({"addressCountry": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "postalCode": TEXT, "streetAddress": TEXT})
CONTACT = _obj({"contactName": TEXT, "postalAddress": ADDRESS, "identifier": TEXT, "webAddress": URI},
               ("contactName",))
LOCATION = _obj({"componentName": TEXT, "componentId": TEXT}, ("componentName",))
POWER_AT = _obj({"atSoC": PERCENT, "powerCapabilityAt": POSITIVE}, ("atSoC", "powerCapabilityAt"))


class Leaf:
    """A property with its schema and the attribute keys it is made from."""

    def __init__(self, schema: dict, *keys: str):
        self.schema = schema
        self.keys = keys


class Node:
    """An object property whose own properties are pruned per view."""

    def __init__(self, children: dict[str, Leaf | Node]):
        self.children = children


SPEC: dict[str, Node] = {
    "GeneralProductInformation": Node({
        "productIdentifier": Leaf(TEXT, "battery_identifier"),
        "batteryPassportIdentifier": Leaf(TEXT, "passport_identifier"),
        "batteryCategory": Leaf({"type": "string", "enum": list(Category.values)}, "category"),
        "manufacturerInformation": Leaf(CONTACT, "manufacturer_information"),
        "manufacturingDate": Leaf(DATE_TIME, "manufacturing_date"),
        "batteryStatus": Leaf({"type": "string", "enum": [
            "Original", "Repurposed", "Reused", "Remanufactured", "Waste", "Recycled"]}, "status"),
        "batteryMass": Leaf(POSITIVE, "battery_mass_kg"),
        "manufacturingPlace": Leaf(ADDRESS, "manufacturing_place"),
        "operatorInformation": Leaf(CONTACT, "operator_information"),
        "puttingIntoService": Leaf(DATE_TIME, "put_into_service_on"),
        "warrentyPeriod": Leaf({"type": "string", "pattern": r"^P\d+(\.\d+)?Y$"}, "warranty_period_years"),
    }),
    "CarbonFootprintForBatteries": Node({
        "batteryCarbonFootprint": Leaf(POSITIVE, "carbon_footprint_kg_co2e_per_kwh"),
        "carbonFootprintPerLifecycleStage": Leaf(
            _list(_obj({"lifecycleStage": {"type": "string", "enum": [
                "RawMaterialExtraction", "MainProduction", "Distribution", "Recycling"]},
                "carbonFootprint": NUMBER}, ("lifecycleStage", "carbonFootprint"))),
            "carbon_footprint_raw_material_pct"),
        "carbonFootprintPerformanceClass": Leaf(
            {"type": "string", "enum": list(PerformanceClass.values)}, "carbon_footprint_performance_class"),
        "carbonFootprintStudy": Leaf(URI, "carbon_footprint_study_url"),
        "absoluteCarbonFootprint": Leaf(POSITIVE, "absolute_carbon_footprint_t_co2e"),
    }),
    "Circularity": Node({
        "dismantlingAndRemovalInformation": Leaf(_list(_obj({
            "documentType": {"type": "string", "enum": list(DocumentType.values)},
            "mimeType": TEXT, "documentURL": URI}, ("documentType", "mimeType", "documentURL"))),
            "dismantling_documents"),
        "sparePartSources": Leaf(_list(_obj({
            "nameOfSupplier": TEXT, "addressOfSupplier": ADDRESS,
            "emailAddressOfSupplier": {"type": "string", "format": "email"},
            "supplierWebAddress": URI,
            "components": _list(_obj({"partName": TEXT, "partNumber": TEXT}, ("partName", "partNumber"))),
        }, ("nameOfSupplier", "supplierWebAddress"))), "spare_part_sources"),
        "recycledContent": Leaf(_list(_obj({
            "recycledMaterial": {"type": "string", "enum": ["Cobalt", "Nickel", "Lithium", "Lead"]},
            "preConsumerShare": PERCENT, "postConsumerShare": PERCENT,
        }, ("recycledMaterial", "preConsumerShare", "postConsumerShare"))), "pre_consumer_recycled_lithium_pct"),
        "safetyMeasures": Node({
            "safetyInstructions": Leaf(URI, "safety_measures"),
            "extinguishingAgent": Leaf(_list(TEXT), "extinguishing_agent"),
        }),
        "endOfLifeInformation": Node({
            "wastePrevention": Leaf(URI, "end_user_waste_prevention_info"),
            "separateCollection": Leaf(URI, "end_user_separate_collection_info"),
            "informationOnCollection": Leaf(URI, "collection_and_treatment_info"),
        }),
        "renewableContent": Leaf(PERCENT, "renewable_content_pct"),
    }),
    "MaterialComposition": Node({
        "batteryChemistry": Leaf(_obj({"shortName": TEXT, "clearName": TEXT}, ("shortName", "clearName")),
                                 "chemistry"),
        "batteryMaterials": Leaf(_list(_obj({
            "batteryMaterialLocation": LOCATION, "batteryMaterialIdentifier": CAS,
            "batteryMaterialName": TEXT, "batteryMaterialMass": NON_NEGATIVE,
            "isCriticalRawMaterial": {"type": "boolean"},
        }, ("batteryMaterialLocation", "batteryMaterialIdentifier", "batteryMaterialName",
            "batteryMaterialMass"))), "cathode_anode_electrolyte_materials"),
        "hazardousSubstances": Leaf(_list(_obj({
            "hazardousSubstanceClass": {"type": "string", "enum": list(HazardClass.values)},
            "hazardousSubstanceName": TEXT, "hazardousSubstanceConcentration": PERCENT,
            "hazardousSubstanceImpact": _list(TEXT), "hazardousSubstanceLocation": LOCATION,
            "hazardousSubstanceIdentifier": CAS,
        }, ("hazardousSubstanceName", "hazardousSubstanceConcentration",
            "hazardousSubstanceIdentifier"))), "hazardous_substances"),
    }),
    "PerformanceAndDurability": Node({
        "batteryTechicalProperties": Node({
            "originalPowerCapability": Leaf(_list(POWER_AT), "original_power_capability_w"),
            "ratedMaximumPower": Leaf(POSITIVE, "max_permitted_power_w"),
            "powerCapabilityRatio": Leaf(POSITIVE, "power_to_energy_ratio_w_per_wh", "max_permitted_power_w"),
            "ratedEnergy": Leaf(POSITIVE, "rated_capacity_ah"),
            "expectedNumberOfCycles": Leaf(POSITIVE, "expected_lifetime_cycles"),
            "initialSelfDischarge": Leaf(PERCENT, "initial_self_discharge_pct_per_month"),
            "roundtripEfficiency": Leaf(PERCENT, "initial_round_trip_efficiency_pct"),
            "ratedCapacity": Leaf(POSITIVE, "rated_capacity_ah"),
            "initialInternalResistance": Leaf(_list(_obj({
                "ohmicResistance": POSITIVE,
                "batteryComponent": {"type": "string", "enum": ["pack", "module", "cell"]},
            }, ("ohmicResistance", "batteryComponent"))), "initial_internal_resistance_ohm"),
            "expectedLifetime": Leaf(POSITIVE, "expected_lifetime_years"),
            "nominalVoltage": Leaf(POSITIVE, "nominal_voltage_v"),
            "minimumVoltage": Leaf(POSITIVE, "min_voltage_v"),
            "maximumVoltage": Leaf(POSITIVE, "max_voltage_v"),
            "capacityThresholdForExhaustion": Leaf(PERCENT, "capacity_threshold_for_exhaustion_pct"),
            "lifetimeReferenceTest": Leaf(URI, "cycle_life_reference_test"),
            "cRateLifeCycleTest": Leaf(POSITIVE, "cycle_life_test_c_rate"),
            "temperatureRangeIdleState": Leaf(_obj({
                "minimum": {"type": "number", "minimum": -100, "maximum": 200},
                "maximum": {"type": "number", "minimum": -100, "maximum": 200},
            }, ("minimum", "maximum")), "idle_temperature_lower_c"),
            "roundTripEfficiencyat50PerCentCycleLife": Leaf(
                PERCENT, "round_trip_efficiency_at_50pct_cycle_life_pct"),
            "roundTripEfficiencyFade": Leaf(PERCENT, "round_trip_efficiency_fade_pct"),
            "powerFade": Leaf(PERCENT, "power_fade_pct"),
        }),
        "batteryCondition": Node({
            "energyThroughput": Leaf(_stamped("energyThroughputValue", NON_NEGATIVE), "energy_throughput_kwh"),
            "capacityThroughput": Leaf(_stamped("capacityThroughputValue", NON_NEGATIVE),
                                       "capacity_throughput_ah"),
            "numberOfFullCycles": Leaf(_stamped("numberOfFullCyclesValue", NON_NEGATIVE), "full_cycles_count"),
            "stateOfCertifiedEnergy": Leaf(_stamped("stateOfCertifiedEnergyValue", PERCENT),
                                           "state_of_certified_energy_pct"),
            "capacityFade": Leaf(_stamped("capacityFadeValue", PERCENT), "remaining_capacity_ah"),
            "remainingEnergy": Leaf(_stamped("remainingEnergyValue", NON_NEGATIVE),
                                    "remaining_usable_energy_kwh"),
            "remainingCapacity": Leaf(_stamped("remainingCapacityValue", NON_NEGATIVE), "remaining_capacity_ah"),
            "negativeEvents": Leaf(_list(_obj({"negativeEvent": TEXT, "lastUpdate": DATE_TIME},
                                              ("negativeEvent", "lastUpdate"))), "accident_information"),
            "temperatureInformation": Leaf(_obj({
                "timeExtremeHighTemp": NON_NEGATIVE, "timeExtremeLowTemp": NON_NEGATIVE,
                "timeExtremeHighTempCharging": NON_NEGATIVE, "timeExtremeLowTempCharging": NON_NEGATIVE,
                "lastUpdate": DATE_TIME,
            }, ("timeExtremeHighTemp", "timeExtremeLowTemp", "timeExtremeHighTempCharging",
                "timeExtremeLowTempCharging", "lastUpdate")), "time_above_temperature_boundary_minutes"),
            "remainingPowerCapability": Leaf(_stamped("remainingPowerCapabilityValue", _obj(
                {"atSoC": PERCENT, "powerCapabilityAt": POSITIVE, "rPCLastUpdated": DATE_TIME},
                ("atSoC", "powerCapabilityAt", "rPCLastUpdated"))),
                                             "remaining_power_capability_w"),
            "evolutionOfSelfDischarge": Leaf(_stamped("evolutionOfSelfDischargeValue", PERCENT),
                                             "self_discharge_evolution"),
            "currentSelfDischargingRate": Leaf(_stamped("currentSelfDischargingRateValue", PERCENT),
                                               "current_self_discharge_pct_per_month", "self_discharge_evolution"),
            "internalResistanceIncrease": Leaf(_list(_obj({
                "internalResistanceIncreaseValue": {"type": "number", "minimum": 0, "maximum": 1000},
                "lastUpdate": DATE_TIME,
                "batteryComponent": {"type": "string", "enum": ["pack", "module", "cell"]},
            }, ("internalResistanceIncreaseValue", "lastUpdate", "batteryComponent"))),
                "internal_resistance_increase_pct"),
            "remainingRoundTripEnergyEfficiency": Leaf(
                _stamped("remainingRoundTripEnergyEfficiencyValue", PERCENT), "remaining_round_trip_efficiency_pct"),
            "stateOfCharge": Leaf(_stamped("stateOfChargeValue", PERCENT), "state_of_charge_pct"),
        }),
    }),
    "Labeling": Node({
        "declarationOfConformity": Leaf(URI, "declaration_of_conformity"),
        "resultOfTestReport": Leaf(URI, "test_reports"),
        "labels": Leaf(_list(_obj({
            "labelingSymbol": URI,
            "labelingMeaning": {"type": "object", "additionalProperties": TEXT, "minProperties": 1},
            "labelingSubject": {"type": "string", "enum": list(LabelSubject.values)},
        }, ("labelingSymbol", "labelingMeaning", "labelingSubject"))), "labels_meaning"),
    }),
    "SupplyChainDueDiligence": Node({
        "supplyChainDueDiligenceReport": Leaf(URI, "due_diligence_report_url"),
        "thirdPartyAussurances": Leaf(URI, "third_party_assurances"),
        "supplyChainIndicies": Leaf(NUMBER, "supply_chain_indices"),
    }),
}

# Envelope keys that are document fields of ours rather than aspect properties.
ENVELOPE_DOCUMENT_KEYS = frozenset({
    "passport_identifier", "battery_identifier", "state", "predecessors", "successors",
    "model_version", "passport_version", "last_updated",
})


def _prune(node: Node, visible: frozenset[str]) -> dict | None:
    properties: dict[str, Any] = {}
    for name, child in node.children.items():
        if isinstance(child, Node):
            schema = _prune(child, visible)
            if schema is not None:
                properties[name] = schema
        elif any(key in visible for key in child.keys):
            properties[name] = child.schema
    return _obj(properties) if properties else None


# passport.services.batteries.dynamic_provenance_apply: {attribute key: when, by whom, how}.
PROVENANCE_SCHEMA = {
    "type": ["object", "null"],
    "additionalProperties": {
        "type": "object",
        "properties": {
            "last_updated": DATE_TIME,
            "source": {"enum": ["system", "operator"]},
            "method": TEXT,
            "as_of": DATE_TIME,
        },
        "required": ["last_updated", "source"],
    },
}


def _value_schema(key: str) -> dict:
    attribute = BY_KEY.get(key)
    if attribute is not None:
        return attribute.kind.json_schema()
    if key == PROVENANCE_KEY:
        return PROVENANCE_SCHEMA
    return {"type": ["string", "integer", "array", "object", "null"]}


def schema_url(view: View | str) -> str:
    return f"{settings.PASSPORT_BASE_URL}/schemas/passport/{SCHEMA_VERSION}/{View(view).value}.json"


@functools.cache
def view_schema(view: View) -> dict:
    """The JSON Schema of an export in `view` (as served at schema_url(view))."""
    visible = keys_of_tiers(view.tiers(interest=True))
    aspects = {name: _prune(SPEC[name], visible) or _obj({}) for name in ASPECTS}
    additional = {key: _value_schema(key) for key in sorted(visible - ENVELOPE_DOCUMENT_KEYS)
                  if key in TIER_OF}
    envelope = {
        "passportIdentifier": TEXT,
        "batteryIdentifier": TEXT,
        "state": {"type": "string", "enum": ["active", "superseded", "ceased"]},
        "passportVersion": {"type": "integer", "minimum": 1},
        "modelVersion": {"type": "integer", "minimum": 1},
        "versionHash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "modelVersionHash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "predecessors": _list(TEXT),
        "successors": _list(TEXT),
        "lastUpdated": DATE_TIME,
        "view": {"const": view.value},
        "generatedAt": DATE_TIME,
        **aspects,
        "additionalAttributes": _obj(additional),
    }
    return {
        "$schema": DIALECT,
        "$id": f"/schemas/passport/{SCHEMA_VERSION}/{view.value}.json",
        "title": f"Battery passport export, {view.value} view (Battery Pass v1.2 aspects)",
        "description": "An envelope of ours around the seven Battery Pass consortium v1.2 aspects; "
        "attributes the aspects cannot carry are in additionalAttributes under our keys "
        "(see docs/documents.md).",
        "type": "object",
        "properties": {"$schema": URI, **envelope},
        "required": ["passportIdentifier", "batteryIdentifier", "passportVersion", "modelVersion",
                     "versionHash", "modelVersionHash", "predecessors", "view", "generatedAt",
                     *ASPECTS, "additionalAttributes"],
        "additionalProperties": False,
    }


@functools.cache
def _validator(view: View) -> Draft202012Validator:
    return Draft202012Validator(view_schema(view), format_checker=FormatChecker())


def json_path(path: Any) -> str:
    return ".".join(str(part) for part in path) or "$"


def schema_errors(document: Any, view: View) -> list[tuple[str, str]]:
    """(JSON path, reason) of every way `document` breaks the schema of `view`."""
    errors = sorted(_validator(view).iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [(json_path(error.absolute_path), _reason(error)) for error in errors]


def _reason(error: SchemaError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "not allowed here")
    return error.message[:300]


class DocumentInvalid(Exception):
    """An export of ours broke its own schema: a bug, never served."""


def document_validate(document: dict, view: View) -> None:
    errors = schema_errors(document, view)
    if errors:
        summary = "; ".join(f"{path}: {reason}" for path, reason in errors[:5])
        raise DocumentInvalid(f"export does not match its {view.value} schema: {summary}")
