"""Manufacturers: their models and batteries."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from passport import selectors
from passport.access import acting_tiers
from passport.api.register import battery_row, with_current_passport
from passport.pages.common import page_of, query_without_page, refused
from passport.services.permissions import organisation_of


@login_required
def manufacturer_dashboard(request: HttpRequest) -> HttpResponse:
    organisation = organisation_of(request.user)
    if organisation is None:
        return refused(request, "This page is for members of a manufacturer.")
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
