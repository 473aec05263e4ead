"""The raw sample table: how samples are written, partitioned and dropped.

Layout. One row per (battery, time), primary key (battery_id, time), no foreign key: the table
can later be distributed by battery_id (Citus) without touching the rest of the schema.
Per-cell values are one `bytea` per row (float32 little-endian, 4 bytes a cell, NaN for a cell
without a value) rather than one column per cell: packs differ in cell count, and 16 cells
cost 64 bytes instead of 16 nullable float8 columns.

PostgreSQL. The table is partitioned by month of `time` (declarative RANGE partitions named
`telemetry_sample_pYYYYMM`, upper bound exclusive). Partitions are created ahead by a periodic
task (`sample_partitions_ensure`) and, for backfills, on demand before a batch is written.
A batch is written with COPY into a temporary staging table and moved with
`INSERT ... SELECT ... ON CONFLICT DO NOTHING`, so a sample already stored (an overlapping
batch) is skipped, never doubled, and the number of rows really inserted is known. Retention
drops whole partitions older than TELEMETRY_RAW_RETENTION_DAYS: a `DROP TABLE` costs the same
for a month of data as for a row, where deleting rows would bloat the table and its indexes.

SQLite (the embedded default). A plain table; bulk `INSERT OR IGNORE`; retention deletes by
time range. Times are stored as Django stores them there (UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]"),
so ORM queries on the table compare correctly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction

CELL_DTYPE = np.dtype("<f4")
SAMPLE_TABLE = "telemetry_sample"
PARTITION_PREFIX = f"{SAMPLE_TABLE}_p"


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


# --- times -----------------------------------------------------------------------------------


def db_time_param(moment: datetime) -> Any:
    """A query parameter comparing correctly with the stored `time` column (a datetime on
    PostgreSQL, Django's text form on SQLite)."""
    return connection.ops.adapt_datetimefield_value(moment)


def time_select_sql() -> str:
    """The SELECT expression for `time` that db_times_to_unix_s turns into Unix seconds."""
    if is_postgresql():
        return "extract(epoch from time)::float8"
    return "time"


def db_times_to_unix_s(values: Sequence[object]) -> npt.NDArray[np.float64]:
    """Unix seconds as exact microseconds / 1e6 (correctly rounded), on both databases: the
    same float for the same stored time however it is read (PostgreSQL's epoch, a day block)."""
    if is_postgresql():
        return np.array(values, dtype=np.float64)
    # Django's SQLite text is UTC without an offset, which numpy parses as it is.
    return np.array(values, dtype=str).astype("datetime64[us]").astype(np.int64) / 1e6


def unix_s_to_microseconds(time_s: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Stored precision: microseconds, as PostgreSQL's timestamptz and Django keep them."""
    return np.round(time_s * 1e6).astype(np.int64)


def sqlite_time_texts(time_us: npt.NDArray[np.int64]) -> list[str]:
    """Django's SQLite text for a UTC datetime: str(naive datetime), fraction only when not 0."""
    texts = np.datetime_as_string(time_us.astype("datetime64[us]"), unit="us")
    texts = np.strings.replace(texts, "T", " ")
    whole = np.strings.endswith(texts, ".000000")
    texts = np.where(whole, np.strings.slice(texts, 0, 19), texts)
    return texts.tolist()


def microseconds_to_datetime(time_us: int) -> datetime:
    seconds, micro = divmod(int(time_us), 1_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=micro)


def cell_blobs(matrix: npt.NDArray | None) -> Iterable[bytes | None]:
    """Rows of a samples x cells matrix as float32 little-endian bytes."""
    if matrix is None:
        return iter(())
    packed = np.ascontiguousarray(matrix, dtype=CELL_DTYPE)
    width = packed.shape[1] * CELL_DTYPE.itemsize
    raw = packed.tobytes()
    return (raw[i : i + width] for i in range(0, len(raw), width))


# --- writing ---------------------------------------------------------------------------------

# Stored scalar columns in table order; the first two are required.
SCALAR_COLUMNS = (
    "current_a",
    "voltage_v",
    "temperature_c",
    "soc_pct",
    "min_cell_v",
    "max_cell_v",
    "min_cell_temp_c",
    "max_cell_temp_c",
)
ALL_COLUMNS = ("battery_id", "time", *SCALAR_COLUMNS, "cell_v", "cell_temp_c")


@dataclass(frozen=True)
class SampleRows:
    """Validated samples of one battery, strictly increasing in time.

    `scalars` maps a stored column to float64 values (NaN = no value; absent = no value at
    all); `cell_v` / `cell_temp_c` are samples x cells matrices or None.
    """

    battery_id: int
    time_us: npt.NDArray[np.int64]
    scalars: dict[str, npt.NDArray[np.floating]]
    cell_v: npt.NDArray | None = None
    cell_temp_c: npt.NDArray | None = None
    # Rows of the batch that repeated the previous one exactly (dropped by bms_core.validate).
    repeated_rows: int = 0

    def __len__(self) -> int:
        return int(self.time_us.size)


def samples_store(rows: SampleRows) -> int:
    """Store the samples that are not stored yet; returns how many were inserted."""
    if len(rows) == 0:
        return 0
    from telemetry.services.sample_days import sample_days_invalidate

    # Inside the caller's transaction when there is one (no savepoint: one round trip less).
    with transaction.atomic(savepoint=False):
        # Late samples change a closed day: its column block goes in this transaction.
        sample_days_invalidate(
            battery_id=rows.battery_id, first_us=int(rows.time_us[0]), last_us=int(rows.time_us[-1])
        )
        if is_postgresql():
            return _store_postgresql(rows)
        return _store_sqlite(rows)


def _python_rows(rows: SampleRows, times: Sequence[object]) -> Iterable[tuple]:
    n = len(rows)
    columns: list[Sequence[object]] = [[rows.battery_id] * n, times]
    for name in SCALAR_COLUMNS:
        values = rows.scalars.get(name)
        if values is None:
            columns.append([None] * n)
        else:
            # NaN -> NULL: an optional column without a value in this row.
            columns.append([None if v != v else v for v in values.tolist()])
    for matrix in (rows.cell_v, rows.cell_temp_c):
        columns.append(list(cell_blobs(matrix)) if matrix is not None else [None] * n)
    return zip(*columns, strict=True)


def _store_sqlite(rows: SampleRows) -> int:
    placeholders = ", ".join(["%s"] * len(ALL_COLUMNS))
    sql = (
        f"INSERT OR IGNORE INTO {SAMPLE_TABLE} ({', '.join(ALL_COLUMNS)}) "
        f"VALUES ({placeholders})"
    )
    raw = connection.connection
    before = raw.total_changes
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(_python_rows(rows, sqlite_time_texts(rows.time_us))))
    return raw.total_changes - before


STAGING_TABLE = "telemetry_sample_staging"
# PostgreSQL's binary COPY: signature, flags, header extension length; trailer; epoch 2000-01-01.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
COPY_HEADER_BYTES = len(COPY_HEADER)
COPY_TRAILER = b"\xff\xff"
PG_EPOCH_US = 946_684_800 * 1_000_000


def copy_binary_payload(rows: SampleRows) -> bytes:
    """The rows in PostgreSQL's binary COPY format, built column by column with numpy.

    Each row is a 16-bit field count, then per field a 32-bit length (-1 = NULL) and the value
    in network byte order (int8, timestamptz as microseconds since 2000-01-01, float8, bytea).
    When every column is either always or never NULL in the batch (the usual case: a collector
    sends the same columns in every sample), all rows have one layout and the batch is one
    numpy structured array. Otherwise rows differ in length, so every field's position is
    computed per row and the bytes are placed with fancy indexing. No Python loop over rows.
    """
    n = len(rows)
    fields: list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]] = []

    def add(data: npt.NDArray, present: npt.NDArray[np.bool_]) -> None:
        fields.append((np.ascontiguousarray(data).view(np.uint8).reshape(n, -1), present))

    everywhere = np.ones(n, dtype=bool)
    add(np.full(n, rows.battery_id, dtype=">i8"), everywhere)
    add((rows.time_us - PG_EPOCH_US).astype(">i8"), everywhere)
    for name in SCALAR_COLUMNS:
        values = rows.scalars.get(name)
        if values is None:
            add(np.zeros(n, dtype=">f8"), np.zeros(n, dtype=bool))
        else:
            add(values.astype(">f8"), ~np.isnan(values))
    for matrix in (rows.cell_v, rows.cell_temp_c):
        if matrix is None:
            add(np.zeros((n, 1), dtype=np.uint8), np.zeros(n, dtype=bool))
        else:
            add(np.ascontiguousarray(matrix, dtype=CELL_DTYPE), everywhere)

    if all(present.all() or not present.any() for _, present in fields):
        return _payload_one_layout(fields, n)
    sizes = np.full(n, 2, dtype=np.int64)
    for data, present in fields:
        sizes += 4 + data.shape[1] * present
    starts = len(COPY_HEADER) + np.concatenate(([0], np.cumsum(sizes)[:-1]))
    buffer = np.zeros(len(COPY_HEADER) + int(sizes.sum()) + len(COPY_TRAILER), dtype=np.uint8)
    buffer[: len(COPY_HEADER)] = np.frombuffer(COPY_HEADER, dtype=np.uint8)
    buffer[-len(COPY_TRAILER) :] = np.frombuffer(COPY_TRAILER, dtype=np.uint8)
    count = np.frombuffer(np.array([len(fields)], dtype=">i2").tobytes(), dtype=np.uint8)
    buffer[starts[:, None] + np.arange(2)] = count
    position = starts + 2
    for data, present in fields:
        width = data.shape[1]
        lengths = np.where(present, width, -1).astype(">i4").view(np.uint8).reshape(n, 4)
        buffer[position[:, None] + np.arange(4)] = lengths
        if present.any():
            at = position[present] + 4
            buffer[at[:, None] + np.arange(width)] = data[present]
        position = position + 4 + width * present
    return buffer.tobytes()


