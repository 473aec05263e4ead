"""Benchmark: anonymous passport reads per second through the real server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bp_bench \\
        .venv/bin/python tests/benchmarks/bench_public_reads.py --out var/bench/public_reads.json

Starts gunicorn with the project's WSGI app on 127.0.0.1 and a free port, against the configured
database (demo data is loaded first if the database has no passport; `manage.py demo_data` is
idempotent), with DEBUG off as in production. Then N client threads read public passports (JSON
by `Accept: application/json`, and the HTML page) round-robin over every passport, each phase
bounded by a number of requests and a number of seconds, whichever comes first. Figures:
successful reads per second, latency percentiles, error count, and the CPU time the server
spent per read (gunicorn's processes and, for a local PostgreSQL, the backends of the benchmark's
database, read from /proc on Linux). Throughput on a machine shared with other work moves with
that work; CPU per read does much less. The server is stopped afterwards.

Everything stays on the loopback interface. The anonymous throttle is lifted for the server it
starts (all clients come from 127.0.0.1, which a real deployment would throttle as one client).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SERVER_START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_environment() -> dict[str, str]:
    """Production-like settings for the server under test; the database is the configured one."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "ANON_THROTTLE_RATE": "100000000/second",
        "LOG_LEVEL": "WARNING",
    }


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        timeout=600,
    )
    return result.stdout


PATHS_SCRIPT = """
import json
from passport.models import Passport
print(json.dumps(list(Passport.objects.order_by("id").values_list("passport_id", flat=True))))
"""


def passport_ids(env: dict[str, str]) -> list[str]:
    return json.loads(manage("shell", "-c", PATHS_SCRIPT, env=env).strip().splitlines()[-1])


def prepare_database(env: dict[str, str]) -> list[str]:
    manage("migrate", "--noinput", "-v", "0", env=env)
    ids = passport_ids(env)
    if not ids:
        manage("demo_data", env=env)
        ids = passport_ids(env)
    if not ids:
        raise SystemExit("no passport in the database, even after demo_data")
    # The HTML pages link the stylesheet through the manifest storage used with DEBUG off.
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    return ids


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(
    env: dict[str, str], workers: int, worker_class: str, threads: int, port: int | None = None
) -> Server:
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"{HOST}:{port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--threads", str(threads),
            "--log-level", "warning",
            "--timeout", "60",
        ],
        cwd=ROOT,
        env=env,
    )
    server = Server(process, port)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with code {process.returncode}")
        try:
            status, _ = get(port, "/healthz", "application/json")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"gunicorn did not answer /healthz within {SERVER_START_TIMEOUT_S:.0f} s")


PROC = Path("/proc")


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat fields after the command name (state first), or None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def server_cpu_ticks(master_pid: int, database: str | None) -> dict[str, dict[int, int]]:
    """CPU ticks (user + system) so far of gunicorn's master and workers, and of the PostgreSQL
    backends connected to `database` (their process title names it). Empty on systems without
    /proc."""
    processes: dict[str, dict[int, int]] = {"gunicorn": {}, "postgresql": {}}
    if not PROC.is_dir():
        return processes
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        fields = _proc_stat(pid)
        if fields is None:
            continue
        ticks = int(fields[11]) + int(fields[12])
        if pid == master_pid or int(fields[1]) == master_pid:
            processes["gunicorn"][pid] = ticks
        elif database and _cmdline(pid).startswith("postgres: ") and f" {database} " in _cmdline(pid):
            processes["postgresql"][pid] = ticks
    return processes


def cpu_ms_per_read(before: dict, after: dict, reads: int) -> dict[str, float | None]:
    """Milliseconds of CPU per read by kind of process; a process started during the phase
    counts from zero."""
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    figures: dict[str, float | None] = {}
    for kind, now in after.items():
        if not now or not reads:
            figures[kind] = None
            continue
        spent = sum(ticks - before[kind].get(pid, 0) for pid, ticks in now.items())
        figures[kind] = round(spent * tick_ms / reads, 2)
    return figures


