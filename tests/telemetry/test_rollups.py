"""Daily rollups: figures of a day from its samples, recomputed to the same row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from telemetry.models import DailyRollup
from telemetry.services.rollups import (
    battery_rollups_sweep,
    battery_rollups_update,
    temperature_band_c,
)
from telemetry.services.storage import SampleRows, samples_store, unix_s_to_microseconds

DAY = date(2026, 3, 10)
MIDNIGHT = datetime(2026, 3, 10, tzinfo=UTC)


def store_day(battery, *, current_a: float = 10.0, step_s: float = 60.0, hours: float = 24.0,
              temperature_c=None, cells: int = 16, start: datetime = MIDNIGHT) -> None:
    n = int(hours * 3600 / step_s)
    time_s = start.timestamp() + np.arange(n) * step_s
    temperature = np.full(n, 20.0) if temperature_c is None else np.asarray(temperature_c, dtype=float)
    cell_v = np.full((n, cells), 3.30)
    cell_v[:, 0] = 3.28  # a 20 mV spread
    samples_store(SampleRows(
        battery_id=battery.pk,
        time_us=unix_s_to_microseconds(time_s),
        scalars={
            "current_a": np.full(n, current_a),
            "voltage_v": np.full(n, 50.0),
            "temperature_c": temperature,
            "soc_pct": np.linspace(20, 80, n),
        },
        cell_v=cell_v,
    ))


def test_a_full_day_of_constant_charge(battery) -> None:
    store_day(battery, current_a=10.0)
    assert battery_rollups_update(battery_id=battery.pk, first_day=DAY, last_day=DAY) == 1
    rollup = DailyRollup.objects.get(battery=battery, day=DAY)
    assert rollup.samples == 1440
    # The last interval of the day has no next sample: 1439 minutes covered.
    assert rollup.covered_s == pytest.approx(1439 * 60)
    assert rollup.charge_ah == pytest.approx(10.0 * 1439 / 60)
    assert rollup.discharge_ah == 0.0
    assert rollup.charge_kwh == pytest.approx(0.5 * 1439 / 60)
    assert rollup.soc_min_pct == 20.0 and rollup.soc_max_pct == 80.0
    assert rollup.cell_spread_max_mv == pytest.approx(20.0, abs=0.01)
    assert rollup.temperature_band_minutes["within"] == pytest.approx(1439)
    assert rollup.temperature_band_minutes["lower_c"] == -10  # the model's declared range


def test_gaps_are_not_integrated_and_midnight_belongs_to_the_earlier_day(battery) -> None:
    store_day(battery, current_a=-6.0, hours=1.0, start=MIDNIGHT + timedelta(hours=23))
    # The next day's first sample closes the 23:59 interval; then a 2 h gap.
    store_day(battery, current_a=-6.0, hours=1.0, start=MIDNIGHT + timedelta(days=1))
    store_day(battery, current_a=-6.0, hours=1.0, start=MIDNIGHT + timedelta(days=1, hours=3))
    battery_rollups_update(battery_id=battery.pk, first_day=DAY, last_day=DAY + timedelta(days=1))
    first, second = DailyRollup.objects.filter(battery=battery).order_by("day")
    assert first.covered_s == 3600.0 and first.discharge_ah == pytest.approx(6.0)
    assert second.samples == 120
    assert second.covered_s == pytest.approx(2 * 3540.0)
    assert second.coverage_pct == pytest.approx(100 * 7080 / 86400)


def test_temperature_bands_follow_the_model_range(battery) -> None:
    n = 60
    store_day(battery, hours=1.0, temperature_c=[-20.0] * 20 + [25.0] * 20 + [55.0] * 20)
    battery_rollups_update(battery_id=battery.pk, first_day=DAY, last_day=DAY)
    bands = DailyRollup.objects.get(battery=battery).temperature_band_minutes
    assert temperature_band_c(battery)[:2] == (-10.0, 50.0)
    assert (bands["below"], bands["within"], bands["above"]) == (20.0, 20.0, float(n - 41))


def test_recomputing_gives_the_same_row_and_a_day_without_samples_keeps_its_rollup(battery) -> None:
    store_day(battery, hours=2.0)
    battery_rollups_update(battery_id=battery.pk, first_day=DAY, last_day=DAY + timedelta(days=3))
    before = DailyRollup.objects.values().get(battery=battery)
    battery_rollups_update(battery_id=battery.pk, first_day=DAY, last_day=DAY)
    after = DailyRollup.objects.values().get(battery=battery)
    before.pop("updated_at"), after.pop("updated_at")
    assert before == after
    assert DailyRollup.objects.count() == 1


def test_ingestion_updates_the_rollups_and_the_sweep_catches_up(
    battery, device_client, device, samples, django_capture_on_commit_callbacks, tasks_in_process
) -> None:
    body = {"battery": battery.identifier, "batch_id": "r", "columns": samples(30)}
    with django_capture_on_commit_callbacks(execute=True):
        assert device_client(device.key).post("/api/v1/telemetry/batches/", body, format="json").status_code == 201
    rollup = DailyRollup.objects.get(battery=battery)
    assert rollup.samples == 30
    DailyRollup.objects.all().delete()
    assert battery_rollups_sweep(since=datetime.now(UTC) - timedelta(hours=1)) == 1
    assert DailyRollup.objects.get(battery=battery).samples == 30


def test_only_late_data_asks_for_rollups_at_once(battery, monkeypatch) -> None:
    from telemetry.services.rollups import battery_rollups_request

    sent = []
    monkeypatch.setattr(
        "telemetry.tasks.battery_rollups_update_task.apply_async", lambda **kw: sent.append(kw["kwargs"])
    )
    now = datetime(2026, 3, 12, 15, 0, tzinfo=UTC)
    today = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    assert not battery_rollups_request(battery_id=battery.pk, first=today, last=now, now=now)
    assert battery_rollups_request(
        battery_id=battery.pk, first=MIDNIGHT + timedelta(hours=5), last=now, now=now
    )
    # The day before the first sample too (its last interval may end in them); not today.
    assert sent == [{"battery_id": battery.pk, "first_day": "2026-03-10", "last_day": "2026-03-11"}]


def test_late_data_requests_for_the_same_days_coalesce_behind_the_broker(
    battery, monkeypatch, settings
) -> None:
    """A collector replaying a day from its spool: one recomputation per delay, not per batch."""
    from telemetry.services.rollups import battery_rollups_request

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.TELEMETRY_PROCESSING_DELAY_S = 300
    sent = []
    monkeypatch.setattr(
        "telemetry.tasks.battery_rollups_update_task.apply_async",
        lambda **kw: sent.append((kw["kwargs"]["first_day"], kw["kwargs"]["last_day"], kw["countdown"])),
    )
    now = datetime(2026, 3, 12, 15, 0, tzinfo=UTC)
    for hour in range(1, 20):
        assert battery_rollups_request(battery_id=battery.pk, first=MIDNIGHT + timedelta(hours=hour),
                                       last=MIDNIGHT + timedelta(hours=hour, minutes=10), now=now)
    assert sent == [("2026-03-10", "2026-03-10", 300)]
    # Another range of days is its own request.
    battery_rollups_request(battery_id=battery.pk, first=MIDNIGHT + timedelta(days=1, hours=1),
                            last=MIDNIGHT + timedelta(days=1, hours=2), now=now)
    assert sent[1] == ("2026-03-11", "2026-03-11", 300)
