"""Security item 5 of issue #7: passwords and claim codes tried at /login/, at the token
endpoint, at the API's claims and in the claim form share one budget per client address."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import (
    api_client,
    battery_model,
    member_of,
    organisation,
    person,
    registered_battery,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_tries(settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/minute", "user": "1000/minute", "credentials": "3/minute"},
    }


def test_wrong_passwords_at_login_are_throttled(three_tries) -> None:
    person("owner", password="right-password")
    browser = Client()
    statuses = [browser.post("/login/", {"username": "owner", "password": f"guess-{n}"}).status_code
                for n in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = browser.post("/login/", {"username": "owner", "password": "right-password"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert b"Too many requests" in refused.content
    assert "_auth_user_id" not in browser.session
    assert browser.get("/login/").status_code == 200  # showing the form is no try


def test_login_and_the_token_endpoint_share_the_budget(three_tries) -> None:
    person("owner", password="right-password")
    for _ in range(2):
        assert api_client().post("/api/v1/auth/token/", {"username": "owner", "password": "x"},
                                 format="json").status_code == 401
    assert Client().post("/login/", {"username": "owner", "password": "x"}).status_code == 200
    token = api_client().post("/api/v1/auth/token/", {"username": "owner", "password": "right-password"},
                              format="json")
    assert token.status_code == 429
    assert token.json()["errors"][0]["reason"].startswith("Request was throttled")


def test_claim_codes_in_the_form_and_the_api_are_throttled(three_tries) -> None:
    maker = organisation()
    member = member_of(maker)
    registered = registered_battery(battery_model(maker, by=member), by=member)
    guesser = person()
    browser = Client()
    browser.force_login(guesser)
    tries = [browser.post("/my/batteries/", {"action": "claim", "identifier": registered.battery.identifier,
                                             "claim_code": f"WRONG-{n}"}).status_code for n in range(3)]
    assert tries == [403, 403, 403]
    right_code_too_late = browser.post("/my/batteries/", {"action": "claim", "claim_code": registered.claim_code,
                                                          "identifier": registered.battery.identifier})
    assert right_code_too_late.status_code == 429
    api = api_client(guesser).post("/api/v1/claims/", {"identifier": registered.battery.identifier,
                                                       "claim_code": registered.claim_code}, format="json")
    assert api.status_code == 429
    registered.battery.refresh_from_db()
    assert registered.battery.owner is None