def _payload_one_layout(
    fields: list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]], n: int
) -> bytes:
    """Every row has the same layout: one rows x bytes matrix, filled a field at a time."""
    present = [bool(n and here[0]) for _, here in fields]
    width = 2 + sum(4 + (data.shape[1] if here else 0) for (data, _), here in zip(fields, present, strict=True))
    matrix = np.empty((n, width), dtype=np.uint8)
    matrix[:, 0:2] = np.frombuffer(np.array([len(fields)], dtype=">i2").tobytes(), dtype=np.uint8)
    offset = 2
    for (data, _), here in zip(fields, present, strict=True):
        length = data.shape[1] if here else -1
        matrix[:, offset : offset + 4] = np.frombuffer(
            np.array([length], dtype=">i4").tobytes(), dtype=np.uint8
        )
        offset += 4
        if here:
            matrix[:, offset : offset + data.shape[1]] = data
            offset += data.shape[1]
    return COPY_HEADER + matrix.tobytes() + COPY_TRAILER


def _copy(cursor, table: str, payload: bytes) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(ALL_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(payload)


class SamplesStoredConcurrently(IntegrityError):
    """A sample of the batch was committed by another transaction after this one looked for
    overlaps (two overlapping batches of one battery at once, rare). This transaction is
    aborted; run it again from the start (it then takes the overlap path)."""


def _store_postgresql(rows: SampleRows) -> int:
    """COPY straight into the table when no sample of the batch's battery lies within its time
    span (the usual case); otherwise (an overlapping batch) through a staging table with ON
    CONFLICT DO NOTHING. The overlap is looked up first (one index probe): a savepoint around
    the COPY instead (to fall back after a unique violation) cost two round trips and about
    10 % more database CPU per batch, since the rows were then written by a subtransaction."""
    payload = copy_binary_payload(rows)
    columns = ", ".join(ALL_COLUMNS)
    first_us, last_us = int(rows.time_us[0]), int(rows.time_us[-1])
    with connection.cursor() as cursor:
        # Not one query with the partitions' check: a read of the parent table held while
        # waiting for another request's partition creation (its advisory lock) deadlocked.
        sample_partitions_ensure_for(first_us, last_us)
        if not _stored_within(cursor, rows.battery_id, first_us, last_us):
            try:
                _copy(cursor, SAMPLE_TABLE, payload)
            except (IntegrityError, psycopg.errors.UniqueViolation) as error:
                raise SamplesStoredConcurrently(str(error)) from error
            return len(rows)
        # Per session, emptied at every commit; LIKE copies the columns, not the primary key.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING_TABLE} "
            f"(LIKE {SAMPLE_TABLE}) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGING_TABLE}")
        _copy(cursor, STAGING_TABLE, payload)
        cursor.execute(
            f"INSERT INTO {SAMPLE_TABLE} ({columns}) SELECT {columns} FROM {STAGING_TABLE} "
            "ON CONFLICT (battery_id, time) DO NOTHING"
        )
        return cursor.rowcount


