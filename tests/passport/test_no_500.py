"""No input produces a 500 (issue #7): each case below answered 500 before, and now gets a clear
error naming the field and the reason, with the right status, and leaves what was stored as it was.
The schemathesis run (test_schemathesis.py) looks for the cases nobody listed."""

from __future__ import annotations

import json

import pytest

from passport.models import Battery, BatteryModel, Version
from passport.vocabulary import OrganisationKind
from tests.factories import api_client, battery_model, member_of, organisation, registered_battery

pytestmark = pytest.mark.django_db

DEEP = 1000


@pytest.fixture
def world():
    """A manufacturer's member with one model and one registered battery; a private owner."""
    maker = organisation()
    member = member_of(maker)
    model = battery_model(maker, by=member)
    registered = registered_battery(model, by=member)
    return member, model, registered


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def json_writes(model: BatteryModel, identifier: str, passport_id: str) -> list[tuple[str, str]]:
    return [
        ("post", "/api/v1/auth/token/"),
        ("post", "/api/v1/models/"),
        ("patch", f"/api/v1/models/{model.pk}/"),
        ("post", "/api/v1/batteries/"),
        ("post", "/api/v1/batteries/bulk/"),
        ("patch", f"/api/v1/batteries/{identifier}/"),
        ("post", f"/api/v1/batteries/{identifier}/status/"),
        ("post", f"/api/v1/batteries/{identifier}/grants/"),
        ("post", "/api/v1/claims/"),
        ("patch", f"/api/v1/dpp/{passport_id}"),
    ]


@pytest.mark.parametrize("body", [nested(DEEP), "[" * DEEP + "]" * DEEP,
                                  '{"data": ' + nested(DEEP) + ', "reason": "x"}'])
def test_json_nested_a_thousand_deep_is_400_on_every_json_endpoint(world, body: str) -> None:
    member, model, registered = world
    client = api_client(member)
    versions = Version.objects.count()
    for method, url in json_writes(model, registered.battery.identifier, registered.passport.passport_id):
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.status_code)
        (error,) = response.json()["errors"]
        assert "nested" in error["reason"], url
    assert Version.objects.count() == versions


