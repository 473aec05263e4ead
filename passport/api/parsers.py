"""JSON parsing: one bounded decoder for every endpoint, and the bulk endpoint's body ceiling.

Every JSON body goes through `json_loads`: NaN and Infinity are refused (not JSON), and so is
nesting deeper than MAX_JSON_DEPTH. Python's decoder recurses per level and fails with a
RecursionError (a 500) around a thousand levels; nothing a passport holds is nested more than a
few levels, so a deeper body is refused as a 400 before any code walks it.

DRF reads a JSONParser's body through `request.body`, which enforces Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) for every endpoint; 10,000 described batteries
are several megabytes. BulkJSONParser is deliberately not a JSONParser subclass, so DRF hands it
the raw stream and the larger ceiling below applies to that one endpoint only.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

# The deepest legitimate body, a bulk request of structured attribute values, is under ten levels.
MAX_JSON_DEPTH = 32

# 10,000 fully described batteries are about 10 MB of JSON; 50,000 (the service's ceiling per
# request) with their use data fit in 64 MB.
BULK_UPLOAD_MAX_BYTES = 64 * 1024 * 1024


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"The request body is larger than {limit} bytes.")


class BulkJSONParser(BaseParser):
    media_type = "application/json"
    max_bytes = BULK_UPLOAD_MAX_BYTES

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        parser_context = parser_context or {}
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH", "") if request is not None else ""
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large(self.max_bytes)
        # One byte past the limit: a body with a missing or wrong Content-Length still stops.
        raw = stream.read(self.max_bytes + 1) if stream is not None else b""
        if len(raw) > self.max_bytes:
            raise too_large(self.max_bytes)
        try:
            text = codecs.decode(raw, get_encoding(parser_context))
        except UnicodeDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        return json_loads(text)


class JSONParser(parsers.JSONParser):
    """application/json bodies of every other endpoint. A subclass of DRF's JSONParser so that DRF
    reads the body through `request.body` and Django's DATA_UPLOAD_MAX_MEMORY_SIZE still holds."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = codecs.decode(raw, get_encoding(parser_context or {}))
        except UnicodeDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        return json_loads(text)


def get_encoding(parser_context: dict[str, Any]) -> str:
    """The body's charset as DRF determined it, UTF-8 (DEFAULT_CHARSET) otherwise."""
    return str(parser_context.get("encoding", settings.DEFAULT_CHARSET))


def json_loads(text: str) -> Any:
    """The JSON value of `text`; ParseError (400) when it is not JSON or nests too deeply."""
    try:
        value = json.loads(text, parse_constant=_refuse)
    except RecursionError as error:
        raise too_deep() from error
    except ValueError as error:
        raise ParseError(f"JSON parse error - {error}") from error
    if json_depth(value) > MAX_JSON_DEPTH:
        raise too_deep()
    return value


def json_depth(value: Any) -> int:
    """How many arrays and objects deep `value` goes (a scalar is 0), without recursing."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        pending.extend((child, depth + 1) for child in children)
    return deepest


def too_deep() -> ParseError:
    return ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep; no passport value is.")


def _refuse(name: str) -> None:
    # NaN and Infinity are not JSON; no battery value needs them.
    raise ValueError(f"{name} is not valid JSON")
