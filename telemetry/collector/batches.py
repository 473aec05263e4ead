"""A batch as the service receives it, and its deterministic client batch id.

The body follows the telemetry HTTP contract (docs/collector.md): column-oriented JSON,

    {"battery": "<identifier>", "batch_id": "<id>", "columns": {"timestamp": [...], ...}}

gzip-compressed (`Content-Encoding: gzip`; a minute of 1 Hz samples is about 1 kB). `timestamp` is
Unix seconds; a value the battery did not send (NaN in `bms_core`) is JSON `null`, and a column
with no value at all in the batch is left out.

The batch id is derived from the content (battery + columns), so the same samples always travel
under the same id: a retry after a lost answer, a restart, or a log replayed twice is recognised
by the service as the batch it already stored (it answers 200 with the first result).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import cast

from bms_core.can import Sample

# The column names of `bms_core`'s analytics format, `timestamp` first.
SAMPLE_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(Sample))

BATCH_ID_DIGEST_CHARS = 20


@dataclass(frozen=True)
class SealedBatch:
    batch_id: str
    battery: str
    body: bytes
    samples: int
    first_timestamp: float
    last_timestamp: float


def batch_id_for(battery: str, columns: dict[str, list[float | None]]) -> str:
    """`<first sample, Unix ms>-<sample count>-<content digest>`: readable in a log, at most
    41 characters, and the same for the same content."""
    canonical = json.dumps([battery, columns], sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:BATCH_ID_DIGEST_CHARS]
    timestamps = columns["timestamp"]
    first_ms = round(cast(float, timestamps[0]) * 1000)  # the timestamp column has no None
    return f"{first_ms}-{len(timestamps)}-{digest}"


def _columns(rows: Sequence[tuple[float, Sequence[float | None]]]) -> dict[str, list[float | None]]:
    columns: dict[str, list[float | None]] = {"timestamp": [timestamp for timestamp, _ in rows]}
    for position, name in enumerate(SAMPLE_FIELDS[1:]):
        values = [values[position] for _, values in rows]
        if any(value is not None for value in values):
            columns[name] = values
    return columns


def _sealed(battery: str, columns: dict[str, list[float | None]]) -> SealedBatch:
    batch_id = batch_id_for(battery, columns)
    document = {"battery": battery, "batch_id": batch_id, "columns": columns}
    body = gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0)
    timestamps = columns["timestamp"]
    return SealedBatch(
        batch_id=batch_id,
        battery=battery,
        body=body,
        samples=len(timestamps),
        first_timestamp=cast(float, timestamps[0]),
        last_timestamp=cast(float, timestamps[-1]),
    )


def batch_build(battery: str, rows: Sequence[tuple[float, Sequence[float | None]]]) -> SealedBatch:
    """A batch from (timestamp, values in `SAMPLE_FIELDS[1:]` order) rows, oldest first."""
    if not rows:
        raise ValueError("a batch needs at least one sample")
    return _sealed(battery, _columns(rows))


def batch_document(body: bytes) -> dict:
    return json.loads(gzip.decompress(body))


def batch_split(body: bytes) -> tuple[SealedBatch, SealedBatch] | None:
    """The two halves of a batch (for a service that answered 413), or None for one sample."""
    document = batch_document(body)
    columns: dict[str, list] = document["columns"]
    count = len(columns["timestamp"])
    if count < 2:
        return None
    middle = count // 2
    halves = []
    for part in (slice(0, middle), slice(middle, count)):
        half = {name: values[part] for name, values in columns.items()}
        half = {
            name: values
            for name, values in half.items()
            if name == "timestamp" or any(value is not None for value in values)
        }
        halves.append(_sealed(document["battery"], half))
    return halves[0], halves[1]
