"""Benchmark: telemetry ingestion end to end (HTTP request to committed rows) against raw COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bp_bench \\
        .venv/bin/python tests/benchmarks/bench_ingest.py --out var/bench/ingest.json

PostgreSQL only; the database must be migrated. The script registers its own manufacturer, model
and 8 batteries (names carry the run's timestamp), creates one collector device per battery
through the telemetry services, and builds every batch body beforehand with the collector's own
code (`telemetry.collector.batch_build`: gzip column JSON, 9 columns as a Pylontech collector
sends them). Then, in one run on one database:

1. **HTTP, large batches.** gunicorn (the project's WSGI app, DEBUG off, cores + 1 sync workers as
   in the image) on loopback; 8 client threads, one per collector, each posting its batches one
   after the other with the collector's `batch_post` (a 2xx comes only after the commit). The
   clock runs from the first request to the last answer; the rows are then counted in the table.
2. **Raw COPY.** The same rows (same times and values, the battery ids shifted so that the
   primary key does not refuse them) into the same table by 8 threads, each on its own psycopg
   connection, one `COPY ... FROM STDIN` + commit per batch: the same unit of work without HTTP,
   JSON, validation, authentication and the batch bookkeeping. The target is HTTP ≥ ½ of this.
3. **HTTP, collector-sized batches** (60 samples: a minute at 1 Hz, the collector's default),
   bounded in count and time: what a fleet of real collectors costs per request.

Also measured: server CPU (gunicorn's processes and the database's backends, from /proc) per
1,000 samples in each phase, and the table's bytes per row (growth of heap + indexes of every
partition over the run, per row written). The rows are deleted afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Device keys are stored as an HMAC under SECRET_KEY: the server must share the bench's.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from bench_public_reads import (  # noqa: E402
    cpu_ms_per_read,
    server_cpu_ticks,
    server_environment,
    start_server,
)
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from passport.demo import demo_gtin, lfp_home_battery_model_data  # noqa: E402
from passport.services import (  # noqa: E402
    battery_model_create,
    battery_register,
    membership_create,
    organisation_create,
)
from passport.vocabulary import Category, Chemistry, OrganisationKind  # noqa: E402
from telemetry.collector import SAMPLE_FIELDS, batch_build, batch_post, batches_url  # noqa: E402
from telemetry.collector.delivery import Verdict  # noqa: E402
from telemetry.services.devices import device_create  # noqa: E402

TARGET_SHARE_OF_COPY = 0.5
COLLECTORS = 8
START = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
# Raw-COPY rows go to battery ids far above any real one (the sample table has no foreign key).
COPY_BATTERY_OFFSET = 10**12
STORED = ("current_a", "voltage_v", "temperature_c", "soc_pct",
          "min_cell_v", "max_cell_v", "min_cell_temp_c", "max_cell_temp_c")


def sample_rows(start_s: float, count: int, seed: int) -> list[tuple[float, list[float]]]:
    """`count` 1 Hz samples of a 48 V LFP pack, in the collector's (timestamp, values) form."""
    rng = np.random.default_rng(seed)
    t = start_s + np.arange(count, dtype=np.float64)
    current = np.round(40 * np.sin(t / 1800.0) + rng.normal(0, 0.5, count), 1)
    voltage = np.round(52.0 + 0.004 * current + rng.normal(0, 0.01, count), 2)
    temperature = np.round(22 + 3 * np.sin(t / 7200.0), 1)
    soc = np.round(55 + 30 * np.sin(t / 3600.0), 2)
    min_cell = np.round(voltage / 16 - 0.005, 3)
    max_cell = np.round(voltage / 16 + 0.005, 3)
    columns = np.column_stack([current, voltage, temperature, soc, min_cell, max_cell,
                               temperature - 1.0, temperature + 1.0])
    assert list(SAMPLE_FIELDS[1:]) == ["current_a", "voltage_v", "temperature_c", "soc_pct",
                                       "min_cell_v", "max_cell_v", "min_cell_temp_c",
                                       "max_cell_temp_c"]
    return list(zip(t.tolist(), columns.tolist(), strict=True))


