"""The collector on its own: the SQLite spool, delivery with backoff, replay in order across an
outage and a restart, dead letters, splitting, the CLI; against a stdlib HTTP server of the test
(tests/telemetry/collector_fakes.py). The run against the real service is
tests/telemetry/test_collector_end_to_end.py."""

from __future__ import annotations

import ast
import json
import math
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from importlib.metadata import requires
from pathlib import Path

import can
import pytest
from collector_fakes import T0, FakeService, SimulatedBattery, sample

from bms_core.can import encode_frames
from telemetry.collector import (
    Backoff,
    Collector,
    CollectorConfig,
    Spool,
    batch_document,
    batch_post,
    batches_url,
)
from telemetry.collector.delivery import Verdict

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR = ROOT / "telemetry" / "collector"
FAST = Backoff(base_s=0.02, max_s=0.1)


@pytest.fixture
def service():
    fake = FakeService().up()
    yield fake
    fake.down()


def make_config(tmp_path: Path, url: str, **overrides) -> CollectorConfig:
    values = {
        "url": url,
        "key": "dev-key-1",
        "battery": "BAT-0001",
        "spool_path": tmp_path / "spool.sqlite3",
        "interval_s": 0.2,
        "max_batch_samples": 10,
        "timeout_s": 5.0,
        "backoff": FAST,
        **overrides,
    }
    return CollectorConfig(**values)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- no Django on the device ------------------------------------------------------------------


def test_no_collector_module_imports_django() -> None:
    forbidden = {"django", "rest_framework", "drf_spectacular"}
    offenders = []
    for path in sorted(COLLECTOR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in forbidden]
    assert (COLLECTOR / "spool.py").exists()
    assert offenders == []


def test_the_collector_runs_where_django_cannot_be_imported(tmp_path: Path) -> None:
    """Every collector module imports, and the CLI answers, with Django made unimportable."""
    code = (
        "import importlib.abc, pkgutil, sys\n"
        "class NoDjango(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('django', 'rest_framework'):\n"
        "            raise ImportError('no Django on this device: ' + name)\n"
        "sys.meta_path.insert(0, NoDjango())\n"
        "import telemetry.collector\n"
        "for info in pkgutil.iter_modules(telemetry.collector.__path__):\n"
        "    if info.name != '__main__':\n"
        "        importlib.import_module('telemetry.collector.' + info.name)\n"
        "from telemetry.collector.cli import main\n"
        f"sys.exit(main(['--spool', {str(tmp_path / 's.sqlite3')!r}, '--status']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pending_samples"] == 0


def test_the_collector_install_pulls_only_can_and_numpy() -> None:
    """`pip install battery-passport[collector]` on a device: no server part comes along."""
    device = set()
    for requirement in requires("battery-passport") or []:
        name, _, marker = requirement.partition(";")
        if not marker.strip() or "collector" in marker:
            device.add(re.split(r"[<>=!~\[ ]", name.strip(), maxsplit=1)[0].lower())
    assert device == {"python-can", "cantools", "numpy"}


# -- the spool --------------------------------------------------------------------------------


