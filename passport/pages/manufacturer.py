"""Manufacturers (and every operator responsible for batteries): the console.

Their models and batteries; a model registered from the browser; batteries from a CSV file
through the bulk registration service the API uses (all or nothing, every bad row named with its
line); a battery's status changes and a new claim code for a lost one; the label sheet and the
passport PDF (passport.documents); and what a model or a battery still lacks
against which rule, where the compliance rules exist. The services decide who may do what; these
views only shape the input and show the answer.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from passport import selectors
from passport.access import acting_tiers
from passport.bulk_csv import items_from_csv
from passport.demo import lfp_home_battery_model_data
from passport.documents.labels import label_sheet_build, label_sheet_pdf
from passport.errors import FieldError, PassportError, ValidationFailed
from passport.http_errors import status_of
from passport.models import Battery, BatteryModel, Organisation
from passport.pages.common import (
    domain_error_page,
    page_of,
    passport_pdf_url,
    query_without_page,
    refused,
)
from passport.register import battery_row
from passport.services import (
    battery_change_status,
    battery_claim_code_reissue,
    battery_model_create,
    battery_register_bulk,
)
from passport.services.handovers import handover_offer
from passport.services.permissions import organisation_of, require_member
from passport.vocabulary import BatteryStatus, Category, Chemistry

NOT_A_MEMBER = "This page is for members of a manufacturer."
# Columns a CSV file of batteries starts with; every item attribute key may follow.
CSV_EXAMPLE = "gtin,serial,batch,manufacturing_date\n04012345000016,SN000001,L2601,2026-01-15\n"


def compliance_report(subject: BatteryModel | Battery) -> Any:
    """What the compliance rules (passport.services.compliance, the rules' one home) say of a
    model or a battery today; None in a build without them, and the page says so."""
    try:
        compliance = importlib.import_module("passport.services.compliance")
    except ModuleNotFoundError:
        return None
    if isinstance(subject, BatteryModel):
        return compliance.compliance_of_model(model=subject)
    return compliance.compliance_of_battery(battery=subject)


def for_members(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for members of an organisation: the view gets the organisation the user acts for;
    anyone else (a private person) gets a 403."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        organisation = organisation_of(request.user)
        if organisation is None:
            return refused(request, NOT_A_MEMBER)
        return view(request, organisation, *args, **kwargs)

    return checked


# --- the console -------------------------------------------------------------------------------


@login_required
@for_members
def manufacturer_dashboard(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    models = selectors.battery_model_list(manufacturer=organisation).annotate(battery_count=Count("batteries"))
    page = page_of(request, selectors.with_current_passport(selectors.battery_search(manufacturer=organisation)))
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


# --- a model -----------------------------------------------------------------------------------


class ModelForm(forms.Form):
    name = forms.CharField(label="Model name", max_length=200)
    category = forms.ChoiceField(choices=Category.choices)
    chemistry = forms.ChoiceField(choices=Chemistry.choices)
    data = forms.CharField(  # type: ignore[assignment]  # the form field, not BaseForm.data
        label="Model attributes (JSON)",
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        help_text="Every mandatory model-level attribute of the category, keyed by attribute key, as in "
        "POST /api/v1/models/. The example is a complete 48 V LFP home battery to edit.",
    )

    def clean_data(self) -> dict:
        try:
            data = json.loads(self.cleaned_data["data"])
        except ValueError as error:
            raise forms.ValidationError(f"This is not JSON: {error}") from error
        if not isinstance(data, dict):
            raise forms.ValidationError("Give an object: {\"attribute_key\": value, ...}.")
        return data


@login_required
@require_http_methods(["GET", "POST"])
@for_members
def model_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    if request.method == "GET":
        example = json.dumps(lfp_home_battery_model_data(), indent=2, ensure_ascii=False)
        form = ModelForm(initial={"category": Category.STATIONARY, "chemistry": Chemistry.LFP, "data": example})
        return render(request, "passport/manufacturer_model_new.html", {"form": form, "organisation": organisation})
    form = ModelForm(request.POST)
    errors: list[FieldError] = []
    status = 400
    if form.is_valid():
        try:
            model = battery_model_create(user=request.user, manufacturer=organisation, **form.cleaned_data)
        except PassportError as error:
            errors, status = _errors_of(error), status_of(error)
        else:
            messages.success(request, f"Model {model.name} registered (version 1).")
            return HttpResponseRedirect(reverse("manufacturer-model", kwargs={"model_id": model.pk}))
    context = {"form": form, "organisation": organisation, "errors": errors}
    return render(request, "passport/manufacturer_model_new.html", context, status=status)


def _errors_of(error: PassportError) -> list[FieldError]:
    if isinstance(error, ValidationFailed):
        return error.errors
    return [FieldError(getattr(error, "field", "") or "", error.message)]


@login_required
def model_page(request: HttpRequest, model_id: int) -> HttpResponse:
    try:
        model = selectors.battery_model_get(model_id=model_id)
        require_member(request.user, model.manufacturer, "see this model's console")
    except PassportError as error:
        return domain_error_page(request, error)
    context = {
        "model": model,
        "battery_count": model.batteries.count(),
        "compliance": compliance_report(model),
    }
    return render(request, "passport/manufacturer_model.html", context)


# --- batteries from a CSV file -----------------------------------------------------------------


class UploadForm(forms.Form):
    model = forms.ModelChoiceField(queryset=BatteryModel.objects.none(), label="Battery model")
    file = forms.FileField(label="CSV file", help_text="One battery per row; the first row names the columns.")

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_field = self.fields["model"]
        assert isinstance(model_field, forms.ModelChoiceField)
        model_field.queryset = selectors.battery_model_list(manufacturer=organisation)


@login_required
@require_http_methods(["GET", "POST"])
@for_members
def batteries_upload(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    context: dict[str, Any] = {"organisation": organisation, "csv_example": CSV_EXAMPLE}
    if request.method == "GET":
        model_id = request.GET.get("model")
        context["form"] = UploadForm(organisation=organisation, initial={"model": model_id} if model_id else None)
        return render(request, "passport/manufacturer_upload.html", context)
    form = UploadForm(request.POST, request.FILES, organisation=organisation)
    context["form"] = form
    if not form.is_valid():
        return render(request, "passport/manufacturer_upload.html", context, status=400)
    model = form.cleaned_data["model"]
    lines: list[int] = []
    try:
        batteries = items_from_csv(form.cleaned_data["file"].read())
        lines = batteries.lines
        registered = battery_register_bulk(user=request.user, model=model, items=batteries.items)
    except PassportError as error:
        context["row_errors"] = [
            {"line": _line_of(item.index, lines), "field": item.field, "reason": _in_lines(item.reason, lines)}
            for item in _errors_of(error)
        ]
        return render(request, "passport/manufacturer_upload.html", context, status=status_of(error))
    context.update(model=model, registered=registered)
    response = render(request, "passport/manufacturer_registered.html", context, status=201)
    # The claim codes are shown once: not to be kept by a browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


ROW_REFERENCE = re.compile(r"\bat row (\d+)\b")


def _in_lines(reason: str, lines: list[int]) -> str:
    """A reason that names another row of the request ("first at row 0") names its line."""
    return ROW_REFERENCE.sub(lambda match: f"at line {_line_of(int(match.group(1)), lines)}", reason)


def _line_of(index: int | None, lines: list[int]) -> int | None:
    """The file line of a row the service names by its index (a CSV error names the line)."""
    if index is None:
        return None
    return lines[index] if lines and 0 <= index < len(lines) else index


# --- one battery -------------------------------------------------------------------------------


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[choice for choice in BatteryStatus.choices if choice[0] != BatteryStatus.ORIGINAL])
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Kept in the passport's version history.")
    operator = forms.ModelChoiceField(
        queryset=Organisation.objects.order_by("name"), required=False, empty_label="—",
        label="New responsible operator",
        help_text="Required for waste, repurposed and remanufactured: who takes over. Another "
        "organisation takes over only when one of its members accepts the offer.",
    )
    new_identifier = forms.CharField(
        required=False, max_length=100, label="Identifier of the new battery",
        help_text="Repurposed or remanufactured into a new battery with its own identifier.",
    )

    def status_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["new_identifier"] = data.get("new_identifier") or None
        return data


def _battery_context(request: HttpRequest, battery: Battery, status_form: StatusForm) -> dict[str, Any]:
    passport = selectors.current_passport_of(battery)
    return {
        "battery": battery,
        "passport": passport,
        "status_form": status_form,
        "compliance": compliance_report(battery),
        "pdf_url": passport_pdf_url(passport) if passport else None,
    }


@login_required
@require_http_methods(["GET", "POST"])
def battery_console(request: HttpRequest, identifier: str) -> HttpResponse:
    try:
        battery = selectors.battery_get(identifier=identifier)
        require_member(request.user, battery.responsible_operator, "manage this battery")
    except PassportError as error:
        return domain_error_page(request, error)
    if request.method == "GET":
        return render(request, "passport/manufacturer_battery.html", _battery_context(request, battery, StatusForm()))
    action = request.POST.get("action")
    if action == "claim-code":
        return _claim_code(request, battery)
    if action != "status":
        return domain_error_page(request, ValidationFailed([FieldError("action", "must be status or claim-code")]))
    form = StatusForm(request.POST)
    if not form.is_valid():
        context = _battery_context(request, battery, form)
        return render(request, "passport/manufacturer_battery.html", context, status=400)
    arguments = form.status_arguments()
    operator = arguments.get("operator")
    try:
        if operator is not None and operator.pk != battery.responsible_operator_id:
            # Another organisation takes over only when it accepts (passport.services.handovers).
            handover_offer(user=request.user, battery=battery, **arguments)
        else:
            passport = battery_change_status(user=request.user, battery=battery, **arguments)
    except PassportError as error:
        context = _battery_context(request, battery, form)
        context["status_errors"] = _errors_of(error)
        return render(request, "passport/manufacturer_battery.html", context, status=status_of(error))
    if operator is not None and operator.pk != battery.responsible_operator_id:
        messages.success(request, f"{battery.identifier} is offered to {operator.name}: it becomes "
                                  f"{arguments['status']} when a member of {operator.name} accepts.")
        return HttpResponseRedirect(reverse("manufacturer-battery", kwargs={"identifier": battery.identifier}))
    messages.success(request, f"{passport.battery.identifier} is now {passport.battery.get_status_display().lower()}.")
    return HttpResponseRedirect(reverse("manufacturer-battery", kwargs={"identifier": passport.battery.identifier}))


def _claim_code(request: HttpRequest, battery: Battery) -> HttpResponse:
    """A lost claim code: a new one, shown once; the old one stops working."""
    try:
        code = battery_claim_code_reissue(user=request.user, battery=battery)
    except PassportError as error:
        return domain_error_page(request, error)
    context = _battery_context(request, battery, StatusForm())
    context["new_claim_code"] = code
    response = render(request, "passport/manufacturer_battery.html", context)
    # The code is shown once: not to be kept by a browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


# --- label sheets ------------------------------------------------------------------------------


@login_required
@require_POST
def label_sheet(request: HttpRequest) -> HttpResponse:
    """The printable labels (QR code, identifier, a fresh claim code for unclaimed batteries) of
    the batteries named in the form (passport.documents.labels decides whose and how)."""
    try:
        labels = label_sheet_build(user=request.user, identifiers=request.POST.getlist("identifiers"))
    except PassportError as error:
        return domain_error_page(request, error)
    response = HttpResponse(label_sheet_pdf(labels), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="battery-labels.pdf"'
    # It carries claim codes.
    response["Cache-Control"] = "no-store"
    return response