def setup_world(run: str) -> tuple[object, list, list[str]]:
    manufacturer = organisation_create(kind=OrganisationKind.MANUFACTURER,
                                       name=f"Bench Telemetry {run}", city="Dresden", country="DE")
    user = get_user_model().objects.create_user(username=f"bench-telemetry-{run}")
    membership_create(user=user, organisation=manufacturer)
    model = battery_model_create(
        user=user, manufacturer=manufacturer, name=f"Bench Telemetry Rack {run}",
        category=Category.STATIONARY, chemistry=Chemistry.LFP,
        data=lfp_home_battery_model_data(capacity_ah=100),
    )
    batteries, keys = [], []
    for number in range(COLLECTORS):
        battery = battery_register(user=user, model=model, item={
            "gtin": demo_gtin("778"), "serial": f"T{run[2:]}{number:03d}", "batch": "LT1",
            "manufacturing_date": "2026-01-15",
        }).battery
        _, key = device_create(user=user, name=f"bench collector {number}", batteries=[battery])
        batteries.append(battery)
        keys.append(key)
    return user, batteries, keys


def run_threads(work, jobs: list) -> float:
    errors: list[BaseException] = []

    def guarded(job) -> None:
        try:
            work(job)
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed


def stored_count(battery_ids: list[int]) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM telemetry_sample WHERE battery_id = ANY(%s)",
                       [battery_ids])
        return cursor.fetchone()[0]


class Cpu:
    """Server CPU over a phase: gunicorn's processes and the database's backends."""

    def __init__(self, master_pid: int, database: str) -> None:
        self.master_pid, self.database = master_pid, database

    def __enter__(self) -> Cpu:
        self.before = server_cpu_ticks(self.master_pid, self.database)
        self.client_before = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        after = server_cpu_ticks(self.master_pid, self.database)
        self.ms = cpu_ms_per_read(self.before, after, 1)
        self.ms["bench_process"] = round((time.process_time() - self.client_before) * 1000, 1)

    def per_thousand(self, samples: int) -> dict[str, float | None]:
        return {kind: None if ms is None else round(ms * 1000 / samples, 2)
                for kind, ms in self.ms.items()}


def http_phase(name: str, url: str, jobs: list[tuple[str, list[bytes]]], cpu: Cpu,
               expected: int, battery_ids: list[int], before: int, seconds: float) -> dict:
    """Post every job's bodies (one thread per job) until done or `seconds`; `expected` rows
    (0: whatever was sent in time) must then be in the table."""
    statuses: dict[int, int] = {}
    posted = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def collector(job: tuple[str, list[bytes]]) -> None:
        key, bodies = job
        for body in bodies:
            if time.monotonic() >= deadline:
                return
            answer = batch_post(url, key, body, timeout_s=120)
            with lock:
                statuses[answer.status or 0] = statuses.get(answer.status or 0, 0) + 1
                posted[0] += 1
            if answer.verdict is not Verdict.DELIVERED:
                raise RuntimeError(f"{name}: batch refused: {answer.status} {answer.reason[:300]}")

    with cpu:
        elapsed = run_threads(collector, jobs)
    stored = stored_count(battery_ids) - before
    if expected and stored != expected:
        raise SystemExit(f"{name}: {stored} rows stored, {expected} sent")
    return {
        "batches": posted[0],
        "samples_per_batch": round(stored / posted[0]),
        "samples": stored,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "elapsed_s": round(elapsed, 3),
        "samples_per_second": round(stored / elapsed),
        "batches_per_second": round(posted[0] / elapsed, 1),
        "server_cpu_ms_per_1000_samples": cpu.per_thousand(stored),
        "server_cpu_ms_per_batch": {k: None if v is None else round(v / posted[0], 2)
                                    for k, v in cpu.ms.items()},
    }