def get(port: int, path: str, accept: str) -> tuple[int, int]:
    """One request on a fresh connection (sync workers close it after each answer)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        body = response.read()
        return response.status, len(body)
    finally:
        connection.close()


@dataclass
class Phase:
    name: str
    accept: str
    paths: list[str]
    max_requests: int
    max_seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0
    issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_path(self, deadline: float) -> str | None:
        with self.lock:
            if self.issued >= self.max_requests or time.monotonic() >= deadline:
                return None
            path = self.paths[self.issued % len(self.paths)]
            self.issued += 1
            return path

    def record(self, status: int | None, seconds: float) -> None:
        with self.lock:
            if status is None:
                self.failures += 1
                return
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.latencies.append(seconds)


def run_phase(phase: Phase, server: Server, concurrency: int, database: str | None) -> dict:
    port = server.port
    cpu_before = server_cpu_ticks(server.process.pid, database)
    deadline = time.monotonic() + phase.max_seconds

    def client() -> None:
        while (path := phase.next_path(deadline)) is not None:
            started = time.perf_counter()
            try:
                status, _ = get(port, path, phase.accept)
            except OSError:
                status = None
            phase.record(status, time.perf_counter() - started)

    threads = [threading.Thread(target=client, name=f"{phase.name}-{n}") for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu_after = server_cpu_ticks(server.process.pid, database)

    ok = len(phase.latencies)
    latencies_ms = sorted(seconds * 1000 for seconds in phase.latencies)

    def percentile(fraction: float) -> float | None:
        if not latencies_ms:
            return None
        return round(latencies_ms[min(len(latencies_ms) - 1, int(fraction * len(latencies_ms)))], 2)

    return {
        "accept": phase.accept,
        "requests": phase.issued,
        "ok": ok,
        "statuses": {str(status): count for status, count in sorted(phase.statuses.items())},
        "connection_failures": phase.failures,
        "elapsed_s": round(elapsed, 3),
        "reads_per_second": round(ok / elapsed, 1) if elapsed else 0.0,
        "server_cpu_ms_per_read": cpu_ms_per_read(cpu_before, cpu_after, ok),
        "latency_ms": {
            "mean": round(statistics.fmean(latencies_ms), 2) if latencies_ms else None,
            "p50": percentile(0.50),
            "p95": percentile(0.95),
            "p99": percentile(0.99),
            "max": round(latencies_ms[-1], 2) if latencies_ms else None,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "public_reads.json")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument(
        "--workers", type=int, default=(os.cpu_count() or 1) + 1,
        help="gunicorn workers (default: cores + 1, as docker/Dockerfile's WEB_CONCURRENCY on 2 CPUs)",
    )
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"), help="gunicorn worker type")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--requests", type=int, default=3000, help="at most this many reads per phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="at most this long per phase")
    parser.add_argument("--warmup", type=int, default=50, help="untimed reads first, per phase")
    args = parser.parse_args()
    if args.concurrency < 1 or args.requests < 1 or args.seconds <= 0 or args.workers < 1 or args.threads < 1:
        parser.error("concurrency, requests, seconds, workers and threads must be positive")

    env = server_environment()
    database_url = env.get("DATABASE_URL", "")
    # The backends of a local PostgreSQL carry the database name in their process title.
    database = urlparse(database_url).path.lstrip("/") if database_url.startswith("postgres") else None
    ids = prepare_database(env)
    json_paths = [f"/api/v1/passports/{quote(passport_id, safe=':')}/" for passport_id in ids]
    page_paths = [f"/passports/{quote(passport_id, safe=':')}" for passport_id in ids]

    server = start_server(env, args.workers, args.worker_class, args.threads)
    try:
        results = {}
        for name, accept, paths in (
            ("json", "application/json", json_paths),
            ("html", "text/html", page_paths),
        ):
            run_phase(Phase(f"{name}-warmup", accept, paths, args.warmup, args.seconds), server, args.concurrency,
                      database)
            phase = Phase(name, accept, paths, args.requests, args.seconds)
            results[name] = run_phase(phase, server, args.concurrency, database)
            print(
                f"{name}: {results[name]['reads_per_second']} reads/s "
                f"({results[name]['ok']} ok of {results[name]['requests']}, "
                f"p95 {results[name]['latency_ms']['p95']} ms, concurrency {args.concurrency}, "
                f"server CPU per read {results[name]['server_cpu_ms_per_read']} ms, "
                f"{args.workers} {args.worker_class} workers x {args.threads} threads)",
                flush=True,
            )
    finally:
        server.stop()

    figures = {
        "benchmark": "public passport reads (anonymous) through gunicorn",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": "postgresql" if env.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
        "passports": len(ids),
        "server": {
            "bind": f"{HOST}:{server.port}", "workers": args.workers, "worker_class": args.worker_class,
            "threads": args.threads, "debug": False,
            "document_cache_seconds": env.get("PASSPORT_DOCUMENT_CACHE_SECONDS", "default"),
            "cache": "redis" if env.get("REDIS_URL") else "process memory",
        },
        "concurrency": args.concurrency,
        "limits": {"requests_per_phase": args.requests, "seconds_per_phase": args.seconds},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
