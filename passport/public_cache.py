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
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

from passport.api.negotiation import choose_renderer
from passport.api.throttles import AnonymousRateThrottle
from passport.errors import NotFound
from passport.identifiers import IdentifierError, battery_identifier_parse, digital_link_identifier
from passport.models import Passport, Version
from passport.selectors import _current_first
from passport.services.documents import DOCUMENT_SHAPE

JSON = "application/json"
HTML = "text/html"
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
    """The offered media type the client prefers (as the views negotiate: the first offer answers
    `*/*` or no Accept header), or None when it accepts none of them."""
    choice = choose_renderer(
        request.META.get("HTTP_ACCEPT", ""), [SimpleNamespace(media_type=offer) for offer in offers]
    )
    return choice[1] if choice is not None else None


def _throttled(request: HttpRequest) -> bool:
    throttle = AnonymousRateThrottle()
    return not throttle.allow_request(request, None)


def _headers(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, VARY)
    return response


def public_cached(
    view: Callable[..., HttpResponseBase],
    *,
    lookup: Callable[..., PublicVersion | None],
    offers: tuple[str, ...],
) -> Callable[..., HttpResponseBase]:
    """Wrap a passport read view: anonymous reads answered from stored bytes (see the module
    docstring); `lookup` takes the URL's keyword arguments, `offers` are the media types the
    view answers, in its order of preference."""

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
        if etag in parse_etags(request.META.get("HTTP_IF_NONE_MATCH", "")):
            answer: HttpResponseBase | None = HttpResponse(status=304)
        else:
            stored = cache.get(key)
            answer = HttpResponse(stored[1], content_type=stored[0]) if stored is not None else None
        if answer is not None:
            # Throttled like the view (which then answers the 429 itself).
            return view(request, **kwargs) if _throttled(request) else _headers(answer, etag)
        response = view(request, **kwargs)
        if hasattr(response, "render"):
            response.render()
        # Stored only when it is the same for every anonymous reader: no cookie was set.
        if response.status_code == 200 and not response.streaming and not response.cookies:
            cache.set(key, (response["Content-Type"], response.content), PUBLIC_CACHE_SECONDS)
            _headers(response, etag)
        return response

    return read
