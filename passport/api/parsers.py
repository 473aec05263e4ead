"""JSON parsing for the bulk registration endpoint, with its own body-size ceiling.

DRF reads a JSONParser's body through `request.body`, which enforces Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) for every endpoint; 10,000 described batteries
are several megabytes. This parser is deliberately not a JSONParser subclass, so DRF hands it
the raw stream and the larger ceiling below applies to this one endpoint only.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser, get_encoding

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
            return json.loads(codecs.decode(raw, get_encoding(parser_context)), parse_constant=_refuse)
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"JSON parse error - {error}") from error


def _refuse(name: str) -> None:
    # NaN and Infinity are not JSON; no battery value needs them.
    raise ValueError(f"{name} is not valid JSON")
