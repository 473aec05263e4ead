"""One address for people and programs: content negotiation between a page and the API.

A passport's addresses (its page, its battery's address, the GS1 Digital Link in the QR code,
the API's reads) answer HTML to a browser and JSON to a program. The choice is made here, once,
before either side runs: the page is a plain Django view (passport.pages), the JSON answer the
API view, and neither knows about the other.

`?format=html|json` wins over the Accept header; Accept q-values are respected
(passport.api.negotiation). Writes (PATCH...) always go to the API view.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from passport.api.negotiation import FORMAT_QUERY_PARAM, choose_media_type
from passport.api.views import PassportReadView
from passport.lookups import PassportLookup
from passport.pages.passport import passport_page

HTML = "text/html"
JSON = "application/json"
FORMATS = {"html": HTML, "json": JSON}

READ_ONLY = ["get", "head", "options"]
READ_WRITE = [*READ_ONLY, "patch"]

View = Callable[..., HttpResponse]


def wants_page(request: HttpRequest, *, default: str) -> bool:
    """Whether a GET prefers the page; `default` (HTML or JSON) answers `*/*` and no Accept."""
    if request.method not in ("GET", "HEAD"):
        return False
    requested = request.GET.get(FORMAT_QUERY_PARAM)
    if requested:
        # An unknown format is the API's to refuse, in its error body.
        return FORMATS.get(requested) == HTML
    offered = [default, JSON if default == HTML else HTML]
    return choose_media_type(request.META.get("HTTP_ACCEPT", ""), offered) == HTML


def negotiated(*, api: View, page: View, default: str, documented: bool = True) -> View:
    """A URL's view that hands each request to `page` or to `api` (an APIView's `as_view()`).

    With `documented`, the OpenAPI schema describes the address by its API view (drf-spectacular
    finds API views by their `cls` and `initkwargs`)."""

    def choose(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        side = page if wants_page(request, default=default) else api
        response = side(request, *args, **kwargs)
        patch_vary_headers(response, ("Accept",))
        return response

    # The API view checks CSRF itself for session-authenticated writes; the pages only read.
    choose.csrf_exempt = True  # type: ignore[attr-defined]
    if documented:
        choose.cls = api.cls  # type: ignore[attr-defined]
        choose.initkwargs = api.initkwargs  # type: ignore[attr-defined]
    return choose


def passport_address(
    lookup: PassportLookup,
    *,
    default: str,
    api_view: type[PassportReadView] = PassportReadView,
    methods: list[str] = READ_ONLY,
    documented: bool = True,
) -> View:
    """An address of a passport: the passport page and the API's read, both resolving the
    passport with `lookup`; `api_view` is a PassportReadView that also takes a write."""
    return negotiated(
        api=api_view.as_view(lookup=lookup, http_method_names=methods),
        page=partial(passport_page, lookup=lookup),
        default=default,
        documented=documented,
    )
