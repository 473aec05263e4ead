"""Closed days of raw samples as compressed column blocks (the SampleDay table).

Why. A rebuild of a battery's analysis reads every raw sample back: a year at 1 Hz is 31.5
million rows, and PostgreSQL spends about 2.6 µs of CPU on each (measured: 82 s a year with 16
cells) before the analysis starts. The same year as 365 blocks is about two gigabytes of
LZ4-compressed column arrays that are fetched and decoded in a few seconds.

Format of a block (`columns` bytea). A 4-byte magic `BPD1`, a 4-byte little-endian length, a
JSON header {"samples": n, "columns": [[name, stored dtype, read dtype, compressed bytes], ...]},
then one LZ4 block per column holding its little-endian array. `timestamp` is stored as int64
microseconds (the raw table's precision), the first value absolute and the others as
differences, so regular sampling compresses to almost nothing; it is decoded to float64 Unix
seconds, the same numbers the raw reader returns (both divide exact microseconds by 1e6,
correctly rounded). The other columns come back in the dtype the raw reader returns (float64
scalars, float32 cells); a float64 column whose every value is exactly a float32 (a BMS's
figures usually are) is stored as float32 and widened on reading. So a day read from its block
is bit for bit the day read from raw rows.

Why LZ4 (measured on a simulated 16-cell day, 14.5 MB of arrays): 5.7 MB and 4 ms to decode;
zstd gives 3.2 MB but takes 17 ms, and a rebuild decodes every day of a year.

Consistency. A block is a copy of the day's committed raw rows, never the only record:
- `sample_day_build` reads the day and writes its block in one transaction that holds the
  battery's day-block lock (a PostgreSQL advisory transaction lock);
- `sample_days_invalidate`, called by every write of samples that reaches a day before today,
  takes the same lock before the rows are inserted and deletes the blocks of the days written.
So a batch and a build of the same battery serialise: the build sees the batch's rows or the
batch deletes the build's block. Today's samples never take the lock: only days that ended at
least BUILD_DELAY ago get blocks. (SQLite allows one writer at a time; a build that meets a
concurrent batch fails with "database is locked" and the next rollup builds the day.)
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import lz4.block
import numpy as np
import numpy.typing as npt
import psycopg
from django.db import connection
from django.utils import timezone

from bms_core.columns import TIMESTAMP
from telemetry.models import SampleDay
from telemetry.services.storage import (
    is_postgresql,
    microseconds_to_datetime,
    unix_s_to_microseconds,
)

MAGIC = b"BPD1"
# A day gets a block only once it ended this long ago, so that no batch that decided it writes
# "today" is still open. (The nightly rollup sweep runs at 00:45 UTC, after it.)
BUILD_DELAY = timedelta(minutes=30)
ONE_US = timedelta(microseconds=1)
# First key of the advisory lock pair (the second is the battery): "day blocks".
LOCK_NAMESPACE = 0x5D0B


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_is_closed(day: date, *, now: datetime | None = None) -> bool:
    return day_start(day) + timedelta(days=1) + BUILD_DELAY <= (now or timezone.now())


# --- encoding --------------------------------------------------------------------------------


def _narrowed(values: npt.NDArray) -> npt.NDArray:
    """float64 values as float32 when that loses nothing (NaN stays NaN)."""
    if values.dtype == np.float64:
        narrow = values.astype(np.float32)
        if np.array_equal(narrow.astype(np.float64), values, equal_nan=True):
            return narrow
    return values


def encode_day(columns: dict[str, npt.NDArray]) -> bytes:
    """Columns of one day (bms_core format, `timestamp` in Unix seconds) as one block."""
    header: list[list[Any]] = []
    frames: list[bytes] = []
    for name, values in columns.items():
        if name == TIMESTAMP:
            time_us = unix_s_to_microseconds(np.asarray(values, dtype=np.float64))
            data, read_as = np.diff(time_us, prepend=np.int64(0)), np.dtype(np.float64)
        else:
            data, read_as = _narrowed(values), values.dtype
        data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
        frame = lz4.block.compress(data.tobytes(), store_size=False)
        header.append([name, data.dtype.str, read_as.newbyteorder("<").str, len(frame)])
        frames.append(frame)
    head = json.dumps({"samples": int(len(columns[TIMESTAMP])), "columns": header}).encode()
    return b"".join([MAGIC, struct.pack("<I", len(head)), head, *frames])


def decode_day(block: bytes | memoryview) -> dict[str, npt.NDArray]:
    view = memoryview(block)
    if bytes(view[:4]) != MAGIC:
        raise ValueError("not a sample day block")
    (head_length,) = struct.unpack("<I", view[4:8])
    head = json.loads(bytes(view[8 : 8 + head_length]))
    n = head["samples"]
    offset = 8 + head_length
    columns: dict[str, npt.NDArray] = {}
    for name, stored, read_as, size in head["columns"]:
        dtype = np.dtype(stored)
        raw = lz4.block.decompress(view[offset : offset + size], uncompressed_size=n * dtype.itemsize)
        offset += size
        values = np.frombuffer(raw, dtype=dtype)
        if name == TIMESTAMP:
            columns[name] = np.cumsum(values) / 1e6
        else:
            columns[name] = values.astype(np.dtype(read_as).newbyteorder("="), copy=False)
    return columns


# --- locking, building, invalidating ---------------------------------------------------------


def _lock(battery_id: int) -> None:
    """The battery's day-block lock until the end of the current transaction (PostgreSQL)."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, battery_id % 2**31]
            )


