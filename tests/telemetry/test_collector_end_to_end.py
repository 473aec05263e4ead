"""End to end: a simulated battery on python-can's virtual bus, the collector, the real service.

The battery sends its Pylontech burst (`bms_core.can.encode_frames`) every 0.7 s; the collector
reads it through `bms_core.can`'s reader and delivers to the live Django server through a TCP
gate that plays the network: open, then the service gone (connection refused), then answering
503, then committing but losing the answers; the collector is restarted on the same spool while
the service is still gone. At the end every sample the battery sent is in the sample table
exactly once, with its values, and the batches were stored in time order.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import can
import numpy as np
import pytest
from collector_fakes import Gate, SimulatedBattery

from telemetry.collector import Backoff, Collector, CollectorConfig
from telemetry.models import Batch, Sample
from telemetry.selectors import sample_columns
from telemetry.services.devices import device_create


class RunningCollector:
    """A collector process, in a thread: its own bus on the channel, stopped like by SIGTERM."""

    def __init__(self, config: CollectorConfig, channel: str) -> None:
        self.collector = Collector(config)
        self.bus = can.Bus(interface="virtual", channel=channel)
        self.thread = threading.Thread(target=self.collector.run_bus, args=(self.bus,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.collector.stop()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive()
        self.bus.shutdown()


@pytest.fixture
def gate(live_server) -> Iterator[Gate]:
    host, port = live_server.url.removeprefix("http://").split(":")
    front = Gate(host, int(port))
    front.set("open")
    yield front
    front.shutdown()


def wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_every_sample_arrives_once_through_outages_and_a_collector_restart(
    tmp_path: Path, gate: Gate, battery, users
) -> None:
    _, key = device_create(user=users.manufacturer, name="e2e collector", batteries=[battery])
    channel = f"e2e-{uuid.uuid4()}"
    config = CollectorConfig(
        url=gate.url, key=key, battery=battery.identifier, spool_path=tmp_path / "spool.sqlite3",
        interval_s=1.0, timeout_s=10.0, backoff=Backoff(base_s=0.2, max_s=1.0),
    )
    stored = Sample.objects.filter(battery_id=battery.pk)

    simulated = SimulatedBattery(channel)
    simulated.start()
    first = RunningCollector(config, channel)
    try:
        simulated.sending.set()
        assert wait_until(lambda: stored.count() >= 3, 20), "nothing arrived while the gate was open"
        gate.set("closed")
        time.sleep(4)
        gate.set("503")
        time.sleep(3)
        gate.set("swallow")
        time.sleep(3)

        # Restart: the battery pauses so the last burst is assembled and spooled, the collector
        # stops with undelivered batches and pending samples, and the service is gone meanwhile.
        simulated.sending.clear()
        time.sleep(1.5)
        gate.set("closed")
        first.stop()
        spooled = first.collector.spool.status()
        assert spooled.batches + spooled.pending_samples > 0
        second = RunningCollector(config, channel)
        try:
            simulated.sending.set()
            time.sleep(3)
            gate.set("open")
            time.sleep(3)
            simulated.sending.clear()
            time.sleep(1.5)
            expected = len(simulated.sent)
            assert wait_until(lambda: stored.count() >= expected, 30)
            assert wait_until(lambda: second.collector.spool.status().batches == 0, 10)
        finally:
            second.stop()
    finally:
        simulated.finished.set()
        simulated.join(timeout=5)
        if first.thread.is_alive():
            first.stop()

    assert gate.counts["503"] >= 1 and gate.counts["swallow"] >= 1
    sent = np.array(simulated.sent)
    columns = sample_columns(battery_id=battery.pk)
    assert stored.count() == len(sent)  # nothing twice (the key forbids it), nothing missing
    np.testing.assert_array_equal(
        np.round(columns["timestamp"] * 1e6).astype(np.int64),
        np.round(sent[:, 0] * 1e6).astype(np.int64),
    )
    np.testing.assert_allclose(columns["current_a"], sent[:, 1], atol=1e-9)
    np.testing.assert_allclose(columns["voltage_v"], sent[:, 2], atol=1e-9)

    batches = list(Batch.objects.filter(battery=battery).order_by("id"))
    assert sum(b.inserted for b in batches) == len(sent)
    assert sum(b.duplicates for b in batches) == 0  # a resent batch got its first answer back
    assert gate.counts["open"] + gate.counts["swallow"] > len(batches)  # resends happened
    for earlier, later in zip(batches, batches[1:], strict=False):
        assert earlier.last < later.first, "batches were not stored in time order"
    assert second.collector.spool.status().dead_letters == 0
