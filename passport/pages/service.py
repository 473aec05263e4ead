"""Repairers and recyclers: an identifier lookup that shows what taking a battery apart and
treating it at end of life needs, as far as the reader may see it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from passport.attributes import BY_KEY, Tier
from passport.errors import NotFound
from passport.forms import LookupForm
from passport.pages.common import passport_for_query
from passport.presentation import attribute_row, hidden_points
from passport.services import passport_read

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
# The battery's state of health and history (Annex XIII point 4): only for those with a
# legitimate interest in this battery, e.g. a recycler the owner let in.
HEALTH_KEYS = (
    "status",
    "state_of_certified_energy_pct",
    "remaining_capacity_ah",
    "capacity_fade_pct",
    "remaining_usable_energy_kwh",
    "internal_resistance_increase_pct",
    "full_cycles_count",
    "deep_discharge_events_count",
    "overcharge_events_count",
    "accident_information",
)


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
        health_rows=[
            attribute_row(BY_KEY[key], document[key])
            for key in HEALTH_KEYS
            if document.get(key) is not None
        ],
        sees_point_4=Tier.INDIVIDUAL in reading.tiers,
        hidden_points=hidden_points(reading.tiers),
        sees_point_2="dismantling_documents" in document,
    )
    return render(request, "passport/service_lookup.html", context)
