"""Public reads stay cheap and never stale: the queries of an anonymous read are pinned, the built
document is cached under the hashes of the versions it is made of, every write is visible on the
next read, past dates and access rights are decided afresh, and restricted reads are still logged
when the document comes from the cache."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from passport.models import AccessLog
from passport.services import (
    battery_claim,
    battery_model_update,
    battery_update,
    passport_document,
    passport_read,
)
from passport.services.documents import DOCUMENT_SHAPE
from passport.vocabulary import BatteryStatus

pytestmark = pytest.mark.django_db

JSON = "application/json"


def passport_url(passport) -> str:
    return f"/api/v1/passports/{passport.passport_id}/"


def read_document(client, url: str) -> dict:
    response = client.get(url, HTTP_ACCEPT=JSON)
    assert response.status_code == 200, response.content[:300]
    return response.json()["document"]


# --- queries -----------------------------------------------------------------------------------


def test_an_anonymous_json_read_by_passport_id_takes_two_queries(anonymous, complete_battery, passport,
                                                                   django_assert_num_queries):
    url = passport_url(passport)
    # The first read builds the document (one more query: the two versions) and caches it.
    with django_assert_num_queries(3):
        first = read_document(anonymous, url)
    # The passport with its battery; the battery's current rights with the hashes of the
    # versions in force. Nothing else is joined: the document comes from the cache, not from the
    # model's or the battery's stored data.
    with django_assert_num_queries(2) as queries:
        assert read_document(anonymous, url) == first
    assert not any("passport_batterymodel" in query["sql"] for query in queries.captured_queries)


@pytest.mark.parametrize("address", ["battery", "digital link", "digital link with lot"])
def test_an_anonymous_json_read_by_battery_address_takes_two_queries(anonymous, complete_battery, passport,
                                                                       address, django_assert_num_queries):
    battery = complete_battery
    url = {
        "battery": f"/api/v1/batteries/{battery.identifier}/",
        "digital link": f"/01/{battery.gtin}/21/{battery.serial}",
        "digital link with lot": f"/01/{battery.gtin}/10/{battery.batch}/21/{battery.serial}",
    }[address]
    read_document(anonymous, url)
    with django_assert_num_queries(2):
        assert read_document(anonymous, url)["passport_identifier"] == passport.passport_id


def test_an_anonymous_passport_page_takes_three_queries(client, complete_battery, passport,
                                                         django_assert_num_queries):
    url = f"/passports/{passport.passport_id}"
    assert client.get(url).status_code == 200
    # As the JSON read, plus the version history (without the authors or the snapshots).
    with django_assert_num_queries(3) as queries:
        page = client.get(url)
    assert page.status_code == 200 and b"HomeRack 5.12" in page.content
    history = queries.captured_queries[-1]["sql"]
    assert '"passport_version"."data"' not in history and "auth_user" not in history


def test_the_domain_read_takes_one_query_once_the_document_is_cached(passport, django_assert_num_queries):
    passport_read(user=None, passport=passport, endpoint="test")
    with django_assert_num_queries(1):
        passport_read(user=None, passport=passport, endpoint="test")
    with django_assert_num_queries(1):
        passport_document(passport=passport)


# --- the cache ---------------------------------------------------------------------------------


def cached_document_keys() -> list[str]:
    return [key for key in cache._cache if f"passport-document:{DOCUMENT_SHAPE}:" in key]


def test_one_entry_per_pair_of_versions_shared_by_every_reader(users, complete_battery, passport):
    for user in (None, users.authority, users.repairer, users.manufacturer):
        passport_read(user=user, passport=passport, endpoint="test")
    [key] = cached_document_keys()
    model_hash = passport.battery.model.versions.order_by("-seq").first().hash
    passport_hash = passport.versions.order_by("-seq").first().hash
    assert key.endswith(f"{model_hash}:{passport_hash}")


def test_with_the_cache_off_nothing_is_cached_and_the_document_is_the_same(settings, complete_battery, passport):
    cached = passport_document(passport=passport)
    settings.PASSPORT_DOCUMENT_CACHE_SECONDS = 0
    cache.clear()
    assert passport_document(passport=passport) == cached
    assert cached_document_keys() == []


def test_a_cached_document_cannot_be_changed_by_its_reader(passport):
    passport_document(passport=passport)["rated_capacity_ah"] = -1
    assert passport_document(passport=passport)["rated_capacity_ah"] == 100


# --- writes are visible on the next read -------------------------------------------------------


def test_an_item_update_is_visible_on_the_next_read(anonymous, api_as, users, complete_battery, passport):
    url = passport_url(passport)
    operator = api_as(users.manufacturer)
    before, operator_before = read_document(anonymous, url), read_document(operator, url)
    response = operator.patch(
        f"/api/v1/dpp/{passport.passport_id}",
        {"data": {"extinguishing_agent": ["Water mist"], "remaining_capacity_ah": 91.5}, "reason": "BMS"},
        format="json",
    )
    assert response.status_code == 200
    after, operator_after = read_document(anonymous, url), read_document(operator, url)
    assert after["extinguishing_agent"] == ["Water mist"] != before["extinguishing_agent"]
    # The public was not told of the earlier point-4-only version; it is told of this one.
    assert before["passport_version"] < operator_before["passport_version"]
    assert after["passport_version"] == operator_after["passport_version"] == operator_before["passport_version"] + 1
    assert (operator_before["remaining_capacity_ah"], operator_after["remaining_capacity_ah"]) == (97.5, 91.5)


def test_a_model_update_is_visible_on_the_next_read(anonymous, users, stationary_model, complete_battery, passport):
    url = passport_url(passport)
    assert read_document(anonymous, url)["warranty_period_years"] == 10
    battery_model_update(user=users.manufacturer, model=stationary_model, data={"warranty_period_years": 12},
                         reason="longer warranty")
    after = read_document(anonymous, url)
    assert after["warranty_period_years"] == 12 and after["model_version"] == 2


def test_a_status_change_is_visible_on_the_next_read(api_as, users, organisations, complete_battery, passport,
                                                     hand_over):
    url = passport_url(passport)
    operator = api_as(users.manufacturer)
    assert read_document(operator, url)["status"] == "original"
    hand_over(user=users.manufacturer, battery=complete_battery, status=BatteryStatus.WASTE,
              operator=organisations.recycler, reason="collected")
    # The manufacturer is no longer the responsible operator: rights are decided afresh too.
    assert "status" not in read_document(operator, url)
    recycler_view = read_document(api_as(users.recycler), url)
    assert recycler_view["status"] == "waste"
    assert recycler_view["operator_information"]["name"] == "ReCell Recycling GmbH"


def test_a_claim_gives_the_owner_point_4_on_the_next_read(api_as, users, registered, complete_battery, passport):
    url = passport_url(passport)
    assert "status" not in read_document(api_as(users.owner), url)
    battery_claim(user=users.owner, identifier=registered.battery.identifier, claim_code=registered.claim_code)
    assert read_document(api_as(users.owner), url)["status"] == "original"


def test_the_passport_at_a_past_date_is_not_the_cached_current_one(users, complete_battery, passport, at_time):
    registered_at = passport.created_at
    later = timezone.now() + dt.timedelta(days=3)
    with at_time(later):
        battery_update(user=users.manufacturer, battery=complete_battery, data={"state_of_charge_pct": 12},
                       reason="later telemetry")
    now_first = passport_document(passport=passport)
    then = passport_document(passport=passport, at=registered_at)
    assert now_first["state_of_charge_pct"] == 12 and now_first["passport_version"] == 3
    assert then["state_of_charge_pct"] is None and then["passport_version"] == 1
    assert passport_document(passport=passport) == now_first
    assert len(cached_document_keys()) == 2


# --- restricted reads are logged whether or not the document was cached -------------------------


def test_every_restricted_read_is_logged_also_from_the_cache(api_as, users, complete_battery, passport):
    client = api_as(users.authority)
    for _ in range(3):
        read_document(client, passport_url(passport))
    logs = list(AccessLog.objects.order_by("at"))
    assert len(logs) == 3
    assert all(log.view == "authority" and "test_reports" in log.attribute_keys for log in logs)