def _stored_within(cursor: Any, battery_id: int, first_us: int, last_us: int) -> bool:
    """Whether the battery has a sample stored between the two times (an index probe)."""
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {SAMPLE_TABLE} WHERE battery_id = %s "
        "AND time BETWEEN %s AND %s)",
        [battery_id, microseconds_to_datetime(first_us), microseconds_to_datetime(last_us)],
    )
    return bool(cursor.fetchone()[0])


# --- partitions and retention ----------------------------------------------------------------


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _months(first: datetime, last: datetime) -> list[tuple[int, int]]:
    months = [(first.year, first.month)]
    while months[-1] < (last.year, last.month):
        months.append(_next_month(*months[-1]))
    return months


def partition_name(year: int, month: int) -> str:
    return f"{PARTITION_PREFIX}{year:04d}{month:02d}"


def sample_partitions_ensure_for(first_us: int, last_us: int) -> list[str]:
    """Create the monthly partitions that samples between the two times need (PostgreSQL).

    Returns the names of the partitions created. Concurrent callers serialise on an advisory
    lock, so two requests never race to create the same partition.
    """
    months = _months(microseconds_to_datetime(first_us), microseconds_to_datetime(last_us))
    created = []
    with connection.cursor() as cursor:
        missing = []
        for year, month in months:
            cursor.execute("SELECT to_regclass(%s)", [partition_name(year, month)])
            if cursor.fetchone()[0] is None:
                missing.append((year, month))
        if not missing:
            return []
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [SAMPLE_TABLE])
        for year, month in missing:
            name = partition_name(year, month)
            # Not to_regclass here: it reads this backend's catalog cache, which an advisory
            # lock does not refresh, so a partition another request created while we waited
            # looked missing and CREATE failed with DuplicateTable (8 collectors starting a
            # month together). A query on pg_class sees every commit before the statement.
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = %s "
                "AND relnamespace = current_schema()::regnamespace)",
                [name],
            )
            if cursor.fetchone()[0]:
                continue
            lower = _month_start(year, month).isoformat()
            upper = _month_start(*_next_month(year, month)).isoformat()
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {SAMPLE_TABLE} "
                f"FOR VALUES FROM ('{lower}') TO ('{upper}')"
            )
            created.append(name)
    return created


