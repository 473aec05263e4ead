"""Owners: the batteries they claimed, the claim form, who may read their batteries' data, and a
dashboard per battery (health over time, events, alerts, the PDF, who read it); the access log
of a battery for its owner and for authorities."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods

from passport import charts, selectors
from passport.access import acts_for_authority, filter_document
from passport.attributes import BY_KEY, TIER_OF, Tier
from passport.errors import PassportError
from passport.forms import ClaimForm, GrantForm
from passport.health_sources import battery_cell_spread, battery_telemetry
from passport.http_errors import status_of
from passport.models import Passport
from passport.pages.common import (
    credentials_guarded,
    domain_error_page,
    page_of,
    passport_pdf_url,
    query_without_page,
    refused,
)
from passport.presentation import attribute_row
from passport.services import access_grant_create, access_grant_revoke, battery_claim, passport_read


def _my_batteries_page(
    request: HttpRequest, claim_form: ClaimForm, status: int = 200
) -> HttpResponse:
    batteries = selectors.battery_list_owned(user=request.user)
    context = {
        "batteries": [(battery, selectors.current_passport_of(battery)) for battery in selectors.with_current_passport(batteries)],
        "claim_form": claim_form,
        "grant_form": GrantForm(),
    }
    return render(request, "passport/my_batteries.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def my_batteries(request: HttpRequest) -> HttpResponseBase:
    if request.method == "GET":
        return _my_batteries_page(request, ClaimForm())
    action = request.POST.get("action")
    if action == "claim":
        return _claim(request)
    if action in ("grant", "revoke"):
        return _grant_or_revoke(request, action)
    messages.error(request, "Unknown action.")
    return _my_batteries_page(request, ClaimForm(), status=400)


@credentials_guarded
def _claim(request: HttpRequest) -> HttpResponse:
    form = ClaimForm(request.POST)
    if not form.is_valid():
        return _my_batteries_page(request, form, status=400)
    try:
        battery = battery_claim(user=request.user, **form.cleaned_data)
    except PassportError as error:
        form.add_error(None, error.message)
        return _my_batteries_page(request, form, status=status_of(error))
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
        return _my_batteries_page(request, ClaimForm(), status=status_of(error))
    if request.POST.get("back") == "dashboard":
        return HttpResponseRedirect(reverse("battery-dashboard", kwargs={"identifier": battery.identifier}))
    return HttpResponseRedirect(reverse("my-batteries"))


# --- one battery's dashboard -------------------------------------------------------------------

# The owner's view of a battery's health at a glance (Annex XIII point 4, Annex VII).
LATEST_KEYS = (
    "state_of_charge_pct",
    "state_of_certified_energy_pct",
    "remaining_capacity_ah",
    "capacity_fade_pct",
    "remaining_usable_energy_kwh",
    "full_cycles_count",
    "energy_throughput_kwh",
    "remaining_round_trip_efficiency_pct",
    "internal_resistance_increase_pct",
)
# Over time, as each version of the passport recorded them.
HISTORY_KEYS = ("state_of_certified_energy_pct", "remaining_capacity_ah", "full_cycles_count", "state_of_charge_pct")
EVENT_KEYS = (
    "deep_discharge_events_count",
    "overcharge_events_count",
    "time_above_temperature_boundary_minutes",
    "time_below_temperature_boundary_minutes",
    "time_charging_above_temperature_boundary_minutes",
    "time_charging_below_temperature_boundary_minutes",
    "accident_information",
)
RECENT_READS = 10


def health_charts(*, passport: Passport, document: dict, tiers: frozenset[Tier]) -> list[SafeString]:
    """The health charts of passport.charts, the same as in the PDF report, as the reader with
    `tiers` may see them."""
    series = {
        key: points
        for key, points in selectors.passport_value_series(passport=passport, keys=charts.HEALTH_SERIES_KEYS).items()
        if TIER_OF[key] in tiers
    }
    spread = battery_cell_spread(battery_id=passport.battery_id, tiers=tiers,
                                 until=timezone.now().astimezone(dt.UTC).date())
    drawn = charts.health_chart_svgs(series=series, rated_capacity_ah=document.get("rated_capacity_ah"),
                                     cell_spread=spread)
    return [mark_safe(svg) for svg in drawn]  # noqa: S308 - passport.charts escapes its text


@login_required
def battery_dashboard(request: HttpRequest, identifier: str) -> HttpResponse:
    try:
        battery = selectors.battery_get(identifier=identifier)
    except PassportError as error:
        return domain_error_page(request, error)
    if battery.owner_id != request.user.pk and not request.user.is_staff:
        return refused(request, "This dashboard is for the battery's owner.")
    try:
        passport = selectors.battery_passport(battery=battery)
        reading = passport_read(user=request.user, passport=passport, endpoint=f"GET {request.path}")
    except PassportError as error:
        return domain_error_page(request, error)
    document = reading.document
    history = [
        (moment, filter_document(values, reading.tiers))
        for moment, values in selectors.passport_value_history(passport=passport, keys=HISTORY_KEYS)
    ]
    context = {
        "battery": battery,
        "passport": passport,
        "document": document,
        "latest": [attribute_row(BY_KEY[key], document[key]) for key in LATEST_KEYS if document.get(key) is not None],
        "events": [attribute_row(BY_KEY[key], document[key]) for key in EVENT_KEYS if document.get(key) is not None],
        "history": [(moment, [values.get(key) for key in HISTORY_KEYS]) for moment, values in history],
        "history_names": [BY_KEY[key].name for key in HISTORY_KEYS],
        "history_units": [BY_KEY[key].unit or "" for key in HISTORY_KEYS],
        "charts": health_charts(passport=passport, document=document, tiers=reading.tiers),
        "telemetry": battery_telemetry(user=request.user, battery=battery),
        "grants": battery.access_grants.select_related("organisation").order_by("organisation__name"),
        "grant_form": GrantForm(),
        "reads": selectors.access_log_list(battery=battery)[:RECENT_READS],
        "pdf_url": passport_pdf_url(passport),
    }
    return render(request, "passport/battery_dashboard.html", context)


# --- who read a battery's restricted data ------------------------------------------------------


@login_required
def access_log(request: HttpRequest, identifier: str) -> HttpResponse:
    """Art. 78: every read of a battery's restricted data, for its owner and for authorities."""
    try:
        battery = selectors.battery_get(identifier=identifier)
    except PassportError as error:
        return domain_error_page(request, error)
    owner = battery.owner_id is not None and battery.owner_id == request.user.pk
    if not (owner or acts_for_authority(request.user)):
        return refused(request, "Who read a battery's data is shown to its owner and to authorities.")
    page = page_of(request, selectors.access_log_list(battery=battery))
    context = {"battery": battery, "page": page, "owner": owner, "query": query_without_page(request)}
    return render(request, "passport/access_log.html", context)
