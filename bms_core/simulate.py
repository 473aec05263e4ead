"""Synthetic LFP home-storage histories with their ground truth.

A 16s LFP pack in a house with PV: midday PV charging, evening and night discharge, rests
when the battery is full or down to the inverter's minimum SOC, a grid full charge when none
happened for ten days, cold snaps in winter and hot days in summer, and now and then a night
in backup mode that runs the battery down to the BMS's low-voltage protection.

The physics, per cell: capacity with calendar and cycle fade, an OCV curve of its own (a
different LFP curve from the analysis's generic table, on purpose), a little hysteresis,
ohmic resistance that follows temperature (Arrhenius-like) plus two RC polarisation branches,
and self-heating. One weak cell (unless ``weak_cell=None``) loses capacity and gains
resistance over the first weeks. The pack is top-balanced: every full charge brings each cell
to 100 %, so the weak cell is the one that empties first and limits the pack.

The sensors add noise, quantisation and a small current offset (and, on request, a gain
error); the BMS reports its own coulomb-counted SOC (nominal capacity, reset at full charge),
which drifts. Samples are jittered and a few gaps are cut out.

On request the simulation also has what field data have and the analysis must cope with: a
self-discharge (a leakage current inside the cells that the current sensor does not see), a
cell OCV curve lying lower at low SOC than the analysis's generic table (``ocv_low_shift_v``,
the worst case of real LFP cells), an NMC pack (``chemistry="NMC"``: its own sloped OCV curve,
4.2 V charge, 3.2 V soft cut-off), and the truth of what the analysis estimates beyond
capacity: the round-trip energy efficiency between full charges and the self-discharge rate.

The inverter and BMS decisions (charge, CV taper, holds, protection) run in a loop over
30-second control steps; everything per sample is computed vectorised, one day at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from bms_core.columns import cell_temperature_column, cell_voltage_column, parse_timestamps
from bms_core.integrate import split_trapezoid
from bms_core.latch import latch, onsets

FloatArray = npt.NDArray[np.float64]

CONTROL_S = 30.0
STEPS_PER_DAY = int(86400 / CONTROL_S)
SECONDS_PER_DAY = 86400.0
KELVIN = 273.15

# The "truth" uses the analysis's own default rules where a rule is needed to count something
# (an excursion, a gap, charging), so that truth and report measure the same thing.
TRUTH_GAP_LIMIT_S = 300.0
TRUTH_HYSTERESIS_V = 0.1
TRUTH_LOW_TEMP_C = 0.0
TRUTH_HIGH_TEMP_C = 45.0


def cell_ocv(soc: npt.ArrayLike, chemistry: str = "LFP", low_shift_v: float = 0.0) -> FloatArray:
    """Open-circuit voltage of the simulated cell (a different curve from the analysis's table).

    ``low_shift_v`` lowers the curve towards empty (by the full amount at 0 %, a third of it
    at 15 %, nothing on the plateau), as cells of other makers lie below a generic table.
    """
    s = np.asarray(soc, dtype=np.float64)
    if chemistry == "NMC":
        # Fitted to an NMC/graphite curve 10-25 mV off the analysis's NMC table.
        return 3.5326 + 0.4242 * s + 0.2505 * s**2 - 0.0118 * s**3 - 0.5214 * np.exp(-s / 0.03)
    return (
        3.265
        + 0.072 * s
        - 0.40 * np.exp(-s / 0.012)
        - 0.24 * np.exp(-s / 0.055)
        + 0.16 * np.exp((s - 1.0) / 0.021)
        - low_shift_v * np.exp(-np.clip(s, 0.0, None) / 0.14)
    )


# Per chemistry: the simulated BMS's soft cut-off under load, its hard protection, the charge
# voltage a cell overshoots to at worst, and the analysis's event limits used by the truth.
SIM_CHEMISTRY = {
    "LFP": {"soft_cutoff_v": 2.85, "protection_v": 2.5, "min_cell_v": 2.5, "max_cell_v": 3.65},
    "NMC": {"soft_cutoff_v": 3.2, "protection_v": 2.9, "min_cell_v": 2.5, "max_cell_v": 4.25},
}


def _hysteresis_v(soc: FloatArray) -> FloatArray:
    """Half-width of the charge/discharge OCV hysteresis, smallest on the knees."""
    return (
        0.008
        * (1.0 - np.exp(-np.clip(soc, 0, 1) / 0.1))
        * (1.0 - np.exp(-np.clip(1 - soc, 0, 1) / 0.05))
    )


def resistance_temperature_factor(temp_c: npt.ArrayLike) -> FloatArray:
    """Resistance relative to 25 degC: doubles by about 3 degC, halves by about 45 degC."""
    kelvin = np.asarray(temp_c, dtype=np.float64) + KELVIN
    return np.exp(3000.0 * (1.0 / kelvin - 1.0 / (25.0 + KELVIN)))


@dataclass
class _Pack:
    """Cell parameters drawn once per simulation."""

    capacity0_ah: FloatArray
    r0_ohm: FloatArray
    temp_offset_c: FloatArray
    weak: tuple[int, ...]  # 0-based
    weak_capacity_loss: float = 0.08
    weak_capacity_tau_d: float = 20.0
    weak_resistance_rise: float = 0.8
    weak_resistance_tau_d: float = 25.0
    calendar_fade_per_day: float = 6e-5
    cycle_fade_per_efc: float = 4e-5
    resistance_growth_per_day: float = 2e-4
    interconnect_ohm: float = 0.002

    def capacity(self, day: float, efc: float) -> FloatArray:
        healthy = self.capacity0_ah * (
            1.0 - self.calendar_fade_per_day * day - self.cycle_fade_per_efc * efc
        )
        loss = self.weak_capacity_loss * (1.0 - math.exp(-day / self.weak_capacity_tau_d))
        for weak in self.weak:
            healthy[weak] *= 1.0 - loss
        return healthy

    def resistance_growth(self, day: float) -> FloatArray:
        growth = np.full(self.r0_ohm.size, 1.0 + self.resistance_growth_per_day * day)
        for weak in self.weak:
            growth[weak] *= 1.0 + self.weak_resistance_rise * (
                1.0 - math.exp(-day / self.weak_resistance_tau_d)
            )
        return growth


@dataclass
class _DayPlan:
    start_s: float
    pv_w: FloatArray
    load_w: FloatArray
    ambient_base_c: float
    backup_night: bool


@dataclass
class _Control:
    """Per control step: true current, deficit at the step's start and flags."""

    current_a: FloatArray
    deficit_ah: FloatArray  # Ah below full at the start of the step (same for every cell)
    bms_soc: FloatArray
    full_end: npt.NDArray[np.bool_]  # a full charge completes at the end of this step
    overshoot_cell: npt.NDArray[np.int64]  # cell (0-based) pushed above its limit, -1 none
    efc_at_day_start: list[float] = field(default_factory=list)
    trips: int = 0
    backup_nights: int = 0


@dataclass(frozen=True)
class SimulationSettings:
    days: int = 30
    seed: int = 0
    sample_s: float = 10.0
    cells: int = 16
    capacity_ah: float = 100.0
    start: str = "2024-01-08T00:00:00Z"
    weak_cell: int | tuple[int, ...] | None | Literal["random"] = "random"
    weak_resistance_rise: float = 0.8  # relative; 0: the weak cell(s) lose capacity only
    gaps: bool = True
    min_soc_pct: float = 10.0
    force_full_days: float = 10.0
    current_offset_a: float | None = None  # default drawn: about 0.08 % of 1 C
    harmful_events: bool = True  # backup nights down to the protection, charge overshoots
    chemistry: str = "LFP"
    current_gain: float = 1.0  # the sensor reads current_gain x the true current (+ offset)
    self_discharge_pct_month: float = 0.0  # leakage inside the cells, unseen by the sensor
    ocv_low_shift_v: float = 0.0
    capacity_spread: float = 0.004  # relative cell-to-cell capacity sigma
    resistance_spread: float = 0.05  # relative cell-to-cell resistance sigma


class _Simulator:
    def __init__(self, settings: SimulationSettings) -> None:
        if settings.days < 1:
            raise ValueError("days: at least 1")
        if settings.sample_s <= 0 or settings.sample_s > CONTROL_S:
            raise ValueError(f"sample_s: between 0 and {CONTROL_S:g} seconds")
        self.s = settings
        self.rng = np.random.default_rng(settings.seed)
        n = settings.cells
        cap = settings.capacity_ah
        weak = settings.weak_cell
        if weak == "random":
            weak_index: tuple[int, ...] = (int(self.rng.integers(n)),)
        elif weak is None:
            weak_index = ()
        else:
            cells = (weak,) if isinstance(weak, int) else tuple(weak)
            if not all(1 <= w <= n for w in cells):
                raise ValueError(f"weak_cell: between 1 and {n}")
            weak_index = tuple(w - 1 for w in cells)
        if settings.chemistry not in SIM_CHEMISTRY:
            raise ValueError(f"chemistry: one of {', '.join(SIM_CHEMISTRY)}")
        self.limits = SIM_CHEMISTRY[settings.chemistry]
        self.leak_a = cap * settings.self_discharge_pct_month / 100.0 / (30.0 * 24.0)
        self.pack = _Pack(
            capacity0_ah=cap * (1.01 + settings.capacity_spread * self.rng.standard_normal(n)),
            r0_ohm=(0.045 / cap) * (1.0 + settings.resistance_spread * self.rng.standard_normal(n)),
            temp_offset_c=0.8 * self.rng.standard_normal(n),
            weak=weak_index,
            weak_resistance_rise=settings.weak_resistance_rise,
        )
        self.offset_a = (
            settings.current_offset_a
            if settings.current_offset_a is not None
            else cap * (0.0008 + 0.0003 * self.rng.standard_normal())
        )
        self.t0 = float(parse_timestamps([settings.start])[0])
        self.plans = [self._plan_day(d) for d in range(settings.days)]
        self.control = self._run_control()

    # Days: weather and household

    def _plan_day(self, day: int) -> _DayPlan:
        rng = self.rng
        start_s = self.t0 + day * SECONDS_PER_DAY
        doy = datetime.fromtimestamp(start_s, tz=UTC).timetuple().tm_yday
        season = 0.5 - 0.5 * math.cos(2 * math.pi * (doy + 10) / 365.0)  # 0 midwinter, 1 midsummer
        hours = np.arange(STEPS_PER_DAY) * CONTROL_S / 3600.0

        day_length = 8.5 + 7.5 * season
        sunrise = 12.75 - day_length / 2
        phase = np.clip((hours - sunrise) / day_length, 0.0, 1.0)
        clear_sky = np.sin(np.pi * phase) ** 1.3
        clearness = 0.15 + 0.85 * rng.beta(2.0, 1.5)
        flicker = np.repeat(1.0 - (1.0 - clearness) * rng.uniform(0, 1.6, STEPS_PER_DAY // 10), 10)
        pv = 5000.0 * (0.30 + 0.70 * season) * clear_sky * np.clip(flicker, 0.05, 1.0)

        load = np.full(STEPS_PER_DAY, 260.0 + 40.0 * rng.standard_normal())
        fridge = (np.arange(STEPS_PER_DAY) % 90) < 30
        load += 120.0 * fridge

        def add(start_h: float, minutes: float, watts: float) -> None:
            a = int(start_h * 3600 / CONTROL_S)
            b = a + max(1, int(minutes * 60 / CONTROL_S))
            load[a % STEPS_PER_DAY : min(b, STEPS_PER_DAY)] += watts

        add(rng.uniform(6.3, 7.2), rng.uniform(20, 60), rng.uniform(300, 900))
        add(rng.uniform(17.3, 18.5), rng.uniform(20, 45), rng.uniform(1500, 2500))
        add(18.5, 240, 150.0)
        for _ in range(rng.integers(2, 5)):
            add(rng.uniform(7.0, 21.5), 3, 2000.0)
        if rng.random() < 0.4:
            add(rng.uniform(9.0, 19.0), rng.uniform(15, 30), 2000.0)

        base = 14.0 - 9.0 * math.cos(2 * math.pi * (doy - 20) / 365.0) + 1.5 * rng.standard_normal()
        if base < 9.0 and rng.random() < 0.2:
            base -= 10.0  # cold snap in an unheated garage
        elif base > 18.0 and rng.random() < 0.12:
            base += 19.0  # heat wave
        backup = self.s.harmful_events and rng.random() < 0.05
        return _DayPlan(start_s, pv, load, base, backup_night=backup)

    # Inverter and BMS decisions, one 30 s step at a time

    def _run_control(self) -> _Control:
        s = self.s
        pack = self.pack
        n_steps = s.days * STEPS_PER_DAY
        c_rate = s.capacity_ah
        v_nominal = 3.3 * s.cells
        i_max = min(3000.0 / v_nominal, 0.5 * c_rate)
        tail = 0.03 * c_rate
        forced_rate = 0.3 * c_rate
        efficiency = 0.998
        h = CONTROL_S / 3600.0

        current = np.zeros(n_steps)
        deficit = np.zeros(n_steps)
        bms = np.zeros(n_steps)
        full_end = np.zeros(n_steps, dtype=bool)
        overshoot = np.full(n_steps, -1, dtype=np.int64)
        control = _Control(current, deficit, bms, full_end, overshoot)

        d = 0.3 * c_rate * self.rng.uniform(0.5, 1.5)  # start somewhere in the middle
        bms_soc = 100.0 * (1.0 - d / c_rate) + 3.0 * self.rng.standard_normal()
        hold_empty = hold_full = forced = tripped = False
        steps_since_full = 0
        efc = 0.0
        for day, plan in enumerate(self.plans):
            control.efc_at_day_start.append(efc)
            capacity = pack.capacity(day, efc)
            weak = int(np.argmin(capacity))
            q_weak = float(capacity[weak])
            d_cv = 0.025 * q_weak
            tau_h = d_cv / i_max
            # Weak cell's resistance with both RC branches settled, for the protection check.
            r_weak = float(pack.r0_ohm[weak] * pack.resistance_growth(day)[weak]) * 1.9
            backup = plan.backup_night
            control.backup_nights += int(backup)
            net = plan.pv_w - plan.load_w
            for k in range(STEPS_PER_DAY):
                m = day * STEPS_PER_DAY + k
                hour = k * CONTROL_S / 3600.0
                night = hour >= 20.0 or hour < 6.0
                if (
                    hour >= 22.0
                    and steps_since_full * CONTROL_S >= s.force_full_days * SECONDS_PER_DAY
                ):
                    forced = True
                command = forced_rate if forced else max(-i_max, min(i_max, net[k] / v_nominal))
                if command < 0:
                    # In backup mode the inverter ignores its minimum SOC; the BMS does not.
                    blocked = tripped or (hold_empty and not (backup and night))
                    i = 0.0 if blocked else command
                elif hold_full:
                    i = 0.0
                else:
                    i = command
                    if d <= d_cv:
                        limit = d / tau_h
                        if limit < tail:
                            # CV charge complete: the BMS balances every cell to full.
                            i = max(0.0, min(i, limit))
                            full_end[m] = True
                        else:
                            i = min(i, limit)
                current[m] = i
                deficit[m] = d
                bms[m] = bms_soc
                d -= (efficiency * i if i > 0 else i) * h
                d += self.leak_a * h
                bms_soc = min(100.0, max(0.0, bms_soc + 100.0 * (i + self.offset_a) * h / c_rate))
                if i < 0:
                    efc -= i * h / c_rate
                if full_end[m]:
                    if s.harmful_events and self.rng.random() < 0.15:
                        # An unbalanced cell runs ahead at the end of the charge.
                        overshoot[max(0, m - 3) : m + 1] = weak
                    d = 0.0
                    bms_soc = 100.0
                    hold_full, forced = True, False
                    steps_since_full = 0
                else:
                    steps_since_full += 1
                if i < 0 and bms_soc <= s.min_soc_pct:
                    hold_empty = True
                soc_weak = 1.0 - d / q_weak
                if i < 0 and soc_weak < 0.03:
                    loaded_v = float(self._ocv(soc_weak)) + i * r_weak
                    if loaded_v < self.limits["soft_cutoff_v"] and not (backup and night):
                        # The BMS asks the inverter to stop and recalibrates its SOC.
                        hold_empty = True
                        bms_soc = min(bms_soc, s.min_soc_pct)
                    if loaded_v < self.limits["protection_v"] or soc_weak < -0.004:
                        tripped = True  # BMS low-voltage protection
                        control.trips += 1
                if i > 0:
                    if tripped and soc_weak >= 0.05:
                        tripped = False
                    if hold_empty and bms_soc >= s.min_soc_pct + 3.0:
                        hold_empty = False
                if hold_full and bms_soc < 96.0:
                    hold_full = False
                d = max(d, 0.0)
        return control

    def _ocv(self, soc: npt.ArrayLike) -> FloatArray:
        return cell_ocv(soc, self.s.chemistry, self.s.ocv_low_shift_v)

    # Samples, one day at a time

    def days(self) -> Iterator[tuple[dict[str, FloatArray], dict[str, FloatArray]]]:
        """Per day: (measured columns, true per-sample values used for the truth)."""
        rc1 = np.zeros(self.s.cells)
        rc2 = np.zeros(self.s.cells)
        direction = -1.0
        for day, plan in enumerate(self.plans):
            measured, true, rc1, rc2, direction = self._day(day, plan, rc1, rc2, direction)
            yield measured, true

    def _sample_times(self, plan: _DayPlan) -> FloatArray:
        s = self.s
        rng = self.rng
        n = int(round(SECONDS_PER_DAY / s.sample_s))
        jitter = rng.uniform(-0.15, 0.15, n) * s.sample_s if s.sample_s >= 1.0 else np.zeros(n)
        t = plan.start_s + np.arange(n) * s.sample_s + jitter
        t[0] = max(t[0], plan.start_s)
        if s.gaps:
            keep = np.ones(n, dtype=bool)
            if rng.random() < 0.08:  # communication loss: not integrated, reported missing
                a = rng.integers(n)
                keep[a : a + int(rng.uniform(600, 5400) / s.sample_s)] = False
            if rng.random() < 0.2:  # short dropout below the gap limit
                a = rng.integers(n)
                keep[a : a + int(rng.uniform(60, 200) / s.sample_s)] = False
            t = t[keep]
        return t

    def _day(
        self, day: int, plan: _DayPlan, rc1: FloatArray, rc2: FloatArray, direction: float
    ) -> tuple[dict[str, FloatArray], dict[str, FloatArray], FloatArray, FloatArray, float]:
        s = self.s
        pack = self.pack
        rng = self.rng
        c = self.control
        first, last = day * STEPS_PER_DAY, (day + 1) * STEPS_PER_DAY
        step_current = c.current_a[first:last]

        # Per control step: temperatures, resistances and the RC branches at step starts.
        hours = np.arange(STEPS_PER_DAY) * CONTROL_S / 3600.0
        ambient = plan.ambient_base_c + 2.5 * np.sin(2 * np.pi * (hours - 9.0) / 24.0)
        heat_window = 40
        squared = np.concatenate((np.zeros(heat_window), step_current**2))
        running = np.cumsum(squared)
        heating = (running[heat_window:] - running[:-heat_window]) / heat_window
        step_temp = (
            ambient[:, None]
            + pack.temp_offset_c[None, :]
            + (3.0 / (0.5 * s.capacity_ah) ** 2) * heating[:, None]
        )
        capacity = pack.capacity(day, c.efc_at_day_start[day])
        growth = pack.resistance_growth(day)
        step_soc = 1.0 - c.deficit_ah[first:last, None] / capacity[None, :]
        step_r0 = pack.r0_ohm[None, :] * growth[None, :] * resistance_temperature_factor(step_temp)
        step_r1 = 0.3 * step_r0
        step_r2 = 0.6 * step_r0 * (1.0 + 3.0 * np.exp(-np.clip(step_soc, 0, 1) / 0.05))
        u1, rc1_next = _first_order(step_r1 * step_current[:, None], 40.0, rc1)
        u2, rc2_next = _first_order(step_r2 * step_current[:, None], 900.0, rc2)

        # Per sample.
        t = self._sample_times(plan)
        m = np.minimum(((t - plan.start_s) // CONTROL_S).astype(np.int64), STEPS_PER_DAY - 1)
        into = t - (plan.start_s + m * CONTROL_S)
        current = step_current[m]
        stored = np.where(current > 0, 0.998 * current, current)
        deficit = c.deficit_ah[first + m] - stored * into / 3600.0 + self.leak_a * into / 3600.0
        soc = 1.0 - deficit[:, None] / capacity[None, :]
        signs = np.sign(step_current)
        nonzero = signs != 0
        last_nonzero = np.maximum.accumulate(np.where(nonzero, np.arange(STEPS_PER_DAY), -1))
        step_direction = np.where(last_nonzero >= 0, signs[np.maximum(last_nonzero, 0)], direction)
        hysteresis = _hysteresis_v(soc) * step_direction[m][:, None]
        decay1 = np.exp(-into / 40.0)[:, None]
        decay2 = np.exp(-into / 900.0)[:, None]
        drive1 = step_r1[m] * current[:, None]
        drive2 = step_r2[m] * current[:, None]
        pol1 = drive1 + (u1[m] - drive1) * decay1
        pol2 = drive2 + (u2[m] - drive2) * decay2
        bump = np.zeros_like(soc)
        over = c.overshoot_cell[first + m]
        rows = np.flatnonzero(over >= 0)
        bump[rows, over[rows]] = 0.22
        cell_v = self._ocv(soc) + hysteresis + current[:, None] * step_r0[m] + pol1 + pol2 + bump
        pack_v = cell_v.sum(axis=1) + current * pack.interconnect_ohm
        cell_t = step_temp[m] + 0.0

        n = t.size
        measured: dict[str, FloatArray] = {
            "timestamp": t,
            "current_a": np.round(
                (
                    s.current_gain * current
                    + self.offset_a
                    + 0.15 * (s.capacity_ah / 100.0) * rng.standard_normal(n)
                )
                / 0.1
            )
            * 0.1,
            "voltage_v": np.round((pack_v + 0.02 * rng.standard_normal(n)) / 0.01) * 0.01,
            "temperature_c": np.round((cell_t.mean(axis=1) + 0.3 * rng.standard_normal(n)) / 0.1)
            * 0.1,
            "soc_pct": np.round(c.bms_soc[first + m]),
        }
        noisy_v = np.round((cell_v + 0.0015 * rng.standard_normal(cell_v.shape)) / 0.001) * 0.001
        noisy_t = np.round((cell_t + 0.2 * rng.standard_normal(cell_t.shape)) / 0.1) * 0.1
        for k in range(s.cells):
            measured[cell_voltage_column(k + 1)] = noisy_v[:, k]
        for k in range(s.cells):
            measured[cell_temperature_column(k + 1)] = noisy_t[:, k]
        true = {
            "t": t,
            "current": current,
            "pack_v": pack_v,
            "v_lo": cell_v.min(axis=1),
            "v_hi": cell_v.max(axis=1),
            "temp_hi": np.maximum(cell_t.max(axis=1), cell_t.mean(axis=1)),
            "temp_lo": np.minimum(cell_t.min(axis=1), cell_t.mean(axis=1)),
            "pack_soc": soc.min(axis=1),
        }
        end_direction = float(step_direction[-1])
        return measured, true, rc1_next, rc2_next, end_direction

    # Truth

    def truth(self, true_days: list[dict[str, FloatArray]]) -> dict[str, Any]:
        s = self.s
        pack = self.pack
        c = self.control
        true = {k: np.concatenate([d[k] for d in true_days]) for k in true_days[0]}
        t = true["t"]
        dt = np.diff(t)
        covered = np.concatenate(([0.0], np.where(dt <= TRUTH_GAP_LIMIT_S, dt, 0.0)))
        missing = float(dt[dt > TRUTH_GAP_LIMIT_S].sum())
        current = true["current"]
        start = np.concatenate((current[:1], current[:-1]))
        charge, discharge = split_trapezoid(start, current, covered / 3600.0)
        power = true["pack_v"] * current
        power_start = np.concatenate((power[:1], power[:-1]))
        charge_wh, discharge_wh = split_trapezoid(power_start, power, covered / 3600.0)

        all_charge = float(np.sum(np.maximum(c.current_a, 0.0)) * CONTROL_S / 3600.0)
        all_discharge = float(-np.sum(np.minimum(c.current_a, 0.0)) * CONTROL_S / 3600.0)
        end_day = s.days
        capacity_end = pack.capacity(end_day, c.efc_at_day_start[-1] + _efc_last_day(c, s))
        r_end = pack.r0_ohm * pack.resistance_growth(end_day)

        def excursions(values: FloatArray, below: bool, limit: float) -> int:
            if below:
                enter, leave = values < limit, values > limit + TRUTH_HYSTERESIS_V
            else:
                enter, leave = values > limit, values < limit - TRUTH_HYSTERESIS_V
            return int(onsets(latch(enter, leave, False), False).size)

        hot = start_value(true["temp_hi"]) > TRUTH_HIGH_TEMP_C
        cold = start_value(true["temp_lo"]) < TRUTH_LOW_TEMP_C
        charging = start > 0.01 * s.capacity_ah
        minutes = covered / 60.0
        full_times = (self.t0 + (np.flatnonzero(c.full_end) + 1) * CONTROL_S).tolist()
        efficiency = None
        if len(full_times) >= 2:
            # Terminal energy out over energy in between the first and the last full charge:
            # the same state at both ends, so the ratio is the round-trip efficiency.
            inside = (t > full_times[0]) & (t <= full_times[-1])
            e_in = float(charge_wh[inside].sum())
            e_out = float(-discharge_wh[inside].sum())
            efficiency = {
                "from": full_times[0],
                "to": full_times[-1],
                "energy_in_kwh": e_in / 1000.0,
                "energy_out_kwh": e_out / 1000.0,
                "pct": 100.0 * e_out / e_in if e_in > 0 else None,
            }
        return {
            "settings": {
                "days": s.days,
                "seed": s.seed,
                "sample_s": s.sample_s,
                "cells": s.cells,
                "rated_capacity_ah": s.capacity_ah,
                "start": s.start,
                "min_soc_pct": s.min_soc_pct,
            },
            "weak_cell": pack.weak[0] + 1 if len(pack.weak) == 1 else None,
            "weak_cells": [w + 1 for w in pack.weak],
            "capacity_ah": {
                "pack": float(capacity_end.min()),
                "cells": capacity_end.tolist(),
                "pack_start": float(pack.capacity(0, 0.0).min()),
            },
            "capacity_retention_pct": 100.0 * float(capacity_end.min()) / s.capacity_ah,
            # Pack capacity (weakest cell) at the start of each day, then at the end.
            "capacity_ah_daily": [
                float(pack.capacity(day, efc).min()) for day, efc in enumerate(c.efc_at_day_start)
            ]
            + [float(capacity_end.min())],
            "resistance_mohm_25c": {
                "cells": (1000.0 * r_end).tolist(),
                "cells_start": (1000.0 * pack.r0_ohm).tolist(),
                "pack": 1000.0 * float(r_end.sum() + pack.interconnect_ohm),
                "interconnect": 1000.0 * pack.interconnect_ohm,
                "note": "ohmic R0 at 25 degC; fast RC branch R1 = 0.3 R0 (tau 40 s), slow R2 >= 0.6 R0 (tau 900 s)",
            },
            "current_offset_a": self.offset_a,
            "throughput": {
                "charge_ah": all_charge,
                "discharge_ah": all_discharge,
                "sampled_charge_ah": float(charge.sum()),
                "sampled_discharge_ah": float(-discharge.sum()),
                "sampled_energy_charged_kwh": float(charge_wh.sum()) / 1000.0,
                "sampled_energy_discharged_kwh": float(-discharge_wh.sum()) / 1000.0,
            },
            "missing_s": missing,
            "events": {
                "deep_discharge": excursions(true["v_lo"], True, self.limits["min_cell_v"]),
                "overvoltage": excursions(true["v_hi"], False, self.limits["max_cell_v"]),
                "bms_protection_trips": c.trips,
                "backup_nights": c.backup_nights,
            },
            "time_above_high_temp_min": float(minutes[hot].sum()),
            "time_below_low_temp_min": float(minutes[cold].sum()),
            "time_charging_above_high_temp_min": float(minutes[hot & charging].sum()),
            "time_charging_below_low_temp_min": float(minutes[cold & charging].sum()),
            "full_charges": len(full_times),
            "round_trip_efficiency": efficiency,
            "self_discharge_pct_month": s.self_discharge_pct_month,
            "chemistry": s.chemistry,
            "current_gain": s.current_gain,
            "soc_pct_end": 100.0 * float(true["pack_soc"][-1]),
            "samples": int(t.size),
        }


def start_value(values: FloatArray) -> FloatArray:
    """Values shifted so that interval k (from sample k-1 to k) gets sample k-1's value."""
    return np.concatenate((values[:1], values[:-1]))


def _efc_last_day(control: _Control, s: SimulationSettings) -> float:
    last = control.current_a[(s.days - 1) * STEPS_PER_DAY :]
    return float(-np.sum(np.minimum(last, 0.0)) * CONTROL_S / 3600.0 / s.capacity_ah)


def _first_order(
    drive: FloatArray, tau_s: float, initial: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """States at each step start of u' = (drive - u) / tau with the drive held over each step.

    Blocked exponential sums: u[m] = a^m (u0 + sum_{j<m} a^-(j+1) (1-a) drive[j]), restarted
    every block so the scale factors stay far from overflow.
    """
    a = math.exp(-CONTROL_S / tau_s)
    block = max(1, min(drive.shape[0], int(300.0 / max(-math.log(a), 1e-12))))
    states = np.empty_like(drive)
    u = initial.astype(np.float64).copy()
    for b0 in range(0, drive.shape[0], block):
        chunk = drive[b0 : b0 + block]
        k = np.arange(chunk.shape[0], dtype=np.float64)[:, None]
        grow = a ** (-(k + 1.0))
        sums = np.cumsum(grow * (1.0 - a) * chunk, axis=0)
        scale = a**k
        states[b0 : b0 + block] = scale * (
            u + np.concatenate((np.zeros_like(u)[None, :], sums[:-1]), axis=0)
        )
        u = a ** chunk.shape[0] * (u + sums[-1])
    return states, u


def iter_days(settings: SimulationSettings) -> Iterator[dict[str, FloatArray]]:
    """The measured columns one day at a time (cheap on memory, used by the benchmark)."""
    for measured, _ in _Simulator(settings).days():
        yield measured


def simulate_history(
    days: int = 30,
    seed: int = 0,
    *,
    sample_s: float = 10.0,
    cells: int = 16,
    capacity_ah: float = 100.0,
    start: str = "2024-01-08T00:00:00Z",
    weak_cell: int | tuple[int, ...] | None | Literal["random"] = "random",
    gaps: bool = True,
    current_offset_a: float | None = None,
    harmful_events: bool = True,
    chemistry: str = "LFP",
    current_gain: float = 1.0,
    self_discharge_pct_month: float = 0.0,
    ocv_low_shift_v: float = 0.0,
    capacity_spread: float = 0.004,
    resistance_spread: float = 0.05,
    min_soc_pct: float = 10.0,
    weak_resistance_rise: float = 0.8,
) -> tuple[dict[str, FloatArray], dict[str, Any]]:
    """A simulated history (columns as :func:`bms_core.read_csv` returns them) and its truth.

    ``weak_cell``: "random" (one weakening cell chosen by the seed), a 1-based cell, a tuple
    of them, or None
    for a healthy pack. ``harmful_events=False`` leaves out the abuse: no backup nights run
    down to the BMS protection and no cell overshooting at the end of a charge. The other
    options are those of :class:`SimulationSettings` (see the module docstring).
    """
    settings = SimulationSettings(
        days=days,
        seed=seed,
        sample_s=sample_s,
        cells=cells,
        capacity_ah=capacity_ah,
        start=start,
        weak_cell=weak_cell,
        gaps=gaps,
        current_offset_a=current_offset_a,
        harmful_events=harmful_events,
        chemistry=chemistry,
        current_gain=current_gain,
        self_discharge_pct_month=self_discharge_pct_month,
        ocv_low_shift_v=ocv_low_shift_v,
        capacity_spread=capacity_spread,
        resistance_spread=resistance_spread,
        min_soc_pct=min_soc_pct,
        weak_resistance_rise=weak_resistance_rise,
    )
    simulator = _Simulator(settings)
    measured_days, true_days = [], []
    for measured, true in simulator.days():
        measured_days.append(measured)
        true_days.append(true)
    columns = {name: np.concatenate([d[name] for d in measured_days]) for name in measured_days[0]}
    return columns, simulator.truth(true_days)
