"""Daily rollups: one battery's UTC day in figures, kept forever (raw samples are not).

Method. A day's figures come from the samples whose time falls in that UTC day. The interval
from each sample to the next belongs to the day of its first sample (so every interval is
counted once, in one day, and the one crossing midnight in the earlier day); an interval
longer than bms_core's gap limit (300 s by default) is a gap: not integrated, not covered.

- min / max / mean of pack voltage, current, temperature and BMS SOC: over the day's samples
  (a plain mean of samples; at regular sampling it equals the time-weighted mean).
- Ah and kWh in and out: trapezoidal integration of current and of power (voltage x current)
  over the covered intervals, split into charge (+) and discharge (-) at zero crossings
  (bms_core.integrate.split_totals, the analysis's own integrator).
- Minutes in temperature bands: below / within / above the battery model's declared range
  (`idle_temperature_lower_c` .. `idle_temperature_upper_c`, Annex XIII / point 85-86), or
  0 .. 45 °C, the usual LFP operating range, where the model declares none; each covered
  interval counts at its first sample's temperature. The temperature is `temperature_c`, or the
  hottest cell where the BMS reports only cell temperatures.
- Cell spread: highest minus lowest cell voltage per sample (from per-cell values or the
  reported extremes), its maximum and mean in mV.
- Coverage: covered seconds of the day (at most 86,400) and their share.

Idempotent: a day is recomputed whole from the raw samples and written with update_or_create,
so recomputing gives the same row. A day without samples is left as it is: its raw samples may
have been dropped by retention, and the rollup is then the only record.

When. The nightly sweep (beat, `battery_rollups_sweep_task`) computes the day just over for
every battery that sent data; a batch with samples of earlier days (late data, an import) asks
at once for those days. Each battery-day is thus read about once, not once per batch. That
read also writes the day's column block (telemetry.services.sample_days) once the day is closed,
so later rebuilds of the analysis read the day from its block.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from bms_core.integrate import split_totals
from bms_core.options import AnalysisOptions
from passport.models import Battery
from passport.services.health import analysis_settings_of_model
from telemetry.models import DailyRollup, SampleDay
from telemetry.selectors import sample_columns
from telemetry.services.sample_days import (
    day_is_closed,
    day_start,
    sample_day_build,
    sample_day_lock,
)

logger = logging.getLogger(__name__)

DAY_S = 86_400.0
ROLLUPS_ENQUEUED_KEY = "telemetry:rollups-enqueued:{battery_id}:{first}:{last}"
# The analysis's default gap limit (bms_core.options): the same intervals count as covered.
# (Options need a rated capacity; the gap limit does not depend on it.)
GAP_LIMIT_S = AnalysisOptions(rated_capacity_ah=1.0).gap_limit_s


def temperature_band_c(battery: Battery) -> tuple[float, float, str]:
    """(lower, upper, where from): the boundaries the health analysis uses (the model's declared
    idle range, else the default; passport.services.health is their one home)."""
    band = analysis_settings_of_model(battery.model)
    where = "default" if "temperature_boundaries" in band.notes else "model"
    return band.low_temp_c, band.high_temp_c, where


def _stats(values: npt.NDArray | None) -> tuple[float | None, float | None, float | None]:
    if values is None:
        return None, None, None
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, None, None
    return float(finite.min()), float(finite.max()), float(finite.mean())


def _pack_temperature(columns: dict[str, npt.NDArray]) -> npt.NDArray | None:
    if "temperature_c" in columns:
        return columns["temperature_c"].astype(np.float64)
    cell_temps = [a for name, a in columns.items() if name.endswith("_temp_c") and name.startswith("cell_")]
    if cell_temps:
        return np.max(np.column_stack(cell_temps), axis=1).astype(np.float64)
    if "max_cell_temp_c" in columns:
        return columns["max_cell_temp_c"]
    return None


def _cell_spread_v(columns: dict[str, npt.NDArray]) -> npt.NDArray | None:
    cells = [a for name, a in columns.items() if name.startswith("cell_") and name.endswith("_v")]
    if cells:
        matrix = np.column_stack(cells).astype(np.float64)
        return matrix.max(axis=1) - matrix.min(axis=1)
    if "min_cell_v" in columns and "max_cell_v" in columns:
        return columns["max_cell_v"] - columns["min_cell_v"]
    return None


def day_rollup_values(
    columns: dict[str, npt.NDArray], *, day: date, band: tuple[float, float]
) -> dict[str, Any] | None:
    """The figures of `day` from columns covering the day and at most the next sample after it
    (see the module doc); None when the day has no sample."""
    start_s = day_start(day).timestamp()
    time_s = columns["timestamp"]
    in_day = (time_s >= start_s) & (time_s < start_s + DAY_S)
    count = int(in_day.sum())
    if count == 0:
        return None
    rows = np.flatnonzero(in_day)
    first, last = int(rows[0]), int(rows[-1])
    # Intervals starting in the day: from each day sample to the next sample (if any).
    stop = min(last + 1, time_s.size - 1)
    width = np.diff(time_s[first : stop + 1])
    covered = width <= GAP_LIMIT_S
    width_ok = np.where(covered, width, 0.0)
    current = columns["current_a"].astype(np.float64)
    power = current * columns["voltage_v"]
    a, b = slice(first, stop), slice(first + 1, stop + 1)
    charge_as, discharge_as, _, _ = split_totals(current[a], current[b], width_ok)
    charge_ws, discharge_ws, _, _ = split_totals(power[a], power[b], width_ok)

    def day_values(name: str) -> npt.NDArray | None:
        return columns[name][in_day].astype(np.float64) if name in columns else None

    temperature = _pack_temperature(columns)
    lower, upper = band
    bands: dict[str, Any] = {"lower_c": lower, "upper_c": upper}
    if temperature is not None:
        at_start = temperature[first:stop]
        known = np.isfinite(at_start)
        bands["below"] = float(width_ok[known & (at_start < lower)].sum()) / 60.0
        bands["above"] = float(width_ok[known & (at_start > upper)].sum()) / 60.0
        bands["within"] = float(
            width_ok[known & (at_start >= lower) & (at_start <= upper)].sum()
        ) / 60.0
        bands["unknown"] = float(width_ok[~known].sum()) / 60.0
    spread = _cell_spread_v(columns)
    spread_day = spread[in_day] if spread is not None else None
    spread_min, spread_max, spread_mean = _stats(spread_day)
    covered_s = min(float(width_ok.sum()), DAY_S)
    v_min, v_max, v_mean = _stats(day_values("voltage_v"))
    i_min, i_max, i_mean = _stats(day_values("current_a"))
    t_min, t_max, t_mean = _stats(temperature[in_day] if temperature is not None else None)
    soc_min, soc_max, soc_mean = _stats(day_values("soc_pct"))
    return {
        "samples": count,
        "covered_s": covered_s,
        "coverage_pct": 100.0 * covered_s / DAY_S,
        "voltage_min_v": v_min,
        "voltage_max_v": v_max,
        "voltage_mean_v": v_mean,
        "current_min_a": i_min,
        "current_max_a": i_max,
        "current_mean_a": i_mean,
        "temperature_min_c": t_min,
        "temperature_max_c": t_max,
        "temperature_mean_c": t_mean,
        "soc_min_pct": soc_min,
        "soc_max_pct": soc_max,
        "soc_mean_pct": soc_mean,
        "charge_ah": charge_as / 3600.0,
        "discharge_ah": -discharge_as / 3600.0,
        "charge_kwh": charge_ws / 3.6e6,
        "discharge_kwh": -discharge_ws / 3.6e6,
        "temperature_band_minutes": bands,
        "cell_spread_max_mv": spread_max * 1000.0 if spread_max is not None else None,
        "cell_spread_mean_mv": spread_mean * 1000.0 if spread_mean is not None else None,
    }


def battery_rollups_update(*, battery_id: int, first_day: date, last_day: date) -> int:
    """Recompute the rollups of the battery's days from `first_day` to `last_day` (inclusive)
    that have samples; returns how many rows were written."""
    battery = Battery.objects.select_related("model").get(pk=battery_id)
    lower, upper, _ = temperature_band_c(battery)
    written = 0
    day = first_day
    while day <= last_day:
        start = day_start(day)
        with transaction.atomic():
            # A closed day without a block gets one from this read: no batch may change the day
            # between the read and the block (sample_days).
            build = day_is_closed(day) and not SampleDay.objects.filter(
                battery_id=battery_id, day=day
            ).exists()
            if build:
                sample_day_lock(battery_id=battery_id)
            # From the day's start to one gap past its end: the next sample closes the last
            # interval.
            columns = sample_columns(
                battery_id=battery_id,
                after=start - timedelta(microseconds=1),
                until=start + timedelta(days=1, seconds=GAP_LIMIT_S),
            )
            values = day_rollup_values(columns, day=day, band=(lower, upper))
            if values is not None:
                DailyRollup.objects.update_or_create(
                    battery_id=battery_id,
                    day=day,
                    defaults={**values, "updated_at": timezone.now()},
                )
                written += 1
                if build:
                    sample_day_build(battery_id=battery_id, day=day, columns=columns)
        day += timedelta(days=1)
    return written


def battery_rollups_request(
    *, battery_id: int, first: datetime, last: datetime, now: datetime | None = None
) -> bool:
    """After new samples from `first` to `last`: recompute the closed days they touch (and the
    day before, whose last interval may end in them), in a task when a broker is there.

    Samples of today change only today's rollup, which the nightly sweep computes once the day
    is over: recomputing a whole day per batch would read every battery's day of samples every
    minute. So only late data (a collector catching up, an import) asks for work here, and like
    the health runs such requests coalesce: one task per battery and range of days per
    TELEMETRY_PROCESSING_DELAY_S, sent with that countdown, reads the batches that arrived in
    between (a collector replaying a day from its spool sends a hundred batches of that day; each
    used to recompute the day and rewrite its column block). Returns whether a recomputation was
    requested (also when an earlier request of the delay covers it).
    """
    from telemetry.tasks import battery_rollups_update_task

    today = (now or timezone.now()).astimezone(UTC).date()
    first_day = (first.astimezone(UTC) - timedelta(seconds=GAP_LIMIT_S)).date()
    last_day = min(last.astimezone(UTC).date(), today - timedelta(days=1))
    if first_day > last_day:
        return False
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    delay = settings.TELEMETRY_PROCESSING_DELAY_S
    key = ROLLUPS_ENQUEUED_KEY.format(battery_id=battery_id, first=first_day, last=last_day)
    if not eager and not cache.add(key, 1, timeout=delay):
        return True
    # retry=False: with the broker down, fail at once rather than hold the request; the
    # nightly sweep recomputes what was missed.
    battery_rollups_update_task.apply_async(
        kwargs={
            "battery_id": battery_id,
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
        },
        countdown=0 if eager else delay,
        retry=False,
    )
    return True


def battery_rollups_sweep(*, since: datetime) -> int:
    """Recompute the days touched by every batch received since `since`: run nightly, it
    computes the day just over for every battery that sent data, and catches late-data
    requests lost while the broker was down. Returns the number of rows written."""
    from django.db.models import Max, Min

    from telemetry.models import Batch

    touched = (
        Batch.objects.filter(received_at__gte=since)
        .values("battery_id")
        .annotate(first=Min("first"), last=Max("last"))
    )
    written = 0
    for item in touched:
        written += battery_rollups_update(
            battery_id=item["battery_id"],
            first_day=(item["first"] - timedelta(seconds=GAP_LIMIT_S)).date(),
            last_day=item["last"].date(),
        )
    return written