def test_the_anonymous_token_endpoint_refuses_deep_json_too() -> None:
    response = api_client().post("/api/v1/auth/token/", nested(DEEP), content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["errors"][0]["reason"]


def test_moderately_nested_attribute_values_are_still_validated_as_values(world) -> None:
    member, _, registered = world
    response = api_client(member).patch(
        f"/api/v1/batteries/{registered.battery.identifier}/",
        {"data": {"accident_information": json.loads(nested(20))}, "reason": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("accident_information")


HUGE = 10**400


@pytest.mark.parametrize(("key", "value"), [("rated_capacity_ah", HUGE), ("rated_capacity_ah", -HUGE),
                                            ("expected_lifetime_cycles", HUGE),
                                            ("battery_mass_kg", 2**1024),
                                            ("carbon_footprint_raw_material_pct", HUGE)])
def test_integers_too_large_for_a_float_are_a_field_error(world, key: str, value: int) -> None:
    member, model, _ = world
    before = model.data
    response = api_client(member).patch(
        f"/api/v1/models/{model.pk}/", json.dumps({"data": {key: value}, "reason": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:300]
    (error,) = response.json()["errors"]
    assert error["field"] == key
    assert "got" in error["reason"] and len(error["reason"]) < 300
    model.refresh_from_db()
    assert model.data == before


def test_huge_integers_in_a_dynamic_value_of_a_battery_are_a_field_error(world) -> None:
    member, _, registered = world
    response = api_client(member).patch(
        f"/api/v1/batteries/{registered.battery.identifier}/",
        json.dumps({"data": {"state_of_health_pct": HUGE}, "reason": "x"}), content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "state_of_health_pct"


@pytest.mark.parametrize(("moment", "status"), [("9999-12-31T23:59:59-01:00", 200),
                                                ("0001-01-01T00:00:00+01:00", 404),
                                                ("9999-12-31", 200), ("0001-01-01", 404)])
def test_the_extreme_moments_of_a_read_at_a_date(world, moment: str, status: int) -> None:
    _, _, registered = world
    url = f"/api/v1/dpp/product/{registered.battery.identifier}/at/{moment}"
    response = api_client().get(url)
    assert response.status_code == status, response.content[:300]
    if status == 200:
        assert response.json()["passport_identifier"] == registered.passport.passport_id
    else:
        assert "not found" in response.json()["errors"][0]["reason"]


@pytest.mark.parametrize("parameter", ["manufacturer", "model"])
@pytest.mark.parametrize("value", ["9223372036854775808", "9" * 40])
def test_regulator_filters_beyond_a_database_id_are_a_field_error(parameter: str, value: str) -> None:
    inspector = member_of(organisation(OrganisationKind.AUTHORITY))
    response = api_client(inspector).get("/api/v1/regulator/batteries/", {parameter: value})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == parameter


@pytest.mark.parametrize("url", ["/api/v1/models/9223372036854775808/",
                                 "/api/v1/batteries/X/grants/9223372036854775808/"])
def test_ids_beyond_a_database_id_in_paths_are_404(world, url: str) -> None:
    member, _, registered = world
    response = api_client(member).get(url) if "models" in url else api_client(member).delete(
        url.replace("X", registered.battery.identifier))
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] is None


def test_references_beyond_a_database_id_in_bodies_are_a_field_error(world) -> None:
    member, _, registered = world
    client = api_client(member)
    huge = 9223372036854775808
    answers = [
        client.post("/api/v1/batteries/", {"model": huge, "item": {}}, format="json"),
        client.post(f"/api/v1/batteries/{registered.battery.identifier}/status/",
                    {"status": "waste", "reason": "x", "operator": huge}, format="json"),
        client.post(f"/api/v1/batteries/{registered.battery.identifier}/grants/", {"organisation": huge},
                    format="json"),
    ]
    for response, field in zip(answers, ["model", "operator", "organisation"], strict=True):
        assert response.status_code == 400, response.content[:300]
        assert response.json()["errors"][0]["field"] == field
    assert Battery.objects.count() == 1


def test_options_on_the_models_endpoint_as_a_member(world) -> None:
    member, _, _ = world
    response = api_client(member).options("/api/v1/models/")
    assert response.status_code == 200
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST", "HEAD", "OPTIONS"}
    assert response.json()["name"]


@pytest.mark.parametrize("url", ["/api/v1/nothing-here", "/api/v1/models", "/api/v1/batteries/x/unknown/y",
                                 "/api/v1/models/a%0Ab/",
                                 "/api/v1/"])
def test_unmatched_api_paths_answer_the_json_error_body(url: str) -> None:
    for method in ("get", "post"):
        response = getattr(api_client(), method)(url)
        assert response.status_code == 404, (method, url)
        assert response["Content-Type"] == "application/json"
        (error,) = response.json()["errors"]
        assert error["field"] is None and "no API endpoint" in error["reason"]


def test_a_missing_slash_is_pointed_out(world) -> None:
    response = api_client().post("/api/v1/models", {}, format="json")
    assert response.status_code == 404
    assert "/api/v1/models/" in response.json()["errors"][0]["reason"]


# --- found by schemathesis ---------------------------------------------------------------------


def test_a_digital_link_with_a_newline_and_non_latin_characters_in_its_serial() -> None:
    response = api_client().get("/01/14742520412260/10/%F1%B8%B3%BA%0Am/21/%C4%80%1B6", {"linkType": "linkset"})
    assert response.status_code == 404
    assert response["Link"].startswith("</01/14742520412260/10/%F1%B8%B3%BA%0Am/21/%C4%80%1B6?linkType=linkset>")


def test_a_grant_of_an_organisation_id_that_is_no_number_is_404(world) -> None:
    member, _, registered = world
    response = api_client(member).delete(f"/api/v1/batteries/{registered.battery.identifier}/grants/t%C3%95/")
    assert response.status_code == 404
    assert "organisation" in response.json()["errors"][0]["reason"]


def test_empty_organisation_filters_mean_any(world) -> None:
    member, _, _ = world
    response = api_client(member).get("/api/v1/organisations/", {"q": "", "kind": ""})
    assert response.status_code == 200 and response.json()["count"] == 1


def test_a_claim_code_of_blanks_is_a_wrong_code(world) -> None:
    _, _, registered = world
    response = api_client(member_of(organisation(OrganisationKind.RECYCLER))).post(
        "/api/v1/claims/", {"identifier": registered.battery.identifier, "claim_code": "   "}, format="json")
    assert response.status_code == 403


# --- the schema says what the app does ---------------------------------------------------------


@pytest.fixture(scope="module")
def openapi() -> dict:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    return json.loads(out.getvalue())


def parameter(openapi: dict, path: str, name: str) -> dict:
    return next(p for p in openapi["paths"][path]["get"]["parameters"] if p["name"] == name)


def test_the_schema_constrains_the_moment(openapi: dict) -> None:
    schema = parameter(openapi, "/api/v1/dpp/product/{identifier}/at/{moment}", "moment")["schema"]
    assert schema == {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


@pytest.mark.parametrize(("path", "component"), [("/api/v1/models/{model_id}/", "BatteryModelUpdateInputRequest"),
                                                  ("/api/v1/batteries/{identifier}/", "BatteryUpdateInputRequest"),
                                                  ("/api/v1/dpp/{passport_id}", "BatteryUpdateInputRequest")])
def test_patch_bodies_are_required_in_the_schema_as_in_the_views(openapi: dict, path: str, component: str) -> None:
    body = openapi["paths"][path]["patch"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{component}"}
    assert set(openapi["components"]["schemas"][component]["required"]) == {"data", "reason"}


def test_empty_filters_are_documented_as_the_app_takes_them(openapi: dict) -> None:
    assert "minLength" not in parameter(openapi, "/api/v1/organisations/", "q")["schema"]
    assert "minLength" not in parameter(openapi, "/api/v1/passports/{passport_id}/", "view")["schema"]
