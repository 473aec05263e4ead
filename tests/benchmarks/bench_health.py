"""Benchmark: the health task (`telemetry.services.processing.battery_process`) on stored samples.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bp_bench \\
        .venv/bin/python tests/benchmarks/bench_health.py --days 365 --out var/bench/health.json

PostgreSQL, migrated. One battery of a 16-cell 100 Ah LFP model gets `--days` of 1 Hz samples in
the sample table (built as bench_analytics builds its year: a simulated March week tiled, fresh
current noise per day; written day by day with the storage service's COPY, not timed), then:

1. **Rollups and column blocks** (`battery_rollups_update` over every stored day), what the
   nightly rollup sweep does to each closed day: the day's figures and its column block
   (`telemetry.services.sample_days`). Timed per day; bytes of the blocks per sample.
2. **Full run**: the battery's first `battery_process`, which has no stored state, so it reads
   every sample back (closed days from their blocks) and feeds the Analyzer, then writes the
   snapshot, the alerts, the state and the passport version. Target for a year: under 15 s.
   `--cold` first times the same run before any day has a block (every raw row read back).
3. **A day's rollup** (`battery_rollups_update` of one full day).
4. **Incremental runs**: an hour, then a minute, of new samples appended and processed, as the
   coalesced runs after each collector batch do (restore the state, feed the new rows, write):
   the fixed cost per run and the cost per new sample, the figures the worker capacity in
   docs/deploy.md is built from.

`--cells 0` stores what a Pylontech collector sends instead (pack values and cell extremes, no
per-cell arrays). Figures: wall time, this process's CPU, the database backend's CPU (from /proc),
samples per second. The battery's rows are deleted afterwards unless --keep is given.
"""

from __future__ import annotations

import os

# One core for numpy, as a Celery worker process runs it.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The bench calls the task's service directly; no broker.
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from bench_analytics import template_week, year_days  # noqa: E402
from bench_ingest import (  # noqa: E402
    bench_model,
    bytes_per_row,
    machine_and_load,
    table_bytes,
    table_index_bytes,
)
from django.db import connection  # noqa: E402

from passport.demo import demo_gtin  # noqa: E402
from passport.services import battery_register  # noqa: E402
from telemetry.models import BatteryAnalysis, HealthSnapshot  # noqa: E402
from telemetry.services.processing import battery_process  # noqa: E402
from telemetry.services.rollups import battery_rollups_update  # noqa: E402
from telemetry.services.storage import SampleRows, samples_store  # noqa: E402

