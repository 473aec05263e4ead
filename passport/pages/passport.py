"""The passport page: what the QR code opens. One view for every address of a passport,
parameterised, like the API's read, by how the address names it (passport.lookups)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from passport import selectors
from passport.attributes import View
from passport.errors import FieldError, PassportError, ValidationFailed
from passport.identifiers import qr_url
from passport.lookups import PassportLookup
from passport.pages.common import domain_error_page, throttled
from passport.presentation import passport_page_context
from passport.services import passport_read

TEMPLATE = "passport/passport.html"


def requested_view(request: HttpRequest) -> View | None:
    """`?view=` asks for a lower view than the reader's own, as in the API."""
    text = request.GET.get("view")
    if not text:  # empty means not given, as in the API
        return None
    try:
        return View(text)
    except ValueError as error:
        choices = ", ".join(view.value for view in View)
        raise ValidationFailed([FieldError("view", f"must be one of {choices}, got {text!r}")]) from error


@throttled
@require_safe
def passport_page(request: HttpRequest, *, lookup: PassportLookup, **url_arguments: Any) -> HttpResponse:
    try:
        view = requested_view(request)
        passport, at = lookup(**url_arguments)
        reading = passport_read(
            user=request.user, passport=passport, at=at, view=view, endpoint=f"GET {request.path}"
        )
    except PassportError as error:
        response = domain_error_page(request, error)
    else:
        context = passport_page_context(
            passport=passport,
            document=reading.document,
            tiers=reading.tiers,
            view=reading.view.value,
            versions=list(selectors.version_list(passport=passport)),
            at=at,
            qr_target=qr_url(passport),
        )
        response = render(request, TEMPLATE, context)
    # What a passport shows depends on who asks (see the API's read).
    patch_vary_headers(response, ("Authorization", "Cookie"))
    return response
