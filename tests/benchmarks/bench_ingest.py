"""Benchmark: telemetry ingestion end to end (HTTP request to committed rows) against raw COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bp_bench \\
        .venv/bin/python tests/benchmarks/bench_ingest.py --out var/bench/ingest.json

PostgreSQL only; the database must be migrated. The script registers its own manufacturer, model
and 8 batteries (names carry the run's timestamp), creates one collector device per battery
through the telemetry services, and builds every batch body beforehand with the collector's own
code (`telemetry.collector.batch_build`: gzip column JSON, 9 columns as a Pylontech collector
sends them). Then, in one run on one database:

1. **HTTP, large batches.** gunicorn (the project's WSGI app, DEBUG off, cores + 1 sync workers as
   in the image, Redis as broker and cache) on loopback; 8 client threads, one per collector,
   each posting its batches one after the other with the collector's `batch_post` (a 2xx comes
   only after the commit). The clock runs from the first request to the last answer; the rows
   are then counted in the table.
2. **Raw COPY.** The same rows (same times and values, the battery ids shifted so that the
   primary key does not refuse them) into the same table by 8 threads, each on its own psycopg
   connection, one `COPY ... FROM STDIN (FORMAT BINARY)` + commit per batch, with every payload
   built before the clock starts: only the database's work is timed, so this is the strictest
   reference (no parsing, validation, authentication or bookkeeping, no serialisation). The
   target is HTTP >= 1/2 of this. A second reference writes the same rows with psycopg's
   `write_row` (text COPY from Python tuples with datetimes): how a program usually COPYs rows.
   Phases 1 and 2 alternate `--repeat` times on fresh time ranges, and the medians are compared:
   on a machine shared with other work, throughput moves by a factor of two from one minute to
   the next, and interleaving spreads that over both sides.
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
import statistics
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
import redis  # noqa: E402
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
from telemetry.services.storage import ALL_COLUMNS, SampleRows, copy_binary_payload  # noqa: E402

TARGET_SHARE_OF_COPY = 0.5
COLLECTORS = 8
START = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
# Raw-COPY rows go to battery ids far above any real one (the sample table has no foreign key).
COPY_BATTERY_OFFSET = 10**12
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
STORED = ("current_a", "voltage_v", "temperature_c", "soc_pct",
          "min_cell_v", "max_cell_v", "min_cell_temp_c", "max_cell_temp_c")


def sample_arrays(start_s: float, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` 1 Hz samples of a 48 V LFP pack: times (Unix s) and a samples x 8 matrix of the
    collector's columns after `timestamp` (current, voltage, temperature, SOC, cell extremes)."""
    assert list(SAMPLE_FIELDS[1:]) == list(STORED)
    rng = np.random.default_rng(seed)
    t = start_s + np.arange(count, dtype=np.float64)
    current = np.round(40 * np.sin(t / 1800.0) + rng.normal(0, 0.5, count), 1)
    voltage = np.round(52.0 + 0.004 * current + rng.normal(0, 0.01, count), 2)
    temperature = np.round(22 + 3 * np.sin(t / 7200.0), 1)
    soc = np.round(55 + 30 * np.sin(t / 3600.0), 2)
    values = np.column_stack([current, voltage, temperature, soc,
                              np.round(voltage / 16 - 0.005, 3), np.round(voltage / 16 + 0.005, 3),
                              temperature - 1.0, temperature + 1.0])
    return t, values


def sample_rows(start_s: float, count: int, seed: int) -> list[tuple[float, list[float]]]:
    """The same samples in the collector's (timestamp, values) form."""
    t, values = sample_arrays(start_s, count, seed)
    return list(zip(t.tolist(), values.tolist(), strict=True))


def copy_payload(battery_id: int, t: np.ndarray, values: np.ndarray) -> bytes:
    """Binary COPY data for the reference phase (built before its clock starts)."""
    return copy_binary_payload(SampleRows(
        battery_id=battery_id,
        time_us=np.round(t * 1e6).astype(np.int64),
        scalars={name: values[:, index] for index, name in enumerate(STORED)},
    ))


