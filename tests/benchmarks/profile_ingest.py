"""Where the time of one telemetry batch goes, in-process: the whole request through Django's
test client (parsing, device authentication, validation, storage, commit), then cProfile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bp_bench \\
        .venv/bin/python tests/benchmarks/profile_ingest.py --samples 3600 --batches 10

The database must be migrated; the script registers its own batteries (bench_ingest's setup) and
deletes their samples afterwards. It first times the batches without the profiler (the process's
CPU per batch, client included): cProfile charges every Python call, so code made of many small
calls (the ORM building a query, redis-py building a client) looks several times dearer under it
than it is, while numpy and the database look cheaper. Decide by the unprofiled figure.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

from bench_ingest import START, sample_rows, setup_world
from django.db import connection
from django.test import Client

from telemetry.collector import batch_build, batches_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=3600, help="samples per batch")
    parser.add_argument("--batches", type=int, default=10,
                        help="batches timed without the profiler, then as many profiled")
    parser.add_argument("--top", type=int, default=30, help="functions shown")
    args = parser.parse_args()

    _, batteries, keys = setup_world(time.strftime("%Y%m%d%H%M%S") + "p")
    battery, key = batteries[0], keys[0]
    rows = sample_rows(START, args.samples * (2 * args.batches + 1), seed=1)
    bodies = [batch_build(battery.identifier, rows[i:i + args.samples]).body
              for i in range(0, len(rows), args.samples)]
    client = Client(HTTP_AUTHORIZATION=f"Device {key}", HTTP_CONTENT_ENCODING="gzip")
    path = batches_url("http://testserver").removeprefix("http://testserver")

    def post(body: bytes) -> None:
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 201, response.content[:300]

    post(bodies[0])  # warm: imports, partitions, the staging table
    started, cpu_started = time.perf_counter(), time.process_time()
    for body in bodies[1 : args.batches + 1]:
        post(body)
    wall_ms = (time.perf_counter() - started) * 1000 / args.batches
    cpu_ms = (time.process_time() - cpu_started) * 1000 / args.batches
    print(f"without the profiler: {wall_ms:.1f} ms wall, {cpu_ms:.1f} ms CPU of this process a "
          f"batch of {args.samples} samples (load average {os.getloadavg()[0]:.1f})")
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for body in bodies[args.batches + 1 :]:
        post(body)
    profile.disable()
    elapsed = time.perf_counter() - started
    per_batch_ms = elapsed * 1000 / args.batches
    print(f"{args.batches} batches of {args.samples} samples: {per_batch_ms:.1f} ms a batch, "
          f"{args.samples / per_batch_ms * 1000:,.0f} samples/s on one core (with the profiler "
          "on; the database's own time is inside the cursor calls)")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM telemetry_sample WHERE battery_id = ANY(%s)",
                       [[b.pk for b in batteries]])


if __name__ == "__main__":
    main()
