"""The collector's durable queue: one SQLite file (stdlib `sqlite3`, WAL) next to the collector.

Every sample is written here the moment it is assembled, before anything is sent, so a sample the
collector has read survives a crash, a power cut after the commit, a reboot and a service outage of
any length (bounded by the disk). Three tables:

    sample       samples not yet in a batch, keyed by battery and timestamp (re-reading the same
                 frames stores nothing twice)
    batch        sealed batches waiting for a 2xx, each with its final request body (gzip JSON)
                 and its client batch id; deleted only after the service answered 2xx
    dead_letter  batches the service refused for good (a 4xx other than 408 / 429), with the
                 HTTP status and the service's reason; kept for a person to look at and requeue

Sealing moves the oldest pending samples into one batch in a single transaction, so a sample is
either pending or in exactly one batch, never both and never neither. Batches are sent in the
order of their first sample: a batch that cannot be delivered yet holds back the ones after it
(head-of-line), which keeps the service's view in time order.

`synchronous=FULL` makes every commit durable on disk (WAL mode: one fsync per commit), at one
commit per sample on a live bus (about one per second) that costs nothing measurable even on an
SD card; a log replay commits samples in chunks.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from bms_core.can import Sample

from .batches import SAMPLE_FIELDS, SealedBatch, batch_build, batch_split

SCHEMA = """
CREATE TABLE IF NOT EXISTS sample (
    battery TEXT NOT NULL,
    timestamp REAL NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (battery, timestamp)
);
CREATE INDEX IF NOT EXISTS sample_order ON sample (timestamp);
CREATE TABLE IF NOT EXISTS batch (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id TEXT NOT NULL UNIQUE,
    battery TEXT NOT NULL,
    body BLOB NOT NULL,
    samples INTEGER NOT NULL,
    first_timestamp REAL NOT NULL,
    last_timestamp REAL NOT NULL,
    sealed_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS batch_order ON batch (first_timestamp, seq);
CREATE TABLE IF NOT EXISTS dead_letter (
    seq INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL UNIQUE,
    battery TEXT NOT NULL,
    body BLOB NOT NULL,
    samples INTEGER NOT NULL,
    first_timestamp REAL NOT NULL,
    last_timestamp REAL NOT NULL,
    sealed_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    dead_at REAL NOT NULL
);
"""

_BATCH_COLUMNS = (
    "seq, batch_id, battery, body, samples, first_timestamp, last_timestamp, sealed_at, attempts"
)
_QUEUED_COLUMNS = f"{_BATCH_COLUMNS}, next_attempt_at, last_error"


@dataclass(frozen=True)
class SpooledBatch:
    """A sealed batch as stored: what to send, and how often it was tried."""

    seq: int
    batch_id: str
    battery: str
    body: bytes
    samples: int
    first_timestamp: float
    last_timestamp: float
    sealed_at: float
    attempts: int
    next_attempt_at: float
    last_error: str


@dataclass(frozen=True)
class SpoolStatus:
    pending_samples: int
    batches: int
    batched_samples: int
    dead_letters: int
    oldest_pending_timestamp: float | None
    next_attempt_at: float | None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


class Spool:
    """The durable queue. Safe to share between the reader and the sender thread of one process
    (a connection per thread); a second process on the same file waits for the lock."""

    def __init__(self, path: str | PathLike[str], *, clock=time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._local = threading.local()
        # executescript commits on its own: it runs outside `_transaction`.
        self._connection().executescript(SCHEMA)

    # -- connections -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            self._local.connection = connection
        return connection

    def _transaction(self) -> _Transaction:
        return _Transaction(self._connection())

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # -- samples -----------------------------------------------------------------------------

    def samples_add(self, battery: str, samples: Iterable[Sample]) -> int:
        """Store samples in one transaction; a timestamp already pending is kept as it was.
        Returns how many were new."""
        rows = [
            (
                battery,
                float(sample.timestamp),
                json.dumps(
                    [_finite_or_none(float(getattr(sample, name))) for name in SAMPLE_FIELDS[1:]]
                ),
            )
            for sample in samples
        ]
        if not rows:
            return 0
        with self._transaction() as connection:
            before = connection.total_changes
            connection.executemany(
                "INSERT OR IGNORE INTO sample (battery, timestamp, fields) VALUES (?, ?, ?)", rows
            )
            return connection.total_changes - before

    def pending_count(self) -> int:
        return self._connection().execute("SELECT count(*) FROM sample").fetchone()[0]

    def seal(self, *, max_samples: int, at_least: int = 1) -> SealedBatch | None:
        """Move the oldest pending samples (up to `max_samples`, of the oldest battery) into a
        batch, atomically. Nothing happens if fewer than `at_least` are pending."""
        if max_samples < 1:
            raise ValueError(f"max_samples must be at least 1, got {max_samples}")
        with self._transaction() as connection:
            first = connection.execute(
                "SELECT battery FROM sample ORDER BY timestamp LIMIT 1"
            ).fetchone()
            if first is None:
                return None
            battery = first[0]
            rows = connection.execute(
                "SELECT timestamp, fields FROM sample WHERE battery = ? ORDER BY timestamp LIMIT ?",
                (battery, max_samples),
            ).fetchall()
            if len(rows) < at_least:
                return None
            batch = batch_build(
                battery, [(timestamp, json.loads(fields)) for timestamp, fields in rows]
            )
            self._batch_insert(connection, batch)
            connection.execute(
                "DELETE FROM sample WHERE battery = ? AND timestamp <= ?",
                (battery, batch.last_timestamp),
            )
            return batch

    def _batch_insert(self, connection: sqlite3.Connection, batch: SealedBatch) -> None:
        # The same samples sealed again (a replayed log) give the same id: keep the first.
        connection.execute(
            "INSERT OR IGNORE INTO batch (batch_id, battery, body, samples, first_timestamp, "
            "last_timestamp, sealed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                batch.batch_id,
                batch.battery,
                batch.body,
                batch.samples,
                batch.first_timestamp,
                batch.last_timestamp,
                self._clock(),
            ),
        )

    # -- batches -----------------------------------------------------------------------------

    def next_batch(self) -> SpooledBatch | None:
        """The batch to send next (the oldest by first sample), whether or not it is due."""
        row = self._connection().execute(
            f"SELECT {_QUEUED_COLUMNS} FROM batch ORDER BY first_timestamp, seq LIMIT 1"
        ).fetchone()
        return SpooledBatch(*row) if row else None

    def batch_delivered(self, batch: SpooledBatch) -> None:
        """The service answered 2xx: the batch is stored there and leaves the spool."""
        with self._transaction() as connection:
            connection.execute("DELETE FROM batch WHERE seq = ?", (batch.seq,))

    def batch_retry_later(self, batch: SpooledBatch, *, at: float, error: str) -> None:
        with self._transaction() as connection:
            connection.execute(
                "UPDATE batch SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
                "WHERE seq = ?",
                (at, error[:2000], batch.seq),
            )

    def batch_dead_letter(self, batch: SpooledBatch, *, status: int, reason: str) -> None:
        """The service refused the batch for good: keep it aside with the reason."""
        with self._transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO dead_letter (seq, batch_id, battery, body, samples, "
                "first_timestamp, last_timestamp, sealed_at, attempts, status, reason, dead_at) "
                f"SELECT {_BATCH_COLUMNS}, ?, ?, ? FROM batch WHERE seq = ?",
                (status, reason[:10_000], self._clock(), batch.seq),
            )
            connection.execute("DELETE FROM batch WHERE seq = ?", (batch.seq,))

    def batch_split(self, batch: SpooledBatch) -> bool:
        """Replace a batch the service found too large by its two halves (same place in the
        order). False when it holds a single sample and cannot be split."""
        halves = batch_split(batch.body)
        if halves is None:
            return False
        with self._transaction() as connection:
            connection.execute("DELETE FROM batch WHERE seq = ?", (batch.seq,))
            for half in halves:
                self._batch_insert(connection, half)
        return True

    def dead_letters(self) -> list[dict[str, object]]:
        rows = self._connection().execute(
            "SELECT batch_id, battery, samples, first_timestamp, last_timestamp, status, reason, "
            "dead_at FROM dead_letter ORDER BY first_timestamp, seq"
        ).fetchall()
        names = ("batch_id", "battery", "samples", "first_timestamp", "last_timestamp", "status",
                 "reason", "dead_at")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def dead_letters_requeue(self) -> int:
        """Put every dead letter back in the queue (after fixing the key, the binding, ...)."""
        with self._transaction() as connection:
            moved = connection.execute(
                "INSERT OR IGNORE INTO batch (batch_id, battery, body, samples, first_timestamp, "
                "last_timestamp, sealed_at) SELECT batch_id, battery, body, samples, "
                "first_timestamp, last_timestamp, sealed_at FROM dead_letter"
            ).rowcount
            connection.execute("DELETE FROM dead_letter")
            return moved

    def status(self) -> SpoolStatus:
        connection = self._connection()
        pending, oldest = connection.execute("SELECT count(*), min(timestamp) FROM sample").fetchone()
        batches, batched, next_at = connection.execute(
            "SELECT count(*), coalesce(sum(samples), 0), min(next_attempt_at) FROM batch"
        ).fetchone()
        dead = connection.execute("SELECT count(*) FROM dead_letter").fetchone()[0]
        return SpoolStatus(pending, batches, batched, dead, oldest, next_at)

    def batches(self) -> Sequence[SpooledBatch]:
        rows = self._connection().execute(
            f"SELECT {_QUEUED_COLUMNS} FROM batch ORDER BY first_timestamp, seq"
        ).fetchall()
        return [SpooledBatch(*row) for row in rows]


class _Transaction:
    """`BEGIN IMMEDIATE` ... `COMMIT`, or `ROLLBACK` on an exception: the write lock is taken
    up front, so two threads never deadlock upgrading a read to a write."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, exc_type, exc, traceback) -> None:
        self.connection.execute("ROLLBACK" if exc_type else "COMMIT")
