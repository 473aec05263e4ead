"""Public passport reads served from stored bytes, with an ETag and 304 answers.

What the public may read of a passport (Annex XIII point 1) is the same for every anonymous
reader, and it is a function of the versions in force: the passport's latest version and its
battery model's latest version. Both are immutable and named by their hashes, and every write
records a new version (passport.services.versions), so the answer to an anonymous read can be
kept as bytes under those hashes and the address read, and never needs invalidating: the next
read after a write asks for other hashes. One query finds the hashes; a client that already has
the answer (If-None-Match) gets 304 without a body, anyone else the stored bytes.

Only requests that carry no credentials take this path: no Authorization header, no session
cookie, no messages cookie, and no query string (a `?view=` or `?format=` read goes the long way).
Everyone else is answered by the view itself, and what it answers is never stored here, so an
operator's or an owner's view can never reach the next anonymous reader. The anonymous throttle
still counts every read that takes this path, as it counts the view's.

A new release changes the templates or the CSS: their content is part of the key (RELEASE), so
old bytes are not served after a deploy; RELEASE_ID in the environment adds a release name for
changes only in Python code.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

from passport.api.negotiation import choose_media_type
from passport.errors import NotFound
from passport.identifiers import IdentifierError, battery_identifier_parse, digital_link_identifier
from passport.models import Passport, Version
from passport.pages.common import refusing_throttle
from passport.selectors import _current_first
from passport.services.documents import DOCUMENT_SHAPE

JSON = "application/json"
HTML = "text/html"
# Answered by the resolver itself (passport.resolver): never from stored bytes.
LINKSET = "application/linkset+json"
STORED_MEDIA_TYPES = (HTML, JSON)
# The view's own headers are kept with the body (e.g. the Digital Link's Link header); these
# are the request's or this module's to set.
UNSTORED_HEADERS = frozenset({"vary", "etag", "cache-control", "content-length", "set-cookie"})
# How long stored bytes live; entries never go stale (see above), the lifetime bounds memory.
PUBLIC_CACHE_SECONDS = 3600
# Clients and shared caches keep the answer but ask again each time (a 304 costs one query).
CACHE_CONTROL = "public, no-cache"
VARY = ("Accept", "Authorization", "Cookie")
CREDENTIAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")


def _release() -> str:
    """A digest of what shapes the bytes besides the data: templates, stylesheet, release id."""
    digest = hashlib.sha256(DOCUMENT_SHAPE.encode())
    digest.update(os.getenv("RELEASE_ID", "").encode())
    roots = [Path(settings.BASE_DIR) / "templates", Path(__file__).resolve().parent / "static"]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


RELEASE = _release()


@dataclass(frozen=True)
class PublicVersion:
    """What an anonymous answer is a function of."""

    passport_pk: int
    passport_version_hash: str
    model_version_hash: str


# Stands for the looked-up value while the query is compiled.
_SENTINEL = "\x00public-read-lookup"


@functools.cache
def _compiled(field: str, current_first: bool) -> tuple[str, tuple[Any, ...], int]:
    """The SQL of the one query, compiled once per process: building it with the ORM on every
    read cost more CPU than everything else the read does. (sql, params, where the value goes)."""
    passports = Passport.objects.filter(**{field: _SENTINEL})
    if current_first:
        passports = _current_first(passports)
    rows = passports.annotate(
        passport_version_hash=Subquery(
            Version.objects.filter(passport_id=OuterRef("pk")).order_by("-seq").values("hash")[:1]
        ),
        model_version_hash=Subquery(
            Version.objects.filter(model_id=OuterRef("battery__model_id")).order_by("-seq").values("hash")[:1]
        ),
    ).values_list("pk", "passport_version_hash", "model_version_hash", "battery__batch")[:1]
    sql, params = rows.query.sql_with_params()
    return sql, tuple(params), params.index(_SENTINEL)


def _first(field: str, value: str, *, current_first: bool = False, lot: str | None = None) -> PublicVersion | None:
    sql, params, position = _compiled(field, current_first)
    arguments = list(params)
    arguments[position] = value
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        row = cursor.fetchone()
    if row is None or row[1] is None or row[2] is None:
        return None
    if lot is not None and row[3] and row[3] != lot:
        return None
    return PublicVersion(row[0], row[1], row[2])


def by_passport_id(*, passport_id: str) -> PublicVersion | None:
    return _first("passport_id", passport_id)


def by_battery_identifier(*, identifier: str) -> PublicVersion | None:
    try:
        canonical = battery_identifier_parse(identifier).identifier
    except IdentifierError:
        return None
    return _first("battery__identifier", canonical, current_first=True)


def by_digital_link(*, gtin: str, serial: str, lot: str | None = None) -> PublicVersion | None:
    try:
        identifier = digital_link_identifier(gtin, serial)
    except NotFound:
        return None
    return _first("battery__identifier", identifier, current_first=True, lot=lot)


def is_public_request(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not request.META.get("QUERY_STRING")
        and "HTTP_AUTHORIZATION" not in request.META
        and not any(name in request.COOKIES for name in CREDENTIAL_COOKIES)
    )


def preferred_media_type(request: HttpRequest, offers: tuple[str, ...]) -> str | None:
    """The media type the address answers this request with, negotiated as the resolver does
    (the first offer answers `*/*` or no Accept header); None when it is not one kept here."""
    chosen = choose_media_type(request.META.get("HTTP_ACCEPT", ""), offers)
    return chosen if chosen in STORED_MEDIA_TYPES else None


def _headers(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, VARY)
    return response


def public_cached(
    view: Callable[..., HttpResponseBase],
    *,
    lookup: Callable[..., PublicVersion | None],
    default: str,
    linkset: bool = False,
) -> Callable[..., HttpResponseBase]:
    """Wrap a passport address (passport.resolver): anonymous reads answered from stored bytes
    (see the module docstring). `lookup` takes the URL's keyword arguments; `default` is the
    media type the address answers `*/*` with; `linkset` for a Digital Link, which also
    answers its linkset."""
    offers = (default, JSON if default == HTML else HTML, *((LINKSET,) if linkset else ()))


    @functools.wraps(view)
    def read(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        if not is_public_request(request):
            return view(request, **kwargs)
        media_type = preferred_media_type(request, offers)
        if media_type is None:
            return view(request, **kwargs)
        version = lookup(**kwargs)
        if version is None:
            return view(request, **kwargs)
        tag = hashlib.sha256(
            "\0".join((RELEASE, request.path, media_type, version.passport_version_hash,
                       version.model_version_hash)).encode()
        ).hexdigest()[:32]
        etag = f'"{tag}"'
        key = f"public-read:{tag}"
        stored = None
        if etag in parse_etags(request.META.get("HTTP_IF_NONE_MATCH", "")):
            answer: HttpResponseBase | None = HttpResponse(status=304)
        else:
            stored = cache.get(key)
            answer = HttpResponse(stored[1]) if stored is not None else None
        if answer is not None:
            # Counted like the view's reads; a refused one is the view's to answer (429).
            if refusing_throttle(request) is not None:
                return view(request, **kwargs)
            if stored is not None:
                for header, value in stored[0]:
                    answer[header] = value
            return _headers(answer, etag)
        response = view(request, **kwargs)
        if hasattr(response, "render"):
            response.render()
        # Stored only when it is the same for every anonymous reader: no cookie was set.
        if isinstance(response, HttpResponse) and response.status_code == 200 and not response.cookies:
            headers = [(header, value) for header, value in response.items()
                       if header.lower() not in UNSTORED_HEADERS]
            cache.set(key, (headers, response.content), PUBLIC_CACHE_SECONDS)
            _headers(response, etag)
        return response

    return read
