"""The health pipeline with a REAL Celery worker and Redis broker on PostgreSQL.

(a) A worker killed with SIGKILL in the middle of a run (every write made, nothing committed):
    the message was not acknowledged (acks_late), another worker runs it again, and the result
    is exactly that of one clean run.
(b) The broker stops while collectors send: ingestion (a real web server) still answers 2xx and
    stores every sample; when the broker is back the beat sweep enqueues the battery and the
    worker processes everything.

The worker, the web server and the private broker are subprocesses on this branch's ports
(8120-8129), stopped at the end of each test. The machine's own Redis is never stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.db import connection

import bms_core
from passport.models import Version
from passport.services import passport_document
from passport.services.health import HEALTH_REASON
from telemetry.models import BatteryAnalysis, HealthSnapshot, ProcessingRequest
from telemetry.selectors import sample_columns
from telemetry.services.devices import device_create
from tests.telemetry.pipeline_support import part, simulated, store

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
# This branch's port range; another checkout running the same test at once takes the next
# free ports of it.
TEST_PORTS = range(8121, 8130)


@pytest.fixture(autouse=True)
def needs_postgresql_and_redis() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: a worker process shares the test database only there")
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: a real Celery worker needs a real broker")


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(*, redis_url: str, queue: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": redis_url,
           "CELERY_QUEUE": queue, "CACHE_KEY_PREFIX": f"test-{queue}",
           "CELERY_VISIBILITY_TIMEOUT_S": "4", "CELERY_UNACKED_RESTORE_INTERVAL_S": "1",
           "TELEMETRY_PROCESSING_DELAY_S": "1"}
    env.pop("DATABASE_TEST_NAME", None)
    env.update(extra)
    return env


@contextlib.contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A subprocess in its own process group, killed (the whole group) on the way out."""
    with log.open("ab") as out:
        process = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def worker(env: dict[str, str], log: Path, *, beat: bool = False) -> contextlib.AbstractContextManager:
    args = [str(BIN / "celery"), "-A", "config", "worker", "-Q", env["CELERY_QUEUE"], "--pool=solo",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
            "-n", f"{env['CELERY_QUEUE']}@%h"]
    if beat:
        args += ["-B", "-s", str(log.with_suffix(".beat-schedule"))]
    return running(args, env, log)


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs if log.exists())
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tails}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def expected_report(battery_id: int) -> dict:
    """One clean pass of bms_core over the stored samples, with the model's settings."""
    return bms_core.analyze(sample_columns(battery_id=battery_id), rated_capacity_ah=100.0,
                            low_temp_c=-10.0, high_temp_c=50.0)


EXACT = ("samples", "deep_discharge_events", "overvoltage_events", "start", "end", "gaps", "cells")
TOTALS = ("charge_throughput_ah", "discharge_throughput_ah", "energy_discharged_kwh",
          "equivalent_full_cycles", "time_below_low_temp_min", "time_above_high_temp_min")


def test_a_worker_killed_mid_run_is_retried_to_exactly_one_clean_result(battery, tmp_path) -> None:
    history = simulated()
    store(battery.id, history)
    queue = f"tel-pipeline-kill-{uuid.uuid4().hex[:8]}"
    pause_file = tmp_path / "paused"
    env = process_env(redis_url=settings.REDIS_URL, queue=queue,
                      TELEMETRY_TEST_PAUSE_S="60", TELEMETRY_TEST_PAUSE_FILE=str(pause_file))
    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"
    versions_before = Version.objects.filter(passport__battery=battery).count()

    from telemetry.tasks import battery_process_task

    with worker(env, first_log) as first:
        battery_process_task.apply_async(args=[battery.id], queue=queue)
        wait_for(pause_file.exists, timeout=60, what="the run to reach its pause", logs=[first_log])
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    # Nothing of the killed run was committed.
    analysis = BatteryAnalysis.objects.filter(battery=battery).first()
    assert analysis is None or (analysis.state is None and analysis.runs == 0)
    assert not HealthSnapshot.objects.filter(battery=battery).exists()
    assert Version.objects.filter(passport__battery=battery).count() == versions_before

    clean_env = {**env, "TELEMETRY_TEST_PAUSE_S": "0"}
    with worker(clean_env, second_log):
        wait_for(lambda: HealthSnapshot.objects.filter(battery=battery).exists(), timeout=90,
                 what="the redelivered run", logs=[first_log, second_log])
        time.sleep(1.0)  # a second, duplicate delivery would show up as a second snapshot

    [snapshot] = HealthSnapshot.objects.filter(battery=battery)
    expected = expected_report(battery.id)
    for key in EXACT:
        assert snapshot.report[key] == expected[key], key
    for key in TOTALS:
        assert snapshot.report[key] == pytest.approx(expected[key], rel=1e-12, abs=1e-9), key
    analysis = BatteryAnalysis.objects.get(battery=battery)
    assert analysis.runs == 1 and analysis.samples == len(history["timestamp"])
    health_versions = Version.objects.filter(passport__battery=battery, reason=HEALTH_REASON)
    assert health_versions.count() == 1
    document = passport_document(passport=battery.passports.get())
    assert document["full_cycles_count"] == int(expected["equivalent_full_cycles"])
    assert document["capacity_throughput_ah"] == round(expected["discharge_throughput_ah"], 1)