TARGET_YEAR_S = 15.0
CELLS = 16
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def backend_cpu_s() -> float:
    """CPU seconds so far of this connection's PostgreSQL backend (local server, Linux)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


def stored_rows(battery_id: int, day: dict[str, np.ndarray], cells: int) -> SampleRows:
    cell_v = np.column_stack([day[f"cell_{k}_v"] for k in range(1, CELLS + 1)])
    cell_t = np.column_stack([day[f"cell_{k}_temp_c"] for k in range(1, CELLS + 1)])
    scalars = {name: day[name].astype(np.float64)
               for name in ("current_a", "voltage_v", "temperature_c", "soc_pct")}
    scalars.update(min_cell_v=cell_v.min(axis=1).astype(np.float64),
                   max_cell_v=cell_v.max(axis=1).astype(np.float64),
                   min_cell_temp_c=cell_t.min(axis=1).astype(np.float64),
                   max_cell_temp_c=cell_t.max(axis=1).astype(np.float64))
    return SampleRows(
        battery_id=battery_id,
        time_us=np.round(day["timestamp"] * 1e6).astype(np.int64),
        scalars=scalars,
        cell_v=cell_v if cells else None,
        cell_temp_c=cell_t if cells else None,
    )


def setup_battery(run: str):
    user, model, prefix = bench_model(run, "Health", "97")
    return battery_register(user=user, model=model, item={
        "gtin": demo_gtin("779", company_prefix=prefix), "serial": f"H{run[2:]}", "batch": "LH1",
        "manufacturing_date": "2024-01-15",
    }).battery


def timed_run(battery_id: int) -> dict[str, float | int | bool]:
    backend_before, cpu_before = backend_cpu_s(), time.process_time()
    started = time.perf_counter()
    result = battery_process(battery_id=battery_id)
    wall = time.perf_counter() - started
    if result.error:
        raise SystemExit(f"battery_process: {result.error}")
    return {
        "samples_fed": result.samples_new,
        "rebuilt": result.rebuilt,
        "passport_updated": result.passport_updated,
        "wall_s": round(wall, 3),
        "process_cpu_s": round(time.process_time() - cpu_before, 3),
        "database_cpu_s": round(backend_cpu_s() - backend_before, 3),
        "samples_per_second": round(result.samples_new / wall) if wall else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "health.json")
    parser.add_argument("--days", type=int, default=365, help="days of 1 Hz data stored")
    parser.add_argument("--cells", type=int, choices=(0, CELLS), default=CELLS,
                        help="per-cell columns stored (16) or only cell extremes (0)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the battery's samples")
    parser.add_argument("--cold", action="store_true",
                        help="first time a full run before the days have column blocks")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench_health measures the PostgreSQL deployment: set DATABASE_URL=postgres://...")

    run = time.strftime("%Y%m%d%H%M%S")
    battery = setup_battery(run)
    week = template_week(args.seed)
    sizes_before = (table_bytes(), table_index_bytes())
    load_started = time.perf_counter()
    stored = 0
    last_day = None
    for day in year_days(week, args.days + 1, args.seed):
        if last_day is not None:
            stored += samples_store(stored_rows(battery.pk, last_day, args.cells))
        last_day = day
    load_s = time.perf_counter() - load_started
    storage = bytes_per_row(sizes_before, (table_bytes(), table_index_bytes()), stored)
    print(f"stored {stored:,} samples ({args.days} days, {args.cells} cells) in {load_s:.0f} s",
          flush=True)

    load_before = os.getloadavg()
    cold = None
    if args.cold:
        cold = timed_run(battery.pk)
        print(f"full run from raw rows: {cold['samples_fed']:,} samples in {cold['wall_s']} s "
              f"({cold['process_cpu_s']} s CPU + {cold['database_cpu_s']} s database)", flush=True)
        BatteryAnalysis.objects.filter(battery_id=battery.pk).delete()

    # What the nightly rollups do to each closed day: figures, and the day's column block.
    first_day = datetime.fromtimestamp(float(week[0]["timestamp"][0]), tz=UTC).date()
    backend_before, cpu_before = backend_cpu_s(), time.process_time()
    started = time.perf_counter()
    battery_rollups_update(battery_id=battery.pk, first_day=first_day,
                           last_day=first_day + timedelta(days=args.days - 1))
    compaction = {"days": args.days, "wall_s": round(time.perf_counter() - started, 3),
                  "process_cpu_s": round(time.process_time() - cpu_before, 3),
                  "database_cpu_s": round(backend_cpu_s() - backend_before, 3)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(sum(octet_length(columns)), 0) "
                       "FROM telemetry_sampleday WHERE battery_id = %s", [battery.pk])
        blocks, block_bytes = cursor.fetchone()
    compaction.update(blocks=blocks, block_bytes_per_sample=round(block_bytes / stored, 1),
                      block_mb_per_day=round(block_bytes / blocks / 1e6, 2) if blocks else None)
    print(f"rollups and column blocks of {args.days} days: {compaction['wall_s']} s "
          f"({compaction['block_bytes_per_sample']} bytes a sample in blocks)", flush=True)

    full = timed_run(battery.pk)
    print(f"full run: {full['samples_fed']:,} samples in {full['wall_s']} s "
          f"({full['process_cpu_s']} s CPU + {full['database_cpu_s']} s database)", flush=True)

    # What the rollup task does after each batch: recompute the whole UTC day it touched.
    day = datetime.fromtimestamp(float(last_day["timestamp"][0]) - 86_400, tz=UTC).date()
    backend_before, cpu_before = backend_cpu_s(), time.process_time()
    started = time.perf_counter()
    battery_rollups_update(battery_id=battery.pk, first_day=day, last_day=day)
    rollup = {"day": day.isoformat(), "wall_s": round(time.perf_counter() - started, 3),
              "process_cpu_s": round(time.process_time() - cpu_before, 3),
              "database_cpu_s": round(backend_cpu_s() - backend_before, 3)}
    print(f"rollup of one day: {rollup['wall_s']} s", flush=True)

    # The day after the stored ones: an hour, then one minute, of new samples.
    incremental = {}
    for label, seconds in (("hour", 3600), ("minute", 60)):
        part = {name: values[:seconds] for name, values in last_day.items()}
        last_day = {name: values[seconds:] for name, values in last_day.items()}
        samples_store(stored_rows(battery.pk, part, args.cells))
        incremental[label] = timed_run(battery.pk)
        print(f"incremental run, one {label} of new samples: {incremental[label]['wall_s']} s",
              flush=True)
    load_after = os.getloadavg()
    snapshot = HealthSnapshot.objects.filter(battery=battery).latest("id")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(s.*), pg_column_size(a.state) FROM telemetry_healthsnapshot s, "
            "telemetry_batteryanalysis a WHERE s.id = %s AND a.battery_id = %s",
            [snapshot.pk, battery.pk],
        )
        snapshot_bytes, state_bytes = cursor.fetchone()

    figures = {
        "benchmark": "health task (battery_process) on stored 1 Hz samples",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": "postgresql",
        "days": args.days,
        "cells_stored": args.cells,
        "samples": stored,
        "load_s": round(load_s, 1),
        # The first run, which has no state: every closed day from its block.
        "full_run": full,
        # Linear in the samples: a run reads and feeds them window by window.
        "full_run_per_year_s": round(full["wall_s"] * 365 / args.days, 2),
        # The same run before any day had a block (--cold): every sample from the raw table.
        "full_run_from_raw_rows": cold,
        "rollups_and_blocks": compaction,
        "target_year_s": TARGET_YEAR_S,
        "within_target": full["wall_s"] * 365 / args.days < TARGET_YEAR_S,
        "incremental_runs": incremental,
        "rollup_one_day": rollup,
        "state_json_kb": round(len(json.dumps(BatteryAnalysis.objects.get(
            battery_id=battery.pk).state)) / 1024, 1),
        # As stored (TOAST-compressed): what a run rewrites, and what a snapshot kept forever costs.
        "state_stored_bytes": state_bytes,
        "snapshot_row_bytes": snapshot_bytes,
        "storage": storage,
        "report_excerpt": {key: snapshot.report.get(key) for key in
                           ("equivalent_full_cycles", "capacity_ah", "samples")},
        **machine_and_load(load_before, load_after),
    }
    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM telemetry_sample WHERE battery_id = %s", [battery.pk])
            cursor.execute("DELETE FROM telemetry_sampleday WHERE battery_id = %s", [battery.pk])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
