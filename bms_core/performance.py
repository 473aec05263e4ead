"""The rest of Annex VII point 4 from field data: resistance at 25 degC, power capability and
usable energy, each with its fade against the first values, its interval and a reason when it
cannot be given.

Internal resistance at a reference temperature (Annex VII 4, "internal resistance"). The
daily step resistances of :mod:`bms_core.resistance` were measured at whatever temperature the
battery had. They are brought to 25 degC with the Arrhenius form
R(T) = R25 exp(B (1/T - 1/298.15 K)) (Waag et al., J. Power Sources 242 (2013) 548, who
found B = 2000-4000 K for the ohmic plus fast charge-transfer resistance of Li-ion cells).
B is fitted from the history (ln R against time and 1/T, see
:func:`bms_core.resistance.drift_per_30_days`) when the days span at least 3 K and the fit is
plausible (500-8000 K); otherwise :data:`DEFAULT_B_K` with +-1000 K (one sigma) enters the
interval. The present value is the median of the last seven days with estimates, the first
value the median of the first seven; the increase is their ratio minus one. The interval
combines the day-to-day scatter (1.4826 MAD / sqrt n) and B's uncertainty.

Remaining power capability (Annex VII 4, "remaining power capability", #63). The maximum
discharge (and charge) power of a pulse as long as the sampling interval, at the reference
conditions 25 degC and 50 % SOC, from the pack resistance at 25 degC and the limits
(FreedomCAR Battery Test Manual, INL/EXT-07-12536, 2008, sec. 3.11: available power
V_min (OCV - V_min) / R, here also capped by the current limit):
I = min(I_max, (OCV_50 - V_min) / R), P = I (OCV_50 - I R) for discharge and
I = min(I_max, (V_max - OCV_50) / R), P = I (OCV_50 + I R) for charge, with the pack's
OCV_50 = series cells x the OCV table at 50 %, V_min / V_max = series cells x ``min_cell_v``
/ ``max_cell_v`` and I_max ``max_discharge_current_a`` / ``max_charge_current_a`` (default 1 C).
With LFP's low resistance the current limit usually decides, and the power fades only by the
voltage the resistance takes away: that is what this figure is, not a thermal rating.

Remaining usable energy (Annex VII 4, "remaining energy", #56). The energy a full discharge
at the rated C/5 and 25 degC would deliver: E = Q_rated_basis (N x mean OCV over 0-100 % SOC
- (C/5) R_25), the capacity on the rated basis (:mod:`bms_core.capacity`) times the mean
open-circuit voltage of the OCV table minus the loss in the resistance at that current
(IEC 62620 sec. 6.3.1 defines the rated energy by that discharge). Its interval combines the
capacity's and +-10 mV of cell voltage (one sigma) for the table's mean. It is null when the
capacity is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bms_core.options import AnalysisOptions
from bms_core.resistance import KELVIN, DailyResistance, arrhenius_b

REFERENCE_TEMP_C = 25.0
REFERENCE_SOC_PCT = 50.0
DEFAULT_B_K = 3000.0
DEFAULT_B_SIGMA_K = 1000.0
FIRST_DAYS = 7
RECENT_DAYS = 7
Z95 = 1.959964
MEAN_OCV_SIGMA_V = 0.010


def _to_reference(r_mohm: float, temp_c: float | None, b_k: float) -> float:
    if temp_c is None:
        return r_mohm
    return r_mohm * math.exp(b_k * (1.0 / (REFERENCE_TEMP_C + KELVIN) - 1.0 / (temp_c + KELVIN)))


def _robust_level(values: list[float]) -> tuple[float, float]:
    """(median, its one-sigma uncertainty from the scatter)."""
    array = np.asarray([v for v in values if math.isfinite(v)])
    if array.size == 0:
        return math.nan, math.nan
    median = float(np.median(array))
    scatter = 1.4826 * float(np.median(np.abs(array - median)))
    return median, scatter / math.sqrt(array.size)


def resistance_at_reference(days: list[DailyResistance]) -> dict[str, Any]:
    """Pack and cell resistance at 25 degC now and at first, the increase, with intervals."""
    out: dict[str, Any] = {
        "temperature_c": REFERENCE_TEMP_C,
        "pack_mohm": None,
        "pack_interval_mohm": None,
        "cells_mohm": [],
        "pack_first_mohm": None,
        "cells_first_mohm": [],
        "pack_increase_pct": None,
        "pack_increase_interval_pct": None,
        "cells_increase_pct": [],
        "activation_b_k": None,
        "activation_source": None,
        "reason": None,
    }
    dated = [d for d in days if d.temp_c is not None and d.pack_mohm > 0]
    if not dated:
        out["reason"] = (
            "no day with enough current steps and a temperature reading: resistance at 25 degC "
            "needs steps of at least C/5 and a temperature sensor"
        )
        return out
    fitted = arrhenius_b(dated)
    b_k, b_sigma, source = (
        (fitted, 0.15 * fitted, "fitted")
        if fitted is not None
        else (DEFAULT_B_K, DEFAULT_B_SIGMA_K, "default")
    )
    out["activation_b_k"], out["activation_source"] = b_k, source

    def level(selection: list[DailyResistance]) -> tuple[float, float, list[float]]:
        pack = [_to_reference(d.pack_mohm, d.temp_c, b_k) for d in selection]
        value, scatter = _robust_level(pack)
        # B's uncertainty moves every day's correction the same way: not divided by n.
        temps = [d.temp_c for d in selection if d.temp_c is not None]
        lever = abs(1.0 / (REFERENCE_TEMP_C + KELVIN) - 1.0 / (float(np.median(temps)) + KELVIN))
        sigma = math.hypot(scatter, value * b_sigma * lever)
        cells = []
        if selection[0].cells_mohm:
            for k in range(len(selection[0].cells_mohm)):
                values = [_to_reference(d.cells_mohm[k], d.temp_c, b_k) for d in selection]
                cells.append(_robust_level(values)[0])
        return value, sigma, cells

    last_day = dated[-1].day
    recent = [d for d in dated if d.day > last_day - RECENT_DAYS]
    first = [d for d in dated if d.day < dated[0].day + FIRST_DAYS]
    now, now_sigma, cells_now = level(recent)
    then, then_sigma, cells_then = level(first)
    out.update(
        pack_mohm=now,
        pack_interval_mohm=[now - Z95 * now_sigma, now + Z95 * now_sigma],
        cells_mohm=cells_now,
        pack_first_mohm=then,
        cells_first_mohm=cells_then,
    )
    if dated[-1].day - dated[0].day >= FIRST_DAYS + RECENT_DAYS:
        ratio = now / then
        # The Arrhenius correction is common to both ends; only the scatter is independent.
        scatter_now = _robust_level([_to_reference(d.pack_mohm, d.temp_c, b_k) for d in recent])
        scatter_then = _robust_level([_to_reference(d.pack_mohm, d.temp_c, b_k) for d in first])
        relative = math.hypot(scatter_now[1] / now, scatter_then[1] / then)
        out["pack_increase_pct"] = 100.0 * (ratio - 1.0)
        out["pack_increase_interval_pct"] = [
            100.0 * (ratio * (1 - Z95 * relative) - 1.0),
            100.0 * (ratio * (1 + Z95 * relative) - 1.0),
        ]
        out["cells_increase_pct"] = [
            100.0 * (a / b - 1.0) if b and math.isfinite(a) and math.isfinite(b) else None
            for a, b in zip(cells_now, cells_then, strict=True)
        ]
    else:
        out["reason"] = (
            f"the increase needs estimates over at least {FIRST_DAYS + RECENT_DAYS} days "
            "(first and last week apart)"
        )
    out["_pack_sigma_mohm"] = now_sigma
    out["_pack_first_sigma_mohm"] = then_sigma
    return out


def power_capability(
    o: AnalysisOptions, series_cells: int, resistance: dict[str, Any]
) -> dict[str, Any]:
    """Pulse power at 25 degC and 50 % SOC, now and at first, with its fade."""
    out: dict[str, Any] = {
        "discharge_w": None,
        "discharge_interval_w": None,
        "charge_w": None,
        "charge_interval_w": None,
        "discharge_first_w": None,
        "discharge_fade_pct": None,
        "charge_first_w": None,
        "charge_fade_pct": None,
        "conditions": {
            "temperature_c": REFERENCE_TEMP_C,
            "soc_pct": REFERENCE_SOC_PCT,
            "pulse": "the sampling interval of the history (the resistance's time scale)",
            "max_discharge_current_a": o.max_discharge_current,
            "max_charge_current_a": o.max_charge_current,
            "min_pack_v": series_cells * o.min_cell_v,
            "max_pack_v": series_cells * o.max_cell_v,
        },
        "reason": None,
    }
    r_now = resistance.get("pack_mohm")
    if r_now is None:
        out["reason"] = "no resistance at 25 degC: " + (resistance.get("reason") or "")
        return out
    curve = o.ocv()
    ocv = series_cells * float(np.interp(REFERENCE_SOC_PCT, curve.soc_pct, curve.volts))
    v_min, v_max = series_cells * o.min_cell_v, series_cells * o.max_cell_v

    def powers(r_mohm: float) -> tuple[float, float]:
        r = r_mohm / 1000.0
        i_dis = min(o.max_discharge_current, (ocv - v_min) / r)
        i_ch = min(o.max_charge_current, (v_max - ocv) / r)
        return i_dis * (ocv - i_dis * r), i_ch * (ocv + i_ch * r)

    sigma = resistance["_pack_sigma_mohm"]
    discharge, charge = powers(r_now)
    worse, better = powers(r_now + Z95 * sigma), powers(max(r_now - Z95 * sigma, 1e-6))
    out.update(
        discharge_w=discharge,
        discharge_interval_w=[worse[0], better[0]],
        charge_w=charge,
        charge_interval_w=sorted([worse[1], better[1]]),
    )
    r_first = resistance.get("pack_first_mohm")
    if r_first is not None and resistance.get("pack_increase_pct") is not None:
        first_discharge, first_charge = powers(r_first)
        out.update(
            discharge_first_w=first_discharge,
            discharge_fade_pct=100.0 * (1.0 - discharge / first_discharge),
            charge_first_w=first_charge,
            charge_fade_pct=100.0 * (1.0 - charge / first_charge),
        )
    return out


def usable_energy(
    o: AnalysisOptions,
    series_cells: int,
    capacity_rated_basis_ah: float | None,
    capacity_interval_ah: list[float] | None,
    resistance: dict[str, Any],
) -> dict[str, Any]:
    """Energy of a full C/5 discharge at 25 degC, kWh, with its interval."""
    out: dict[str, Any] = {"kwh": None, "interval_kwh": None, "reason": None}
    if capacity_rated_basis_ah is None or capacity_interval_ah is None:
        out["reason"] = "no capacity with a narrow enough interval (see capacity_reason)"
        return out
    curve = o.ocv()
    soc, volts = curve.soc_pct, curve.volts
    mean_ocv = float(np.trapezoid(volts, soc) / (soc[-1] - soc[0]))
    r_pack = (resistance.get("pack_mohm") or 0.0) / 1000.0
    current = 0.2 * o.rated_capacity_ah
    mean_v = series_cells * mean_ocv - current * r_pack
    energy = capacity_rated_basis_ah * mean_v / 1000.0
    low, high = capacity_interval_ah
    capacity_rel = (high - low) / (low + high)  # 95 % half-width, relative
    voltage_rel = Z95 * MEAN_OCV_SIGMA_V / mean_ocv
    half = math.hypot(capacity_rel, voltage_rel)
    out.update(
        kwh=energy,
        interval_kwh=[energy * (1 - half), energy * (1 + half)],
        mean_discharge_v=mean_v,
        conditions="C/5 discharge at 25 degC from full to empty (IEC 62620)",
    )
    return out
