"""The CAN reader: log files written by python-can, the cycle-grouping rule, malformed frames, and a
live virtual bus with a battery thread."""

from __future__ import annotations

import csv
import io
import math
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import can
import numpy as np
import pytest

from bms_core.can import (
    BASE_COLUMNS,
    CELL_COLUMNS,
    CycleAssembler,
    collect,
    encode_frames,
    encode_message,
    iter_bus_samples,
    iter_samples,
    read_log,
    write_csv,
)
from bms_core.can.samples import SampleTable, to_table

T0 = 1_700_000_000.0
FRAME_SPACING_S = 0.002


def battery_state(second: int, *, with_cells: bool = True) -> dict[str, object]:
    state: dict[str, object] = {
        "charge_voltage_limit_v": 56.8,
        "charge_current_limit_a": 50.0,
        "discharge_current_limit_a": 100.0,
        "soc_pct": 60 + second,
        "soh_pct": 98,
        "voltage_v": round(52.0 + 0.01 * second, 2),
        "current_a": round(-20.0 + 0.5 * second, 1),
        "temperature_c": round(-3.0 + 0.1 * second, 1),
        "module_count": 2,
        "charge_enable": True,
        "discharge_enable": True,
        "manufacturer": "PYLON",
    }
    if with_cells:
        state.update(
            min_cell_v=round(3.250 + 0.001 * second, 3),
            max_cell_v=round(3.270 + 0.001 * second, 3),
            min_cell_temp_c=-5.15 + second,
            max_cell_temp_c=20.85,
        )
    return state


def burst(
    second: int, *, with_cells: bool = True, start: float = T0, order: list[int] | None = None
) -> list[can.Message]:
    frames = encode_frames(battery_state(second, with_cells=with_cells))
    if order is not None:
        frames.sort(key=lambda msg: order.index(msg.arbitration_id))
    for index, msg in enumerate(frames):
        msg.timestamp = start + second + index * FRAME_SPACING_S
        msg.channel = "can0"
    return frames


def keepalive(at: float) -> can.Message:
    return can.Message(arbitration_id=0x305, is_extended_id=False, data=bytes(8), timestamp=at)


def recording(seconds: int, *, with_cells: bool = True) -> list[can.Message]:
    frames: list[can.Message] = []
    for second in range(seconds):
        frames += burst(second, with_cells=with_cells)
        frames.append(keepalive(T0 + second + 0.1))
    return frames


def samples_of(frames: list[can.Message], **options: float) -> list:
    return list(iter_samples(frames, CycleAssembler(**options)))


