"""Market surveillance: the register search, with links to the API's exports of the same query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from passport import selectors
from passport.access import acts_for_authority
from passport.forms import RegulatorSearchForm
from passport.pages.common import page_of, query_without_page, refused
from passport.register import COLUMNS, register_rows


@login_required
def regulator_search(request: HttpRequest) -> HttpResponse:
    if not acts_for_authority(request.user):
        return refused(request, "Only members of an authority may search the register.")
    form = RegulatorSearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "columns": COLUMNS}
    filters: dict[str, Any] = {}
    if form.is_bound and not form.is_valid():
        return render(request, "passport/regulator.html", context, status=400)
    if form.is_bound:
        filters = form.search_filters()
    batteries = selectors.with_current_passport(selectors.battery_search(**filters))
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
