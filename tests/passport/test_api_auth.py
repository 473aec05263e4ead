"""Authentication (API tokens, browser sessions), 401 on anonymous writes, and throttling."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

IDENTIFIER = "(01)00426123456003(21)VT260300001"
PASSPORT_ID = "urn:uuid:00000000-0000-4000-8000-000000000000"

# Every endpoint that changes something, or shows more than public data, needs a signed-in caller.
SIGNED_IN_ONLY = [
    ("get", "/api/v1/organisations/"),
    ("get", "/api/v1/models/"),
    ("post", "/api/v1/models/"),
    ("get", "/api/v1/models/1/"),
    ("patch", "/api/v1/models/1/"),
    ("post", "/api/v1/batteries/"),
    ("post", "/api/v1/batteries/bulk/"),
    ("patch", f"/api/v1/batteries/{IDENTIFIER}/"),
    ("post", f"/api/v1/batteries/{IDENTIFIER}/status/"),
    ("post", f"/api/v1/batteries/{IDENTIFIER}/grants/"),
    ("delete", f"/api/v1/batteries/{IDENTIFIER}/grants/1/"),
    ("post", "/api/v1/claims/"),
    ("patch", f"/api/v1/dpp/{PASSPORT_ID}"),
    ("get", "/api/v1/regulator/batteries/"),
]


def test_token_for_username_and_password_authenticates_later_requests(users) -> None:
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "maker", "password": "pw-maker"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/models/").status_code == 200
    # The same token on every call: it is the account's API key, not a session.
    again = APIClient().post("/api/v1/auth/token/", {"username": "maker", "password": "pw-maker"}, format="json")
    assert again.json()["token"] == token


def test_token_request_with_form_encoding_works_too(users) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "maker", "password": "pw-maker"})
    assert response.status_code == 200


def test_wrong_password_is_401_without_saying_which_part_was_wrong(users) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "maker", "password": "wrong"}, format="json"
    )
    # 401, not 400: the request is well formed, the credentials sign nobody in.
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "errors": [{"field": None, "reason": "Unable to sign in with this username and password."}]
    }


def test_missing_password_is_a_field_error(users) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "maker"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "password", "reason": "This field is required."}]


def test_invalid_token_is_401() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/v1/models/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["reason"] == "Invalid token."


@pytest.mark.parametrize(("method", "url"), SIGNED_IN_ONLY)
def test_anonymous_callers_get_401_with_the_scheme_to_use(anonymous, method: str, url: str) -> None:
    response = getattr(anonymous, method)(url, {}, format="json")
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "errors": [{"field": None, "reason": "Authentication credentials were not provided."}]
    }


def test_browser_session_works_for_the_api_and_requires_the_csrf_token(users, registered) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users.owner)
    payload = {"identifier": registered.battery.identifier, "claim_code": registered.claim_code}

    refused = client.post("/api/v1/claims/", payload, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["errors"][0]["reason"]

    client.get("/")  # the page sets the CSRF cookie, as a browser would get it
    csrf = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/claims/", payload, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 200


def set_rates(settings, anon: str, user: str = "1000/minute") -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user}}


def test_anonymous_reads_are_throttled(settings, anonymous, passport) -> None:
    set_rates(settings, anon="3/minute")
    url = f"/api/v1/passports/{passport.passport_id}/"

    statuses = [anonymous.get(url, HTTP_ACCEPT="application/json").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = anonymous.get(url, HTTP_ACCEPT="application/json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["errors"][0]["reason"].lower()


def test_the_html_page_and_the_digital_link_count_against_the_same_anonymous_budget(
    settings, anonymous, battery, passport
) -> None:
    set_rates(settings, anon="2/minute")
    assert anonymous.get(f"/passports/{passport.passport_id}").status_code == 200
    assert anonymous.get(f"/01/{battery.gtin}/21/{battery.serial}").status_code == 200
    page = anonymous.get(f"/batteries/{battery.identifier}", HTTP_ACCEPT="text/html")
    assert page.status_code == 429
    assert b"Too many requests" in page.content


def test_signed_in_callers_are_not_held_to_the_anonymous_rate(settings, api_as, users, passport) -> None:
    set_rates(settings, anon="1/minute")
    client = api_as(users.authority)
    statuses = {client.get(f"/api/v1/passports/{passport.passport_id}/").status_code for _ in range(5)}
    assert statuses == {200}


def test_signed_in_callers_have_their_own_ceiling(settings, api_as, users, passport) -> None:
    set_rates(settings, anon="1/minute", user="2/minute")
    client = api_as(users.authority)
    statuses = [client.get(f"/api/v1/passports/{passport.passport_id}/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
