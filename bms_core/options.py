"""Analysis options: the thresholds of every method, with per-chemistry defaults.

``chemistry`` chooses the defaults of everything that depends on the cell's voltage window
(harmful-event limits, full-charge and cut-off voltages, the OCV table and its knees): a
field left at ``None`` takes the chemistry's value, a field given explicitly wins. Only the
chemistries in :data:`CHEMISTRIES` are known; anything else is refused rather than analysed
with another chemistry's voltages.

LFP values: Pylontech / CATL LFP datasheets (2.5-3.65 V operating window, CV at 3.45-3.55 V).
NMC values: NMC/graphite cells as in Samsung INR18650-25R and LG M50 datasheets (2.5-4.2 V,
CV at 4.2 V, C/20 tail); the OCV table is a typical NMC(622/811)-graphite curve (Chen et al.,
J. Electrochem. Soc. 167 (2020) 080534, LG M50 GITT OCV, averaged and rounded).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from bms_core.ocv import GENERIC_LFP_OCV, GENERIC_NMC_OCV, OcvCurve

# Per-chemistry defaults of the voltage-window options (cell volts, OCV table, knees in %).
CHEMISTRIES: dict[str, dict[str, Any]] = {
    "LFP": {
        "min_cell_v": 2.5,
        "max_cell_v": 3.65,
        "full_cell_v": 3.45,
        "full_rearm_cell_v": 3.35,
        "empty_cell_v": 2.9,
        "ocv_table": GENERIC_LFP_OCV,
        "ocv_low_knee_pct": 15.0,
        "ocv_high_knee_pct": 95.0,
        "capacity_rate_correction_pct": 2.0,
    },
    # A sloped curve: a rested voltage gives SOC almost everywhere, so the "knees" are set
    # so that only the middle 40-60 % (least steep, most hysteresis) is left out.
    "NMC": {
        "min_cell_v": 2.5,
        "max_cell_v": 4.25,
        "full_cell_v": 4.18,
        "full_rearm_cell_v": 4.10,
        "empty_cell_v": 3.3,
        "ocv_table": GENERIC_NMC_OCV,
        "ocv_low_knee_pct": 40.0,
        "ocv_high_knee_pct": 60.0,
        "capacity_rate_correction_pct": 1.5,
    },
}
CURRENT_SIGNS = (1, -1)
# A voltage-window option left at this takes the chemistry's value (NaN is never a setting).
CHEMISTRY_DEFAULT = math.nan


@dataclass(frozen=True)
class AnalysisOptions:
    """Thresholds for one analysis. Currents given as ``None`` scale with the rated capacity;
    voltage-window options left at their default (NaN, an empty table) take the chemistry's."""

    rated_capacity_ah: float
    series_cells: int | None = None
    chemistry: str = "LFP"
    # +1: positive current_a is charging (the history format); -1: positive is discharging.
    current_sign: int = 1
    # Declared current-sensor gain accuracy (95 %), in % of reading: bounds the capacity.
    current_accuracy_pct: float = 1.0
    # Harmful-event boundaries (Annex VII part B); None: the chemistry's default.
    min_cell_v: float = CHEMISTRY_DEFAULT
    max_cell_v: float = CHEMISTRY_DEFAULT
    low_temp_c: float = 0.0
    high_temp_c: float = 45.0
    event_hysteresis_v: float = 0.1
    # Sampling.
    gap_limit_s: float = 300.0
    dead_band_a: float | None = None  # default 1 % of rated capacity (C/100)
    # Anchors of known SOC.
    full_cell_v: float = CHEMISTRY_DEFAULT
    full_rearm_cell_v: float = CHEMISTRY_DEFAULT
    tail_current_a: float | None = None  # default C/20
    rest_current_a: float | None = None  # default the dead band
    rest_min_s: float = 1800.0
    empty_cell_v: float = CHEMISTRY_DEFAULT
    light_load_a: float | None = None  # default C/3
    ocv_table: tuple[tuple[float, float], ...] = ()
    ocv_low_knee_pct: float = CHEMISTRY_DEFAULT
    ocv_high_knee_pct: float = CHEMISTRY_DEFAULT
    use_bms_soc_as_initial_guess: bool = True
    # Capacity from anchor pairs.
    capacity_min_delta_soc_pct: float = 50.0
    capacity_max_pair_h: float = 72.0
    capacity_recent_pairs: int = 10
    closure_min_h: float = 12.0
    # Equilibrium (anchor) capacity minus this % is the rated-basis (C/5, 25 degC) capacity.
    capacity_rate_correction_pct: float = CHEMISTRY_DEFAULT
    # Rainflow histogram.
    cycle_bin_pct: float = 10.0
    min_cycle_depth_pct: float = 1.0
    # Resistance from current steps.
    step_min_a: float | None = None  # default C/5
    step_max_dt_s: float = 30.0
    step_steady_a: float | None = None  # default max(2 A, a quarter of step_min_a)
    resistance_temp_band_c: tuple[float, float] | None = None  # None: steps at any temperature
    min_steps_per_day: int = 3
    # Cell statistics and alerts.
    load_current_a: float | None = None  # default C/10, discharge current counted as "under load"
    alert_robust_z: float = 4.0
    alert_resistance_slope_pct_30d: float = 3.0
    alert_resistance_ratio: float = 1.25
    alert_low_under_load_mv: float = 10.0
    alert_drift_mv_30d: float = 3.0
    alert_hot_cell_c: float = 3.0
    alert_temp_spread_c: float = 5.0
    alert_window_days: float = 60.0
    alert_capacity_low_pct: float = 5.0
    # Power capability: the pack's current limits (default 1 C) and the BMS's own draw.
    max_discharge_current_a: float | None = None
    max_charge_current_a: float | None = None
    bms_consumption_a: float | None = None  # known draw not seen by the sensor; None: unknown

    def __post_init__(self) -> None:
        if self.chemistry not in CHEMISTRIES:
            raise ValueError(
                f"chemistry: {self.chemistry!r} is not supported (known: "
                f"{', '.join(CHEMISTRIES)}); its voltage window and OCV curve differ, and "
                "analysing it with another chemistry's would give wrong SOC, capacity and events"
            )
        for name, value in CHEMISTRIES[self.chemistry].items():
            given = getattr(self, name)
            if given is None or (isinstance(given, float) and math.isnan(given)) or given == ():
                object.__setattr__(self, name, value)
        if self.current_sign not in CURRENT_SIGNS:
            raise ValueError(
                "current_sign: 1 (positive current_a is charging) or -1 (positive is discharging)"
            )
        if not 0 <= self.current_accuracy_pct < 20:
            raise ValueError("current_accuracy_pct: a gain accuracy between 0 and 20 %")
        if not self.rated_capacity_ah > 0:
            raise ValueError("rated_capacity_ah: must be a positive number of ampere-hours")
        if self.series_cells is not None and self.series_cells < 1:
            raise ValueError("series_cells: must be at least 1")
        if not self.min_cell_v < self.max_cell_v:
            raise ValueError("min_cell_v must be below max_cell_v")
        if not self.low_temp_c < self.high_temp_c:
            raise ValueError("low_temp_c must be below high_temp_c")
        if not self.gap_limit_s > 0:
            raise ValueError("gap_limit_s: must be positive")
        if not self.full_rearm_cell_v < self.full_cell_v:
            raise ValueError("full_rearm_cell_v must be below full_cell_v")
        OcvCurve.from_table(
            self.ocv_table, low_knee_pct=self.ocv_low_knee_pct, high_knee_pct=self.ocv_high_knee_pct
        )

    # Currents scaled by the rated capacity (1 C = rated_capacity_ah amperes).
    @property
    def dead_band(self) -> float:
        return self._or_c_rate(self.dead_band_a, 0.01)

    @property
    def tail_current(self) -> float:
        return self._or_c_rate(self.tail_current_a, 0.05)

    @property
    def rest_current(self) -> float:
        return self.dead_band if self.rest_current_a is None else self.rest_current_a

    @property
    def light_load(self) -> float:
        return self._or_c_rate(self.light_load_a, 1 / 3)

    @property
    def step_min(self) -> float:
        return self._or_c_rate(self.step_min_a, 0.2)

    @property
    def step_steady(self) -> float:
        if self.step_steady_a is not None:
            return self.step_steady_a
        return max(2.0, 0.25 * self.step_min)

    @property
    def max_discharge_current(self) -> float:
        return self._or_c_rate(self.max_discharge_current_a, 1.0)

    @property
    def max_charge_current(self) -> float:
        return self._or_c_rate(self.max_charge_current_a, 1.0)

    @property
    def load_current(self) -> float:
        return self._or_c_rate(self.load_current_a, 0.1)

    def _or_c_rate(self, value: float | None, c_rate: float) -> float:
        return c_rate * self.rated_capacity_ah if value is None else value

    @property
    def ocv_table_is_generic(self) -> bool:
        """Whether the OCV table is the chemistry's generic one (not the cell maker's)."""
        generic = CHEMISTRIES[self.chemistry]["ocv_table"]
        return tuple(tuple(p) for p in self.ocv_table) == tuple(tuple(p) for p in generic)

    def ocv(self) -> OcvCurve:
        return OcvCurve.from_table(
            self.ocv_table, low_knee_pct=self.ocv_low_knee_pct, high_knee_pct=self.ocv_high_knee_pct
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, with the effective values of the capacity-scaled currents."""
        out = dataclasses.asdict(self)
        out["ocv_table"] = [list(p) for p in self.ocv_table]
        band = self.resistance_temp_band_c
        out["resistance_temp_band_c"] = None if band is None else list(band)
        out.update(
            dead_band_a=self.dead_band,
            tail_current_a=self.tail_current,
            rest_current_a=self.rest_current,
            light_load_a=self.light_load,
            step_min_a=self.step_min,
            step_steady_a=self.step_steady,
            load_current_a=self.load_current,
            max_discharge_current_a=self.max_discharge_current,
            max_charge_current_a=self.max_charge_current,
        )
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisOptions:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown analysis option(s): {', '.join(unknown)}")
        values = dict(data)
        if "ocv_table" in values:
            values["ocv_table"] = tuple(tuple(float(x) for x in p) for p in values["ocv_table"])
        if values.get("resistance_temp_band_c") is not None:
            low, high = values["resistance_temp_band_c"]
            values["resistance_temp_band_c"] = (float(low), float(high))
        return cls(**values)
