"""Closed days as column blocks: read back bit for bit as the raw rows, never stale."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from django.db import connection, connections, transaction

from telemetry.models import BatteryAnalysis, HealthSnapshot, SampleDay
from telemetry.selectors import raw_sample_columns, sample_columns
from telemetry.services.processing import battery_process
from telemetry.services.rollups import battery_rollups_update
from telemetry.services.sample_days import (
    decode_day,
    encode_day,
    sample_day_build,
    sample_day_lock,
    whole_days,
)
from telemetry.services.storage import sample_retention_apply
from tests.telemetry.pipeline_support import HISTORY_START_S, part, simulated, store

pytestmark = pytest.mark.django_db

FIRST_DAY = datetime.fromtimestamp(HISTORY_START_S, tz=UTC).date()


def at(day: date, hours: float = 0.0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours)


def assert_identical(columns, expected) -> None:
    assert list(columns) == list(expected)
    for name, values in expected.items():
        assert columns[name].dtype == values.dtype, name
        np.testing.assert_array_equal(columns[name], values, err_msg=name)


def assert_same_within_rounding(value, expected, path: str = "report") -> None:
    if isinstance(expected, dict):
        assert isinstance(value, dict) and value.keys() == expected.keys(), path
        for key in expected:
            assert_same_within_rounding(value[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(value, list) and len(value) == len(expected), path
        for index, (item, expected_item) in enumerate(zip(value, expected, strict=True)):
            assert_same_within_rounding(item, expected_item, f"{path}[{index}]")
    elif isinstance(expected, float):
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12), path
    else:
        assert value == expected, path


def first_day_count() -> int:
    """Samples of the simulated history's first UTC day (it samples irregularly)."""
    return int((simulated()["timestamp"] < HISTORY_START_S + 86_400).sum())


def build_all(battery_id: int, days: int) -> None:
    battery_rollups_update(
        battery_id=battery_id, first_day=FIRST_DAY, last_day=FIRST_DAY + timedelta(days=days - 1)
    )


def test_a_block_decodes_to_the_columns_it_was_made_of() -> None:
    history = part(simulated(), 0, first_day_count())
    # A float64 column that float32 cannot hold stays float64; the others are float32 inside.
    history["soc_pct"] = np.linspace(0.1, 99.9, len(history["timestamp"]))
    history["current_a"] = history["current_a"].astype(np.float64)
    decoded = decode_day(encode_day(history))
    assert list(decoded) == list(history)
    # Times are kept to the microsecond, as the raw table keeps them.
    expected = {**history, "timestamp": np.round(history["timestamp"] * 1e6) / 1e6}
    for name, values in expected.items():
        np.testing.assert_array_equal(decoded[name], values, err_msg=name)
        assert decoded[name].dtype == values.dtype
    with pytest.raises(ValueError, match="not a sample day block"):
        decode_day(b"PK\x03\x04 a zip file")


def test_whole_days_of_a_range() -> None:
    day = date(2026, 4, 6)
    one_us = timedelta(microseconds=1)
    assert whole_days(at(day) - one_us, at(day, 48) - one_us) == (day, day + timedelta(days=1))
    # `after` is exclusive: after midnight itself, the day is no longer whole.
    assert whole_days(at(day), at(day, 48) - one_us) == (day + timedelta(days=1),) * 2
    assert whole_days(at(day) - one_us, at(day, 24) - 2 * one_us) is None
    assert whole_days(None, at(day, 12)) == (date.min, day - timedelta(days=1))


def test_reads_through_blocks_equal_raw_reads_for_any_range(battery) -> None:
    history = simulated()  # six days at 30 s, 16 cells with temperatures
    store(battery.id, history)
    build_all(battery.id, 6)
    assert SampleDay.objects.filter(battery_id=battery.id).count() == 6
    assert sum(SampleDay.objects.values_list("samples", flat=True)) == len(history["timestamp"])

    assert_identical(sample_columns(battery_id=battery.id), raw_sample_columns(battery_id=battery.id))
    for after, until in [
        (at(FIRST_DAY, 5.5), at(FIRST_DAY, 100.25)),  # partial, three whole days, partial
        (at(FIRST_DAY, 24) - timedelta(microseconds=1), at(FIRST_DAY, 72) - timedelta(microseconds=1)),
        (None, at(FIRST_DAY, 30)),
        (at(FIRST_DAY, 47), None),
    ]:
        assert_identical(
            sample_columns(battery_id=battery.id, after=after, until=until),
            raw_sample_columns(battery_id=battery.id, after=after, until=until),
        )


