"""The web layer's structure: pages and API are siblings over the same services, one map from
domain errors to HTTP status serves both, and one address answers people and programs."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import resolve
from rest_framework.views import APIView

from passport.api.exceptions import api_exception_handler
from passport.errors import (
    Conflict,
    FieldError,
    NotFound,
    NotPermitted,
    PassportError,
    TransitionRefused,
    ValidationFailed,
)
from passport.pages.common import domain_error_page

JSON = "application/json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

ERRORS = [
    (ValidationFailed([FieldError("gtin", "bad check digit")]), 400),
    (NotPermitted("not yours"), 403),
    (NotFound("battery X"), 404),
    (TransitionRefused("recycled is final"), 409),
    (Conflict("identifier", "already registered"), 409),
]


@pytest.mark.parametrize(("error", "status"), ERRORS)
def test_a_domain_error_has_one_status_in_the_api_and_on_the_pages(rf: RequestFactory, error: PassportError,
                                                                   status: int) -> None:
    request = rf.get("/")
    request.user = None
    assert api_exception_handler(error, {}).status_code == status
    page = domain_error_page(request, error)
    assert page.status_code == status
    reason = api_exception_handler(error, {}).data["errors"][0]["reason"]
    assert reason.lower().encode() in page.content.lower()


@pytest.mark.parametrize("url", ["/", "/my/batteries/", "/service/", "/manufacturer/", "/regulator/",
                                 "/passports/x", "/batteries/x", "/01/04261234560012/21/X"])
def test_no_page_is_an_api_view(url: str) -> None:
    """A page never subclasses an API view; a shared address only names its API view for the
    schema (passport.resolver)."""
    callback = resolve(url).func
    assert not isinstance(callback, type)
    assert not hasattr(callback, "view_class") or not issubclass(callback.view_class, APIView)


@pytest.mark.django_db
def test_a_bad_view_parameter_is_400_on_the_page_and_in_the_api(anonymous, passport) -> None:
    url = f"/passports/{passport.passport_id}?view=everything"
    page = anonymous.get(url, HTTP_ACCEPT=BROWSER)
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
    assert b"<code>view</code>" in page.content
    data = anonymous.get(url, HTTP_ACCEPT=JSON)
    assert data.status_code == 400
    assert data.json()["errors"][0]["field"] == "view"


@pytest.mark.django_db
def test_the_page_answers_head_and_a_write_at_a_page_address_is_the_apis_405(anonymous, api_as, users,
                                                                             passport) -> None:
    url = f"/passports/{passport.passport_id}"
    head = anonymous.head(url, HTTP_ACCEPT=BROWSER)
    assert head.status_code == 200 and head["Content-Type"].startswith("text/html")
    post = api_as(users.manufacturer).post(url, {}, format="json", HTTP_ACCEPT=BROWSER)
    assert post.status_code == 405
    assert post.json()["errors"][0]["reason"] == 'Method "POST" not allowed.'


@pytest.mark.django_db
def test_the_page_at_an_api_address_and_at_its_own_are_the_same_page(client, battery, passport) -> None:
    own = client.get(f"/batteries/{battery.identifier}")
    at_api = client.get(f"/api/v1/batteries/{battery.identifier}/", HTTP_ACCEPT=BROWSER)
    for page in (own, at_api):
        assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
        assert f"<dt>Passport identifier</dt><dd>{passport.passport_id}</dd>".encode() in page.content
