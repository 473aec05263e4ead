"""Mapping between our passport document (flat, keyed by attribute) and the seven aspects of the
Battery Pass consortium data model v1.2 (DIN DKE SPEC 99100).

Two directions, each a set of small functions:

* `aspects_build(document, last_update)` reshapes an (already access-filtered) document into the
  aspects. A property whose source values the reader may not see, or that has no value, is left
  out; nothing is invented. `last_update(key)` gives the time a dynamic value last changed (the
  consortium's `lastUpdate`).
* `aspects_read(aspects)` is the way back: the attribute values the aspects determine, with the
  JSON path each came from (so that an import can name the path of a refused value).

The consortium model cannot carry every attribute losslessly (e.g. a document's title, the
evolution of self-discharge as a series, the model's capacity fade). The exporter therefore
reads its own aspects back and puts every visible value that does not come back identical into
the envelope's `additionalAttributes` (under our attribute key): what the aspects say is
standard, and the export as a whole loses nothing, so export -> import -> export is the same.

Units: carbon footprint per stage in kg CO2e per kWh (the stage's share of the total, which is
what Art. 7(1)(e) asks for); absolute carbon footprint in t CO2e; energies in kWh, capacities in
Ah, powers in W, resistances in ohm, shares in %. Texts the consortium wants as a link
(end-of-life information, safety instructions without a document) are given as RFC 2397
`data:` URIs, which carry the text itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

from passport.vocabulary import BatteryStatus, Chemistry, DocumentType

ASPECTS: tuple[str, ...] = (
    "GeneralProductInformation",
    "CarbonFootprintForBatteries",
    "Circularity",
    "MaterialComposition",
    "PerformanceAndDurability",
    "Labeling",
    "SupplyChainDueDiligence",
)

# Annex XIII 4(c) statuses in the consortium's spelling. `recycled` has none: the passport ends
# with recycling (Art. 77(8)); exported as "Recycled", a documented deviation (docs/documents.md).
STATUS_TO_CONSORTIUM = {
    BatteryStatus.ORIGINAL: "Original",
    BatteryStatus.REPURPOSED: "Repurposed",
    BatteryStatus.REUSED: "Reused",
    BatteryStatus.REMANUFACTURED: "Remanufactured",
    BatteryStatus.WASTE: "Waste",
    BatteryStatus.RECYCLED: "Recycled",
}
STATUS_FROM_CONSORTIUM = {value: key.value for key, value in STATUS_TO_CONSORTIUM.items()}

CARBON_STAGES = (
    ("RawMaterialExtraction", "carbon_footprint_raw_material_pct"),
    ("MainProduction", "carbon_footprint_production_pct"),
    ("Distribution", "carbon_footprint_distribution_pct"),
    ("Recycling", "carbon_footprint_end_of_life_pct"),
)
RECYCLED_MATERIALS = (("Nickel", "nickel"), ("Cobalt", "cobalt"), ("Lithium", "lithium"), ("Lead", "lead"))
MATERIAL_COMPONENTS = ("cathode", "anode", "electrolyte")
RESISTANCE_COMPONENTS = ("pack", "module", "cell")
END_OF_LIFE = (
    ("wastePrevention", "end_user_waste_prevention_info"),
    ("separateCollection", "end_user_separate_collection_info"),
    ("informationOnCollection", "collection_and_treatment_info"),
)
TEMPERATURE_TIMES = (
    ("timeExtremeHighTemp", "time_above_temperature_boundary_minutes"),
    ("timeExtremeLowTemp", "time_below_temperature_boundary_minutes"),
    ("timeExtremeHighTempCharging", "time_charging_above_temperature_boundary_minutes"),
    ("timeExtremeLowTempCharging", "time_charging_below_temperature_boundary_minutes"),
)
# (consortium property of batteryCondition, value property, our attribute key)
CONDITION_VALUES = (
    ("energyThroughput", "energyThroughputValue", "energy_throughput_kwh"),
    ("capacityThroughput", "capacityThroughputValue", "capacity_throughput_ah"),
    ("numberOfFullCycles", "numberOfFullCyclesValue", "full_cycles_count"),
    ("stateOfCertifiedEnergy", "stateOfCertifiedEnergyValue", "state_of_certified_energy_pct"),
    ("remainingEnergy", "remainingEnergyValue", "remaining_usable_energy_kwh"),
    ("remainingCapacity", "remainingCapacityValue", "remaining_capacity_ah"),
    ("currentSelfDischargingRate", "currentSelfDischargingRateValue",
     "current_self_discharge_pct_per_month"),
    ("remainingRoundTripEnergyEfficiency", "remainingRoundTripEnergyEfficiencyValue",
     "remaining_round_trip_efficiency_pct"),
    ("stateOfCharge", "stateOfChargeValue", "state_of_charge_pct"),
)
# (consortium property of batteryTechicalProperties, our attribute key): plain numbers.
TECHNICAL_NUMBERS = (
    ("ratedMaximumPower", "max_permitted_power_w"),
    ("expectedNumberOfCycles", "expected_lifetime_cycles"),
    ("initialSelfDischarge", "initial_self_discharge_pct_per_month"),
    ("roundtripEfficiency", "initial_round_trip_efficiency_pct"),
    ("ratedCapacity", "rated_capacity_ah"),
    ("expectedLifetime", "expected_lifetime_years"),
    ("nominalVoltage", "nominal_voltage_v"),
    ("minimumVoltage", "min_voltage_v"),
    ("maximumVoltage", "max_voltage_v"),
    ("capacityThresholdForExhaustion", "capacity_threshold_for_exhaustion_pct"),
    ("cRateLifeCycleTest", "cycle_life_test_c_rate"),
    ("roundTripEfficiencyat50PerCentCycleLife", "round_trip_efficiency_at_50pct_cycle_life_pct"),
    ("roundTripEfficiencyFade", "round_trip_efficiency_fade_pct"),
    ("powerFade", "power_fade_pct"),
)
DATA_URI_PREFIX = "data:text/plain;charset=utf-8,"

LastUpdate = Callable[[str], "str | None"]


# --- small helpers -------------------------------------------------------------------------------


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """The mapping without None values (a property without a value is left out)."""
    return {key: value for key, value in mapping.items() if value is not None and value != {}}


def _date_time(day: str | None) -> str | None:
    return f"{day}T00:00:00Z" if day else None


def _day(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return None


def text_as_data_uri(text: str | None) -> str | None:
    return DATA_URI_PREFIX + quote(text, safe="") if text else None


def text_from_data_uri(uri: Any) -> str | None:
    if isinstance(uri, str) and uri.startswith(DATA_URI_PREFIX):
        return unquote(uri[len(DATA_URI_PREFIX):])
    return None


def _address(value: dict | None) -> dict | None:
    """Our address -> PostalAddressEntity; the consortium entity has no city, so it follows the
    street after a comma."""
    if not value:
        return None
    street = ", ".join(part for part in (value.get("street"), value.get("city")) if part)
    return _compact({
        "addressCountry": value.get("country"),
        "postalCode": value.get("postal_code"),
        "streetAddress": street or None,
    })


def _address_read(value: Any) -> dict | None:
    if not isinstance(value, dict):
        return None
    street_and_city = value.get("streetAddress")
    street, city = None, None
    if isinstance(street_and_city, str):
        street, _, city = street_and_city.rpartition(", ")
    return _compact({
        "street": street or None,
        "postal_code": value.get("postalCode"),
        "city": city or None,
        "country": value.get("addressCountry"),
    })


def _contact(value: dict | None) -> dict | None:
    # The consortium's emailAddress pattern (`^[w.-]+@...`, a backslash lost) accepts only
    # addresses made of the letter w, so the e-mail travels in additionalAttributes instead.
    if not value:
        return None
    return _compact({
        "contactName": value.get("name"),
        "postalAddress": _address(value),
        "identifier": value.get("identifier"),
        "webAddress": value.get("website"),
    })


def _contact_read(value: Any) -> dict | None:
    if not isinstance(value, dict):
        return None
    return _compact({
        "name": value.get("contactName"),
        "identifier": value.get("identifier"),
        **(_address_read(value.get("postalAddress")) or {}),
        "website": value.get("webAddress"),
    })


def _stamped(value_name: str, value: Any, updated: str | None) -> dict | None:
    if value is None or updated is None:
        return None
    return {value_name: value, "lastUpdate": updated}


# --- export: document -> aspects -----------------------------------------------------------------


def general_product_information(d: dict) -> dict:
    warranty = d.get("warranty_period_years")
    status = d.get("status")
    return _compact({
        "productIdentifier": d.get("battery_identifier"),
        "batteryPassportIdentifier": d.get("passport_identifier"),
        "batteryCategory": d.get("category"),
        "manufacturerInformation": _contact(d.get("manufacturer_information")),
        "manufacturingDate": _date_time(d.get("manufacturing_date")),
        "batteryStatus": STATUS_TO_CONSORTIUM.get(status) if status else None,
        "batteryMass": d.get("battery_mass_kg"),
        "manufacturingPlace": _address(d.get("manufacturing_place")),
        "operatorInformation": _contact(d.get("operator_information")),
        "puttingIntoService": _date_time(d.get("put_into_service_on")),
        # An ISO 8601 duration; the consortium's type is an XSD gMonth ("--MM"), which cannot
        # say "ten years" (a documented deviation).
        "warrentyPeriod": f"P{warranty:g}Y" if warranty is not None else None,
    })


def carbon_footprint(d: dict) -> dict:
    total = d.get("carbon_footprint_kg_co2e_per_kwh")
    shares = [d.get(key) for _, key in CARBON_STAGES]
    stages = None
    if total is not None and all(share is not None for share in shares):
        stages = [
            {"lifecycleStage": stage, "carbonFootprint": round(total * share / 100, 6)}
            for (stage, _), share in zip(CARBON_STAGES, shares, strict=True)
        ]
    return _compact({
        "batteryCarbonFootprint": total,
        "carbonFootprintPerLifecycleStage": stages,
        "carbonFootprintPerformanceClass": d.get("carbon_footprint_performance_class"),
        "carbonFootprintStudy": d.get("carbon_footprint_study_url"),
        "absoluteCarbonFootprint": d.get("absolute_carbon_footprint_t_co2e"),
    })


def circularity(d: dict) -> dict:
    documents = d.get("dismantling_documents")
    dismantling = None
    if documents is not None:
        dismantling = [
            {
                "documentType": document.get("document_type") or DocumentType.OTHER_MANUAL.value,
                "mimeType": document["mime"],
                "documentURL": document["url"],
            }
            for document in documents
        ]
    spare_parts = None
    sources = d.get("spare_part_sources")
    if sources is not None:
        part_names = {p["part_number"]: p["part_name"] for p in d.get("part_numbers") or []}
        spare_parts = [
            _compact({
                "nameOfSupplier": source["supplier_name"],
                "addressOfSupplier": _address(source.get("address")),
                "emailAddressOfSupplier": source.get("email"),
                "supplierWebAddress": source["url"],
                "components": [
                    {"partName": part_names.get(number, number), "partNumber": number}
                    for number in source.get("part_numbers") or []
                ],
            })
            for source in sources
        ]
    recycled = []
    for material, element in RECYCLED_MATERIALS:
        pre = d.get(f"pre_consumer_recycled_{element}_pct")
        post = d.get(f"post_consumer_recycled_{element}_pct")
        # A material declared "not contained" has no share to give (kept in additionalAttributes).
        if isinstance(pre, int | float) and isinstance(post, int | float):
            recycled.append({"recycledMaterial": material, "preConsumerShare": pre, "postConsumerShare": post})
    safety = d.get("safety_measures")
    safety_measures = _compact({
        "safetyInstructions": (safety.get("document_url") or text_as_data_uri(safety.get("instructions")))
        if safety else None,
        "extinguishingAgent": d.get("extinguishing_agent"),
    })
    end_of_life = _compact({name: text_as_data_uri(d.get(key)) for name, key in END_OF_LIFE})
    return _compact({
        "dismantlingAndRemovalInformation": dismantling,
        "sparePartSources": spare_parts,
        "recycledContent": recycled or None,
        "safetyMeasures": safety_measures,
        "endOfLifeInformation": end_of_life,
        "renewableContent": d.get("renewable_content_pct"),
    })


def material_composition(d: dict) -> dict:
    chemistry = d.get("chemistry")
    chemistry_entity = None
    if chemistry:
        try:
            label = Chemistry(chemistry).label
        except ValueError:
            label = chemistry
        chemistry_entity = {"shortName": chemistry, "clearName": label}
    materials = None
    composition = d.get("cathode_anode_electrolyte_materials")
    mass_kg = d.get("battery_mass_kg")
    if composition is not None and mass_kg is not None:
        # The consortium wants a CAS number and a mass for each material: materials given
        # without either stay in additionalAttributes only.
        materials = [
            {
                "batteryMaterialLocation": {"componentName": component},
                "batteryMaterialIdentifier": material["cas_number"],
                "batteryMaterialName": material["name"],
                "batteryMaterialMass": round(mass_kg * material["mass_fraction_pct"] / 100, 6),
                "isCriticalRawMaterial": bool(material.get("critical_raw_material", False)),
            }
            for component in MATERIAL_COMPONENTS
            for material in composition.get(component, [])
            if material.get("cas_number") and material.get("mass_fraction_pct") is not None
        ]
    hazardous = d.get("hazardous_substances")
    substances = None
    if hazardous is not None:
        substances = [
            _compact({
                "hazardousSubstanceClass": substance.get("hazard_class_code"),
                "hazardousSubstanceName": substance["name"],
                "hazardousSubstanceConcentration": substance["concentration_pct"],
                "hazardousSubstanceImpact": substance.get("impacts") or [],
                "hazardousSubstanceLocation": {"componentName": substance["location"]}
                if substance.get("location") else None,
                "hazardousSubstanceIdentifier": substance["cas_number"],
            })
            for substance in hazardous
        ]
    return _compact({
        "batteryChemistry": chemistry_entity,
        "batteryMaterials": materials,
        "hazardousSubstances": substances,
    })


def rated_energy_kwh(d: dict) -> float | None:
    """Rated energy = rated capacity x nominal voltage (Annex IV Part A; kWh)."""
    capacity, voltage = d.get("rated_capacity_ah"), d.get("nominal_voltage_v")
    if capacity is None or voltage is None:
        return None
    return round(capacity * voltage / 1000, 6)


def _power_at_soc(value: dict | None) -> list[dict] | None:
    if not value:
        return None
    return [
        {"atSoC": 80, "powerCapabilityAt": value["at_soc_80_pct"]},
        {"atSoC": 20, "powerCapabilityAt": value["at_soc_20_pct"]},
    ]


def performance_and_durability(d: dict, last_update: LastUpdate) -> dict:
    technical: dict[str, Any] = {name: d.get(key) for name, key in TECHNICAL_NUMBERS}
    energy = rated_energy_kwh(d)
    ratio = d.get("power_to_energy_ratio_w_per_wh")
    if ratio is None and energy and d.get("max_permitted_power_w") is not None:
        ratio = round(d["max_permitted_power_w"] / (energy * 1000), 6)
    resistance = d.get("initial_internal_resistance_ohm")
    idle_low, idle_high = d.get("idle_temperature_lower_c"), d.get("idle_temperature_upper_c")
    reference = d.get("cycle_life_reference_test") or {}
    technical.update({
        "originalPowerCapability": _power_at_soc(d.get("original_power_capability_w")),
        "powerCapabilityRatio": ratio,
        "ratedEnergy": energy,
        "initialInternalResistance": [
            {"ohmicResistance": resistance[part], "batteryComponent": part}
            for part in RESISTANCE_COMPONENTS if part in resistance
        ] if resistance else None,
        "lifetimeReferenceTest": reference.get("report_url"),
        "temperatureRangeIdleState": {"minimum": idle_low, "maximum": idle_high}
        if idle_low is not None and idle_high is not None else None,
    })

    condition: dict[str, Any] = {
        name: _stamped(value_name, d.get(key), last_update(key))
        for name, value_name, key in CONDITION_VALUES
    }
    remaining, rated = d.get("remaining_capacity_ah"), d.get("rated_capacity_ah")
    if remaining is not None and rated:
        # Capacity fade is the loss against the rated capacity, as of the remaining capacity.
        fade = round(max(0.0, 100 - remaining / rated * 100), 4)
        condition["capacityFade"] = _stamped("capacityFadeValue", fade, last_update("remaining_capacity_ah"))
    evolution = d.get("self_discharge_evolution")
    if evolution:
        latest = max(evolution, key=lambda entry: entry["measured_on"])
        condition["evolutionOfSelfDischarge"] = _stamped(
            "evolutionOfSelfDischargeValue", latest["pct_per_month"], last_update("self_discharge_evolution")
        )
        if condition["currentSelfDischargingRate"] is None:
            condition["currentSelfDischargingRate"] = _stamped(
                "currentSelfDischargingRateValue", latest["pct_per_month"],
                last_update("self_discharge_evolution"),
            )
    power = d.get("remaining_power_capability_w")
    if power is not None:
        stamp = last_update("remaining_power_capability_w")
        condition["remainingPowerCapability"] = _stamped(
            "remainingPowerCapabilityValue",
            {"atSoC": 80, "powerCapabilityAt": power["at_soc_80_pct"], "rPCLastUpdated": stamp},
            stamp,
        )
    accidents = d.get("accident_information")
    if accidents is not None:
        stamp = last_update("accident_information")
        condition["negativeEvents"] = [
            {
                "negativeEvent": f"{event['occurred_on']}: {event['description']}"
                + (f" ({event['severity']})" if event.get("severity") else ""),
                "lastUpdate": stamp,
            }
            for event in accidents
        ] if stamp else None
    times = [d.get(key) for _, key in TEMPERATURE_TIMES]
    if all(value is not None for value in times):
        stamps = [stamp for _, key in TEMPERATURE_TIMES if (stamp := last_update(key)) is not None]
        if len(stamps) == len(TEMPERATURE_TIMES):
            condition["temperatureInformation"] = {
                **{name: value for (name, _), value in zip(TEMPERATURE_TIMES, times, strict=True)},
                "lastUpdate": max(stamps),
            }
    increase = d.get("internal_resistance_increase_pct")
    if increase is not None and last_update("internal_resistance_increase_pct"):
        condition["internalResistanceIncrease"] = [{
            "internalResistanceIncreaseValue": increase,
            "lastUpdate": last_update("internal_resistance_increase_pct"),
            "batteryComponent": "pack",
        }]
    return _compact({
        "batteryTechicalProperties": _compact(technical) or None,
        "batteryCondition": _compact(condition) or None,
    })


def labeling(d: dict) -> dict:
    conformity = d.get("declaration_of_conformity")
    reports = d.get("test_reports")
    meanings = d.get("labels_meaning")
    labels = None
    if meanings is not None:
        # A label needs a symbol (a link) and a subject from the consortium's list; others
        # (e.g. the CE mark) stay in additionalAttributes.
        labels = [
            {"labelingSymbol": entry["symbol_url"], "labelingMeaning": {"en": entry["meaning"]},
             "labelingSubject": entry["subject"]}
            for entry in meanings if entry.get("symbol_url") and entry.get("subject")
        ]
    return _compact({
        "declarationOfConformity": conformity.get("url") if conformity else None,
        "resultOfTestReport": reports[0]["url"] if reports else None,
        "labels": labels,
    })


def supply_chain_due_diligence(d: dict) -> dict:
    assurances = d.get("third_party_assurances")
    indices = d.get("supply_chain_indices")
    return _compact({
        "supplyChainDueDiligenceReport": d.get("due_diligence_report_url"),
        "thirdPartyAussurances": assurances[0]["url"] if assurances else None,
        "supplyChainIndicies": indices[0]["value"] if indices else None,
    })


def aspects_build(document: dict, last_update: LastUpdate) -> dict[str, dict]:
    """The seven aspects of an access-filtered document (aspects without any value are {})."""
    return {
        "GeneralProductInformation": general_product_information(document),
        "CarbonFootprintForBatteries": carbon_footprint(document),
        "Circularity": circularity(document),
        "MaterialComposition": material_composition(document),
        "PerformanceAndDurability": performance_and_durability(document, last_update),
        "Labeling": labeling(document),
        "SupplyChainDueDiligence": supply_chain_due_diligence(document),
    }


# --- import: aspects -> attribute values ---------------------------------------------------------


class _Reader:
    """Collects attribute values with the JSON path each came from."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.paths: dict[str, str] = {}

    def put(self, key: str, value: Any, path: str) -> None:
        if value is not None:
            self.values[key] = value
            self.paths[key] = path


