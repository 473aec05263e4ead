"""JSON parsing with a body-size ceiling.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE guards `request.body` and form parsing, but DRF's JSONParser
reads the stream directly, so without this class a JSON body of any size would be read into memory.
Every endpoint keeps Django's ceiling; the bulk registration endpoint raises it for itself only.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser, get_encoding

# 10,000 fully described batteries are about 10 MB of JSON; leave room for more per request.
BULK_UPLOAD_MAX_BYTES = 64 * 1024 * 1024


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class LimitedJSONParser(JSONParser):
    def max_bytes(self) -> int:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        parser_context = parser_context or {}
        limit = self.max_bytes()
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        # Read one byte past the limit: a body without (or with a wrong) Content-Length still stops.
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = get_encoding(parser_context)
        try:
            text = codecs.decode(raw, encoding)
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc


class BulkJSONParser(LimitedJSONParser):
    def max_bytes(self) -> int:
        return max(BULK_UPLOAD_MAX_BYTES, super().max_bytes())


def _refuse_constant(name: str) -> None:
    # NaN and Infinity are not JSON; a battery value never needs them.
    raise ValueError(f"{name} is not valid JSON")
