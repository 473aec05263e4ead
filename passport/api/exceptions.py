"""One exception handler for the whole API: every error body is `{"errors": [...]}`.

Each error is `{"field": <dotted path or null>, "reason": <text>}`, plus `"index"` for a row of a
bulk request. Domain errors (passport.errors) take their status and body from
passport.http_errors, the one map the pages use too, so that views never translate them one by
one; DRF's own errors (serializer validation, authentication, throttling, 404 from a lookup) are
reshaped into the same body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from passport import errors as domain
from passport.api.parsers import too_large
from passport.http_errors import error_item, error_items, status_of

# Keys DRF uses for "the request as a whole" rather than one field.
NON_FIELD_KEYS = frozenset({"non_field_errors", "detail"})


def flatten_detail(detail: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str | None, str]]:
    """(dotted field path, reason) pairs from DRF's nested error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from flatten_detail(value, path + (str(key),))
    elif isinstance(detail, list):
        for position, item in enumerate(detail):
            if isinstance(item, dict | list):
                yield from flatten_detail(item, path + (str(position),))
            else:
                yield from flatten_detail(item, path)
    else:
        parts = [part for part in path if part not in NON_FIELD_KEYS]
        yield (".".join(parts) or None), str(detail)


def domain_error_response(exc: domain.PassportError) -> Response:
    response = Response({"errors": error_items(exc)}, status=status_of(exc))
    if isinstance(exc, domain.Unavailable):
        response["Retry-After"] = str(exc.retry_after_s)
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, domain.PassportError):
        # A failed request never leaves a half-applied change behind under ATOMIC_REQUESTS.
        set_rollback()
        return domain_error_response(exc)
    if isinstance(exc, RequestDataTooBig):
        # Django's own ceiling on request bodies (DATA_UPLOAD_MAX_MEMORY_SIZE), hit while DRF
        # reads a JSON or form body: the client should send less, not something else.
        exc = too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, TooManyFieldsSent):
        # Django's ceiling on form fields (DATA_UPLOAD_MAX_NUMBER_FIELDS), which it would answer
        # with its HTML 400 page.
        exc = ParseError(f"The form has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = {"errors": [error_item(field, reason) for field, reason in flatten_detail(response.data)]}
    return response
