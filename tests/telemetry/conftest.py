"""Fixtures of the telemetry tests; the passport world (users, batteries) is tests/conftest.py.

    device          -> DeviceWithKey(device, key) bound to `battery`, created by its operator
    device_client   -> callable(key) -> APIClient sending `Authorization: Device <key>`
    api_as          -> callable(user) -> APIClient with the user's API token
    samples         -> callable(n, start=..., step_s=..., cells=...) -> column dict (JSON-able)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from telemetry.models import Device
from telemetry.services.devices import device_create

# The web tests' own fixtures: a private cache per test (autouse) and API clients per user.
from tests.passport.conftest import api_as, private_cache  # noqa: F401

SAMPLES_START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DeviceWithKey:
    device: Device
    key: str


@pytest.fixture
def device_client() -> Callable[[str], APIClient]:
    def client_for(key: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
        return client

    return client_for


@pytest.fixture
def device(battery, users) -> DeviceWithKey:
    created, key = device_create(user=users.manufacturer, name="rack 1 collector", batteries=[battery])
    return DeviceWithKey(created, key)


def make_samples(
    n: int,
    *,
    start: datetime = SAMPLES_START,
    step_s: float = 10.0,
    cells: int = 0,
    iso: bool = True,
) -> dict[str, list[Any]]:
    times = [start + timedelta(seconds=i * step_s) for i in range(n)]
    columns: dict[str, list[Any]] = {
        "timestamp": [t.isoformat().replace("+00:00", "Z") for t in times]
        if iso
        else [t.timestamp() for t in times],
        "current_a": [round(-20.0 + 0.5 * (i % 80), 2) for i in range(n)],
        "voltage_v": [52.0 + 0.01 * (i % 50) for i in range(n)],
        "temperature_c": [21.0 + 0.1 * (i % 30) for i in range(n)],
        "soc_pct": [50.0 + (i % 40) for i in range(n)],
    }
    for k in range(1, cells + 1):
        columns[f"cell_{k}_v"] = [3.25 + 0.001 * k for _ in range(n)]
    return columns


@pytest.fixture
def samples() -> Callable[..., dict[str, list[Any]]]:
    return make_samples


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()
