"""`make bench`: run every benchmark and collect the figures in one JSON file.

The registry and telemetry benchmarks run on PostgreSQL (a throw-away database on the local
server, or the one DATABASE_URL names; the ingestion bench also needs the local Redis, or
REDIS_URL); the analytics benchmarks need no database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LOCAL_PG = "postgres://postgres@127.0.0.1:5432"


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def run_script(name: str, out: Path, env: dict[str, str], *extra: str) -> dict:
    command = [sys.executable, str(HERE / name), "--out", str(out), *extra]
    print(f"\n== {name}", flush=True)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    figures = json.loads(out.read_text())
    figures["wall_s"] = round(time.perf_counter() - started, 2)
    return figures


def scratch_postgres() -> tuple[str, str | None]:
    """A fresh PostgreSQL database for the registry benchmarks; (url, name to drop)."""
    if os.getenv("DATABASE_URL", "").startswith("postgres"):
        return os.environ["DATABASE_URL"], None
    name = f"bp_bench_{int(time.time())}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    return f"{LOCAL_PG}/{name}", name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)

    results: dict[str, object] = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    base_env = {**os.environ, "DEBUG": "1"}

    results["analytics"] = run_script("bench_analytics.py", args.out_dir / "analytics.json", base_env)
    results["can"] = run_script("bench_can.py", args.out_dir / "can.json", base_env)

    database_url, scratch = scratch_postgres()
    pg_env = {**base_env, "DATABASE_URL": database_url}
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=pg_env, check=True)
        results["bulk_register"] = run_script(
            "bench_bulk_register.py", args.out_dir / "bulk_register.json", pg_env
        )
        subprocess.run([sys.executable, "manage.py", "demo_data"], cwd=ROOT, env=pg_env, check=True, stdout=subprocess.DEVNULL)
        results["public_reads"] = run_script(
            "bench_public_reads.py", args.out_dir / "public_reads.json", pg_env
        )
        results["documents"] = run_script("bench_documents.py", args.out_dir / "documents.json", pg_env)
        # Telemetry: 8 collectors over HTTP against raw COPY (Redis as broker and cache), and the
        # health task on a year of 1 Hz 16-cell samples, the target's own case (about 6 minutes:
        # 31.5 M rows stored, each day's rollup and block, the run; ~10 GB of scratch disk).
        results["ingest"] = run_script("bench_ingest.py", args.out_dir / "ingest.json", pg_env)
        results["health"] = run_script(
            "bench_health.py", args.out_dir / "health.json", pg_env, "--days", "365"
        )
    finally:
        if scratch:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", scratch], check=False)

    summary = args.out_dir / "summary.json"
    summary.write_text(json.dumps(results, indent=2))
    print(f"\nAll figures: {summary}")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
