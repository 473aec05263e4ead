"""Frames from a log file or a live bus -> samples, one per battery broadcast cycle.

Grouping rule: a battery sends its frames as a burst once a second. A cycle is the run of decoded
battery frames until a frame id repeats, or until no battery frame arrived for `cycle_gap_s`
(0.5 s: shorter than the 1 s period, far longer than the few milliseconds between frames of a
burst). A cycle that contained 0x356 yields one sample stamped with the 0x356 timestamp, with
voltage, current and temperature from that 0x356, and SOC (0x355) and cell extremes (0x373) from
the latest such frame at cycle close, whether it came in this cycle or an earlier one, as long as
it is at most `stale_after_s` away from the 0x356. Order inside a burst therefore does not matter.
Cycles whose 0x356 has no valid voltage or current, or whose timestamp is not after the previous
sample's, are counted and dropped: the analytics require finite current and voltage and strictly
increasing time.
"""

from __future__ import annotations

import gzip
import logging
import math
import time
from collections.abc import Iterable, Iterator
from os import PathLike
from pathlib import Path

import can

from .codec import SignalValue, decode_message
from .errors import FrameDecodeError
from .ids import FrameId
from .samples import ReaderStats, Sample, SampleTable, to_table

logger = logging.getLogger(__name__)

DEFAULT_CYCLE_GAP_S = 0.5
DEFAULT_STALE_AFTER_S = 10.0

_CELL_SIGNALS = ("min_cell_v", "max_cell_v", "min_cell_temp_c", "max_cell_temp_c")


def _number(value: SignalValue) -> float:
    if value is None or isinstance(value, (bool, str)):
        return math.nan
    return float(value)


class CycleAssembler:
    """Feed frames in arrival order; get a Sample each time a cycle with a 0x356 closes."""

    def __init__(
        self,
        *,
        cycle_gap_s: float = DEFAULT_CYCLE_GAP_S,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
    ) -> None:
        if not cycle_gap_s > 0:
            raise ValueError(f"cycle_gap_s must be positive, got {cycle_gap_s}")
        if not stale_after_s >= 0:
            raise ValueError(f"stale_after_s must be zero or positive, got {stale_after_s}")
        self.cycle_gap_s = cycle_gap_s
        self.stale_after_s = stale_after_s
        self.stats = ReaderStats()
        self.saw_cell_extremes = False
        self._cycle_ids: set[int] = set()
        self._last_frame_at: float | None = None
        self._measurement: tuple[float, dict[str, SignalValue]] | None = None
        # signal -> (value, frame timestamp) of the newest 0x355 / 0x373 values
        self._latest: dict[str, tuple[float, float]] = {}
        self._last_sample_at: float | None = None

    @property
    def has_open_cycle(self) -> bool:
        return bool(self._cycle_ids)

    def feed(self, msg: can.Message) -> Sample | None:
        self.stats.frames += 1
        try:
            signals = decode_message(msg)
        except FrameDecodeError as error:
            self.stats.record_error(f"t={msg.timestamp:.6f} {error}")
            return None
        if signals is None or msg.arbitration_id == FrameId.INVERTER_KEEPALIVE:
            self.stats.ignored += 1
            return None
        self.stats.decoded += 1

        sample = None
        gap = (
            self._last_frame_at is not None
            and msg.timestamp - self._last_frame_at > self.cycle_gap_s
        )
        if msg.arbitration_id in self._cycle_ids or gap:
            sample = self.flush()
        self._cycle_ids.add(msg.arbitration_id)
        self._last_frame_at = msg.timestamp
        self._absorb(msg.arbitration_id, msg.timestamp, signals)
        return sample

    def flush(self) -> Sample | None:
        """Close the open cycle (end of a log, or an idle live bus)."""
        if not self._cycle_ids:
            return None
        measurement, self._measurement = self._measurement, None
        self._cycle_ids.clear()
        if measurement is None:
            self.stats.cycles_without_measurement += 1
            return None
        timestamp, values = measurement
        voltage, current = _number(values.get("voltage_v")), _number(values.get("current_a"))
        if math.isnan(voltage) or math.isnan(current):
            self.stats.invalid_measurements += 1
            return None
        # The analytics need strictly increasing time; merged logs can break that.
        if self._last_sample_at is not None and timestamp <= self._last_sample_at:
            self.stats.out_of_order += 1
            return None
        self._last_sample_at = timestamp
        return Sample(
            timestamp=timestamp,
            voltage_v=voltage,
            current_a=current,
            temperature_c=_number(values.get("temperature_c")),
            soc_pct=self._fresh("soc_pct", timestamp),
            **{name: self._fresh(name, timestamp) for name in _CELL_SIGNALS},
        )

    def _absorb(self, frame_id: int, timestamp: float, signals: dict[str, SignalValue]) -> None:
        if frame_id == FrameId.VOLTAGE_CURRENT_TEMPERATURE:
            self._measurement = (timestamp, signals)
        elif frame_id == FrameId.SOC_SOH:
            # The 0.01 % SOC where the battery sends one, else the 1 % SOC.
            soc_hr = signals.get("soc_hr_pct")
            soc = soc_hr if soc_hr is not None else signals.get("soc_pct")
            self._latest["soc_pct"] = (_number(soc), timestamp)
        elif frame_id == FrameId.CELL_EXTREMES:
            self.saw_cell_extremes = True
            for name in _CELL_SIGNALS:
                self._latest[name] = (_number(signals.get(name)), timestamp)

    def _fresh(self, name: str, at: float) -> float:
        value, seen_at = self._latest.get(name, (math.nan, math.nan))
        return value if abs(at - seen_at) <= self.stale_after_s else math.nan


