"""Owners: the batteries they claimed, the claim form, and who may read their batteries' data."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from passport import selectors
from passport.errors import PassportError
from passport.forms import ClaimForm, GrantForm
from passport.http_errors import status_of
from passport.pages.common import credentials_guarded
from passport.services import access_grant_create, access_grant_revoke, battery_claim


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
    return HttpResponseRedirect(reverse("my-batteries"))
