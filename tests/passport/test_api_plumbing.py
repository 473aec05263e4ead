"""The pieces every endpoint shares: Accept negotiation, the error body, the OpenAPI schema and
the Swagger UI served from local assets."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer

from passport.api.exceptions import api_exception_handler
from passport.api.negotiation import choose_renderer, parse_accept
from passport.errors import (
    Conflict,
    FieldError,
    NotFound,
    NotPermitted,
    TransitionRefused,
    ValidationFailed,
)

RENDERERS = [JSONRenderer(), TemplateHTMLRenderer()]


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", "json"),
        ("*/*", "json"),
        ("text/html", "html"),
        ("text/*", "html"),
        ("application/json", "json"),
        ("text/html;q=0.4, application/json;q=0.5", "json"),
        ("application/json;q=0, */*", "html"),  # q=0 means "not this"
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
        ("image/png, application/json;q=0.1", "json"),
    ],
)
def test_the_preferred_renderer_is_chosen(accept: str, chosen: str) -> None:
    renderer, _ = choose_renderer(accept, RENDERERS)
    assert renderer.format == chosen


def test_nothing_acceptable_gives_none() -> None:
    assert choose_renderer("image/png", RENDERERS) is None


def test_accept_entries_are_ordered_by_quality_then_specificity() -> None:
    entries = parse_accept("*/*;q=0.8, text/*;q=0.8, text/html;q=0.8, application/json")
    assert [str(entry.media_type) for entry in entries][:2] == ["application/json", "text/html; q=0.8"]
    assert [entry.media_type.sub_type for entry in entries] == ["json", "html", "*", "*"]


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (ValidationFailed([FieldError("gtin", "bad check digit", 3), FieldError("serial", "missing")]), 400,
         [{"field": "gtin", "reason": "bad check digit", "index": 3}, {"field": "serial", "reason": "missing"}]),
        (NotPermitted("not yours"), 403, [{"field": None, "reason": "not yours"}]),
        (NotFound("battery 'X'"), 404, [{"field": None, "reason": "battery 'X' not found."}]),
        (TransitionRefused("recycled is final"), 409, [{"field": "status", "reason": "recycled is final"}]),
        (Conflict("identifier", "already registered"), 409, [{"field": "identifier", "reason": "already registered"}]),
    ],
)
def test_domain_errors_map_to_one_status_and_body(error, status: int, body: list) -> None:
    response = api_exception_handler(error, {})
    assert response.status_code == status
    assert response.data == {"errors": body}


def test_nested_serializer_errors_become_dotted_fields() -> None:
    detail = serializers.ValidationError(
        {"non_field_errors": ["bad pair"], "predecessors": {1: ["unknown"]}, "item": {"a": {"b": ["too big"]}}}
    )
    response = api_exception_handler(detail, {})
    assert response.data == {"errors": [
        {"field": None, "reason": "bad pair"},
        {"field": "predecessors.1", "reason": "unknown"},
        {"field": "item.a.b", "reason": "too big"},
    ]}


def test_unexpected_errors_are_left_to_django() -> None:
    assert api_exception_handler(RuntimeError("boom"), {}) is None


def test_the_openapi_schema_is_valid_and_warning_free() -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = out.getvalue()
    assert "/api/v1/batteries/bulk/" in schema
    assert "/01/{gtin}/21/{serial}" in schema
    # The attribute payloads are described from the attribute table, not as free-form objects.
    assert "carbon_footprint_raw_material_pct" in schema


@pytest.mark.django_db
def test_the_schema_and_swagger_ui_are_served_without_any_cdn(client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "EU Battery Passport API"

    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs"):
        assert cdn not in html
