"""Request bodies of a telemetry batch: JSON or CSV, plain or gzip, within a size limit.

Bodies are read from the stream (not `request.body`, whose 2.5 MB Django ceiling is far below a
batch's) up to TELEMETRY_MAX_BATCH_BYTES; a gzip body is inflated in steps and stopped as soon
as the inflated size passes the same limit, so a small "zip bomb" cannot fill the memory.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from typing import Any

import numpy as np
import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

import bms_core
from passport.errors import FieldError, TooLarge, ValidationFailed

INFLATE_STEP_BYTES = 1024 * 1024


def _limit() -> int:
    return settings.TELEMETRY_MAX_BATCH_BYTES


def _too_large(limit: int) -> TooLarge:
    return TooLarge(None, f"the batch is larger than {limit} bytes (decoded); send smaller batches")


def _inflate(raw: bytes, limit: int) -> bytes:
    # 16 + MAX_WBITS: gzip framing.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts, size = [], 0
    data = raw
    try:
        while data:
            part = inflater.decompress(data, INFLATE_STEP_BYTES)
            size += len(part)
            if size > limit:
                raise _too_large(limit)
            parts.append(part)
            data = inflater.unconsumed_tail
        tail = inflater.flush()
    except zlib.error as error:
        raise ParseError(f"Content-Encoding gzip: the body is not gzip data ({error})") from None
    if size + len(tail) > limit:
        raise _too_large(limit)
    return b"".join(parts) + tail


def read_body(stream: Any, parser_context: dict[str, Any] | None) -> bytes:
    """The decoded request body, at most TELEMETRY_MAX_BATCH_BYTES."""
    limit = _limit()
    request = (parser_context or {}).get("request")
    meta = request.META if request is not None else {}
    encoding = meta.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        raise ParseError(f"Content-Encoding {encoding!r} is not supported; send gzip or nothing")
    declared = meta.get("CONTENT_LENGTH", "")
    if encoding != "gzip" and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    # One byte past the limit: a body with a missing or wrong Content-Length still stops.
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise _too_large(limit)
    return _inflate(raw, limit) if encoding == "gzip" else raw


class BatchJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        body = read_body(stream, parser_context)
        try:
            # orjson refuses NaN and Infinity (not JSON): a missing value is null.
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}; a missing value is null") from None


class BatchCSVParser(BaseParser):
    """A header row of column names, one row per sample (bms_core's CSV format)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> dict[str, np.ndarray]:
        return csv_columns(read_body(stream, parser_context))


def csv_columns(body: bytes) -> dict[str, np.ndarray]:
    """Columns of a CSV body through bms_core.read_csv (which reads files, hence the temporary
    one); its errors name the column and the data row."""
    handle, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        return bms_core.read_csv(path)
    except UnicodeDecodeError:
        raise ValidationFailed([FieldError("columns", "the CSV body is not UTF-8 text")]) from None
    except ValueError as error:
        from telemetry.services.ingest import validation_error_from_bms_core

        raise validation_error_from_bms_core(error) from None
    finally:
        os.unlink(path)
