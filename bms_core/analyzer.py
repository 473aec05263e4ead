"""The incremental analysis: feed a history in batches of any size, report at any time.

``Analyzer.feed`` processes each batch once (vectorised) and keeps only small state: running
totals, latches, the rainflow residue, anchors and daily aggregates, and the last three
samples. ``to_state`` / ``from_state`` turn that state into a JSON-able dict and back, so a
service can persist it between batches. Feeding a history in pieces gives the same report as
feeding it whole (counts exactly, sums to floating point rounding).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from bms_core import alerts, performance
from bms_core.anchors import Anchor, AnchorDetector
from bms_core.block import Block, Sample, make_block
from bms_core.capacity import RATE_CORRECTION_HALF_WIDTH_PCT, CapacityEstimator
from bms_core.cellcapacity import CellCapacity
from bms_core.cellstats import CellStats
from bms_core.checks import ChemistryEvidence, SignEvidence
from bms_core.columns import (
    BMS_SOC,
    TEMPERATURE,
    History,
    cell_temperature_column,
    cell_voltage_column,
    format_time,
    validate,
)
from bms_core.efficiency import EfficiencyTracker, Mark, Totals
from bms_core.events import ExcursionCounter
from bms_core.options import AnalysisOptions
from bms_core.rainflow import RainflowCounter
from bms_core.resistance import ResistanceTracker
from bms_core.soc import SocBase, SocTracker
from bms_core.throughput import Throughput

STATE_VERSION = 1
# Rows processed at once: bounds the temporaries when a long history is fed in one call.
BLOCK_ROWS = 1 << 17


class Analyzer:
    """Incremental battery-history analysis; see :func:`bms_core.analyze` for the report."""

    def __init__(self, rated_capacity_ah: float, **options: Any) -> None:
        self.options = AnalysisOptions(rated_capacity_ah=rated_capacity_ah, **options)
        o = self.options
        self.layout: dict[str, Any] | None = None
        self.samples = 0
        self.first_time_s: float | None = None
        self.last_time_s: float | None = None
        self.bms_soc_last: float | None = None
        self.carried: tuple[Sample, ...] = ()
        self.throughput = Throughput(o.dead_band, o.high_temp_c, o.low_temp_c)
        self.deep = ExcursionCounter(o.min_cell_v, o.event_hysteresis_v, below=True)
        self.over = ExcursionCounter(o.max_cell_v, o.event_hysteresis_v, below=False)
        self.detector = AnchorDetector(o)
        self.capacity = CapacityEstimator(o)
        self.soc = SocTracker()
        self.rainflow = RainflowCounter(
            bin_width=o.cycle_bin_pct,
            n_bins=math.ceil(100.0 / o.cycle_bin_pct),
            min_depth=o.min_cycle_depth_pct,
        )
        self.resistance = ResistanceTracker(o)
        self.cells = CellStats(o.load_current, o.rest_current)
        self.sign = SignEvidence()
        self.chemistry = ChemistryEvidence()
        self.cell_capacity = CellCapacity()
        self.efficiency = EfficiencyTracker()
        self.missing_values: dict[str, int] = {}
        self.duplicates_dropped = 0

    # Feeding

    def feed(self, columns: Mapping[str, npt.ArrayLike] | History) -> Analyzer:
        """Analyse the next batch; it must start after the previous one ended."""
        history = columns if isinstance(columns, History) else validate(columns)
        if self.options.current_sign == -1:
            history = dataclasses.replace(history, current_a=-history.current_a)
        history = self._without_repeated_first_row(history)
        if len(history) == 0:
            return self
        self._check_layout(history)
        if self.last_time_s is not None and history.time_s[0] <= self.last_time_s:
            raise ValueError(
                f"column 'timestamp': batch starts at {format_time(float(history.time_s[0]))}, "
                f"not after the previous batch's end {format_time(self.last_time_s)}"
            )
        o = self.options
        last = self.carried[-1] if self.carried else None
        previous = None if last is None else (last.time_s, last.current_a, last.voltage_v)
        self.sign.check(history, o.step_min, o.step_max_dt_s, previous)
        for start in range(0, len(history), BLOCK_ROWS):
            self._process(history.slice(start, start + BLOCK_ROWS))
        for name, count in history.missing.items():
            self.missing_values[name] = self.missing_values.get(name, 0) + count
        self.duplicates_dropped += history.duplicates_dropped
        return self

    def _without_repeated_first_row(self, history: History) -> History:
        """A batch that starts by repeating the previous batch's last row loses that row."""
        if not self.carried or len(history) == 0:
            return history
        last = self.carried[-1]
        repeated = (
            history.time_s[0] == last.time_s
            and history.current_a[0] == last.current_a
            and history.voltage_v[0] == last.voltage_v
            and len(history.cell_v) == len(last.cells)
            and all(
                c[0] == v or (math.isnan(c[0]) and math.isnan(v))
                for c, v in zip(history.cell_v, last.cells, strict=True)
            )
        )
        if not repeated:
            return history
        trimmed = history.slice(1, len(history))
        return dataclasses.replace(trimmed, duplicates_dropped=history.duplicates_dropped + 1)

    def _check_layout(self, history: History) -> None:
        layout: dict[str, Any] = {
            "cells": len(history.cell_v),
            "cell_temperatures": len(history.cell_temp_c),
            "temperature": history.temperature_c is not None,
            "bms_soc": history.bms_soc_pct is not None,
            "extremes": sorted(history.extremes),
        }
        if self.layout is None:
            series = self.options.series_cells
            if layout["cells"] and series is not None and series != layout["cells"]:
                raise ValueError(
                    f"column '{cell_voltage_column(layout['cells'])}': {layout['cells']} cell "
                    f"columns but series_cells={series}"
                )
            if not layout["cells"] and series is None:
                raise ValueError(
                    "series_cells: required when the history has no cell_<k>_v columns "
                    "(cell-level limits are then judged on pack voltage / series_cells)"
                )
            self.layout = layout
            return
        if layout != self.layout:
            column = {
                "cells": cell_voltage_column(max(layout["cells"], self.layout["cells"]) or 1),
                "cell_temperatures": cell_temperature_column(
                    max(layout["cell_temperatures"], self.layout["cell_temperatures"]) or 1
                ),
                "temperature": TEMPERATURE,
                "bms_soc": BMS_SOC,
                "extremes": ", ".join(
                    sorted(set(layout["extremes"]) ^ set(self.layout["extremes"]))
                ),
            }[next(k for k in layout if layout[k] != self.layout[k])]
            raise ValueError(
                f"column '{column}': the batch has different columns than the first one"
            )

    @property
    def _series_cells(self) -> int:
        assert self.layout is not None
        return self.layout["cells"] or int(self.options.series_cells or 1)

    def _process(self, history: History) -> None:
        o = self.options
        block = make_block(
            history, self.carried, series_cells=self._series_cells, gap_limit_s=o.gap_limit_s
        )
        self.chemistry.check(
            o.chemistry, block.v_lo, block.v_hi, np.abs(block.current_a) <= o.rest_current
        )
        gaps_before = self.throughput.gaps
        totals_before = self.throughput.totals()
        counter, gap_count = self.throughput.update(block)
        gaps = gaps_before + gap_count
        self.soc.start(
            block, float(counter[0]), o.rated_capacity_ah, o.use_bms_soc_as_initial_guess
        )
        self.deep.update(block, block.v_lo)
        self.over.update(block, block.v_hi)

        rebases: list[tuple[int, SocBase]] = []
        detected_anchors = self.detector.detect(block, counter, gaps)
        self._mark_full_charges(block, detected_anchors, totals_before)
        rest = np.abs(block.current_a) <= o.rest_current
        self.efficiency.add_rest_currents(block.current_a[rest])
        for detected in detected_anchors:
            anchor = self.capacity.add(detected)
            self.cell_capacity.add(
                anchor, self.detector.ocv, self.capacity.learned_curve("rest_low")
            )
            estimate = self.capacity.estimate()
            capacity = estimate["value_ah"] or o.rated_capacity_ah
            offset = estimate["current_offset_a"] or 0.0
            rebases.append((anchor.index, SocTracker.base_at(anchor, capacity, offset)))
        soc = self.soc.trace(block, counter, gaps, rebases)
        # Samples inside the dead band only add sensor-noise wiggles to the SOC trace; the
        # SOC change they carry still shows at the next sample outside it.
        self.rainflow.add(soc[np.abs(block.current_a) >= o.dead_band])

        self.resistance.update(block)
        self.cells.update(block)
        self._remember(block)

    def _mark_full_charges(
        self, block: Block, anchors: list[Anchor], before: dict[str, float]
    ) -> None:
        full = [a for a in anchors if a.kind == "full" and a.index >= 0]
        if not full:
            return
        totals = self.throughput.totals_at(block, [a.index for a in full], before)
        for anchor, at in zip(full, totals, strict=True):
            self.efficiency.add_mark(
                Mark(anchor.time_s, anchor.gaps, Totals(net_ah=anchor.ah, **at)),
                self.options.closure_min_h,
            )

    def _remember(self, block: Block) -> None:
        self.carried = block.last_samples()
        if self.first_time_s is None:
            self.first_time_s = float(block.time_s[0])
        self.last_time_s = float(block.time_s[-1])
        self.samples += block.n
        if block.bms_soc_pct is not None:
            finite = np.flatnonzero(np.isfinite(block.bms_soc_pct))
            if finite.size:
                self.bms_soc_last = float(block.bms_soc_pct[finite[-1]])

    # Reporting

    def report(self) -> dict[str, Any]:
        """The analysis of everything fed so far, JSON-serialisable."""
        o = self.options
        t = self.throughput
        capacity = self.capacity
        provisional = self.detector.provisional()
        if provisional is not None:
            # The history ends in a long rest: use it as if it ended now, without keeping it.
            capacity = copy.deepcopy(self.capacity)
            provisional = capacity.add(provisional)
        estimate = capacity.estimate()
        capacity_ah = estimate.pop("capacity_ah")
        reason = estimate.pop("reason")
        estimate.pop("value_ah")
        uncertainty = estimate.pop("uncertainty", None)
        minutes = 1.0 / 60.0
        offset = estimate["current_offset_a"]
        totals = t.corrected(offset if offset is not None else 0.0)
        duration_s = (
            None
            if self.first_time_s is None or self.last_time_s is None
            else self.last_time_s - self.first_time_s
        )
        efc = totals["discharge_ah"] / o.rated_capacity_ah
        report: dict[str, Any] = {
            "samples": self.samples,
            "start": None if self.first_time_s is None else format_time(self.first_time_s),
            "end": None if self.last_time_s is None else format_time(self.last_time_s),
            "duration_s": duration_s,
            "missing_s": t.missing_s,
            "gaps": t.gaps,
            "cells": self.layout["cells"] if self.layout else None,
            "missing_values": dict(sorted(self.missing_values.items())),
            "duplicate_rows_dropped": self.duplicates_dropped,
            "current_sign": {"option": o.current_sign, **self.sign.report()},
            "chemistry": o.chemistry,
            "temperature_coverage": self._temperature_coverage(),
            "charge_throughput_ah": totals["charge_ah"],
            "discharge_throughput_ah": totals["discharge_ah"],
            "energy_charged_kwh": totals["charge_wh"] / 1000.0,
            "energy_discharged_kwh": totals["discharge_wh"] / 1000.0,
            "throughput_offset_corrected_a": offset,
            "throughput_measured": {
                "charge_ah": t.charge_ah,
                "discharge_ah": t.discharge_ah,
                "energy_charged_kwh": t.charge_wh / 1000.0,
                "energy_discharged_kwh": t.discharge_wh / 1000.0,
            },
            "equivalent_full_cycles": efc,
            "cycle_depth_histogram": self._cycle_histogram(),
            **self._soc_report(provisional),
            "capacity_ah": capacity_ah,
            "capacity_retention_pct": None
            if capacity_ah is None
            else 100.0 * capacity_ah / o.rated_capacity_ah,
            "capacity_reason": reason,
            "capacity_as_of": None
            if estimate.get("as_of_s") is None
            else format_time(estimate.pop("as_of_s")),
            "capacity_detail": self._times(estimate),
            **self._capacity_extras(capacity, capacity_ah, uncertainty, offset, efc, duration_s),
            "current_offset_a": estimate["current_offset_a"],
            "resistance_mohm": self.resistance.report(),
            "deep_discharge_events": self.deep.count,
            "overvoltage_events": self.over.count,
            "events": {
                "deep_discharge": [self._times(e) for e in self.deep.events],
                "overvoltage": [self._times(e) for e in self.over.events],
            },
            "time_above_high_temp_min": t.above_high_s * minutes,
            "time_below_low_temp_min": t.below_low_s * minutes,
            "time_charging_above_high_temp_min": t.charging_above_high_s * minutes,
            "time_charging_below_low_temp_min": t.charging_below_low_s * minutes,
            "temperature_max_c": t.temp_max_c,
            "temperature_min_c": t.temp_min_c,
            "anchors": dict(self.detector.counts),
        }
        cells = self.cells.report()
        report["cell_spread_mv"] = cells["voltage_spread_mv"]
        report["temperature_spread_c"] = cells["temperature_spread_c"]
        report["lowest_cell"] = cells["lowest_cell"]
        report["lowest_cell_share"] = cells["lowest_cell_share"]
        report["cell_capacity"] = self.cell_capacity.report()
        report.update(self._annex_vii(report))
        report["alerts"] = (
            alerts.capacity_cell_alerts(self.cell_capacity, o)
            + alerts.resistance_alerts(self.resistance, o)
            + alerts.load_alerts(self.cells, o)
            + alerts.temperature_alerts(self.cells, o)
            + alerts.event_alerts(report, o)
            + alerts.capacity_alerts(report)
        )
        report["options"] = o.to_dict()
        return _jsonable(report)

    def _annex_vii(self, report: dict[str, Any]) -> dict[str, Any]:
        """Resistance at 25 degC, power capability and usable energy (Annex VII point 4)."""
        o = self.options
        series = self._series_cells if self.layout is not None else int(o.series_cells or 1)
        resistance = performance.resistance_at_reference(self.resistance.all_days())
        power = performance.power_capability(o, series, resistance)
        energy = performance.usable_energy(
            o,
            series,
            report["capacity_rated_basis_ah"],
            report["capacity_rated_basis_interval_ah"],
            resistance,
        )
        resistance = {k: v for k, v in resistance.items() if not k.startswith("_")}
        offset = report["current_offset_a"]
        offset_sigma = (0.0005 if offset is not None else 0.002) * o.rated_capacity_ah
        return {
            "resistance_25c_mohm": resistance,
            "power_capability_w": power,
            "usable_energy_kwh": energy,
            "round_trip_efficiency": self.efficiency.efficiency(o, series, offset, offset_sigma),
            "self_discharge": self.efficiency.self_discharge(o),
        }

    def _capacity_extras(
        self,
        capacity: CapacityEstimator,
        capacity_ah: float | None,
        uncertainty: dict[str, Any] | None,
        offset: float | None,
        efc: float,
        duration_s: float | None,
    ) -> dict[str, Any]:
        """The capacity's interval, its rated-basis value and its trend."""
        o = self.options
        out: dict[str, Any] = {
            "capacity_interval_ah": None,
            "capacity_uncertainty": uncertainty,
            "capacity_rated_basis_ah": None,
            "capacity_rated_basis_interval_ah": None,
            "capacity_conditions": None,
            "capacity_trend": None,
        }
        if uncertainty is not None:
            out["capacity_interval_ah"] = uncertainty.pop("interval_ah")
            correction = o.capacity_rate_correction_pct or 0.0
            factor = 1.0 - correction / 100.0
            out["capacity_conditions"] = {
                "measured": "equilibrium capacity between anchors (rests, end of CV charge)",
                "temperature_c": uncertainty["temperature_c"],
                "rated_definition": "C/5 discharge at 25 degC (IEC 62620)",
                "rate_correction_pct": correction,
            }
            if capacity_ah is not None:
                half = 0.01 * math.hypot(
                    uncertainty["half_width_pct"], RATE_CORRECTION_HALF_WIDTH_PCT
                )
                rated_basis = capacity_ah * factor
                out["capacity_rated_basis_ah"] = rated_basis
                out["capacity_rated_basis_interval_ah"] = [
                    rated_basis * (1 - half),
                    rated_basis * (1 + half),
                ]
        trend = capacity.trend(offset or 0.0)
        if trend is not None and duration_s:
            days = duration_s / 86400.0
            per_day = trend.pop("ah_per_day")
            low, high = trend.pop("ah_per_day_interval")
            efc_per_day = efc / days if days > 0 else 0.0
            trend["ah_per_year"] = 365.25 * per_day
            trend["ah_per_year_interval"] = [365.25 * low, 365.25 * high]
            trend["pct_of_rated_per_year"] = 100.0 * 365.25 * per_day / o.rated_capacity_ah
            if efc_per_day > 0:
                trend["ah_per_100_efc"] = 100.0 * per_day / efc_per_day
                trend["ah_per_100_efc_interval"] = [
                    100.0 * low / efc_per_day,
                    100.0 * high / efc_per_day,
                ]
            else:
                trend["ah_per_100_efc"] = trend["ah_per_100_efc_interval"] = None
            out["capacity_trend"] = trend
        return out

    def _temperature_coverage(self) -> dict[str, Any] | None:
        """How many cells the temperature data speak for, so that time-at-temperature
        figures can be read as what was measured, not what every cell saw."""
        if self.layout is None:
            return None
        cells = self._series_cells
        probes = self.layout["cell_temperatures"]
        pack_sensor = self.layout["temperature"]
        extremes = any(name.endswith("temp_c") for name in self.layout["extremes"])
        if probes >= cells or extremes:
            covered, note = (
                cells,
                (
                    "every cell has a probe"
                    if probes >= cells
                    else "the BMS reports the extreme cell temperatures"
                ),
            )
        else:
            covered = probes
            note = (
                f"{probes} cell probe(s) for {cells} cells"
                + (" plus a pack sensor" if pack_sensor else "")
                + ": times at extreme temperature count what the probes saw; unprobed cells "
                "may have been colder or hotter for longer"
            )
        return {
            "cells": cells,
            "cell_probes": probes,
            "pack_sensor": pack_sensor,
            "cells_covered": covered,
            "share_covered": covered / cells if cells else None,
            "note": note,
        }

    def _cycle_histogram(self) -> dict[str, Any]:
        histogram = self.rainflow.histogram
        half, half_below = histogram.bin_counts(self.rainflow.half_cycle_depths())
        width = histogram.bin_width
        return {
            "bin_edges_pct": [width * k for k in range(histogram.n_bins + 1)],
            "full_cycles": list(histogram.full),
            "half_cycles": half.tolist(),
            "cycles": [f + 0.5 * h for f, h in zip(histogram.full, half.tolist(), strict=True)],
            "min_depth_pct": histogram.min_depth,
            "full_cycles_below_min_depth": histogram.below_min_depth,
            "half_cycles_below_min_depth": half_below,
        }

    def _soc_report(self, provisional: Any) -> dict[str, Any]:
        base = self.soc.base
        soc = self.soc.last_soc_pct
        if provisional is not None:
            kind, source_time, source_soc, soc = (
                provisional.kind,
                provisional.time_s,
                provisional.soc_pct,
                provisional.soc_pct,
            )
            gap_since = False
        elif base is not None:
            kind, source_time, source_soc = base.source, base.time_s, base.soc_pct
            gap_since = self.soc.last_gaps > base.gaps
        else:
            return {"soc_pct": None, "soc_source": None, "bms_soc_pct": self.bms_soc_last}
        source = {
            "kind": kind,
            "time": format_time(source_time),
            "soc_pct_at_source": source_soc,
            "hours_since": None
            if self.last_time_s is None
            else (self.last_time_s - source_time) / 3600.0,
            "data_gap_since": gap_since,
        }
        if kind == "unknown" or soc is None:
            source["reason"] = (
                "no anchor of known SOC yet and no BMS soc_pct to start from: only SOC swings "
                "(cycle depths) are known"
            )
            soc_value = None
        elif gap_since:
            # The charge that flowed during the gap is unknown: no value until the next anchor.
            source["reason"] = "a data gap since the last anchor: SOC unknown until the next one"
            soc_value = None
        else:
            soc_value = min(100.0, max(0.0, soc))
        return {"soc_pct": soc_value, "soc_source": source, "bms_soc_pct": self.bms_soc_last}

    @staticmethod
    def _times(record: dict[str, Any]) -> dict[str, Any]:
        """A copy with ``*time*`` / ``start`` / ``end`` seconds as ISO strings."""
        out = dict(record)
        for key in ("start", "end", "time_s"):
            if key in out and isinstance(out[key], float):
                out[key.removesuffix("_s") if key == "time_s" else key] = format_time(out.pop(key))
        if "pairs" in out:
            out["pairs"] = [Analyzer._times(p) for p in out["pairs"]]
        return out

    # State

    def to_state(self) -> dict[str, Any]:
        """Everything needed to continue later, as a JSON-able dict."""
        return _jsonable(
            {
                "version": STATE_VERSION,
                "options": self.options.to_dict(),
                "layout": self.layout,
                "samples": self.samples,
                "first_time_s": self.first_time_s,
                "last_time_s": self.last_time_s,
                "bms_soc_last": self.bms_soc_last,
                "carried": [s.to_state() for s in self.carried],
                "throughput": self.throughput.to_state(),
                "deep": self.deep.to_state(),
                "over": self.over.to_state(),
                "detector": self.detector.to_state(),
                "capacity": self.capacity.to_state(),
                "soc": self.soc.to_state(),
                "rainflow": self.rainflow.to_state(),
                "resistance": self.resistance.to_state(),
                "cells": self.cells.to_state(),
                "sign": self.sign.to_state(),
                "chemistry": self.chemistry.to_state(),
                "cell_capacity": self.cell_capacity.to_state(),
                "efficiency": self.efficiency.to_state(),
                "missing_values": dict(self.missing_values),
                "duplicates_dropped": self.duplicates_dropped,
            }
        )

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Analyzer:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"state version {state.get('version')!r} is not {STATE_VERSION}")
        analyzer = cls.__new__(cls)
        o = AnalysisOptions.from_dict(state["options"])
        analyzer.options = o
        analyzer.layout = state["layout"]
        analyzer.samples = state["samples"]
        analyzer.first_time_s = state["first_time_s"]
        analyzer.last_time_s = state["last_time_s"]
        analyzer.bms_soc_last = state["bms_soc_last"]
        analyzer.carried = tuple(Sample.from_state(s) for s in state["carried"])
        analyzer.throughput = Throughput.from_state(state["throughput"])
        analyzer.deep = ExcursionCounter.from_state(state["deep"])
        analyzer.over = ExcursionCounter.from_state(state["over"])
        analyzer.detector = AnchorDetector.from_state(o, state["detector"])
        analyzer.capacity = CapacityEstimator.from_state(o, state["capacity"])
        analyzer.soc = SocTracker.from_state(state["soc"])
        analyzer.rainflow = RainflowCounter.from_state(state["rainflow"])
        analyzer.resistance = ResistanceTracker.from_state(o, state["resistance"])
        analyzer.cells = CellStats.from_state(o.load_current, o.rest_current, state["cells"])
        # Parts added after version 1 was written start empty when a version 1 state has none.
        analyzer.sign = SignEvidence.from_state(state.get("sign"))
        analyzer.chemistry = ChemistryEvidence.from_state(state.get("chemistry"))
        analyzer.cell_capacity = CellCapacity.from_state(state.get("cell_capacity"))
        analyzer.efficiency = EfficiencyTracker.from_state(state.get("efficiency"))
        analyzer.missing_values = dict(state.get("missing_values", {}))
        analyzer.duplicates_dropped = int(state.get("duplicates_dropped", 0))
        return analyzer


def _jsonable(value: Any) -> Any:
    """Plain Python types only; NaN and infinities (no JSON for them) become None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def analyze(columns: Mapping[str, npt.ArrayLike], **options: Any) -> dict[str, Any]:
    """Analyse a whole history in one pass; ``rated_capacity_ah`` is required.

    The same as ``Analyzer(**options).feed(columns).report()``; see docs/analytics.md for
    every key of the report and the options.
    """
    if "rated_capacity_ah" not in options:
        raise TypeError("analyze() needs rated_capacity_ah")
    analyzer = Analyzer(**options).feed(columns)
    if analyzer.samples == 0:
        raise ValueError("column 'timestamp': the history has no rows, nothing to analyse")
    return analyzer.report()
