"""Fixtures of the web-layer tests (API and pages); the domain fixtures come from tests/conftest.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def private_cache(settings) -> None:
    """Each test gets its own empty in-memory cache, so throttle counters start at zero. Not a
    flush of the configured cache: with REDIS_URL, parallel test processes share one Redis
    database and would count (and wipe) each other's requests."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"web-test-{uuid.uuid4()}",
        }
    }


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as() -> Callable[..., APIClient]:
    """`api_as(user)`: a client that authenticates like a program, with the user's API token."""

    def client_for(user) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


@pytest.fixture
def browser_as(client) -> Callable[..., object]:
    """`browser_as(user)`: Django's test client signed in with a session, as a browser is."""

    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture
def api_hand_over(api_as) -> Callable[..., object]:
    """`api_hand_over(giver, receiver, battery_identifier, {"status":…, "operator":…, …})`: the
    giver's member offers the battery through the API and the receiver's member accepts; returns
    the acceptance response (the hand-over, with the battery's passport afterwards)."""

    def offer_and_accept(giver, receiver, identifier: str, offer: dict):
        offered = api_as(giver).post("/api/v1/handovers/", {"battery": identifier, **offer}, format="json")
        assert offered.status_code == 201, offered.json()
        return api_as(receiver).post(f"/api/v1/handovers/{offered.json()['id']}/accept/")

    return offer_and_accept