# -- log files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix", [".log", ".asc", ".blf", ".trc", ".csv", ".log.gz", ".asc.gz", ".csv.gz"]
)
def test_read_log_turns_every_python_can_format_into_samples(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"battery{suffix}"
    with can.Logger(path) as logger:
        for msg in recording(5):
            logger.on_message_received(msg)

    table = read_log(path)

    assert list(table) == list(BASE_COLUMNS + CELL_COLUMNS)
    assert all(column.dtype == np.float64 and column.shape == (5,) for column in table.values())
    # Unix seconds; ASC keeps milliseconds only.
    expected_times = T0 + np.arange(5) + 3 * FRAME_SPACING_S
    np.testing.assert_allclose(table["timestamp"], expected_times, atol=1e-3, rtol=0)
    np.testing.assert_allclose(table["current_a"], [-20.0, -19.5, -19.0, -18.5, -18.0])
    np.testing.assert_allclose(table["voltage_v"], [52.0, 52.01, 52.02, 52.03, 52.04])
    np.testing.assert_allclose(table["temperature_c"], [-3.0, -2.9, -2.8, -2.7, -2.6])
    np.testing.assert_allclose(table["soc_pct"], [60, 61, 62, 63, 64])
    np.testing.assert_allclose(table["min_cell_v"], [3.250, 3.251, 3.252, 3.253, 3.254])
    np.testing.assert_allclose(table["min_cell_temp_c"], [-5.15, -4.15, -3.15, -2.15, -1.15])
    assert table.stats.samples == 5
    assert table.stats.malformed == 0
    assert table.stats.ignored == 5  # the inverter's keep-alives


def test_cell_columns_only_when_the_battery_sends_0x373(tmp_path: Path) -> None:
    path = tmp_path / "pylon-v12.log"
    with can.Logger(path) as logger:
        for msg in recording(3, with_cells=False):
            logger.on_message_received(msg)
    table = read_log(path)
    assert list(table) == list(BASE_COLUMNS)
    assert table.row_count == 3


def test_a_log_in_an_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "battery.xyz"
    path.write_text("nothing")
    with pytest.raises(ValueError, match="xyz"):
        read_log(path)


# -- grouping rule -------------------------------------------------------------------------------


def test_the_order_of_frames_inside_a_burst_does_not_matter() -> None:
    pylontech = samples_of(recording(4))
    # A Victron-style order: 0x373 and 0x355 after 0x356.
    victron_order = [0x351, 0x356, 0x35C, 0x35E, 0x359, 0x373, 0x355]
    reordered: list[can.Message] = []
    for second in range(4):
        reordered += burst(second, order=victron_order)
    victron = samples_of(reordered)
    assert [s.soc_pct for s in victron] == [s.soc_pct for s in pylontech] == [60, 61, 62, 63]
    assert [s.min_cell_v for s in victron] == [s.min_cell_v for s in pylontech]


def test_a_sample_is_stamped_with_its_0x356_and_carries_0x373_sent_after_it() -> None:
    frames = burst(0, order=[0x356, 0x373, 0x355, 0x351, 0x359, 0x35C, 0x35E])
    (sample,) = samples_of(frames)
    assert sample.timestamp == frames[0].timestamp
    assert sample.max_cell_v == pytest.approx(3.270)
    assert sample.soc_pct == 60


def test_a_quiet_gap_closes_a_cycle_even_without_a_repeated_id() -> None:
    first = encode_message(0x356, {"voltage_v": 52.0, "current_a": 1.0, "temperature_c": 20.0})
    first.timestamp = T0
    # The next burst starts with 0x355; without the gap rule it would join the first cycle.
    soc = encode_message(0x355, {"soc_pct": 70, "soh_pct": 99})
    soc.timestamp = T0 + 1.0
    second = encode_message(0x356, {"voltage_v": 52.1, "current_a": 2.0, "temperature_c": 20.0})
    second.timestamp = T0 + 1.002
    samples = samples_of([first, soc, second])
    assert len(samples) == 2
    assert math.isnan(samples[0].soc_pct)
    assert samples[1].soc_pct == 70


def test_values_older_than_stale_after_are_not_carried() -> None:
    frames = burst(0)  # the only 0x355 and 0x373
    for second in range(1, 15):
        msg = encode_message(0x356, {"voltage_v": 52.0, "current_a": 0.0, "temperature_c": 20.0})
        msg.timestamp = T0 + second
        frames.append(msg)
    samples = samples_of(frames, stale_after_s=10.0)
    soc = [s.soc_pct for s in samples]
    assert soc[:11] == [60] * 11
    assert all(math.isnan(value) for value in soc[11:])
    assert math.isnan(samples[-1].min_cell_v)


def test_high_resolution_soc_is_preferred() -> None:
    msg = encode_message(0x355, {"soc_pct": 42, "soh_pct": 99, "soc_hr_pct": 42.37})
    msg.timestamp = T0
    measurement = encode_message(
        0x356, {"voltage_v": 52.0, "current_a": 0.0, "temperature_c": 20.0}
    )
    measurement.timestamp = T0 + 0.001
    (sample,) = samples_of([msg, measurement])
    assert sample.soc_pct == pytest.approx(42.37)


def test_invalid_markers_become_nan() -> None:
    msg = encode_message(0x356, {"voltage_v": 52.0, "current_a": -3.0, "temperature_c": None})
    msg.timestamp = T0
    soc = encode_message(0x355, {"soc_pct": None, "soh_pct": 99})
    soc.timestamp = T0 + 0.001
    (sample,) = samples_of([msg, soc])
    assert (sample.voltage_v, sample.current_a) == (52.0, -3.0)
    assert math.isnan(sample.temperature_c)
    assert math.isnan(sample.soc_pct)


def test_cycles_without_valid_voltage_or_current_are_dropped() -> None:
    # The analytics need both for every row; such a cycle is counted instead.
    frames = []
    for second, (voltage, current) in enumerate(
        [(52.0, 1.0), (None, 1.0), (52.0, None), (52.1, 2.0)]
    ):
        msg = encode_message(
            0x356, {"voltage_v": voltage, "current_a": current, "temperature_c": 20.0}
        )
        msg.timestamp = T0 + second
        frames.append(msg)
    assembler = CycleAssembler()
    samples = list(iter_samples(frames, assembler))
    assert [s.current_a for s in samples] == [1.0, 2.0]
    assert assembler.stats.invalid_measurements == 2


def test_samples_out_of_time_order_are_dropped() -> None:
    frames = []
    for at in [T0, T0 + 1, T0 + 0.5, T0 + 1, T0 + 2]:
        msg = encode_message(
            0x356, {"voltage_v": 52.0, "current_a": at - T0, "temperature_c": 20.0}
        )
        msg.timestamp = at
        frames.append(msg)
    assembler = CycleAssembler()
    samples = list(iter_samples(frames, assembler))
    assert [s.timestamp - T0 for s in samples] == [0, 1, 2]
    assert assembler.stats.out_of_order == 2


def test_cycles_without_0x356_are_counted_not_sampled() -> None:
    frames = []
    for second in range(3):
        msg = encode_message(0x355, {"soc_pct": 50, "soh_pct": 99})
        msg.timestamp = T0 + second
        frames.append(msg)
    assembler = CycleAssembler()
    assert list(iter_samples(frames, assembler)) == []
    assert assembler.stats.cycles_without_measurement == 3


def test_malformed_and_foreign_frames_are_counted_not_raised() -> None:
    frames = recording(3)
    short = can.Message(
        arbitration_id=0x356, is_extended_id=False, data=b"\x10\x14", timestamp=T0 + 1.05
    )
    garbage_name = can.Message(
        arbitration_id=0x35E, is_extended_id=False, data=b"\xff\xfe", timestamp=T0 + 1.06
    )
    other = can.Message(arbitration_id=0x18FF50E5, data=bytes(8), timestamp=T0 + 1.07)
    frames[10:10] = [short, garbage_name, other]
    assembler = CycleAssembler()
    samples = list(iter_samples(frames, assembler))
    assert len(samples) == 3
    stats = assembler.stats
    assert stats.malformed == 2
    assert stats.ignored == 3 + 1  # keep-alives and the 29-bit frame
    assert stats.frames == len(frames)
    assert any("0x356" in error for error in stats.errors)
    assert "2 malformed" in stats.summary()


def test_the_assembler_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="cycle_gap_s"):
        CycleAssembler(cycle_gap_s=0)
    with pytest.raises(ValueError, match="stale_after_s"):
        CycleAssembler(stale_after_s=-1)