def sample_days_invalidate(*, battery_id: int, first_us: int, last_us: int) -> None:
    """Before samples from `first_us` to `last_us` are written (inside the writing transaction):
    when they reach a day before today, delete those days' blocks, holding the lock."""
    first_day = microseconds_to_datetime(first_us).date()
    if first_day >= timezone.now().astimezone(UTC).date():
        return
    last_day = microseconds_to_datetime(last_us).date()
    _lock(battery_id)
    SampleDay.objects.filter(battery_id=battery_id, day__range=(first_day, last_day)).delete()


def sample_day_build(
    *, battery_id: int, day: date, columns: dict[str, npt.NDArray] | None = None
) -> bool:
    """Write the block of the battery's `day` if the day is closed and has samples. `columns`
    may hold samples already read under the lock (the rollup's read, which runs past midnight);
    only the day's own are kept: the caller must then have taken `sample_day_lock` in this
    transaction before reading them. Returns whether a block was written."""
    if not day_is_closed(day):
        return False
    sample_day_lock(battery_id=battery_id)  # held already when the caller read `columns`
    if columns is None:
        from telemetry.selectors import raw_sample_columns

        columns = raw_sample_columns(
            battery_id=battery_id, after=day_start(day) - ONE_US,
            until=day_start(day) + timedelta(days=1) - ONE_US,
        )
    times = columns[TIMESTAMP]
    bounds_s = [day_start(day).timestamp(), day_start(day + timedelta(days=1)).timestamp()]
    lo, hi = np.searchsorted(times, bounds_s, side="left")
    if hi <= lo:
        return False
    own = {name: values[lo:hi] for name, values in columns.items()}
    SampleDay.objects.update_or_create(
        battery_id=battery_id,
        day=day,
        defaults={"samples": int(hi - lo), "columns": encode_day(own), "built_at": timezone.now()},
    )
    return True


def sample_day_lock(*, battery_id: int) -> None:
    """Take the battery's day-block lock for the current transaction (before reading a day
    whose block will be written)."""
    if not connection.in_atomic_block:
        raise RuntimeError("the day-block lock is held until the end of a transaction")
    _lock(battery_id)


def sample_days_retention_apply(*, cutoff: datetime) -> int:
    """Delete the blocks of days before `cutoff` (with the raw samples they copy)."""
    deleted, _ = SampleDay.objects.filter(day__lt=cutoff.astimezone(UTC).date()).delete()
    return deleted


# --- reading ---------------------------------------------------------------------------------


def whole_days(after: datetime | None, until: datetime | None) -> tuple[date, date] | None:
    """The first and last UTC day lying wholly inside (after, until], if any (None = open)."""
    first = date.min if after is None else (after + ONE_US).astimezone(UTC).date()
    if after is not None and day_start(first) <= after:
        first += timedelta(days=1)
    if until is None:
        last = date.max
    else:
        last = until.astimezone(UTC).date()
        if day_start(last) + timedelta(days=1) - ONE_US > until:
            last -= timedelta(days=1)
    return (first, last) if first <= last else None


def stored_day_blocks(*, battery_id: int, first: date, last: date) -> list[tuple[date, bytes]]:
    """(day, block) of the battery's blocks from `first` to `last`, in day order."""
    sql = (
        f"SELECT day, columns FROM {SampleDay._meta.db_table} "
        "WHERE battery_id = %s AND day BETWEEN %s AND %s ORDER BY day"
    )
    if not is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(sql, [battery_id, first.isoformat(), last.isoformat()])
            return [
                (date.fromisoformat(day) if isinstance(day, str) else day, bytes(block))
                for day, block in cursor.fetchall()
            ]
    # Binary results: a bytea in text format arrives hex-encoded, which costs the server and
    # psycopg 4x the time of the bytes themselves. (Django's cursors bind on the client side,
    # which psycopg allows only with text results, hence a plain psycopg cursor.)
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [battery_id, first, last], binary=True)
        return cursor.fetchall()


def _cell_group(name: str) -> str | None:
    if not name.startswith("cell_"):
        return None
    return "temperature" if name.endswith("_temp_c") else "voltage"


def concatenate_parts(parts: Sequence[dict[str, npt.NDArray]]) -> dict[str, npt.NDArray]:
    """Parts in time order as one column set, by the raw reader's rules: an optional column
    appears when one part has it (NaN elsewhere); per-cell voltages (and, apart, per-cell
    temperatures) only when every part has the same cells, because bms_core does not accept
    holes in cell voltages."""
    filled = [part for part in parts if len(part[TIMESTAMP])]
    if len(filled) <= 1:
        return filled[0] if filled else parts[0]
    cells_everywhere = {
        group: len({frozenset(n for n in part if _cell_group(n) == group) for part in filled}) == 1
        for group in ("voltage", "temperature")
    }
    names: dict[str, np.dtype] = {}
    for part in filled:
        for name, values in part.items():
            names.setdefault(name, values.dtype)
    columns: dict[str, npt.NDArray] = {}
    for name, dtype in names.items():
        group = _cell_group(name)
        if group is not None and not cells_everywhere[group]:
            continue
        columns[name] = np.concatenate([
            part[name] if name in part else np.full(len(part[TIMESTAMP]), np.nan, dtype=dtype)
            for part in filled
        ])
    return columns
