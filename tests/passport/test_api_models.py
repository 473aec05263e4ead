"""Battery models through the API: create, list, read, update (versioned), and every refusal."""

from __future__ import annotations

import copy

import pytest

from passport.models import BatteryModel, Version

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/models/"


def model_payload(data: dict, **overrides) -> dict:
    return {"name": "HomeRack 7.68 (48 V 150 Ah)", "category": "stationary", "chemistry": "LFP",
            "data": data, **overrides}


def fields_of(response) -> list[str | None]:
    return [error["field"] for error in response.json()["errors"]]


def test_a_manufacturer_creates_a_model_with_its_first_version(api_as, users, organisations, stationary_model_data) -> None:
    response = api_as(users.manufacturer).post(MODELS, model_payload(stationary_model_data), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["manufacturer"] == {"id": organisations.manufacturer.pk, "name": "Voltaro Energy GmbH",
                                    "kind": "manufacturer"}
    assert body["category"] == "stationary"
    assert body["data"]["rated_capacity_ah"] == 100
    model = BatteryModel.objects.get(pk=body["id"])
    assert Version.objects.filter(model=model).count() == 1


def test_the_list_shows_only_the_callers_own_models(api_as, users, stationary_model, stationary_model_data) -> None:
    api_as(users.other_manufacturer).post(MODELS, model_payload(stationary_model_data, name="Other rack"), format="json")

    mine = api_as(users.manufacturer).get(MODELS).json()
    theirs = api_as(users.other_manufacturer).get(MODELS).json()

    assert [model["name"] for model in mine["results"]] == [stationary_model.name]
    assert [model["name"] for model in theirs["results"]] == ["Other rack"]
    assert mine["count"] == 1


def test_a_private_person_cannot_create_models(api_as, users, stationary_model_data) -> None:
    response = api_as(users.owner).post(MODELS, model_payload(stationary_model_data), format="json")
    assert response.status_code == 403
    assert BatteryModel.objects.count() == 0


def test_a_recycler_does_not_place_models_on_the_market(api_as, users, stationary_model_data) -> None:
    response = api_as(users.recycler).post(MODELS, model_payload(stationary_model_data), format="json")
    assert response.status_code == 400
    assert fields_of(response) == ["manufacturer"]
    assert BatteryModel.objects.count() == 0


def with_values(data: dict, **values) -> dict:
    changed = copy.deepcopy(data)
    changed.update(values)
    return changed


INVALID_MODEL_DATA = {
    "negative mass": ({"battery_mass_kg": -45}, "battery_mass_kg"),
    "absurd voltage": ({"nominal_voltage_v": 1_000_000}, "nominal_voltage_v"),
    "share above 100 %": ({"pre_consumer_recycled_lithium_pct": 120}, "pre_consumer_recycled_lithium_pct"),
    "share below 0 %": ({"renewable_content_pct": -1}, "renewable_content_pct"),
    "stage shares sum to 90 %": ({"carbon_footprint_raw_material_pct": 51.5}, "carbon_footprint_raw_material_pct"),
    "number as text": ({"rated_capacity_ah": "100"}, "rated_capacity_ah"),
    "unknown attribute": ({"colour": "blue"}, "colour"),
    "item attribute on a model": ({"state_of_charge_pct": 50}, "state_of_charge_pct"),
}


@pytest.mark.parametrize("case", INVALID_MODEL_DATA.values(), ids=INVALID_MODEL_DATA.keys())
def test_invalid_attribute_values_are_400_with_the_field(api_as, users, stationary_model_data, case) -> None:
    values, field = case
    response = api_as(users.manufacturer).post(
        MODELS, model_payload(with_values(stationary_model_data, **values)), format="json"
    )
    assert response.status_code == 400
    assert field in fields_of(response)
    assert all(error["reason"] for error in response.json()["errors"])
    assert BatteryModel.objects.count() == 0


def test_carbon_stage_shares_within_half_a_percent_of_100_are_accepted(api_as, users, stationary_model_data) -> None:
    # 61.5 + 31 + 3.5 + 4 = 100; +0.4 stays within the tolerance.
    data = with_values(stationary_model_data, carbon_footprint_raw_material_pct=61.9)
    response = api_as(users.manufacturer).post(MODELS, model_payload(data), format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(("field", "value"), [("chemistry", "LiPo"), ("category", "toy")])
def test_unknown_chemistry_or_category_is_400(api_as, users, stationary_model_data, field, value) -> None:
    response = api_as(users.manufacturer).post(
        MODELS, model_payload(stationary_model_data, **{field: value}), format="json"
    )
    assert response.status_code == 400
    assert fields_of(response) == [field]
    assert "not a valid choice" in response.json()["errors"][0]["reason"]


def test_missing_mandatory_attributes_are_each_reported(api_as, users, stationary_model_data) -> None:
    data = {key: value for key, value in stationary_model_data.items()
            if key not in ("rated_capacity_ah", "safety_measures")}
    response = api_as(users.manufacturer).post(MODELS, model_payload(data), format="json")
    assert response.status_code == 400
    assert {"rated_capacity_ah", "safety_measures"} <= set(fields_of(response))


def test_a_duplicate_model_name_is_409(api_as, users, stationary_model, stationary_model_data) -> None:
    response = api_as(users.manufacturer).post(
        MODELS, model_payload(stationary_model_data, name=stationary_model.name), format="json"
    )
    assert response.status_code == 409
    assert fields_of(response) == ["name"]
    assert BatteryModel.objects.count() == 1


def test_members_read_their_model(api_as, users, stationary_model) -> None:
    response = api_as(users.manufacturer).get(f"{MODELS}{stationary_model.pk}/")
    assert response.status_code == 200
    # The full data, including the point-3 test reports only the manufacturer and authorities see.
    assert response.json()["data"]["test_reports"][0]["title"] == "IEC 62619:2022 safety test report"


def test_someone_elses_model_is_403_and_a_missing_one_404(api_as, users, stationary_model) -> None:
    assert api_as(users.other_manufacturer).get(f"{MODELS}{stationary_model.pk}/").status_code == 403
    missing = api_as(users.manufacturer).get(f"{MODELS}{stationary_model.pk + 100}/")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] is None


def test_an_update_changes_the_data_and_records_a_version(api_as, users, stationary_model) -> None:
    response = api_as(users.manufacturer).patch(
        f"{MODELS}{stationary_model.pk}/",
        {"data": {"warranty_period_years": 12}, "reason": "warranty extended"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["data"]["warranty_period_years"] == 12
    latest = Version.objects.filter(model=stationary_model).order_by("-seq").first()
    assert latest.seq == 2
    assert latest.reason == "warranty extended"
    assert latest.changes == {"warranty_period_years": {"old": 10, "new": 12}}


def test_a_rejected_update_changes_nothing(api_as, users, stationary_model) -> None:
    before = BatteryModel.objects.get(pk=stationary_model.pk).data
    response = api_as(users.manufacturer).patch(
        f"{MODELS}{stationary_model.pk}/",
        {"data": {"warranty_period_years": 12, "post_consumer_recycled_cobalt_pct": 150},
         "reason": "mixed good and bad"},
        format="json",
    )
    assert response.status_code == 400
    assert fields_of(response) == ["post_consumer_recycled_cobalt_pct"]
    assert BatteryModel.objects.get(pk=stationary_model.pk).data == before
    assert Version.objects.filter(model=stationary_model).count() == 1


def test_an_update_needs_a_reason(api_as, users, stationary_model) -> None:
    response = api_as(users.manufacturer).patch(
        f"{MODELS}{stationary_model.pk}/", {"data": {"warranty_period_years": 12}}, format="json"
    )
    assert response.status_code == 400
    assert fields_of(response) == ["reason"]


def test_only_the_manufacturer_updates_its_model(api_as, users, stationary_model) -> None:
    response = api_as(users.other_manufacturer).patch(
        f"{MODELS}{stationary_model.pk}/", {"data": {"warranty_period_years": 1}, "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert Version.objects.filter(model=stationary_model).count() == 1


def test_updating_a_missing_model_is_404(api_as, users) -> None:
    response = api_as(users.manufacturer).patch(f"{MODELS}999/", {"data": {}, "reason": "x"}, format="json")
    assert response.status_code == 404


def test_malformed_json_is_400(api_as, users) -> None:
    response = api_as(users.manufacturer).post(MODELS, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["errors"][0]["reason"]