# -- CSV -----------------------------------------------------------------------------------------


def test_write_csv_has_a_header_and_empty_fields_for_missing_values() -> None:
    frames = recording(2)
    missing = encode_message(0x356, {"voltage_v": 52.0, "current_a": 1.5, "temperature_c": None})
    missing.timestamp = T0 + 2
    table = read_table(frames + [missing])
    out = io.StringIO()
    write_csv(table, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == list(BASE_COLUMNS + CELL_COLUMNS)
    assert len(rows) == 4
    assert rows[1][0] == f"{T0 + 3 * FRAME_SPACING_S:.6f}"
    assert float(rows[1][1]) == -20.0
    assert rows[3][3] == ""  # temperature not available
    assert float(rows[3][1]) == 1.5


def read_table(frames: list[can.Message]) -> SampleTable:
    assembler = CycleAssembler()
    samples = list(iter_samples(frames, assembler))
    return to_table(samples, assembler.stats, include_cells=assembler.saw_cell_extremes)


# -- live virtual bus ----------------------------------------------------------------------------


class Battery(threading.Thread):
    """Sends a burst every `period_s` on a virtual bus, and optionally the inverter's keep-alive."""

    def __init__(
        self, channel: str, *, period_s: float, bursts: int, keepalive_s: float | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.channel = channel
        self.period_s = period_s
        self.bursts = bursts
        self.keepalive_s = keepalive_s
        self.stop = threading.Event()

    def run(self) -> None:
        with can.Bus(interface="virtual", channel=self.channel) as bus:
            for second in range(self.bursts):
                if self.stop.is_set():
                    return
                for msg in encode_frames(battery_state(second)):
                    bus.send(msg)
                if self.stop.wait(self.period_s):
                    return
            # After the battery falls silent the inverter keeps talking.
            while self.keepalive_s is not None and not self.stop.wait(self.keepalive_s):
                bus.send(keepalive(time.time()))


@pytest.fixture
def channel() -> Iterator[str]:
    yield f"bms-test-{uuid.uuid4().hex}"


def test_collect_reads_samples_from_a_battery_on_a_virtual_bus(channel: str) -> None:
    with can.Bus(interface="virtual", channel=channel) as bus:
        battery = Battery(channel, period_s=0.2, bursts=50)
        battery.start()
        try:
            started = time.time()
            table = collect(bus, max_samples=4, duration_s=20)
        finally:
            battery.stop.set()
            battery.join()
    assert table.row_count == 4
    np.testing.assert_allclose(table["soc_pct"], [60, 61, 62, 63])
    np.testing.assert_allclose(table["current_a"], [-20.0, -19.5, -19.0, -18.5])
    np.testing.assert_allclose(table["max_cell_v"], [3.270, 3.271, 3.272, 3.273])
    assert np.all(table["timestamp"] >= started - 1)  # Unix seconds from the bus
    assert np.all(np.diff(table["timestamp"]) > 0.1)
    assert table.stats.malformed == 0


def test_collect_stops_after_its_duration(channel: str) -> None:
    with can.Bus(interface="virtual", channel=channel) as bus:
        battery = Battery(channel, period_s=0.2, bursts=100)
        battery.start()
        try:
            started = time.monotonic()
            table = collect(bus, duration_s=1.0)
            elapsed = time.monotonic() - started
        finally:
            battery.stop.set()
            battery.join()
    # It stops on time: a 100-burst battery would keep it busy for 20 s otherwise. The upper
    # margin only absorbs scheduling delays on a loaded CI machine.
    assert 1.0 <= elapsed < 5.0
    # At most the ~5 bursts a second the battery sends (plus one a cycle boundary may split);
    # at least one even when the sender thread is starved.
    assert 1 <= table.row_count <= 7


def test_the_last_burst_is_sampled_when_the_battery_falls_silent(channel: str) -> None:
    # The inverter's keep-alives go on; they must not hold the last cycle open.
    with can.Bus(interface="virtual", channel=channel) as bus:
        battery = Battery(channel, period_s=0.2, bursts=2, keepalive_s=0.05)
        battery.start()
        try:
            started = time.monotonic()
            samples = list(iter_bus_samples(bus, max_samples=2, duration_s=10))
            elapsed = time.monotonic() - started
        finally:
            battery.stop.set()
            battery.join()
    assert [s.soc_pct for s in samples] == [60, 61]
    assert elapsed < 3.0, "the idle cycle should close after cycle_gap_s, not at the deadline"


def test_collect_needs_a_limit(channel: str) -> None:
    with can.Bus(interface="virtual", channel=channel) as bus:
        with pytest.raises(ValueError, match="duration_s or max_samples"):
            collect(bus)
        with pytest.raises(ValueError, match="max_samples"):
            collect(bus, max_samples=0)
