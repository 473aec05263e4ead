"""A generic LFP open-circuit-voltage curve and what a rested voltage says about SOC.

LFP's OCV is flat (about 3.27-3.34 V) from roughly 15 % to 95 % SOC: there a few millivolts
of measurement error, hysteresis or incomplete relaxation span tens of percent, so a rested
voltage is only used on the steep ends. The table is typical of LFP/graphite cells at room
temperature (average of the charge and discharge branches), not of one product; a site with a
datasheet curve can pass its own table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# (SOC %, rested cell voltage V); voltages must rise strictly with SOC.
GENERIC_LFP_OCV: tuple[tuple[float, float], ...] = (
    (0.0, 2.80),
    (1.0, 2.95),
    (2.0, 3.03),
    (3.0, 3.08),
    (5.0, 3.15),
    (7.0, 3.19),
    (10.0, 3.215),
    (12.0, 3.23),
    (15.0, 3.25),
    (20.0, 3.27),
    (30.0, 3.29),
    (40.0, 3.30),
    (50.0, 3.305),
    (60.0, 3.31),
    (70.0, 3.32),
    (80.0, 3.33),
    (90.0, 3.335),
    (95.0, 3.345),
    (97.0, 3.36),
    (98.0, 3.375),
    (99.0, 3.40),
    (100.0, 3.45),
)


# A typical NMC/graphite cell (NMC 622/811), rested, room temperature, average of the charge and
# discharge branches: after Chen et al., J. Electrochem. Soc. 167 (2020) 080534 (LG M50 OCV),
# rounded. Sloped everywhere (about 5-10 mV per % SOC in the middle), unlike LFP.
GENERIC_NMC_OCV: tuple[tuple[float, float], ...] = (
    (0.0, 3.00),
    (2.0, 3.30),
    (5.0, 3.45),
    (10.0, 3.55),
    (15.0, 3.60),
    (20.0, 3.64),
    (30.0, 3.70),
    (40.0, 3.75),
    (50.0, 3.81),
    (60.0, 3.88),
    (70.0, 3.96),
    (80.0, 4.03),
    (90.0, 4.10),
    (95.0, 4.14),
    (100.0, 4.19),
)


@dataclass(frozen=True)
class OcvCurve:
    """Rested voltage <-> SOC on the knees of an LFP curve, with the precision of each reading."""

    soc_pct: npt.NDArray[np.float64]
    volts: npt.NDArray[np.float64]
    low_knee_pct: float = 15.0
    high_knee_pct: float = 95.0

    @classmethod
    def from_table(
        cls,
        table: tuple[tuple[float, float], ...] | list[list[float]] = GENERIC_LFP_OCV,
        *,
        low_knee_pct: float = 15.0,
        high_knee_pct: float = 95.0,
    ) -> OcvCurve:
        points = np.asarray(table, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 2:
            raise ValueError("ocv_table: expected a list of (soc_pct, volts) pairs")
        soc, volts = points[:, 0], points[:, 1]
        if not (np.diff(soc) > 0).all() or not (np.diff(volts) > 0).all():
            raise ValueError("ocv_table: SOC and voltage must both rise strictly")
        if not soc[0] < low_knee_pct < high_knee_pct < soc[-1]:
            raise ValueError("ocv knees must lie inside the table and low below high")
        return cls(soc_pct=soc, volts=volts, low_knee_pct=low_knee_pct, high_knee_pct=high_knee_pct)

    @property
    def low_knee_v(self) -> float:
        """Rested cell voltage at or below which the low knee gives SOC."""
        return float(np.interp(self.low_knee_pct, self.soc_pct, self.volts))

    @property
    def high_knee_v(self) -> float:
        """Rested cell voltage at or above which the high knee gives SOC."""
        return float(np.interp(self.high_knee_pct, self.soc_pct, self.volts))

    def soc_from_voltage(self, volts: float) -> float:
        """SOC (%) for a rested cell voltage, clamped to the table's ends."""
        return float(np.interp(volts, self.volts, self.soc_pct))

    def soc_sigma(self, volts: float, voltage_sigma_v: float, floor_pct: float) -> float:
        """One-sigma SOC error (%) of a reading whose voltage is uncertain by ``voltage_sigma_v``.

        The steeper the curve at that voltage, the less a voltage error moves the SOC.
        """
        segment = int(np.clip(np.searchsorted(self.volts, volts) - 1, 0, self.volts.size - 2))
        slope_v_per_pct = (self.volts[segment + 1] - self.volts[segment]) / (
            self.soc_pct[segment + 1] - self.soc_pct[segment]
        )
        return float(np.hypot(voltage_sigma_v / slope_v_per_pct, floor_pct))

    def table(self) -> list[list[float]]:
        return [[float(s), float(v)] for s, v in zip(self.soc_pct, self.volts, strict=True)]
