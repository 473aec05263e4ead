"""The web layer's structure: pages and API are siblings over the same services, one map from
domain errors to HTTP status serves both, and one address answers people and programs."""

from __future__ import annotations

import pathlib

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
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
from passport.management.commands.export_passport import _moment
from passport.pages.common import domain_error_page
from passport.services import organisation_create
from passport.values import parse_moment
from passport.vocabulary import OrganisationKind
from tests.factories import api_client, member_of, organisation

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


def test_pages_import_nothing_from_the_api_and_the_api_views_nothing_from_the_pages() -> None:
    def imports(module: pathlib.Path) -> list[str]:
        return [line for line in module.read_text().splitlines() if line.startswith(("from ", "import "))]

    package = pathlib.Path(__file__).resolve().parents[2] / "passport"
    for page_module in (package / "pages").glob("*.py"):
        assert not [line for line in imports(page_module) if "passport.api" in line], page_module.name
    for api_module in (package / "api").glob("*.py"):
        if api_module.name != "urls.py":  # the URL configuration composes both (passport.resolver)
            assert not [line for line in imports(api_module) if "passport.pages" in line], api_module.name


# --- one home per rule -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_register_search_refuses_a_reversed_date_range_on_the_page_as_in_the_api() -> None:
    inspector = member_of(organisation(OrganisationKind.AUTHORITY))
    reversed_range = {"registered_from": "2026-05-01", "registered_to": "2026-04-01"}
    api = api_client(inspector).get("/api/v1/regulator/batteries/", reversed_range)
    assert api.status_code == 400
    assert api.json()["errors"] == [{"field": "registered_to", "reason": "must not be before registered_from"}]
    browser = Client()
    browser.force_login(inspector)
    page = browser.get("/regulator/", reversed_range)
    assert page.status_code == 400
    assert "must not be before registered_from" in page.content.decode()


@pytest.mark.django_db
def test_the_admin_refuses_an_organisation_with_the_services_reasons(client) -> None:
    fields = {"lei": "529900T8BM49AURSDO56", "gln": "4012345000008", "country": "XX"}
    with pytest.raises(ValidationFailed) as refused:
        organisation_create(kind="repairer", name="Bad Ids GmbH", **fields)
    service_reasons = {error.field: error.reason for error in refused.value.errors}

    client.force_login(get_user_model().objects.create_superuser("admin", password="pw-admin"))
    response = client.post("/admin/passport/organisation/add/", {
        "name": "Bad Ids GmbH", "kind": "repairer", **fields,
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    })
    form_errors = response.context["adminform"].form.errors
    assert {field: errors[0] for field, errors in form_errors.items()} == service_reasons


def test_one_moment_parser_for_the_api_and_the_export_command() -> None:
    for text in ("2026-01-01", "2026-01-01T10:00", "2026-01-01T10:00+02:00", "9999-12-31T23:59:59-01:00"):
        assert _moment(text) == parse_moment(text)


@pytest.mark.django_db
def test_an_empty_view_parameter_means_none_on_the_page_and_in_the_api(anonymous, passport) -> None:
    url = f"/passports/{passport.passport_id}?view="
    assert anonymous.get(url, HTTP_ACCEPT=BROWSER).status_code == 200
    data = anonymous.get(url, HTTP_ACCEPT=JSON)
    assert data.status_code == 200 and data.json()["view"] == "public"