def batch_body(battery, columns: dict[str, np.ndarray], batch_id: str) -> dict:
    return {"battery": battery.identifier, "batch_id": batch_id,
            "columns": {name: values.tolist() for name, values in columns.items()}}


def test_broker_down_ingestion_still_stores_and_the_sweep_catches_up(battery, users, tmp_path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary to run a private broker it may stop")
    free = [port for port in TEST_PORTS if not port_open(port)]
    if len(free) < 2:
        pytest.skip(f"no two free ports in {TEST_PORTS.start}-{TEST_PORTS.stop - 1}")
    PRIVATE_REDIS_PORT, WEB_PORT = free[0], free[1]  # noqa: N806 - constants of this run
    device, key = device_create(user=users.manufacturer, name="pi-test", batteries=[battery])
    history = simulated()
    n = len(history["timestamp"])
    cuts = [0, n // 4, n // 2, 3 * n // 4, n]
    queue = f"tel-pipeline-down-{uuid.uuid4().hex[:8]}"
    redis_url = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"
    env = process_env(redis_url=redis_url, queue=queue, TELEMETRY_SWEEP_INTERVAL_S="2",
                      DEBUG="1", DEVICE_THROTTLE_RATE="100000/minute")
    logs = {name: tmp_path / f"{name}.log" for name in ("redis", "web", "worker")}
    redis_args = ["redis-server", "--port", str(PRIVATE_REDIS_PORT), "--bind", "127.0.0.1",
                  "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    web_args = [str(BIN / "python"), "manage.py", "runserver", f"127.0.0.1:{WEB_PORT}",
                "--noreload", "--nothreading"]
    url = f"http://127.0.0.1:{WEB_PORT}/api/v1/telemetry/batches/"
    headers = {"Authorization": f"Device {key}"}

    def post(index: int) -> tuple[int, dict]:
        body = batch_body(battery, part(history, cuts[index], cuts[index + 1]), f"b{index}")
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), method="POST",
            headers={**headers, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, {"text": refused.read().decode(errors="replace")[:2000]}

    def analysed_samples() -> int:
        analysis = BatteryAnalysis.objects.filter(battery=battery).first()
        return analysis.samples if analysis else 0

    redis = running(redis_args, env, logs["redis"])
    broker = redis.__enter__()
    try:
        wait_for(lambda: port_open(PRIVATE_REDIS_PORT), timeout=15, what="the private broker",
                 logs=list(logs.values()))
        with running(web_args, env, logs["web"]), worker(env, logs["worker"], beat=True):
            wait_for(lambda: port_open(WEB_PORT), timeout=30, what="the web server", logs=list(logs.values()))
            assert post(0)[0] == 201
            wait_for(lambda: analysed_samples() == cuts[1], timeout=60, what="the first run",
                     logs=list(logs.values()))

            # The broker (and with it the cache) goes away while the collector goes on sending.
            os.killpg(broker.pid, signal.SIGTERM)
            broker.wait(timeout=15)
            for index in (1, 2):
                status, answer = post(index)
                assert status == 201, answer
                assert answer["inserted"] == cuts[index + 1] - cuts[index]
            assert len(sample_columns(battery_id=battery.id)["timestamp"]) == cuts[3]
            assert ProcessingRequest.objects.filter(battery_id=battery.id).count() >= 2
            time.sleep(2)
            assert analysed_samples() == cuts[1]

            # The broker comes back (empty: whatever it held is gone); the sweep finds the rest.
            redis = running(redis_args, env, logs["redis"])
            broker = redis.__enter__()
            wait_for(lambda: port_open(PRIVATE_REDIS_PORT), timeout=15, what="the broker again",
                     logs=list(logs.values()))
            assert post(3)[0] == 201
            wait_for(lambda: analysed_samples() == n, timeout=120,
                     what="the sweep to process every stored sample", logs=list(logs.values()))
    finally:
        redis.__exit__(None, None, None)

    latest = HealthSnapshot.objects.filter(battery=battery).order_by("-created_at", "-id").first()
    expected = expected_report(battery.id)
    for key in EXACT:
        assert latest.report[key] == expected[key], key
    for key in TOTALS:
        assert latest.report[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-9), key
    assert not ProcessingRequest.objects.filter(battery_id=battery.id).exists()