def test_late_samples_delete_the_days_block_in_their_transaction_and_the_rollup_rebuilds_it(
    battery,
) -> None:
    history = simulated()
    keep = np.ones(len(history["timestamp"]), dtype=bool)
    keep[100:110] = False  # ten samples of the first day arrive late
    store(battery.id, {name: values[keep] for name, values in history.items()})
    build_all(battery.id, 6)

    store(battery.id, {name: values[100:110] for name, values in history.items()})

    assert not SampleDay.objects.filter(battery_id=battery.id, day=FIRST_DAY).exists()
    assert SampleDay.objects.filter(battery_id=battery.id).count() == 5
    everything = sample_columns(battery_id=battery.id)
    np.testing.assert_array_equal(everything["timestamp"], np.round(history["timestamp"] * 1e6) / 1e6)
    build_all(battery.id, 1)
    assert SampleDay.objects.get(battery_id=battery.id, day=FIRST_DAY).samples == first_day_count()
    assert_identical(sample_columns(battery_id=battery.id), everything)


def test_a_day_not_yet_closed_gets_no_block(battery) -> None:
    now = datetime.now(UTC)
    today = now.date()
    times = np.arange(now.timestamp() - 7200, now.timestamp() - 60, 60.0)
    n = times.size
    store(battery.id, {"timestamp": times, "current_a": np.zeros(n), "voltage_v": np.full(n, 52.0)})
    for day in {datetime.fromtimestamp(t, tz=UTC).date() for t in times}:
        assert not sample_day_build(battery_id=battery.id, day=day)
    assert not SampleDay.objects.filter(battery_id=battery.id, day=today).exists()


def test_cells_of_a_block_and_raw_rows_without_cells_leave_only_extremes(battery) -> None:
    n = first_day_count()
    history = part(simulated(), 0, n + 100)  # the first day, then 100 samples of the second
    store(battery.id, part(history, 0, n))
    build_all(battery.id, 1)
    later = {name: values for name, values in part(history, n).items() if not name.startswith("cell_")}
    store(battery.id, later)

    columns = sample_columns(battery_id=battery.id)
    assert_identical(columns, raw_sample_columns(battery_id=battery.id))
    assert not any(name.startswith("cell_") for name in columns)


def test_retention_drops_the_blocks_with_the_raw_samples(battery, settings) -> None:
    store(battery.id, simulated())
    build_all(battery.id, 6)
    settings.TELEMETRY_RAW_RETENTION_DAYS = 30
    sample_retention_apply(now=at(FIRST_DAY, 24 * 70))
    assert not SampleDay.objects.filter(battery_id=battery.id).exists()
    assert sample_columns(battery_id=battery.id)["timestamp"].size == 0


def test_a_rebuild_from_blocks_gives_the_report_of_a_rebuild_from_raw_rows(battery) -> None:
    store(battery.id, simulated())
    from_raw = battery_process(battery_id=battery.id)
    build_all(battery.id, 6)
    BatteryAnalysis.objects.filter(battery_id=battery.id).update(rebuild_requested=True)

    from_blocks = battery_process(battery_id=battery.id)

    assert from_blocks.rebuilt and from_blocks.samples_new == from_raw.samples_new
    raw_report = HealthSnapshot.objects.get(pk=from_raw.snapshot_id).report
    block_report = HealthSnapshot.objects.get(pk=from_blocks.snapshot_id).report
    # Days from blocks are fed one by one, raw rows a week at a time: sums may differ in the
    # last bit, nothing more.
    assert_same_within_rounding(block_report, raw_report)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_late_batch_waits_for_a_build_of_its_day_then_deletes_the_block(battery) -> None:
    """The lock: a block built from a read that missed a concurrent batch never survives it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers on the whole database")
    history = simulated()
    n = first_day_count()
    first_day = part(history, 0, n)
    keep = np.ones(n, dtype=bool)
    keep[500:510] = False
    store(battery.id, {name: values[keep] for name, values in first_day.items()})
    locked, release, stored = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def build() -> None:
        try:
            with transaction.atomic():
                sample_day_lock(battery_id=battery.id)
                locked.set()
                release.wait(30)
                assert sample_day_build(battery_id=battery.id, day=FIRST_DAY)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    def late_batch() -> None:
        try:
            store(battery.id, {name: values[500:510] for name, values in first_day.items()})
            stored.set()
        except BaseException as error:  # noqa: BLE001
            failures.append(error)
        finally:
            connections.close_all()

    builder = threading.Thread(target=build)
    builder.start()
    assert locked.wait(30)
    writer = threading.Thread(target=late_batch)
    writer.start()
    time.sleep(0.5)
    assert not stored.is_set(), "the late batch did not wait for the build holding the lock"
    release.set()
    builder.join(30)
    writer.join(30)
    assert not failures
    assert stored.is_set()
    assert not SampleDay.objects.filter(battery_id=battery.id, day=FIRST_DAY).exists()
    assert sample_columns(battery_id=battery.id)["timestamp"].size == n
