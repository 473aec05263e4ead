"""The regulator's search of the register: the API's filter set (passport.register_filters), the
rows the authority tier may read, headings for people, and exports through the API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from passport import selectors
from passport.access import acts_for_authority
from passport.errors import ValidationFailed
from passport.pages.common import page_of, query_without_page, refused
from passport.register import COLUMN_LABELS, register_rows
from passport.register_filters import REGISTER_FILTERS, FilterKind, register_filters_clean
from passport.vocabulary import Category, Chemistry

# What fits a page (on a phone the rows become cards); the exports hold every column.
PAGE_COLUMNS = ("battery_identifier", "model_name", "manufacturer", "category", "chemistry",
                "manufacturing_date", "registered_at", "state")
# The filters a person can set (a refused one is only named when a query asks for it).
INPUTS = tuple(spec for spec in REGISTER_FILTERS if spec.kind != FilterKind.REFUSED)
CHOICE_LABELS: dict[str, dict[Any, str]] = {"category": dict(Category.choices), "chemistry": dict(Chemistry.choices)}


def filter_fields(params: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The form's inputs, drawn from the filter table, with what was given and its errors."""
    fields = []
    for spec in INPUTS:
        field: dict[str, Any] = {"spec": spec, "value": params.get(spec.name, ""), "errors": errors.get(spec.name, [])}
        if spec.name == "manufacturer":
            field["options"] = [(str(pk), name) for pk, name in selectors.manufacturer_choices()]
        elif spec.name == "model":
            field["options"] = [(str(model.pk), f"{model.name} ({model.manufacturer.name})")
                                for model in selectors.battery_model_list()]
        elif spec.kind == FilterKind.CHOICE:
            field["options"] = list(spec.choices)
        fields.append(field)
    return fields


def cell(column: str, row: dict[str, Any]) -> Any:
    value = row.get(column)
    if column in CHOICE_LABELS:
        return CHOICE_LABELS[column].get(value, value)
    if column == "registered_at" and value:
        return value[:10]
    return value


@login_required
def regulator_search(request: HttpRequest) -> HttpResponse:
    if not acts_for_authority(request.user):
        return refused(request, "Only members of an authority may search the register.")
    errors: dict[str, list[str]] = {}
    try:
        filters = register_filters_clean(request.GET, also_allowed=("page",))
    except ValidationFailed as error:
        for item in error.errors:
            errors.setdefault(item.field, []).append(item.reason)
        filters = None
    context: dict[str, Any] = {"fields": filter_fields(request.GET, errors), "errors": errors}
    if filters is None:
        # Unknown parameters have no input to stand beside: listed above the form.
        context["other_errors"] = [(field, reasons) for field, reasons in errors.items()
                                   if field not in {spec.name for spec in INPUTS}]
        return render(request, "passport/regulator.html", context, status=400)
    page = page_of(request, selectors.with_current_passport(selectors.battery_search(**filters)))
    query = query_without_page(request)
    api = reverse("api:regulator-batteries")
    exported = f"{api}?{query}&" if query else f"{api}?"
    context.update(
        page=page,
        query=query,
        total=page.paginator.count,
        headings=[COLUMN_LABELS[column] for column in PAGE_COLUMNS],
        rows=[
            {"passport_identifier": row.get("passport_identifier"),
             "cells": [(COLUMN_LABELS[column], column, cell(column, row)) for column in PAGE_COLUMNS]}
            for row in register_rows(page.object_list)
        ],
        csv_url=exported + "format=csv",
        json_url=exported + "format=json",
    )
    return render(request, "passport/regulator.html", context)
