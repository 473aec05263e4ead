"""Odd input to the hand-over and compliance endpoints: always a 4xx with the error body, never
a 500 (ids beyond 64 bits, wrong types, bad dates, malformed identifiers)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

HUGE = 2**64


@pytest.mark.parametrize("payload", [
    {"battery": "X", "operator": HUGE, "reason": "x"},
    {"battery": 5, "operator": "a", "reason": "x", "status": "waste"},
    {"battery": "(01)04261234560012(21)A", "operator": 1, "reason": "x", "model": HUGE},
    {"battery": "(01)04261234560012(21)A", "operator": 1, "reason": "x", "authorisation": {"signed_on": "9999-99-99"}},
    {"battery": "(01)04261234560012(21)A", "operator": 1, "reason": "x", "predecessors": [HUGE]},
    {"battery": "(01)04261234560012(21)A", "operator": 1, "reason": "x", "kind": "importer",
     "authorisation": {"document": "d", "reference": "r", "signed_on": "2026-01-01", "url": "javascript:x"}},
    [1, 2], "x", None,
])
def test_odd_offers_are_refused_with_a_reason(api_as, users, battery, payload):
    response = api_as(users.manufacturer).post("/api/v1/handovers/", payload, format="json")
    assert response.status_code in (400, 403, 404, 409), response.content
    assert response.json()["errors"][0]["reason"]


@pytest.mark.parametrize("url", [
    f"/api/v1/handovers/{HUGE}/", f"/api/v1/handovers/{HUGE}/accept/", f"/api/v1/compliance/models/{HUGE}/",
    "/api/v1/compliance/batteries/%00/", "/api/v1/compliance/models/1/?on=99999-01-01",
    "/api/v1/handovers/?state=x", "/api/v1/compliance/batteries/(01)1/",
])
def test_odd_addresses_are_4xx(api_as, users, battery, url):
    method = "post" if url.endswith("accept/") else "get"
    response = getattr(api_as(users.manufacturer), method)(url)
    assert response.status_code in (200, 400, 403, 404, 405), response.content


def test_a_malformed_gtin_of_a_model_is_400(api_as, users):
    response = api_as(users.manufacturer).post("/api/v1/models/", {"name": "x", "category": "stationary", "chemistry": "LFP", "data": {}, "gtins": ["x" * 20]}, format="json")
    assert response.status_code == 400
