"""The raw sample table: partitions, COPY with every NULL pattern, retention."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection

from telemetry.models import Sample
from telemetry.selectors import sample_columns
from telemetry.services.storage import (
    SampleRows,
    copy_binary_payload,
    sample_partitions,
    sample_partitions_ensure,
    sample_retention_apply,
    samples_store,
    unix_s_to_microseconds,
)

postgres_only = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _needs_postgres_marker(request) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: partitions and COPY exist only there")


def rows_at(battery_id: int, moments: list[datetime], **scalars) -> SampleRows:
    time_s = np.array([m.timestamp() for m in moments])
    n = time_s.size
    values = {"current_a": np.full(n, -3.0), "voltage_v": np.full(n, 51.0)}
    values.update({name: np.asarray(v, dtype=np.float64) for name, v in scalars.items()})
    return SampleRows(battery_id=battery_id, time_us=unix_s_to_microseconds(time_s), scalars=values)


@postgres_only
def test_table_is_partitioned_by_month_with_brin_and_no_foreign_key(db) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'telemetry_sample'::regclass"
        )
        assert cursor.fetchone() == ("r",)
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'telemetry_sample'")
        definitions = " ".join(row[0] for row in cursor.fetchall())
        assert "USING brin" in definitions
        assert "(battery_id, \"time\")" in definitions
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'telemetry_sample'::regclass AND contype = 'f'"
        )
        assert cursor.fetchone() == (0,)


@postgres_only
def test_partitions_are_created_ahead_and_on_demand(battery) -> None:
    created = sample_partitions_ensure(now=datetime(2026, 11, 15, tzinfo=UTC), ahead_months=2)
    assert created == ["telemetry_sample_p202611", "telemetry_sample_p202612", "telemetry_sample_p202701"]
    assert sample_partitions_ensure(now=datetime(2026, 11, 15, tzinfo=UTC), ahead_months=2) == []
    # A backfill into a month without a partition creates it before the COPY.
    samples_store(rows_at(battery.pk, [datetime(2026, 4, 30, 23, 59, 59, tzinfo=UTC),
                                       datetime(2026, 5, 1, tzinfo=UTC)]))
    assert {"telemetry_sample_p202604", "telemetry_sample_p202605"} <= set(sample_partitions())


@postgres_only
def test_copy_round_trips_nulls_nan_cells_and_microseconds(battery) -> None:
    moments = [datetime(2026, 3, 10, 0, 0, s, 123456 * (s % 2), tzinfo=UTC) for s in range(4)]
    rows = SampleRows(
        battery_id=battery.pk,
        time_us=unix_s_to_microseconds(np.array([m.timestamp() for m in moments])),
        scalars={
            "current_a": np.array([1.0, -2.0, 3.5, 0.0]),
            "voltage_v": np.array([50.0, 51.0, 52.0, 53.0]),
            "temperature_c": np.array([np.nan, 20.0, np.nan, 21.0]),
        },
        cell_v=np.array([[3.2, 3.3], [3.2, np.nan], [3.1, 3.0], [3.3, 3.3]]),
    )
    assert samples_store(rows) == 4
    stored = list(Sample.objects.filter(battery_id=battery.pk).order_by("time"))
    assert [s.time for s in stored] == moments
    assert [s.temperature_c for s in stored] == [None, 20.0, None, 21.0]
    assert stored[0].soc_pct is None
    columns = sample_columns(battery_id=battery.pk)
    np.testing.assert_array_equal(columns["temperature_c"], [np.nan, 20.0, np.nan, 21.0])
    assert np.isnan(columns["cell_2_v"][1]) and columns["cell_2_v"][2] == np.float32(3.0)
    assert "soc_pct" not in columns


def test_binary_copy_payload_has_pg_framing() -> None:
    rows = rows_at(7, [datetime(2000, 1, 1, tzinfo=UTC)], temperature_c=[np.nan])
    payload = copy_binary_payload(rows)
    assert payload.startswith(b"PGCOPY\n\xff\r\n\x00") and payload.endswith(b"\xff\xff")
    row = payload[19:-2]
    assert row[:2] == (12).to_bytes(2, "big")
    assert row[2:6] == (8).to_bytes(4, "big") and row[6:14] == (7).to_bytes(8, "big")
    # The time field: microseconds since 2000-01-01 = 0.
    assert row[14:18] == (8).to_bytes(4, "big") and row[18:26] == bytes(8)


@postgres_only
def test_retention_drops_whole_old_partitions_and_keeps_the_rest(battery, settings) -> None:
    settings.TELEMETRY_RAW_RETENTION_DAYS = 400
    samples_store(rows_at(battery.pk, [datetime(2026, 3, 31, 23, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)]))
    # 400 days after 2026-04-20 is 2027-05-25: March 2026 is older than that month's start.
    now = datetime(2027, 5, 25, tzinfo=UTC)
    assert sample_retention_apply(now=now) == ["telemetry_sample_p202603"]
    assert "telemetry_sample_p202603" not in sample_partitions()
    assert sample_columns(battery_id=battery.pk)["timestamp"].size == 1
    assert sample_retention_apply(now=now) == []


def test_retention_on_every_backend_removes_only_old_samples(battery, settings) -> None:
    settings.TELEMETRY_RAW_RETENTION_DAYS = 400
    samples_store(rows_at(battery.pk, [datetime(2026, 3, 31, 23, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)]))
    assert sample_retention_apply(now=datetime(2027, 5, 25, tzinfo=UTC))
    columns = sample_columns(battery_id=battery.pk)
    assert columns["timestamp"].tolist() == [datetime(2026, 4, 2, tzinfo=UTC).timestamp()]


@postgres_only
def test_a_sample_already_stored_goes_through_the_staging_path(battery) -> None:
    first = rows_at(battery.pk, [datetime(2026, 3, 10, 0, 0, s, tzinfo=UTC) for s in range(3)])
    assert samples_store(first) == 3
    overlap = rows_at(battery.pk, [datetime(2026, 3, 10, 0, 0, s, tzinfo=UTC) for s in range(2, 6)])
    assert samples_store(overlap) == 3
    assert Sample.objects.filter(battery_id=battery.pk).count() == 6
    # The same connection keeps working after the failed direct COPY.
    assert samples_store(rows_at(battery.pk, [datetime(2026, 3, 11, tzinfo=UTC)])) == 1


def test_the_one_layout_payload_equals_the_general_one() -> None:
    """A batch whose columns are each always or never NULL takes the structured-array path;
    adding one NULL forces the per-row path. The bytes of the other rows must not differ."""
    moments = [datetime(2026, 3, 10, 0, 0, s, tzinfo=UTC) for s in range(5)]
    uniform = rows_at(3, moments, temperature_c=[20.0] * 5)
    with_cells = SampleRows(
        battery_id=3, time_us=uniform.time_us, scalars=uniform.scalars,
        cell_v=np.full((5, 16), 3.3),
    )
    holed = rows_at(3, moments, temperature_c=[20.0] * 4 + [np.nan])
    fast, general = copy_binary_payload(uniform), copy_binary_payload(holed)
    row_bytes = 2 + 12 * 4 + 8 * (2 + 3)
    assert len(fast) == 19 + 5 * row_bytes + 2
    # The first four rows are identical in both encodings; the fifth lost 8 bytes to the NULL.
    assert fast[: 19 + 4 * row_bytes] == general[: 19 + 4 * row_bytes]
    assert len(general) == len(fast) - 8
    assert len(copy_binary_payload(with_cells)) == len(fast) + 5 * 64