def _get(mapping: Any, *names: str) -> Any:
    for name in names:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(name)
    return mapping


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def aspects_read(aspects: dict) -> tuple[dict[str, Any], dict[str, str]]:
    """The attribute values the aspects determine, and the JSON path of each. Assumes the
    aspects passed the structural schema; values are checked later by the attribute table."""
    reader = _Reader()
    general = aspects.get("GeneralProductInformation") or {}
    g = "GeneralProductInformation"
    reader.put("battery_identifier", general.get("productIdentifier"), f"{g}.productIdentifier")
    reader.put("passport_identifier", general.get("batteryPassportIdentifier"), f"{g}.batteryPassportIdentifier")
    reader.put("category", general.get("batteryCategory"), f"{g}.batteryCategory")
    reader.put("manufacturer_information", _contact_read(general.get("manufacturerInformation")),
               f"{g}.manufacturerInformation")
    reader.put("manufacturing_date", _day(general.get("manufacturingDate")), f"{g}.manufacturingDate")
    status = general.get("batteryStatus")
    reader.put("status", STATUS_FROM_CONSORTIUM.get(status, status) if isinstance(status, str) else status,
               f"{g}.batteryStatus")
    reader.put("battery_mass_kg", general.get("batteryMass"), f"{g}.batteryMass")
    reader.put("manufacturing_place", _address_read(general.get("manufacturingPlace")), f"{g}.manufacturingPlace")
    reader.put("operator_information", _contact_read(general.get("operatorInformation")),
               f"{g}.operatorInformation")
    reader.put("put_into_service_on", _day(general.get("puttingIntoService")), f"{g}.puttingIntoService")
    warranty = general.get("warrentyPeriod")
    if isinstance(warranty, str) and warranty.startswith("P") and warranty.endswith("Y"):
        try:
            years = float(warranty[1:-1])
            reader.put("warranty_period_years", int(years) if years.is_integer() else years, f"{g}.warrentyPeriod")
        except ValueError:
            reader.put("warranty_period_years", warranty, f"{g}.warrentyPeriod")

    carbon = aspects.get("CarbonFootprintForBatteries") or {}
    c = "CarbonFootprintForBatteries"
    total = carbon.get("batteryCarbonFootprint")
    reader.put("carbon_footprint_kg_co2e_per_kwh", total, f"{c}.batteryCarbonFootprint")
    stages = {_get(entry, "lifecycleStage"): (position, _get(entry, "carbonFootprint"))
              for position, entry in enumerate(_list(carbon.get("carbonFootprintPerLifecycleStage")))}
    for stage, key in CARBON_STAGES:
        if stage in stages and _number(stages[stage][1]) and isinstance(total, int | float) and total > 0:
            position, value = stages[stage]
            reader.put(key, round(value / total * 100, 4),
                       f"{c}.carbonFootprintPerLifecycleStage.{position}.carbonFootprint")
    reader.put("carbon_footprint_performance_class", carbon.get("carbonFootprintPerformanceClass"),
               f"{c}.carbonFootprintPerformanceClass")
    reader.put("carbon_footprint_study_url", carbon.get("carbonFootprintStudy"), f"{c}.carbonFootprintStudy")
    reader.put("absolute_carbon_footprint_t_co2e", carbon.get("absoluteCarbonFootprint"),
               f"{c}.absoluteCarbonFootprint")

    circular = aspects.get("Circularity") or {}
    r = "Circularity"
    documents = circular.get("dismantlingAndRemovalInformation")
    if isinstance(documents, list):
        reader.put("dismantling_documents", [
            {"title": DocumentType(doc["documentType"]).label if doc.get("documentType") in DocumentType.values
             else "Document", "url": doc.get("documentURL"), "mime": doc.get("mimeType"),
             "document_type": doc.get("documentType")}
            for doc in documents if isinstance(doc, dict)
        ], f"{r}.dismantlingAndRemovalInformation")
    sources = circular.get("sparePartSources")
    if isinstance(sources, list):
        parts: dict[str, Any] = {}
        entries = []
        for source in sources:
            if not isinstance(source, dict):
                continue
            numbers = []
            for component in _list(source.get("components")):
                if isinstance(component, dict) and component.get("partNumber"):
                    parts[component["partNumber"]] = component.get("partName")
                    numbers.append(component["partNumber"])
            entries.append(_compact({
                "supplier_name": source.get("nameOfSupplier"),
                "url": source.get("supplierWebAddress"),
                "email": source.get("emailAddressOfSupplier"),
                "address": _address_read(source.get("addressOfSupplier")),
                "part_numbers": numbers or None,
            }))
        reader.put("spare_part_sources", entries, f"{r}.sparePartSources")
        if parts:
            reader.put("part_numbers", [{"part_name": name, "part_number": number}
                                        for number, name in parts.items()], f"{r}.sparePartSources")
    for position, entry in enumerate(_list(circular.get("recycledContent"))):
        material = _get(entry, "recycledMaterial")
        element = dict(RECYCLED_MATERIALS).get(material)
        if element is None:
            continue
        reader.put(f"pre_consumer_recycled_{element}_pct", _get(entry, "preConsumerShare"),
                   f"{r}.recycledContent.{position}.preConsumerShare")
        reader.put(f"post_consumer_recycled_{element}_pct", _get(entry, "postConsumerShare"),
                   f"{r}.recycledContent.{position}.postConsumerShare")
    instructions = _get(circular, "safetyMeasures", "safetyInstructions")
    if isinstance(instructions, str):
        text = text_from_data_uri(instructions)
        safety = {"instructions": text} if text is not None else {
            "instructions": f"See {instructions}", "document_url": instructions}
        reader.put("safety_measures", safety, f"{r}.safetyMeasures.safetyInstructions")
    reader.put("extinguishing_agent", _get(circular, "safetyMeasures", "extinguishingAgent"),
               f"{r}.safetyMeasures.extinguishingAgent")
    for name, key in END_OF_LIFE:
        uri = _get(circular, "endOfLifeInformation", name)
        reader.put(key, text_from_data_uri(uri) if text_from_data_uri(uri) is not None else uri,
                   f"{r}.endOfLifeInformation.{name}")
    reader.put("renewable_content_pct", circular.get("renewableContent"), f"{r}.renewableContent")

    material = aspects.get("MaterialComposition") or {}
    m = "MaterialComposition"
    reader.put("chemistry", _get(material, "batteryChemistry", "shortName"), f"{m}.batteryChemistry.shortName")
    mass = reader.values.get("battery_mass_kg")
    materials = material.get("batteryMaterials")
    if isinstance(materials, list) and isinstance(mass, int | float) and mass > 0:
        composition: dict[str, list] = {component: [] for component in MATERIAL_COMPONENTS}
        for entry in materials:
            component = _get(entry, "batteryMaterialLocation", "componentName")
            weight = _get(entry, "batteryMaterialMass")
            if component in composition and _number(weight):
                composition[component].append({
                    "name": entry.get("batteryMaterialName"),
                    "cas_number": entry.get("batteryMaterialIdentifier"),
                    "mass_fraction_pct": round(weight / mass * 100, 4),
                    "critical_raw_material": entry.get("isCriticalRawMaterial"),
                })
        reader.put("cathode_anode_electrolyte_materials", composition, f"{m}.batteryMaterials")
    substances = material.get("hazardousSubstances")
    if isinstance(substances, list):
        reader.put("hazardous_substances", [
            _compact({
                "name": entry.get("hazardousSubstanceName"),
                "cas_number": entry.get("hazardousSubstanceIdentifier"),
                "concentration_pct": entry.get("hazardousSubstanceConcentration"),
                "hazard_class_code": entry.get("hazardousSubstanceClass"),
                "impacts": entry.get("hazardousSubstanceImpact") or None,
                "location": _get(entry, "hazardousSubstanceLocation", "componentName"),
            })
            for entry in substances if isinstance(entry, dict)
        ], f"{m}.hazardousSubstances")

    performance = aspects.get("PerformanceAndDurability") or {}
    t = "PerformanceAndDurability.batteryTechicalProperties"
    technical = performance.get("batteryTechicalProperties") or {}
    for name, key in TECHNICAL_NUMBERS:
        reader.put(key, technical.get(name), f"{t}.{name}")
    powers = {_get(entry, "atSoC"): _get(entry, "powerCapabilityAt")
              for entry in _list(technical.get("originalPowerCapability"))}
    if 80 in powers and 20 in powers:
        reader.put("original_power_capability_w", {"at_soc_80_pct": powers[80], "at_soc_20_pct": powers[20]},
                   f"{t}.originalPowerCapability")
    resistances = {_get(entry, "batteryComponent"): _get(entry, "ohmicResistance")
                   for entry in _list(technical.get("initialInternalResistance"))}
    if resistances:
        reader.put("initial_internal_resistance_ohm",
                   {part: resistances[part] for part in reversed(RESISTANCE_COMPONENTS) if part in resistances},
                   f"{t}.initialInternalResistance")
    reader.put("idle_temperature_lower_c", _get(technical, "temperatureRangeIdleState", "minimum"),
               f"{t}.temperatureRangeIdleState.minimum")
    reader.put("idle_temperature_upper_c", _get(technical, "temperatureRangeIdleState", "maximum"),
               f"{t}.temperatureRangeIdleState.maximum")
    condition = performance.get("batteryCondition") or {}
    b = "PerformanceAndDurability.batteryCondition"
    for name, value_name, key in CONDITION_VALUES:
        reader.put(key, _get(condition, name, value_name), f"{b}.{name}.{value_name}")
    for name, key in TEMPERATURE_TIMES:
        reader.put(key, _get(condition, "temperatureInformation", name), f"{b}.temperatureInformation.{name}")

    labels = aspects.get("Labeling") or {}
    lab = "Labeling"
    conformity = labels.get("declarationOfConformity")
    if conformity is not None:
        reader.put("declaration_of_conformity", {"id": conformity, "url": conformity},
                   f"{lab}.declarationOfConformity")
    report = labels.get("resultOfTestReport")
    if report is not None:
        reader.put("test_reports", [{"title": "Test report", "url": report}], f"{lab}.resultOfTestReport")
    label_entries = labels.get("labels")
    if isinstance(label_entries, list):
        reader.put("labels_meaning", [
            {"symbol": entry.get("labelingSubject"), "meaning": _get(entry, "labelingMeaning", "en"),
             "symbol_url": entry.get("labelingSymbol"), "subject": entry.get("labelingSubject")}
            for entry in label_entries if isinstance(entry, dict)
        ], f"{lab}.labels")

    supply = aspects.get("SupplyChainDueDiligence") or {}
    reader.put("due_diligence_report_url", supply.get("supplyChainDueDiligenceReport"),
               "SupplyChainDueDiligence.supplyChainDueDiligenceReport")
    return reader.values, reader.paths