def sample_partitions_ensure(*, now: datetime | None = None, ahead_months: int | None = None) -> list[str]:
    """Create this month's partition and the next `ahead_months` (TELEMETRY_PARTITIONS_AHEAD_MONTHS)
    so that ingestion never waits on DDL (PostgreSQL; nothing to do on SQLite)."""
    if not is_postgresql():
        return []
    now = now or datetime.now(UTC)
    ahead = settings.TELEMETRY_PARTITIONS_AHEAD_MONTHS if ahead_months is None else ahead_months
    year, month = now.year, now.month
    last = (year, month)
    for _ in range(ahead):
        last = _next_month(*last)
    with transaction.atomic():
        return sample_partitions_ensure_for(
            int(_month_start(year, month).timestamp() * 1_000_000),
            int(_month_start(*last).timestamp() * 1_000_000),
        )


def sample_partitions() -> list[str]:
    """The sample table's partitions, oldest first (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "WHERE parent.relname = %s ORDER BY child.relname",
            [SAMPLE_TABLE],
        )
        return [name for (name,) in cursor.fetchall()]


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Raw samples before this time are dropped: the start of the month that contains
    now - TELEMETRY_RAW_RETENTION_DAYS, so whole months go, and none too early."""
    moment = (now or datetime.now(UTC)) - timedelta(days=settings.TELEMETRY_RAW_RETENTION_DAYS)
    return _month_start(moment.year, moment.month)


def sample_retention_apply(*, now: datetime | None = None) -> list[str]:
    """Drop the raw samples older than the retention (daily rollups stay). On PostgreSQL whole
    monthly partitions are dropped; on SQLite rows before the cutoff are deleted. Returns the
    partitions dropped (on SQLite: one "<table> before <cutoff>" entry when rows went)."""
    from telemetry.services.sample_days import sample_days_retention_apply

    cutoff = retention_cutoff(now)
    sample_days_retention_apply(cutoff=cutoff)
    if not is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {SAMPLE_TABLE} WHERE time < %s", [db_time_param(cutoff)]
            )
            deleted = cursor.rowcount
        return [f"{SAMPLE_TABLE} before {cutoff.date().isoformat()}"] if deleted else []
    dropped = []
    limit = partition_name(cutoff.year, cutoff.month)
    with transaction.atomic(), connection.cursor() as cursor:
        for name in sample_partitions():
            # Names sort by month; a partition named before the cutoff's month ends by it.
            if name.startswith(PARTITION_PREFIX) and name < limit:
                cursor.execute(f"DROP TABLE {name}")
                dropped.append(name)
    return dropped
