"""Fixtures of the web-layer tests (API and pages); the domain fixtures come from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def fresh_throttle_counters() -> None:
    """Throttle counters live in the cache; a test must not inherit another test's requests."""
    cache.clear()


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
