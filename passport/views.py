"""The HTML pages: server-rendered, no JavaScript. Reads go through the same selectors and access
filter as the API; writes from forms call the same services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer

from passport import selectors
from passport.access import acting_tiers
from passport.api import views as api_views
from passport.api.permissions import acts_for_authority
from passport.api.register import (
    COLUMNS,
    battery_row,
    current_passport_of,
    register_rows,
    with_current_passport,
)
from passport.api.renderers import PageRenderer
from passport.attributes import BY_KEY
from passport.errors import NotFound, PassportError, ValidationFailed
from passport.forms import ClaimForm, GrantForm, LookupForm, RegulatorSearchForm
from passport.models import Passport
from passport.presentation import attribute_row, hidden_points
from passport.services import access_grant_create, access_grant_revoke, battery_claim, passport_read
from passport.services.permissions import organisation_of

LIST_PAGE_SIZE = 50

# What a repairer or recycler needs to take a battery apart safely and treat it at end of life:
# Annex XIII point 2 (composition, dismantling, parts, safety) and the point-1 end-of-life texts.
SERVICE_KEYS = (
    "safety_measures",
    "extinguishing_agent",
    "dismantling_documents",
    "part_numbers",
    "spare_part_sources",
    "cathode_anode_electrolyte_materials",
    "hazardous_substances",
    "collection_and_treatment_info",
    "end_user_separate_collection_info",
    "end_user_waste_prevention_info",
)


def passport_for_query(query: str) -> Passport:
    """A passport identifier, or a battery identifier in any accepted form (its current passport)."""
    text = query.strip()
    try:
        return selectors.passport_get(passport_id=text)
    except NotFound:
        return selectors.passport_of_battery(identifier=text)


def page_of(request: HttpRequest, items: Any) -> Page:
    return Paginator(items, LIST_PAGE_SIZE).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# --- home and lookup ---------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.GET or None)
    if form.is_valid():
        try:
            passport = passport_for_query(form.cleaned_data["q"])
        except NotFound:
            form.add_error("q", "No battery or passport has this identifier.")
            return render(request, "passport/home.html", {"form": form}, status=404)
        return redirect("passport-page", passport_id=passport.passport_id)
    return render(request, "passport/home.html", {"form": form})


# --- passport pages (the same views as the API, HTML first) -------------------------------------


@extend_schema(exclude=True)
class PassportPage(api_views.PassportDetailView):
    renderer_classes = (PageRenderer, JSONRenderer)
    http_method_names = ["get", "head", "options"]


@extend_schema(exclude=True)
class BatteryPage(api_views.BatteryDetailView):
    renderer_classes = (PageRenderer, JSONRenderer)
    http_method_names = ["get", "head", "options"]


# --- owners ------------------------------------------------------------------------------------


def _my_batteries_page(
    request: HttpRequest, claim_form: ClaimForm, status: int = 200
) -> HttpResponse:
    batteries = selectors.battery_list_owned(user=request.user)
    context = {
        "batteries": [(battery, current_passport_of(battery)) for battery in with_current_passport(batteries)],
        "claim_form": claim_form,
        "grant_form": GrantForm(),
    }
    return render(request, "passport/my_batteries.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def my_batteries(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _my_batteries_page(request, ClaimForm())
    action = request.POST.get("action")
    if action == "claim":
        return _claim(request)
    if action in ("grant", "revoke"):
        return _grant_or_revoke(request, action)
    messages.error(request, "Unknown action.")
    return _my_batteries_page(request, ClaimForm(), status=400)


def _claim(request: HttpRequest) -> HttpResponse:
    form = ClaimForm(request.POST)
    if not form.is_valid():
        return _my_batteries_page(request, form, status=400)
    try:
        battery = battery_claim(user=request.user, **form.cleaned_data)
    except PassportError as error:
        form.add_error(None, error.message)
        return _my_batteries_page(request, form, status=403)
    messages.success(request, f"Battery {battery.identifier} is now yours.")
    return HttpResponseRedirect(reverse("my-batteries"))


def _grant_or_revoke(request: HttpRequest, action: str) -> HttpResponse:
    form = GrantForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an organisation.")
        return _my_batteries_page(request, ClaimForm(), status=400)
    try:
        battery = selectors.battery_get(identifier=request.POST.get("identifier", ""))
        organisation = form.cleaned_data["organisation"]
        if action == "grant":
            access_grant_create(user=request.user, battery=battery, organisation=organisation)
            messages.success(request, f"{organisation.name} may now read the data of {battery.identifier}.")
        else:
            access_grant_revoke(user=request.user, battery=battery, organisation=organisation)
            messages.success(request, f"{organisation.name} may no longer read the data of {battery.identifier}.")
    except PassportError as error:
        messages.error(request, error.message)
        return _my_batteries_page(request, ClaimForm(), status=_status_of(error))
    return HttpResponseRedirect(reverse("my-batteries"))


def _status_of(error: PassportError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, ValidationFailed):
        return 400
    return 403


# --- repairers and recyclers -------------------------------------------------------------------


@login_required
def service_lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.GET or None)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "passport/service_lookup.html", context)
    try:
        passport = passport_for_query(form.cleaned_data["q"])
    except NotFound:
        form.add_error("q", "No battery or passport has this identifier.")
        return render(request, "passport/service_lookup.html", context, status=404)
    reading = passport_read(user=request.user, passport=passport, endpoint=f"GET {request.path}")
    document = reading.document
    context.update(
        passport=passport,
        document=document,
        rows=[
            attribute_row(BY_KEY[key], document[key])
            for key in SERVICE_KEYS
            if document.get(key) is not None
        ],
        hidden_points=hidden_points(reading.tiers),
        sees_point_2="dismantling_documents" in document,
    )
    return render(request, "passport/service_lookup.html", context)


# --- manufacturers -----------------------------------------------------------------------------


@login_required
def manufacturer_dashboard(request: HttpRequest) -> HttpResponse:
    organisation = organisation_of(request.user)
    if organisation is None:
        return render(
            request,
            "403.html",
            {"errors": [{"reason": "This page is for members of a manufacturer."}]},
            status=403,
        )
    models = selectors.battery_model_list(manufacturer=organisation).annotate(battery_count=Count("batteries"))
    page = page_of(request, with_current_passport(selectors.battery_search(manufacturer=organisation)))
    # Batteries that moved to another operator (waste, repurposed) are no longer fully ours to
    # read: each row shows what this user's access rights cover for that battery.
    rows = [
        battery_row(battery, acting_tiers(user=request.user, organisation=organisation, battery=battery))
        for battery in page.object_list
    ]
    context = {
        "organisation": organisation,
        "models": models,
        "page": page,
        "rows": rows,
        "query": query_without_page(request),
    }
    return render(request, "passport/manufacturer.html", context)


# --- regulators --------------------------------------------------------------------------------


@login_required
def regulator_search(request: HttpRequest) -> HttpResponse:
    if not acts_for_authority(request.user):
        return render(
            request,
            "403.html",
            {"errors": [{"reason": "Only members of an authority may search the register."}]},
            status=403,
        )
    form = RegulatorSearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "columns": COLUMNS}
    filters: dict[str, Any] = {}
    if form.is_bound and not form.is_valid():
        return render(request, "passport/regulator.html", context, status=400)
    if form.is_bound:
        filters = form.search_filters()
    batteries = with_current_passport(selectors.battery_search(**filters))
    page = page_of(request, batteries)
    query = query_without_page(request)
    api = reverse("api:regulator-batteries")
    context.update(
        page=page,
        rows=[[(column, row.get(column)) for column in COLUMNS] for row in register_rows(page.object_list)],
        total=page.paginator.count,
        query=query,
        csv_url=f"{api}?{query}&format=csv" if query else f"{api}?format=csv",
        json_url=f"{api}?{query}&format=json" if query else f"{api}?format=json",
    )
    return render(request, "passport/regulator.html", context)
