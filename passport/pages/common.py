"""What the pages share: the error page, throttling with the API's rates, and pagination."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from passport import selectors
from passport.errors import NotFound, PassportError
from passport.http_errors import error_item, error_items, status_of
from passport.models import Passport
from passport.throttling import CredentialsRateThrottle

LIST_PAGE_SIZE = 50

PageView = Callable[..., HttpResponseBase]


def error_page(request: HttpRequest, status: int, errors: list[dict[str, Any]]) -> HttpResponse:
    """`<status>.html` where the site has one (403, 404), the generic error page otherwise; the
    `errors` are the items of the API's error body."""
    template = f"{status}.html" if status in (403, 404) else "error.html"
    return render(request, template, {"errors": errors, "status_code": status}, status=status)


def domain_error_page(request: HttpRequest, error: PassportError) -> HttpResponse:
    return error_page(request, status_of(error), error_items(error))


def refused(request: HttpRequest, reason: str) -> HttpResponse:
    """A 403 for a signed-in user on a page that is not for them."""
    return error_page(request, 403, [error_item(None, reason)])


def throttled(view: PageView) -> PageView:
    """Count the page against the same budgets as the API (DEFAULT_THROTTLE_CLASSES: anonymous
    callers per address, signed-in ones per user), so a browser is not a way around them."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        classes: list[Any] = list(api_settings.DEFAULT_THROTTLE_CLASSES)
        return over_budget(request, [throttle_class() for throttle_class in classes]) or view(
            request, *args, **kwargs
        )

    return checked


def credentials_guarded(view: PageView) -> PageView:
    """Count each POST (a password or claim code tried) against the credentials budget the API's
    token and claim endpoints use (passport.throttling)."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            refusal = over_budget(request, [CredentialsRateThrottle()])
            if refusal is not None:
                return refusal
        return view(request, *args, **kwargs)

    return checked


def over_budget(request: HttpRequest, throttles: list[BaseThrottle]) -> HttpResponse | None:
    """The 429 page when one of `throttles` refuses the request, else None (and it counts).

    DRF's throttles read only `user` and `META` of the request, which a Django request has as a
    DRF one does; they need no view."""
    for throttle in throttles:
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]  # see above
            return too_many_requests(request, throttle.wait())
    return None


def too_many_requests(request: HttpRequest, wait_s: float | None) -> HttpResponse:
    seconds = max(1, math.ceil(wait_s or 1))
    response = error_page(
        request, 429, [error_item(None, f"Request was throttled. Expected available in {seconds} seconds.")]
    )
    response["Retry-After"] = str(seconds)
    return response


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