def bench_model(run: str, label: str, prefix_head: str) -> tuple[object, object, str]:
    """A manufacturer of the run, its member and a 16s 100 Ah LFP model: (user, model, its GS1
    company prefix). Registrations are checked against the prefix, so each run and label has its
    own (`prefix_head` + the run's last seven digits), never the demo manufacturer's."""
    prefix = prefix_head + "".join(c for c in run if c.isdigit())[-7:]
    manufacturer = organisation_create(kind=OrganisationKind.MANUFACTURER, name=f"Bench {label} {run}",
                                       city="Dresden", country="DE", gs1_prefixes=[prefix])
    user = get_user_model().objects.create_user(username=f"bench-{label.lower()}-{run}")
    membership_create(user=user, organisation=manufacturer)
    model = battery_model_create(
        user=user, manufacturer=manufacturer, name=f"Bench {label} Rack {run}",
        category=Category.STATIONARY, chemistry=Chemistry.LFP,
        data=lfp_home_battery_model_data(capacity_ah=100),
    )
    return user, model, prefix


def setup_world(run: str) -> tuple[object, list, list[str]]:
    user, model, prefix = bench_model(run, "Telemetry", "98")
    batteries, keys = [], []
    for number in range(COLLECTORS):
        battery = battery_register(user=user, model=model, item={
            "gtin": demo_gtin("778", company_prefix=prefix), "serial": f"T{run[2:]}{number:03d}", "batch": "LT1",
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
    figures = phase_figures(name, elapsed, stored_count(battery_ids) - before, expected,
                            posted[0], cpu)
    figures["statuses"] = {str(k): v for k, v in sorted(statuses.items())}
    return figures


def phase_figures(name: str, elapsed: float, stored: int, expected: int, batches: int,
                  cpu: Cpu) -> dict:
    if expected and stored != expected:
        raise SystemExit(f"{name}: {stored} rows stored, {expected} sent")
    return {
        "batches": batches,
        "samples_per_batch": round(stored / batches),
        "samples": stored,
        "elapsed_s": round(elapsed, 3),
        "samples_per_second": round(stored / elapsed),
        "batches_per_second": round(batches / elapsed, 1),
        "server_cpu_ms_per_1000_samples": cpu.per_thousand(stored),
        "server_cpu_ms_per_batch": {k: None if v is None else round(v / batches, 2)
                                    for k, v in cpu.ms.items()},
    }


def copy_phase(dsn: str, jobs: list[list[bytes]] | list[list[list[tuple]]], cpu: Cpu,
               expected: int, battery_ids: list[int], before: int) -> dict:
    """Binary payloads (bytes) go in with one write; rows (tuples) with psycopg's write_row,
    which is how a program would usually COPY its rows (the serialisation is then timed)."""
    binary = isinstance(jobs[0][0], bytes)
    sql = (f"COPY telemetry_sample ({', '.join(ALL_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
           if binary else
           f"COPY telemetry_sample ({', '.join(('battery_id', 'time', *STORED))}) FROM STDIN")
    # Connected before the clock and closed after the CPU reading: a backend that has exited
    # can no longer be read in /proc.
    connections = [psycopg.connect(dsn) for _ in jobs]

    def writer(job: tuple[psycopg.Connection, list]) -> None:
        conn, payloads = job
        for payload in payloads:
            with conn.cursor() as cursor, cursor.copy(sql) as copy:
                if binary:
                    copy.write(payload)
                else:
                    for row in payload:
                        copy.write_row(row)
            conn.commit()

    try:
        with cpu:
            elapsed = run_threads(writer, list(zip(connections, jobs, strict=True)))
    finally:
        for conn in connections:
            conn.close()
    return phase_figures("raw COPY", elapsed, stored_count(battery_ids) - before, expected,
                         sum(len(job) for job in jobs), cpu)


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


def machine_and_load(before: tuple[float, ...], after: tuple[float, ...]) -> dict:
    """What the figures were measured on, and how busy it was (a shared machine)."""
    return {
        "load_average": {"before": [round(v, 2) for v in before],
                         "after": [round(v, 2) for v in after]},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }


def median_of(runs: list[dict], *path: str) -> float | None:
    values = []
    for run in runs:
        value = run
        for key in path:
            value = value[key]
        if value is not None:
            values.append(value)
    return round(statistics.median(values), 2) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "ingest.json")
    parser.add_argument("--batches", type=int, default=6, help="large batches per collector")
    parser.add_argument("--batch-samples", type=int, default=3600,
                        help="samples per large batch (an hour at 1 Hz)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="alternations of the HTTP and raw COPY phases")
    parser.add_argument("--small-batches", type=int, default=150,
                        help="collector-sized batches per collector, at most")
    parser.add_argument("--small-samples", type=int, default=60,
                        help="samples per collector-sized batch (a minute at 1 Hz)")
    parser.add_argument("--small-seconds", type=float, default=20.0,
                        help="the collector-sized phase stops after this long")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1,
                        help="gunicorn sync workers (default: cores + 1, as the image)")
    parser.add_argument("--port", type=int, default=None,
                        help="gunicorn's port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
                        help=f"the broker and cache of the server (default $REDIS_URL or "
                        f"{DEFAULT_REDIS_URL})")
    parser.add_argument("--keep", action="store_true", help="keep the rows and batteries")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        sys.exit("bench_ingest measures the PostgreSQL path: set DATABASE_URL=postgres://...")
    dsn = os.environ["DATABASE_URL"]
    database = urlparse(dsn).path.lstrip("/")
    run = time.strftime("%Y%m%d%H%M%S")
    _, batteries, keys = setup_world(run)
    battery_ids = [battery.pk for battery in batteries]
    copy_ids = [i + COPY_BATTERY_OFFSET for i in battery_ids]
    row_ids = [i + 2 * COPY_BATTERY_OFFSET for i in battery_ids]

    # Every body and every COPY payload is built before any clock starts; each repetition
    # writes a fresh time range.
    span = args.batches * args.batch_samples
    repetitions = []
    for repetition in range(args.repeat):
        start = START + repetition * (span + 3600)
        http_jobs, copy_jobs, row_jobs = [], [], []
        for index, (battery, key) in enumerate(zip(batteries, keys, strict=True)):
            t, values = sample_arrays(start, span, seed=repetition * 100 + index)
            rows = list(zip(t.tolist(), values.tolist(), strict=True))
            cuts = range(0, span, args.batch_samples)
            http_jobs.append((key, [batch_build(battery.identifier,
                                                rows[i:i + args.batch_samples]).body
                                    for i in cuts]))
            copy_jobs.append([copy_payload(battery.pk + COPY_BATTERY_OFFSET,
                                           t[i:i + args.batch_samples],
                                           values[i:i + args.batch_samples]) for i in cuts])
            row_jobs.append([
                [(battery.pk + 2 * COPY_BATTERY_OFFSET, datetime.fromtimestamp(ts, tz=UTC), *vals)
                 for ts, vals in rows[i:i + args.batch_samples]]
                for i in cuts
            ])
        repetitions.append((http_jobs, copy_jobs, row_jobs))
    small_start = START + args.repeat * (span + 3600)
    small_jobs = []
    for index, (battery, key) in enumerate(zip(batteries, keys, strict=True)):
        rows = sample_rows(small_start, args.small_batches * args.small_samples, seed=1000 + index)
        small_jobs.append((key, [
            batch_build(battery.identifier, rows[i:i + args.small_samples]).body
            for i in range(0, len(rows), args.small_samples)
        ]))

    sizes_before = (table_bytes(), table_index_bytes())
    rows_before = stored_count(battery_ids + copy_ids + row_ids)
    # As deployed: after each commit the server enqueues the battery's processing and rollups
    # through Redis (a queue of this run's own that no worker reads, emptied afterwards), so
    # the timed path is the web side; the work itself is bench_health's.
    queue = f"bench-ingest-{run}"
    env = {**server_environment(), "DEVICE_THROTTLE_RATE": "1000000/second",
           "REDIS_URL": args.redis_url, "CELERY_QUEUE": queue, "CACHE_KEY_PREFIX": queue}
    server = start_server(env, args.workers, "sync", 1, port=args.port)
    url = batches_url(f"http://127.0.0.1:{server.port}")
    load_before = os.getloadavg()
    http_runs, copy_runs, row_runs = [], [], []
    try:
        # One untimed batch per collector first: connections, imports and partitions warm.
        warm = [(key, [batch_build(b.identifier, sample_rows(START - 7200, 60, 7)).body])
                for b, key in zip(batteries, keys, strict=True)]
        http_phase("warm-up", url, warm, Cpu(server.process.pid, database), 0, battery_ids,
                   0, float("inf"))
        for repetition, (http_jobs, copy_jobs, row_jobs) in enumerate(repetitions, start=1):
            http_runs.append(http_phase(
                "HTTP", url, http_jobs, Cpu(server.process.pid, database), COLLECTORS * span,
                battery_ids, stored_count(battery_ids), float("inf")))
            copy_runs.append(copy_phase(
                dsn, copy_jobs, Cpu(server.process.pid, database), COLLECTORS * span,
                copy_ids, stored_count(copy_ids)))
            row_runs.append(copy_phase(
                dsn, row_jobs, Cpu(server.process.pid, database), COLLECTORS * span,
                row_ids, stored_count(row_ids)))
            print(f"round {repetition}: HTTP {http_runs[-1]['samples_per_second']:,} samples/s, "
                  f"raw binary COPY {copy_runs[-1]['samples_per_second']:,}, "
                  f"COPY write_row {row_runs[-1]['samples_per_second']:,} "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
        small = http_phase("HTTP, small batches", url, small_jobs,
                           Cpu(server.process.pid, database), 0, battery_ids,
                           stored_count(battery_ids), args.small_seconds)
        print(f"HTTP, {args.small_samples}-sample batches: {small['samples_per_second']:,} "
              f"samples/s, {small['batches_per_second']} batches/s", flush=True)
    finally:
        server.stop()
        broker = redis.Redis.from_url(args.redis_url)
        enqueued = broker.delete(queue)
        # Kombu's routing entries for the run's queue.
        bindings = list(broker.scan_iter(f"_kombu.binding*{queue}"))
        if bindings:
            broker.delete(*bindings)
    load_after = os.getloadavg()
    rows_written = stored_count(battery_ids + copy_ids + row_ids) - rows_before
    storage = bytes_per_row(sizes_before, (table_bytes(), table_index_bytes()), rows_written)

    http_rate = median_of(http_runs, "samples_per_second")
    copy_rate = median_of(copy_runs, "samples_per_second")
    share = http_rate / copy_rate

    def cpu_ms(runs: list[dict]) -> float:
        """Server + client CPU per 1,000 samples: the figure a shared machine moves least."""
        return sum(median_of(runs, "server_cpu_ms_per_1000_samples", kind) or 0.0
                   for kind in ("gunicorn", "postgresql", "bench_process"))

    def summary(runs: list[dict]) -> dict:
        return {
            "samples_per_second_median": median_of(runs, "samples_per_second"),
            "server_cpu_ms_per_1000_samples_median": {
                kind: median_of(runs, "server_cpu_ms_per_1000_samples", kind)
                for kind in runs[0]["server_cpu_ms_per_1000_samples"]
            },
            "rounds": runs,
        }

    figures = {
        "benchmark": "telemetry ingestion: HTTP to committed rows, against raw COPY",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": "postgresql",
        "collectors": COLLECTORS,
        "samples_per_round": COLLECTORS * span,
        "server": {"workers": args.workers, "worker_class": "sync", "debug": False,
                   "broker": "redis", "tasks_enqueued_not_run": bool(enqueued)},
        "http_large_batches": summary(http_runs),
        "raw_copy": summary(copy_runs),
        "raw_copy_write_row": summary(row_runs),
        "http_collector_batches": small,
        "http_share_of_copy": round(share, 3),
        "http_share_of_copy_write_row": round(http_rate / median_of(row_runs, "samples_per_second"), 3),
        "cpu_ms_per_1000_samples": {"http": round(cpu_ms(http_runs), 2),
                                    "raw_copy": round(cpu_ms(copy_runs), 2),
                                    "raw_copy_write_row": round(cpu_ms(row_runs), 2)},
        "target_share_of_copy": TARGET_SHARE_OF_COPY,
        "within_target": share >= TARGET_SHARE_OF_COPY,
        "storage": storage,
        **machine_and_load(load_before, load_after),
    }
    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM telemetry_sample WHERE battery_id = ANY(%s)",
                           [battery_ids + copy_ids + row_ids])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"HTTP {http_rate:,.0f} samples/s = {share:.2f} of raw COPY {copy_rate:,.0f} "
          f"(medians of {args.repeat}); storage {storage['total_bytes_per_row']} bytes/row; "
          f"written to {args.out}")


if __name__ == "__main__":
    main()
