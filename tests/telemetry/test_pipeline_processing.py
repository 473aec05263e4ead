"""The health pipeline in-process: stored samples -> Analyzer -> snapshot, passport, alerts.

Runs on both databases (tasks in-process); the real-worker behaviour is in
test_pipeline_worker.py.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import bms_core
from passport.attributes import PROVENANCE_KEY
from passport.models import Version
from passport.services import battery_model_update, passport_document
from passport.services.health import HEALTH_REASON
from telemetry.models import BatteryAnalysis, HealthSnapshot, ProcessingRequest
from telemetry.selectors import sample_columns
from telemetry.services.processing import battery_process, battery_processing_request
from tests.telemetry.pipeline_support import part, simulated, store

pytestmark = pytest.mark.django_db

COUNTS = (
    "samples", "charge_throughput_ah", "discharge_throughput_ah", "energy_discharged_kwh",
    "equivalent_full_cycles", "deep_discharge_events", "overvoltage_events",
    "time_below_low_temp_min", "time_above_high_temp_min",
)


def one_pass(battery_id: int):
    """What bms_core says of the whole stored history in one call (the model: -10 / 50 °C idle
    range)."""
    return bms_core.analyze(sample_columns(battery_id=battery_id), rated_capacity_ah=100.0,
                            low_temp_c=-10.0, high_temp_c=50.0)


def assert_same_report(report, expected) -> None:
    for key in COUNTS:
        assert report[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-9), key
    if expected["capacity_ah"] is None:
        assert report["capacity_ah"] is None
    else:
        assert report["capacity_ah"] == pytest.approx(expected["capacity_ah"], rel=1e-9)


def test_batches_fed_incrementally_equal_one_pass_and_reach_the_passport(battery) -> None:
    history = simulated()
    half = len(history["timestamp"]) // 2
    store(battery.id, part(history, 0, half))
    first = battery_process(battery_id=battery.id)
    store(battery.id, part(history, half))
    second = battery_process(battery_id=battery.id)

    assert (first.samples_new, second.samples_new) == (half, len(history["timestamp"]) - half)
    assert not second.rebuilt
    snapshot = HealthSnapshot.objects.get(pk=second.snapshot_id)
    assert_same_report(snapshot.report, one_pass(battery.id))
    analysis = BatteryAnalysis.objects.get(battery=battery)
    assert analysis.checkpoint.timestamp() == pytest.approx(history["timestamp"][-1])
    assert analysis.samples == len(history["timestamp"])

    # The first run always writes the passport; the second is within the rate limit.
    assert (first.passport_updated, second.passport_updated) == (True, False)
    document = passport_document(passport=battery.passports.get())
    assert document["full_cycles_count"] == int(HealthSnapshot.objects.get(pk=first.snapshot_id)
                                                 .report["equivalent_full_cycles"])
    latest = Version.objects.filter(passport__battery=battery).order_by("-seq").first()
    assert latest.author is None and latest.reason == HEALTH_REASON


def test_each_value_has_its_own_last_updated_and_counting_method(battery, settings) -> None:
    settings.TELEMETRY_PASSPORT_UPDATE_INTERVAL_S = 0
    history = simulated()
    store(battery.id, history)
    result = battery_process(battery_id=battery.id)
    document = passport_document(passport=battery.passports.get())
    provenance = document[PROVENANCE_KEY]
    cycles = provenance["full_cycles_count"]
    assert cycles["source"] == "system"
    assert "discharged / rated capacity (100.0 Ah)" in cycles["method"]
    assert cycles["as_of"] == HealthSnapshot.objects.get(pk=result.snapshot_id).report["end"]
    # Boundaries from the model's declared idle range (-10 / 50 °C), not 0 / 45 °C.
    assert "50 °C" in provenance["time_above_temperature_boundary_minutes"]["method"]
    assert "-10 °C" in provenance["time_below_temperature_boundary_minutes"]["method"]
    snapshot = HealthSnapshot.objects.get(pk=result.snapshot_id)
    assert snapshot.report["options"]["low_temp_c"] == -10.0
    assert snapshot.report["options"]["high_temp_c"] == 50.0


def test_a_value_the_analysis_cannot_support_is_kept_and_the_snapshot_says_why(
    complete_battery, settings
) -> None:
    settings.TELEMETRY_PASSPORT_UPDATE_INTERVAL_S = 0
    before = passport_document(passport=complete_battery.passports.get(state="active"))
    # Two hours of data: no anchor pair, so no capacity estimate.
    history = part(simulated(), 0, 240)
    store(complete_battery.id, history)
    result = battery_process(battery_id=complete_battery.id)
    snapshot = HealthSnapshot.objects.get(pk=result.snapshot_id)
    after = passport_document(passport=complete_battery.passports.get(state="active"))
    assert snapshot.report["capacity_ah"] is None
    assert after["remaining_capacity_ah"] == before["remaining_capacity_ah"]
    assert snapshot.missing["remaining_capacity_ah"].startswith("not estimated")
    assert "declared on the battery model" in snapshot.missing["capacity_fade_pct"]
    assert "internal resistance" in snapshot.missing["internal_resistance"]
    assert "remaining_capacity_ah" not in after[PROVENANCE_KEY] or (
        after[PROVENANCE_KEY]["remaining_capacity_ah"] == before[PROVENANCE_KEY]["remaining_capacity_ah"]
    )


def test_samples_older_than_the_checkpoint_trigger_a_rebuild_not_a_wrong_total(battery) -> None:
    history = simulated()
    n = len(history["timestamp"])
    # The middle third arrives last (a collector's spool replayed after an outage).
    store(battery.id, part(history, 0, n // 3))
    store(battery.id, part(history, 2 * n // 3))
    battery_process(battery_id=battery.id)
    late = part(history, n // 3, 2 * n // 3)
    store(battery.id, late)
    battery_processing_request(
        battery_id=battery.id,
        earliest=dt.datetime.fromtimestamp(late["timestamp"][0], tz=dt.UTC),
    )
    # In the embedded default the request ran the run at once; with a broker it is queued, and
    # the run is made here (a worker's behaviour is in test_pipeline_worker.py).
    battery_process(battery_id=battery.id)
    latest = HealthSnapshot.objects.filter(battery=battery).order_by("-created_at", "-id").first()
    assert latest.rebuilt and latest.samples_new == len(history["timestamp"])
    assert_same_report(latest.report, one_pass(battery.id))
    assert not ProcessingRequest.objects.filter(battery_id=battery.id).exists()


def test_a_run_without_new_samples_writes_nothing(battery) -> None:
    store(battery.id, part(simulated(), 0, 500))
    battery_process(battery_id=battery.id)
    versions = Version.objects.count()
    again = battery_process(battery_id=battery.id)
    assert again.samples_new == 0 and again.snapshot_id is None
    assert HealthSnapshot.objects.filter(battery=battery).count() == 1
    assert Version.objects.count() == versions


def test_changed_temperature_range_of_the_model_rebuilds_with_the_new_boundaries(
    battery, users, stationary_model
) -> None:
    store(battery.id, part(simulated(), 0, 2000))
    battery_process(battery_id=battery.id)
    battery_model_update(user=users.manufacturer, model=stationary_model,
                         data={"idle_temperature_lower_c": 5}, reason="datasheet corrected")
    store(battery.id, part(simulated(), 2000, 2100))
    result = battery_process(battery_id=battery.id)
    snapshot = HealthSnapshot.objects.get(pk=result.snapshot_id)
    assert result.rebuilt and snapshot.report["options"]["low_temp_c"] == 5.0
    assert snapshot.samples == 2100


def test_changed_cells_in_series_rebuild_a_history_without_cell_columns(
    battery, users, stationary_model
) -> None:
    without_cells = {k: v for k, v in part(simulated(), 0, 2100).items() if not k.startswith("cell_")}
    store(battery.id, part(without_cells, 0, 2000))
    first = battery_process(battery_id=battery.id)
    assert HealthSnapshot.objects.get(pk=first.snapshot_id).report["options"]["series_cells"] == 16
    # 54.4 V of LFP cells (3.2 V nominal) is 17 in series.
    battery_model_update(user=users.manufacturer, model=stationary_model,
                         data={"nominal_voltage_v": 54.4}, reason="datasheet corrected")
    store(battery.id, part(without_cells, 2000))
    result = battery_process(battery_id=battery.id)
    snapshot = HealthSnapshot.objects.get(pk=result.snapshot_id)
    assert result.rebuilt and snapshot.report["options"]["series_cells"] == 17
    assert snapshot.samples == 2100


def test_a_history_the_analysis_refuses_stops_with_a_reason_and_keeps_the_state(battery) -> None:
    history = part(simulated(), 0, 300)
    store(battery.id, history)
    battery_process(battery_id=battery.id)
    state = BatteryAnalysis.objects.get(battery=battery).state
    # Later samples without per-cell voltages: bms_core needs the same columns throughout.
    later = {k: v for k, v in part(simulated(), 300, 400).items() if not k.startswith("cell_")}
    later["min_cell_v"] = np.full(100, 3.3)
    later["max_cell_v"] = np.full(100, 3.31)
    store(battery.id, later)
    result = battery_process(battery_id=battery.id)
    analysis = BatteryAnalysis.objects.get(battery=battery)
    assert result.error and "analysis stopped" in analysis.last_error
    assert analysis.state == state


def test_battery_health_command_prints_the_report_with_bms_cores_keys(battery) -> None:
    import json
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no health snapshot"):
        call_command("battery_health", battery.identifier)
    history = part(simulated(), 0, 3000)
    store(battery.id, history)
    out = StringIO()
    call_command("battery_health", str(battery.id), "--process", stdout=out)
    printed = json.loads(out.getvalue())
    expected = one_pass(battery.id)
    assert set(printed) == set(expected)
    assert printed["samples"] == expected["samples"] == 3000
    with pytest.raises(CommandError, match="not found"):
        call_command("battery_health", "no-such-battery")


def test_the_passport_is_written_at_most_once_per_interval_and_the_daily_run_catches_up(
    battery, settings
) -> None:
    settings.TELEMETRY_PASSPORT_UPDATE_INTERVAL_S = 3600
    history = simulated()
    store(battery.id, part(history, 0, 4000))
    assert battery_process(battery_id=battery.id).passport_updated
    store(battery.id, part(history, 4000, 8000))
    second = battery_process(battery_id=battery.id)
    assert not second.passport_updated
    behind = passport_document(passport=battery.passports.get())["capacity_throughput_ah"]
    daily = battery_process(battery_id=battery.id, force_passport=True)
    assert daily.passport_updated and daily.snapshot_id == second.snapshot_id
    document = passport_document(passport=battery.passports.get())
    latest = HealthSnapshot.objects.get(pk=second.snapshot_id)
    assert document["capacity_throughput_ah"] == round(latest.report["discharge_throughput_ah"], 1) != behind
    assert HealthSnapshot.objects.get(pk=second.snapshot_id).passport_updated
    # Nothing new since: the daily run writes nothing more.
    versions = Version.objects.count()
    assert not battery_process(battery_id=battery.id, force_passport=True).passport_updated
    assert Version.objects.count() == versions


def test_the_sweep_finds_samples_after_the_checkpoint_and_stale_requests(battery, settings) -> None:
    from telemetry.services.processing import processing_sweep

    history = simulated()
    store(battery.id, part(history, 0, 1000))
    battery_process(battery_id=battery.id)
    assert battery.id not in processing_sweep()
    # Stored while the broker was down: no run happened. The sweep enqueues it (and the
    # embedded default runs it at once).
    store(battery.id, part(history, 1000, 2000))
    assert battery.id in processing_sweep()
    battery_process(battery_id=battery.id)
    assert battery.id not in processing_sweep()
    assert BatteryAnalysis.objects.get(battery=battery).samples == 2000
    # A request older than the delay whose run was lost.
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=settings.TELEMETRY_PROCESSING_DELAY_S + 120)
    ProcessingRequest.objects.create(battery_id=battery.id, earliest=old, requested_at=old)
    assert battery.id in processing_sweep()


def test_every_scheduled_task_exists_and_the_daily_run_covers_active_batteries(battery) -> None:
    from django.conf import settings

    from config.celery import app
    from telemetry.services.processing import batteries_for_daily_run
    from telemetry.tasks import batteries_process_daily_task

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]
    store(battery.id, part(simulated(), 0, 500))
    battery_process(battery_id=battery.id)
    assert batteries_for_daily_run() == [battery.id]
    if settings.CELERY_TASK_ALWAYS_EAGER:
        store(battery.id, part(simulated(), 500, 900))
        batteries_process_daily_task.delay()
        assert BatteryAnalysis.objects.get(battery=battery).samples == 900


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_never_feed_the_same_samples_twice(battery) -> None:
    """The analysis row lock: the second run waits, then finds nothing new."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers on the whole database, no row locks")
    import threading

    history = simulated()
    store(battery.id, history)
    barrier = threading.Barrier(2)
    results, failures = [], []

    def run() -> None:
        try:
            barrier.wait()
            results.append(battery_process(battery_id=battery.id))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    assert sorted(result.samples_new for result in results) == [0, len(history["timestamp"])]
    assert HealthSnapshot.objects.filter(battery=battery).count() == 1
    assert BatteryAnalysis.objects.get(battery=battery).samples == len(history["timestamp"])


