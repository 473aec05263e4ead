"""Importing a passport in our export format: a round trip gives the same document; only a
manufacturer imports, into its own organisation; every impossible value is refused with its JSON
path and reason, and nothing is stored."""

from __future__ import annotations

import copy
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from passport.attributes import View
from passport.demo import lfp_item_dynamic_data
from passport.documents.exports import passport_export_view
from passport.models import Battery, BatteryModel, Passport, Version
from passport.services import battery_update

VOLATILE = {"generatedAt", "versionHash", "modelVersionHash", "passportVersion", "modelVersion", "lastUpdated",
            "lastUpdate", "rPCLastUpdated",
            # dynamic_values_provenance: when each value was recorded (the import records anew).
            "last_updated"}


def without_volatile(value):
    """The export without what names the moment of export or of recording (version numbers,
    hashes, times): the rest must come back identical."""
    if isinstance(value, dict):
        return {key: "*" if key in VOLATILE else without_volatile(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_volatile(item) for item in value]
    return value


def stored() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (BatteryModel, Battery, Passport, Version)}


@pytest.fixture
def exported_elsewhere(register_battery, users) -> dict:
    """The full export of a battery in service, as another system would hand it over: the
    battery itself is rolled back, so it exists only in the document."""
    savepoint = transaction.savepoint()
    registered = register_battery()
    battery_update(user=users.manufacturer, battery=registered.battery, reason="in service", data={
        "put_into_service_on": "2026-04-01",
        **lfp_item_dynamic_data(soh_pct=96, capacity_ah=100, cycles=140, days=200),
        "accident_information": [{"occurred_on": "2026-06-01", "description": "flooding", "severity": "minor"}],
    })
    export, _ = passport_export_view(passport=registered.passport, view=View.FULL)
    transaction.savepoint_rollback(savepoint)
    return json.loads(json.dumps(export))


