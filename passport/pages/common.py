"""What every page module shares: the error answer, lists in pages, who the user acts for."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from passport.api.exceptions import domain_error_response
from passport.errors import FieldError, PassportError, ValidationFailed

LIST_PAGE_SIZE = 50


def error_status(error: PassportError) -> int:
    """The HTTP status of a domain error: the API's map, so a refusal is the same answer on a
    page as in the API."""
    return domain_error_response(error).status_code


def field_errors(error: PassportError) -> list[FieldError]:
    if isinstance(error, ValidationFailed):
        return error.errors
    return [FieldError(getattr(error, "field", None) or "", error.message)]


def refused(request: HttpRequest, error: PassportError) -> HttpResponse:
    """The error page of a domain error, with its status."""
    status = error_status(error)
    template = {403: "403.html", 404: "404.html"}.get(status, "api_exception.html")
    errors = [{"field": item.field, "reason": item.reason} for item in field_errors(error)]
    return render(request, template, {"errors": errors, "status_code": status}, status=status)


def page_of(request: HttpRequest, items: Any, size: int = LIST_PAGE_SIZE) -> Page:
    return Paginator(items, size).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