def test_a_batch_committed_inside_a_runs_range_during_the_run_leads_to_a_rebuild(
    battery, monkeypatch
) -> None:
    """Fault injection: a batch lands (samples + request) right after the run read its window."""
    import telemetry.services.processing as processing

    history = simulated()
    store(battery.id, part(history, 0, 1000))
    battery_process(battery_id=battery.id)
    store(battery.id, part(history, 1500, 2000))
    real_read = processing.sample_column_parts
    landed = []

    def read_then_a_batch_lands(**kwargs):
        columns = real_read(**kwargs)
        if not landed:
            middle = part(history, 1000, 1500)
            store(battery.id, middle)
            ProcessingRequest.objects.create(
                battery_id=battery.id, requested_at=dt.datetime.now(dt.UTC),
                earliest=dt.datetime.fromtimestamp(middle["timestamp"][0], tz=dt.UTC),
            )
            landed.append(True)
        return columns

    monkeypatch.setattr(processing, "sample_column_parts", read_then_a_batch_lands)
    run = battery_process(battery_id=battery.id)
    assert run.samples_new == 500
    assert BatteryAnalysis.objects.get(battery=battery).rebuild_requested
    monkeypatch.setattr(processing, "sample_column_parts", real_read)
    rebuilt = battery_process(battery_id=battery.id)
    assert rebuilt.rebuilt and rebuilt.samples_new == 2000
    assert_same_report(HealthSnapshot.objects.get(pk=rebuilt.snapshot_id).report, one_pass(battery.id))
    assert not BatteryAnalysis.objects.get(battery=battery).rebuild_requested