def test_samples_and_batches_survive_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    code = (
        "import os, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from collector_fakes import sample\n"
        "from telemetry.collector import Spool\n"
        f"spool = Spool({str(path)!r})\n"
        "spool.samples_add('BAT-0001', [sample(s) for s in range(25)])\n"
        "spool.seal(max_samples=10)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60)
    assert result.returncode == -9

    status = Spool(path).status()
    assert (status.pending_samples, status.batches, status.batched_samples) == (15, 1, 10)


def test_sealing_moves_the_oldest_samples_into_exactly_one_batch(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    assert spool.samples_add("BAT-0001", [sample(s) for s in (3, 1, 2, 0, 4)]) == 5
    assert spool.samples_add("BAT-0001", [sample(1), sample(5)]) == 1  # 1 is already pending

    batch = spool.seal(max_samples=4)
    assert batch is not None and batch.samples == 4
    assert batch_document(batch.body)["columns"]["timestamp"] == [T0 + s for s in range(4)]
    assert spool.pending_count() == 2
    assert spool.seal(max_samples=4, at_least=3) is None  # only 2 left
    assert spool.seal(max_samples=4).samples == 2
    assert spool.pending_count() == 0
    assert spool.seal(max_samples=4) is None


def test_the_same_samples_give_the_same_batch_id_and_body(tmp_path: Path) -> None:
    made = []
    for name in ("a", "b"):
        spool = Spool(tmp_path / f"{name}.sqlite3")
        spool.samples_add("BAT-0001", [sample(s) for s in range(6)])
        made.append(spool.seal(max_samples=6))
    assert made[0].batch_id == made[1].batch_id
    assert made[0].body == made[1].body
    assert 1 <= len(made[0].batch_id) <= 64

    other = Spool(tmp_path / "c.sqlite3")
    other.samples_add("BAT-0002", [sample(s) for s in range(6)])
    assert other.seal(max_samples=6).batch_id != made[0].batch_id


def test_body_follows_the_contract_with_null_for_missing_values(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.samples_add("BAT-0001", [sample(0, soc_pct=math.nan), sample(1)])
    document = batch_document(spool.seal(max_samples=10).body)
    assert document["battery"] == "BAT-0001"
    columns = document["columns"]
    assert columns["soc_pct"] == [None, 50.0]
    assert columns["current_a"] == [-10.0, -9.9]
    # No 0x373 seen: the cell columns are left out rather than sent as nulls.
    assert set(columns) == {"timestamp", "current_a", "voltage_v", "temperature_c", "soc_pct"}


# -- delivery ---------------------------------------------------------------------------------


def test_post_sends_the_device_key_and_a_gzip_body(tmp_path: Path, service: FakeService) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.samples_add("BAT-0001", [sample(0)])
    batch = spool.seal(max_samples=10)
    url = batches_url(service.url)
    assert url == f"{service.url}/api/v1/telemetry/batches/"
    assert batches_url(url) == url

    answer = batch_post(url, "dev-key-1", batch.body, timeout_s=5)
    assert (answer.verdict, answer.status) == (Verdict.DELIVERED, 201)
    request = service.received[0]
    assert request["path"] == "/api/v1/telemetry/batches/"
    assert request["headers"]["Authorization"] == "Device dev-key-1"
    assert request["headers"]["Content-Encoding"] == "gzip"
    assert request["document"]["batch_id"] == batch.batch_id
    assert batch_post(url, "dev-key-1", batch.body, timeout_s=5).status == 200


def test_an_unreachable_service_means_retry(tmp_path: Path) -> None:
    fake = FakeService()  # never started: the port refuses connections
    answer = batch_post(batches_url(fake.url), "k", b"", timeout_s=2)
    assert answer.verdict is Verdict.RETRY and answer.status is None


def test_outage_and_restart_every_sample_arrives_once_and_in_order(
    tmp_path: Path, service: FakeService
) -> None:
    config = make_config(tmp_path, service.url)
    first = Collector(config)
    first.store([sample(s) for s in range(15)])
    first.seal_all()
    assert first.deliver() is None  # two batches delivered
    assert len(service.stored) == 2

    service.down()
    first.store([sample(s) for s in range(15, 37)])
    first.seal_all()
    assert first.deliver() > 0  # the head batch waits for its retry
    assert first.spool.next_batch().attempts == 1
    first.spool.close()  # the collector stops; its spool file stays

    second = Collector(config)
    assert second.spool.status().batches == 3
    second.store([sample(s) for s in range(37, 40)])
    service.up()
    assert second.drain()

    assert service.timestamps() == [T0 + s for s in range(40)]
    firsts = [document["columns"]["timestamp"][0] for document in service.stored.values()]
    assert firsts == sorted(firsts)
    assert second.spool.status().as_dict() | {"next_attempt_at": None} == {
        "pending_samples": 0, "batches": 0, "batched_samples": 0, "dead_letters": 0,
        "oldest_pending_timestamp": None, "next_attempt_at": None,
    }


def test_a_lost_answer_is_resent_under_the_same_id_and_stored_once(
    tmp_path: Path, service: FakeService
) -> None:
    calls = []

    def store_then_fail(document: dict, headers: dict):
        calls.append(document["batch_id"])
        if len(calls) == 1:
            service.stored[document["batch_id"]] = document  # stored, but the answer is lost
            return 502, {"errors": []}, {}
        return None

    service.override = store_then_fail
    collector = Collector(make_config(tmp_path, service.url))
    collector.store([sample(s) for s in range(5)])
    assert collector.drain()
    assert calls[0] == calls[1]
    assert service.timestamps() == [T0 + s for s in range(5)]


def test_backoff_grows_exponentially_with_jitter_and_respects_retry_after() -> None:
    backoff = Backoff(base_s=1.0, max_s=8.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (40, 8), (10_000, 8)]:
        delays = [backoff.delay_s(attempt, rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # spread, not one value for the fleet
    assert backoff.delay_s(1, rng, retry_after_s=30) == 30
    assert backoff.delay_s(1, rng, retry_after_s=10**9) == 3600
    with pytest.raises(ValueError, match="base_s"):
        Backoff(base_s=0)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_answers_are_retried_with_growing_delays_across_restarts(
    tmp_path: Path, service: FakeService, status: int
) -> None:
    service.override = lambda document, headers: (status, {"errors": []}, {})
    clock = FakeClock()
    config = make_config(tmp_path, service.url, backoff=Backoff(base_s=1.0, max_s=60.0))
    collector = Collector(config, clock=clock)
    collector.store([sample(0)])
    collector.seal_all()
    waits = []
    for _ in range(3):
        waits.append(collector.deliver())
        assert collector.deliver() == pytest.approx(waits[-1])  # not due: nothing sent
        clock.now += waits[-1]
    collector.spool.close()

    restarted = Collector(config, clock=clock)
    waits.append(restarted.deliver())  # the 4th attempt, counted across the restart
    assert len(service.received) == 4
    for attempt, wait in enumerate(waits, start=1):
        assert 2 ** (attempt - 1) / 2 <= wait <= 2 ** (attempt - 1)
    assert restarted.spool.next_batch().attempts == 4
    assert restarted.spool.next_batch().last_error.startswith(f"{status}: ")

    service.override = None
    clock.now += waits[-1]
    assert restarted.deliver() is None
    assert len(service.stored) == 1


def test_retry_after_from_the_service_is_a_lower_bound(tmp_path: Path, service: FakeService) -> None:
    service.override = lambda document, headers: (503, {}, {"Retry-After": "120"})
    collector = Collector(make_config(tmp_path, service.url), clock=FakeClock())
    collector.store([sample(0)])
    collector.seal_all()
    assert collector.deliver() == pytest.approx(120)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_refused_batches_are_dead_lettered_with_the_reason_and_the_rest_goes_on(
    tmp_path: Path, service: FakeService, status: int
) -> None:
    reason = {"errors": [{"field": "voltage_v", "index": 2, "reason": "not a finite number"}]}

    def refuse_the_first(document: dict, headers: dict):
        return (status, reason, {}) if document["columns"]["timestamp"][0] == T0 else None

    service.override = refuse_the_first
    collector = Collector(make_config(tmp_path, service.url, max_batch_samples=5))
    collector.store([sample(s) for s in range(10)])
    assert collector.drain()

    assert service.timestamps() == [T0 + s for s in range(5, 10)]
    assert len(service.received) == 2  # the refused batch was sent once, not retried
    [dead] = collector.spool.dead_letters()
    assert dead["status"] == status and "not a finite number" in dead["reason"]
    assert dead["samples"] == 5

    service.override = None
    assert collector.spool.dead_letters_requeue() == 1
    assert collector.drain()
    assert sorted(service.timestamps()) == [T0 + s for s in range(10)]
    assert collector.spool.dead_letters() == []


def test_a_redirect_is_not_followed_and_is_dead_lettered(tmp_path: Path, service: FakeService) -> None:
    service.override = lambda d, h: (301, {}, {"Location": "https://passport.example.com/x/"})
    collector = Collector(make_config(tmp_path, service.url))
    collector.store([sample(0)])
    assert collector.drain()
    assert len(service.received) == 1
    [dead] = collector.spool.dead_letters()
    assert dead["status"] == 301 and "https://passport.example.com/x/" in dead["reason"]


def test_too_large_batches_are_split_until_the_service_takes_them(
    tmp_path: Path, service: FakeService
) -> None:
    service.override = lambda document, headers: (
        (413, {"errors": [{"field": "rows", "reason": "too many"}]}, {})
        if len(document["columns"]["timestamp"]) > 3 else None
    )
    collector = Collector(make_config(tmp_path, service.url, max_batch_samples=10))
    collector.store([sample(s) for s in range(10)])
    assert collector.drain()
    assert service.timestamps() == [T0 + s for s in range(10)]
    assert collector.stats.splits == 3  # 10 -> 5 + 5 -> (2 + 3) + (2 + 3)
    assert collector.spool.dead_letters() == []


def test_config_names_the_bad_field(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="^url"):
        make_config(tmp_path, "ftp://x")
    with pytest.raises(ValueError, match="^max_batch_samples"):
        make_config(tmp_path, "http://x", max_batch_samples=0)
    with pytest.raises(ValueError, match="^key"):
        make_config(tmp_path, "http://x", key="")


# -- a live bus ------------------------------------------------------------------------------


def test_a_live_bus_is_delivered_and_a_failing_bus_stops_the_run_with_its_error(
    tmp_path: Path, service: FakeService
) -> None:
    channel = f"unit-{uuid.uuid4()}"
    battery = SimulatedBattery(channel)
    battery.start()
    collector = Collector(make_config(tmp_path, service.url, interval_s=0.3))
    bus = can.Bus(interface="virtual", channel=channel)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            collector.run_bus(bus)
        except can.CanError as error:
            failure.append(error)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        battery.sending.set()
        deadline = time.monotonic() + 20
        while len(service.timestamps()) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        battery.sending.clear()
        time.sleep(1.0)  # the last burst's cycle closes and is spooled
        bus.shutdown()  # the interface goes away under the reader
        runner.join(timeout=10)
    finally:
        battery.finished.set()
        battery.join(timeout=5)
    assert not runner.is_alive() and len(failure) == 1
    sent = [round(t, 6) for t, _, _ in battery.sent]
    delivered = [round(t, 6) for t in service.timestamps()]
    spooled = collector.spool.status()
    assert len(delivered) >= 3 and delivered == sent[: len(delivered)]
    assert len(delivered) + spooled.pending_samples + spooled.batched_samples == len(sent)


# -- the command ------------------------------------------------------------------------------


def write_candump(path: Path, seconds: int) -> None:
    with can.Logger(str(path)) as log:
        for second in range(seconds):
            state = {"soc_pct": 50 + second % 40, "soh_pct": 98, "voltage_v": 52.5,
                     "current_a": round(-5 + 0.1 * second, 1), "temperature_c": 20.0,
                     "min_cell_v": 3.28, "max_cell_v": 3.30, "min_cell_temp_c": 19.85,
                     "max_cell_temp_c": 21.85}
            for index, msg in enumerate(encode_frames(state)):
                msg.timestamp = T0 + second + index * 0.002
                msg.channel = "can0"
                log.on_message_received(msg)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "telemetry.collector", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_replays_a_log_and_a_second_replay_stores_nothing_twice(
    tmp_path: Path, service: FakeService
) -> None:
    log = tmp_path / "capture.log"
    write_candump(log, 120)
    common = ["--log", str(log), "--url", service.url, "--battery", "BAT-0001",
              "--max-batch", "50"]
    env_key = {"TELEMETRY_DEVICE_KEY": "dev-key-1"}

    for run in ("first", "second"):
        result = subprocess.run(
            [sys.executable, "-m", "telemetry.collector", *common,
             "--spool", str(tmp_path / f"{run}.sqlite3")],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, **env_key},
        )
        assert result.returncode == 0, result.stderr

    assert service.timestamps() == pytest.approx([T0 + s for s in range(120)])
    assert [len(d["columns"]["timestamp"]) for d in service.stored.values()] == [50, 50, 20]
    assert len(service.received) == 6  # the second replay sent the same three batch ids
    document = next(iter(service.stored.values()))
    assert document["columns"]["min_cell_v"][0] == pytest.approx(3.28)
    assert service.received[0]["headers"]["Authorization"] == "Device dev-key-1"

    status = json.loads(run_cli("--spool", str(tmp_path / "first.sqlite3"), "--status").stdout)
    assert status["batches"] == 0 and status["pending_samples"] == 0


def test_cli_exit_codes(tmp_path: Path, service: FakeService) -> None:
    missing = run_cli("--log", "x.log")
    assert missing.returncode == 2 and "--url" in missing.stderr and "--battery" in missing.stderr
    no_file = run_cli("--log", str(tmp_path / "nope.log"), "--url", service.url, "--key", "k",
                      "--battery", "B", "--spool", str(tmp_path / "s.sqlite3"))
    assert no_file.returncode == 2 and "no such file" in no_file.stderr
    bad_url = run_cli("--log", "x.log", "--url", "ftp://x", "--key", "k", "--battery", "B")
    assert bad_url.returncode == 2 and "url" in bad_url.stderr

    service.override = lambda document, headers: (403, {"errors": [{"field": "battery",
                                                                      "reason": "not bound"}]}, {})
    log = tmp_path / "capture.log"
    write_candump(log, 5)
    refused = run_cli("--log", str(log), "--url", service.url, "--key", "k", "--battery", "B",
                      "--spool", str(tmp_path / "r.sqlite3"))
    assert refused.returncode == 1
    status = json.loads(run_cli("--spool", str(tmp_path / "r.sqlite3"), "--status").stdout)
    assert status["dead_letters"] == 1 and "not bound" in status["dead_letter_list"][0]["reason"]