def test_round_trip_export_import_export_gives_the_same_document(exported_elsewhere, api_as, users) -> None:
    response = api_as(users.manufacturer).post("/api/v1/passports/import", exported_elsewhere, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["passport_identifier"] == exported_elsewhere["passportIdentifier"]
    passport = Passport.objects.get(passport_id=exported_elsewhere["passportIdentifier"])
    assert passport.battery.responsible_operator.name == "Voltaro Energy GmbH"
    again, _ = passport_export_view(passport=passport, view=View.FULL)
    assert without_volatile(json.loads(json.dumps(again))) == without_volatile(exported_elsewhere)


def test_the_model_is_reused_when_identical_and_refused_when_different(exported_elsewhere, api_as, users,
                                                                       stationary_model) -> None:
    models_before = BatteryModel.objects.count()
    response = api_as(users.manufacturer).post("/api/v1/passports/import", exported_elsewhere, format="json")
    assert response.status_code == 201
    assert BatteryModel.objects.count() == models_before  # the fixture's model, same name and data
    changed = copy.deepcopy(exported_elsewhere)
    changed["passportIdentifier"] = changed["GeneralProductInformation"]["batteryPassportIdentifier"] = \
        "urn:uuid:00000000-0000-4000-8000-000000000001"
    changed["GeneralProductInformation"]["productIdentifier"] = changed["batteryIdentifier"] = \
        exported_elsewhere["batteryIdentifier"].replace("VT", "VX")
    changed["additionalAttributes"]["serial_number"] = changed["batteryIdentifier"].split("(21)")[1]
    changed["GeneralProductInformation"]["batteryMass"] = 46.0
    before = stored()
    response = api_as(users.manufacturer).post("/api/v1/passports/import", changed, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "additionalAttributes.model_name"
    assert stored() == before


def test_who_may_import(exported_elsewhere, api_as, anonymous, users) -> None:
    before = stored()
    assert anonymous.post("/api/v1/passports/import", exported_elsewhere, format="json").status_code == 401
    for user in (users.owner, users.authority, users.recycler, users.repairer):
        response = api_as(user).post("/api/v1/passports/import", exported_elsewhere, format="json")
        assert response.status_code == 403, user.username
    assert stored() == before


def test_another_manufacturer_cannot_take_over_a_registered_battery(battery, passport, api_as, users) -> None:
    export, _ = passport_export_view(passport=passport, view=View.FULL)
    document = json.loads(json.dumps(export))
    before = stored()
    response = api_as(users.other_manufacturer).post("/api/v1/passports/import", document, format="json")
    assert response.status_code == 409
    assert stored() == before
    battery.refresh_from_db()
    assert battery.responsible_operator.name == "Voltaro Energy GmbH"


def test_impossible_values_are_refused_with_their_paths_and_nothing_is_stored(
    exported_elsewhere, api_as, users
) -> None:
    bad = copy.deepcopy(exported_elsewhere)
    general = bad["GeneralProductInformation"]
    general["batteryMass"] = -45
    general["batteryCategory"] = "spaceship"
    technical = bad["PerformanceAndDurability"]["batteryTechicalProperties"]
    technical["ratedCapacity"] = -100
    technical["nominalVoltage"] = -51.2
    lithium = [entry["recycledMaterial"] for entry in bad["Circularity"]["recycledContent"]].index("Lithium")
    bad["Circularity"]["recycledContent"][lithium]["preConsumerShare"] = 140
    bad["MaterialComposition"]["hazardousSubstances"][0]["hazardousSubstanceIdentifier"] = "lorem-ipsum"
    before = stored()
    response = api_as(users.manufacturer).post("/api/v1/passports/import", bad, format="json")
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {
        "GeneralProductInformation.batteryMass",
        "GeneralProductInformation.batteryCategory",
        "PerformanceAndDurability.batteryTechicalProperties.ratedCapacity",
        "PerformanceAndDurability.batteryTechicalProperties.nominalVoltage",
        f"Circularity.recycledContent.{lithium}.preConsumerShare",
        "MaterialComposition.hazardousSubstances.0.hazardousSubstanceIdentifier",
    }
    assert all(error["reason"] for error in response.json()["errors"])
    assert stored() == before


def test_inconsistent_values_and_random_identifiers_are_refused(exported_elsewhere, api_as, users) -> None:
    client = api_as(users.manufacturer)
    before = stored()

    stages = copy.deepcopy(exported_elsewhere)
    stages["CarbonFootprintForBatteries"]["carbonFootprintPerLifecycleStage"][0]["carbonFootprint"] *= 1.5
    response = client.post("/api/v1/passports/import", stages, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == \
        "CarbonFootprintForBatteries.carbonFootprintPerLifecycleStage.0.carbonFootprint"
    assert "100" in response.json()["errors"][0]["reason"]

    identifiers = copy.deepcopy(exported_elsewhere)
    identifiers["GeneralProductInformation"]["productIdentifier"] = identifiers["batteryIdentifier"] = "lorem ipsum!"
    identifiers["GeneralProductInformation"]["batteryPassportIdentifier"] = "hello world"
    identifiers["passportIdentifier"] = "hello world"
    response = client.post("/api/v1/passports/import", identifiers, format="json")
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"GeneralProductInformation.productIdentifier",
            "GeneralProductInformation.batteryPassportIdentifier"} <= fields

    status = copy.deepcopy(exported_elsewhere)
    status["GeneralProductInformation"]["batteryStatus"] = "Waste"
    response = client.post("/api/v1/passports/import", status, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "GeneralProductInformation.batteryStatus"

    unknown = copy.deepcopy(exported_elsewhere)
    unknown["Labeling"]["labels"][0]["labelingSubject"] = "Glitter"
    unknown["additionalAttributes"]["favourite_colour"] = "red"
    unknown["view"] = "public"
    response = client.post("/api/v1/passports/import", unknown, format="json")
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {
        "Labeling.labels.0.labelingSubject", "additionalAttributes", "view"}

    huge = copy.deepcopy(exported_elsewhere)
    huge["CarbonFootprintForBatteries"]["carbonFootprintPerLifecycleStage"][1]["carbonFootprint"] = 10**400
    huge["GeneralProductInformation"]["batteryMass"] = 10**400
    response = client.post("/api/v1/passports/import", huge, format="json")
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {
        "CarbonFootprintForBatteries.carbonFootprintPerLifecycleStage.1.carbonFootprint",
        "GeneralProductInformation.batteryMass"}

    for body in ([], "text", {"view": "full"}):
        assert client.post("/api/v1/passports/import", body, format="json").status_code == 400
    assert stored() == before


def test_import_passport_command(exported_elsewhere, users, tmp_path) -> None:
    source = tmp_path / "passport.json"
    source.write_text(json.dumps(exported_elsewhere))
    out = StringIO()
    call_command("import_passport", str(source), "--user", users.manufacturer.username, stdout=out)
    assert exported_elsewhere["passportIdentifier"] in out.getvalue()
    with pytest.raises(CommandError, match="already registered"):
        call_command("import_passport", str(source), "--user", users.manufacturer.username)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("import_passport", str(broken), "--user", users.manufacturer.username)