def iter_samples(
    messages: Iterable[can.Message], assembler: CycleAssembler | None = None
) -> Iterator[Sample]:
    """Samples from frames in arrival order (a log file, a list); the last cycle is flushed at the end."""
    assembler = assembler if assembler is not None else CycleAssembler()
    for msg in messages:
        sample = assembler.feed(msg)
        if sample is not None:
            yield sample
    last = assembler.flush()
    if last is not None:
        yield last


def open_log(path: str | PathLike[str]) -> can.io.generic.MessageReader:
    """python-can's reader for the file type; ASC timestamps made absolute (Unix seconds)."""
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    if suffixes[-2:] == [".asc", ".gz"]:
        # can.LogReader does not pass reader options on for .gz files (python-can 4.6).
        return can.ASCReader(gzip.open(path, "rt"), relative_timestamp=False)
    if suffixes[-1:] == [".asc"]:
        return can.ASCReader(path, relative_timestamp=False)
    return can.LogReader(path)


def read_log(
    path: str | PathLike[str],
    *,
    cycle_gap_s: float = DEFAULT_CYCLE_GAP_S,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
) -> SampleTable:
    """Samples from a candump .log, ASC, BLF, TRC, CSV (anything `can.LogReader` reads).

    Cell extreme columns are present when the log has 0x373 frames. Frames that fail to decode are
    counted in `.stats` and logged, never raised.
    """
    assembler = CycleAssembler(cycle_gap_s=cycle_gap_s, stale_after_s=stale_after_s)
    with open_log(path) as reader:
        samples = list(iter_samples(reader, assembler))
    table = to_table(samples, assembler.stats, include_cells=assembler.saw_cell_extremes)
    _report(str(path), assembler.stats)
    return table


def iter_bus_samples(
    bus: can.BusABC,
    *,
    duration_s: float | None = None,
    max_samples: int | None = None,
    assembler: CycleAssembler | None = None,
) -> Iterator[Sample]:
    """Samples from a live bus until `duration_s` has passed or `max_samples` were produced.

    An open cycle is closed once no battery frame has arrived for `cycle_gap_s`, so a sample is
    ready about half a second after its burst instead of waiting for the next one.
    """
    _check_limits(duration_s, max_samples)
    assembler = assembler if assembler is not None else CycleAssembler()
    deadline = None if duration_s is None else time.monotonic() + duration_s
    produced = 0
    last_battery_frame_at = time.monotonic()

    def room() -> bool:
        return max_samples is None or produced < max_samples

    while room():
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            break
        timeout = assembler.cycle_gap_s / 2
        if deadline is not None:
            timeout = min(timeout, deadline - now)
        msg = bus.recv(timeout=timeout)
        sample = None
        if msg is not None:
            decoded_before = assembler.stats.decoded
            sample = assembler.feed(msg)
            if assembler.stats.decoded > decoded_before:
                last_battery_frame_at = time.monotonic()
        # Checked after every frame too: an inverter's keep-alives must not hold a cycle open.
        idle_s = time.monotonic() - last_battery_frame_at
        if sample is None and assembler.has_open_cycle and idle_s >= assembler.cycle_gap_s:
            sample = assembler.flush()
        if sample is not None:
            produced += 1
            yield sample
    if room():
        last = assembler.flush()
        if last is not None:
            yield last


def collect(
    bus: can.BusABC,
    *,
    duration_s: float | None = None,
    max_samples: int | None = None,
    cycle_gap_s: float = DEFAULT_CYCLE_GAP_S,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
) -> SampleTable:
    """Collect samples from a live bus (socketcan, virtual, ...) for a time and/or count limit."""
    assembler = CycleAssembler(cycle_gap_s=cycle_gap_s, stale_after_s=stale_after_s)
    samples = list(
        iter_bus_samples(bus, duration_s=duration_s, max_samples=max_samples, assembler=assembler)
    )
    table = to_table(samples, assembler.stats, include_cells=assembler.saw_cell_extremes)
    _report(f"bus {bus.channel_info}", assembler.stats)
    return table


def _check_limits(duration_s: float | None, max_samples: int | None) -> None:
    if duration_s is None and max_samples is None:
        raise ValueError("give duration_s or max_samples, or a live bus is read forever")
    if duration_s is not None and not duration_s > 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    if max_samples is not None and max_samples < 1:
        raise ValueError(f"max_samples must be at least 1, got {max_samples}")


def _report(source: str, stats: ReaderStats) -> None:
    if stats.malformed:
        first = stats.errors[0] if stats.errors else ""
        logger.warning(
            "%s: %d malformed frames skipped (first: %s)", source, stats.malformed, first
        )
    logger.debug("%s: %s", source, stats.summary())