def copy_phase(dsn: str, jobs: list[tuple[int, list[list[tuple]]]], cpu: Cpu) -> dict:
    columns = ", ".join(("battery_id", "time", *STORED))
    sql = f"COPY telemetry_sample ({columns}) FROM STDIN"
    # Connected before the clock and closed after the CPU reading: a backend that has exited
    # can no longer be read in /proc.
    connections = [psycopg.connect(dsn) for _ in jobs]

    def writer(job: tuple[psycopg.Connection, list[list[tuple]]]) -> None:
        conn, batches = job
        for rows in batches:
            with conn.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()

    try:
        with cpu:
            elapsed = run_threads(writer, [(conn, batches) for conn, (_, batches)
                                           in zip(connections, jobs, strict=True)])
    finally:
        for conn in connections:
            conn.close()
    samples = sum(len(rows) for _, batches in jobs for rows in batches)
    return {
        "samples": samples,
        "elapsed_s": round(elapsed, 3),
        "samples_per_second": round(samples / elapsed),
        "server_cpu_ms_per_1000_samples": cpu.per_thousand(samples),
    }


def table_bytes() -> int:
    """Heap + indexes (primary key, BRIN) of every partition of the sample table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) "
            "FROM pg_inherits WHERE inhparent = 'telemetry_sample'::regclass"
        )
        return int(cursor.fetchone()[0])


def table_index_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_indexes_size(inhrelid)), 0) "
            "FROM pg_inherits WHERE inhparent = 'telemetry_sample'::regclass"
        )
        return int(cursor.fetchone()[0])


def bytes_per_row(before: tuple[int, int], after: tuple[int, int], rows: int) -> dict[str, float]:
    """The table's growth over the run per row written (dead rows of earlier runs, if any,
    are not in the difference; nothing is vacuumed in between)."""
    total, indexes = after[0] - before[0], after[1] - before[1]
    return {
        "rows": rows,
        "total_bytes_per_row": round(total / rows, 1),
        "heap_bytes_per_row": round((total - indexes) / rows, 1),
        "index_bytes_per_row": round(indexes / rows, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "ingest.json")
    parser.add_argument("--batches", type=int, default=6, help="large batches per collector")
    parser.add_argument("--batch-samples", type=int, default=3600,
                        help="samples per large batch (an hour at 1 Hz)")
    parser.add_argument("--small-batches", type=int, default=150,
                        help="collector-sized batches per collector, at most")
    parser.add_argument("--small-samples", type=int, default=60,
                        help="samples per collector-sized batch (a minute at 1 Hz)")
    parser.add_argument("--small-seconds", type=float, default=30.0,
                        help="the collector-sized phase stops after this long")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1,
                        help="gunicorn sync workers (default: cores + 1, as the image)")
    parser.add_argument("--port", type=int, default=None,
                        help="gunicorn's port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--keep", action="store_true", help="keep the rows and batteries")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        sys.exit("bench_ingest measures the PostgreSQL path: set DATABASE_URL=postgres://...")
    dsn = os.environ["DATABASE_URL"]
    database = urlparse(dsn).path.lstrip("/")
    run = time.strftime("%Y%m%d%H%M%S")
    user, batteries, keys = setup_world(run)
    battery_ids = [battery.pk for battery in batteries]

    # Every body and every COPY row is built before any clock starts.
    span = args.batches * args.batch_samples
    large_jobs, copy_jobs = [], []
    for index, (battery, key) in enumerate(zip(batteries, keys, strict=True)):
        rows = sample_rows(START, span, seed=index)
        chunks = [rows[i:i + args.batch_samples] for i in range(0, span, args.batch_samples)]
        large_jobs.append((key, [batch_build(battery.identifier, chunk).body for chunk in chunks]))
        copy_jobs.append((battery.pk, [
            [(battery.pk + COPY_BATTERY_OFFSET, datetime.fromtimestamp(t, tz=UTC), *values)
             for t, values in chunk]
            for chunk in chunks
        ]))
    small_start = START + span + 3600
    small_jobs = []
    for index, (battery, key) in enumerate(zip(batteries, keys, strict=True)):
        rows = sample_rows(small_start, args.small_batches * args.small_samples, seed=100 + index)
        small_jobs.append((key, [
            batch_build(battery.identifier, rows[i:i + args.small_samples]).body
            for i in range(0, len(rows), args.small_samples)
        ]))

    sizes_before = (table_bytes(), table_index_bytes())
    rows_before = stored_count(battery_ids) + stored_count([i + COPY_BATTERY_OFFSET for i in battery_ids])
    env = {**server_environment(), "DEVICE_THROTTLE_RATE": "1000000/second"}
    server = start_server(env, args.workers, "sync", 1, port=args.port)
    url = batches_url(f"http://127.0.0.1:{server.port}")
    load_before = os.getloadavg()
    try:
        # One untimed batch per collector first: connections, imports and partitions warm.
        warm = [(key, [batch_build(b.identifier, sample_rows(START - 7200, 60, 7)).body])
                for b, key in zip(batteries, keys, strict=True)]
        run_threads(lambda job: [batch_post(url, job[0], body, timeout_s=120) for body in job[1]],
                    warm)
        before = stored_count(battery_ids)
        large = http_phase("http-large", url, large_jobs, Cpu(server.process.pid, database),
                           COLLECTORS * span, battery_ids, before, float("inf"))
        print(f"HTTP, {args.batch_samples}-sample batches: {large['samples_per_second']:,} "
              f"samples/s ({large['elapsed_s']} s)", flush=True)
        copy = copy_phase(dsn, copy_jobs, Cpu(server.process.pid, database))
        copied = stored_count([i + COPY_BATTERY_OFFSET for i in battery_ids])
        if copied != COLLECTORS * span:
            raise SystemExit(f"raw COPY stored {copied} rows, {COLLECTORS * span} sent")
        print(f"raw COPY, same rows: {copy['samples_per_second']:,} samples/s "
              f"({copy['elapsed_s']} s)", flush=True)
        before = stored_count(battery_ids)
        small = http_phase("http-small", url, small_jobs, Cpu(server.process.pid, database),
                           0, battery_ids, before, args.small_seconds)
        print(f"HTTP, {args.small_samples}-sample batches: {small['samples_per_second']:,} "
              f"samples/s, {small['batches_per_second']} batches/s", flush=True)
    finally:
        server.stop()
    load_after = os.getloadavg()
    rows_written = (stored_count(battery_ids) + stored_count([i + COPY_BATTERY_OFFSET
                                                              for i in battery_ids]) - rows_before)
    storage = bytes_per_row(sizes_before, (table_bytes(), table_index_bytes()), rows_written)

    share = large["samples_per_second"] / copy["samples_per_second"]
    figures = {
        "benchmark": "telemetry ingestion: HTTP to committed rows, against raw COPY",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": "postgresql",
        "collectors": COLLECTORS,
        "server": {"workers": args.workers, "worker_class": "sync", "debug": False},
        "http_large_batches": large,
        "raw_copy": copy,
        "http_collector_batches": small,
        "http_share_of_copy": round(share, 3),
        "target_share_of_copy": TARGET_SHARE_OF_COPY,
        "within_target": share >= TARGET_SHARE_OF_COPY,
        "storage": storage,
        "load_average": {"before": [round(v, 2) for v in load_before],
                         "after": [round(v, 2) for v in load_after]},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }
    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM telemetry_sample WHERE battery_id = ANY(%s)",
                           [battery_ids + [i + COPY_BATTERY_OFFSET for i in battery_ids]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
