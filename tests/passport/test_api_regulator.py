"""The regulators' register: search and filter all batteries, page by page or exported as a
streamed CSV or JSON file; rows hold only what the authority tier may read."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from passport.api.serializers import RegisterRowSerializer
from passport.models import AccessLog

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/regulator/batteries/"
COLUMNS = [
    "battery_identifier", "passport_identifier", "model_name", "category", "chemistry", "gtin",
    "serial_number", "batch", "manufacturing_date", "state", "manufacturer_id", "manufacturer",
    "model_id", "registered_at",
]


@pytest.fixture
def fleet(api_as, api_hand_over, users, organisations, register_battery, stationary_model_data) -> dict:
    """Five batteries of our model (one re-used, one waste), and one NMC EV battery of another
    manufacturer."""
    ours = [register_battery(manufacturing_date=f"2026-0{month}-10") for month in (1, 2, 3, 4, 5)]
    maker = api_as(users.manufacturer)
    maker.post(f"/api/v1/batteries/{ours[1].battery.identifier}/status/", {"status": "re-used", "reason": "x"}, format="json")
    api_hand_over(users.manufacturer, users.recycler, ours[2].battery.identifier,
                  {"status": "waste", "operator": organisations.recycler.pk, "reason": "x"})
    other = api_as(users.other_manufacturer)
    ev_data = {**stationary_model_data, "manufacturer_information": {**stationary_model_data["manufacturer_information"], "name": "Other Cells SA"}}
    model = other.post("/api/v1/models/", {"name": "EV pack", "category": "ev", "chemistry": "NMC", "data": ev_data}, format="json")
    assert model.status_code == 201, model.json()
    ev = other.post(
        "/api/v1/batteries/",
        {"model": model.json()["id"], "item": {"identifier": "OTHER.EV.0001", "manufacturing_date": "2026-06-01"}},
        format="json",
    )
    assert ev.status_code == 201, ev.json()
    return {"ours": ours, "ev_model": model.json()["id"], "ev": ev.json()["identifier"]}


def identifiers(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [row["battery_identifier"] for row in response.json()["results"]]


def test_authorities_list_every_battery_with_the_authority_columns_only(api_as, users, fleet) -> None:
    response = api_as(users.authority).get(REGISTER)
    body = response.json()
    assert body["count"] == 6
    assert all(list(row) == COLUMNS for row in body["results"])
    # The point-4 status is not a column, for any row.
    assert not any("status" in row for row in body["results"])
    assert list(RegisterRowSerializer().fields) == COLUMNS


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("chemistry=NMC", ["ev"]),
        ("category=ev", ["ev"]),
        ("category=stationary&chemistry=LFP", [0, 1, 2, 3, 4]),
        ("manufactured_from=2026-02-01&manufactured_to=2026-03-31", [1, 2]),
        ("manufactured_from=2026-05-01", [4, "ev"]),
    ],
)
def test_filters(api_as, users, fleet, query, expected) -> None:
    wanted = [fleet["ev"] if index == "ev" else fleet["ours"][index].battery.identifier for index in expected]
    assert identifiers(api_as(users.authority).get(f"{REGISTER}?{query}")) == wanted


def test_filters_by_manufacturer_model_and_registration_date(api_as, users, organisations, fleet) -> None:
    client = api_as(users.authority)
    assert identifiers(client.get(f"{REGISTER}?manufacturer={organisations.other_manufacturer.pk}")) == [fleet["ev"]]
    assert identifiers(client.get(f"{REGISTER}?model={fleet['ev_model']}")) == [fleet["ev"]]
    today = timezone.now().date()
    assert len(identifiers(client.get(f"{REGISTER}?registered_from={today}&registered_to={today}"))) == 6
    tomorrow = today + dt.timedelta(days=1)
    assert identifiers(client.get(f"{REGISTER}?registered_from={tomorrow}")) == []


def test_pages(api_as, users, fleet) -> None:
    first = api_as(users.authority).get(f"{REGISTER}?page_size=4").json()
    assert (first["count"], len(first["results"])) == (6, 4)
    second = api_as(users.authority).get(first["next"]).json()
    assert len(second["results"]) == 2


def test_csv_export_streams_every_match(api_as, users, fleet) -> None:
    response = api_as(users.authority).get(f"{REGISTER}?format=csv&chemistry=LFP&page_size=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="battery-register-')
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 5  # every LFP battery, not one page
    assert list(rows[0]) == COLUMNS
    assert rows[0]["battery_identifier"] == fleet["ours"][0].battery.identifier
    assert rows[0]["state"] == "active"


def test_csv_cells_cannot_become_spreadsheet_formulas(api_as, users, stationary_model_data) -> None:
    client = api_as(users.manufacturer)
    model = client.post(
        "/api/v1/models/",
        {"name": "=HYPERLINK(\"http://evil\")", "category": "stationary", "chemistry": "LFP", "data": stationary_model_data},
        format="json",
    ).json()
    client.post("/api/v1/batteries/", {"model": model["id"], "item": {"identifier": "UN.VOLTARO.X1", "manufacturing_date": "2026-01-01"}}, format="json")
    response = api_as(users.authority).get(f"{REGISTER}?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["model_name"] == "'=HYPERLINK(\"http://evil\")"


def test_json_export_streams_every_match(api_as, users, fleet) -> None:
    response = api_as(users.authority).get(f"{REGISTER}?format=json&manufactured_from=2026-04-01")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(b"".join(response.streaming_content))
    assert body["columns"] == COLUMNS
    assert [row["battery_identifier"] for row in body["results"]] == [
        fleet["ours"][3].battery.identifier, fleet["ours"][4].battery.identifier, fleet["ev"],
    ]


def test_the_listing_is_not_a_restricted_read(api_as, users, fleet) -> None:
    api_as(users.authority).get(REGISTER)
    assert AccessLog.objects.count() == 0


def test_only_authorities_search_the_register(api_as, anonymous, users, fleet) -> None:
    for user in (users.manufacturer, users.recycler, users.owner):
        response = api_as(user).get(REGISTER)
        assert response.status_code == 403
        assert response.json()["errors"][0]["reason"] == "Only members of an authority may search the register."
    assert api_as(users.authority).get(f"{REGISTER}?format=csv").status_code == 200
    assert api_as(users.manufacturer).get(f"{REGISTER}?format=csv").status_code == 403
    assert anonymous.get(REGISTER).status_code == 401
    assert api_as(users.staff).get(REGISTER).status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("manufactured_from=yesterday", "manufactured_from"),
        ("manufactured_from=2026-05-01&manufactured_to=2026-01-01", "manufactured_to"),
        ("chemistry=LiPo", "chemistry"),
        ("status=broken", "status"),
        ("format=xlsx", "format"),
        ("manufacturer=abc", "manufacturer"),
    ],
)
def test_invalid_filters_are_400(api_as, users, query, field) -> None:
    response = api_as(users.authority).get(f"{REGISTER}?{query}")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_battery_built_into_a_new_one_shows_its_last_passport_as_superseded(api_as, api_hand_over, users, organisations,
                                                                              register_battery) -> None:
    old = register_battery()
    accepted = api_hand_over(users.manufacturer, users.repurposer, old.battery.identifier,
                             {"status": "repurposed", "operator": organisations.repurposer.pk,
                              "new_identifier": "UN.SECONDLIFE.NEW-0001", "reason": "rebuilt"})
    assert accepted.status_code == 200, accepted.json()
    rows = {row["battery_identifier"]: row for row in api_as(users.authority).get(REGISTER).json()["results"]}
    assert rows[old.battery.identifier]["passport_identifier"] == old.passport.passport_id
    assert rows[old.battery.identifier]["state"] == "superseded"
    assert rows["UN.SECONDLIFE.NEW-0001"]["state"] == "active"
