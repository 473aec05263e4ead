"""POST /api/v1/telemetry/batches/ per the telemetry contract: formats, idempotency, overlap,
validation naming row, column and reason, limits, and nothing stored from a refused batch."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from telemetry.models import Batch, Device, ProcessingRequest, Sample
from telemetry.selectors import sample_columns
from tests.telemetry.conftest import SAMPLES_START, make_samples

BATCHES = "/api/v1/telemetry/batches/"


@pytest.fixture
def send(device_client, device, battery):
    client = device_client(device.key)

    def post(columns=None, *, batch_id="batch-1", rows=None, **extra):
        body = {"battery": battery.identifier, "batch_id": batch_id}
        if rows is not None:
            body["rows"] = rows
        else:
            body["columns"] = columns
        return client.post(BATCHES, body, format="json", **extra)

    return post


def stored_count(battery) -> int:
    return Sample.objects.filter(battery_id=battery.pk).count()


def test_columns_are_stored_and_answered_after_commit(send, battery, samples, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = send(samples(30, cells=16))
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "batch_id": "batch-1",
        "battery": battery.identifier,
        "samples": 30,
        "inserted": 30,
        "duplicates": 0,
        "first": "2026-03-10T12:00:00Z",
        "last": "2026-03-10T12:04:50Z",
    }
    # Only once committed: the processing run's enqueue (its request row committed with the
    # samples) and the rollup request.
    assert len(callbacks) == 2
    columns = sample_columns(battery_id=battery.pk)
    assert columns["timestamp"][0] == SAMPLES_START.timestamp()
    assert columns["cell_16_v"][0] == pytest.approx(3.266, abs=1e-6)
    assert Batch.objects.get().answer == response.json()


def test_rows_unix_seconds_and_gzip(device_client, device, battery) -> None:
    columns = make_samples(5, iso=False)
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    del rows[2]["soc_pct"]  # a missing value in one row is an empty field
    body = json.dumps({"battery": battery.identifier, "batch_id": "rows", "rows": rows}).encode()
    response = device_client(device.key).generic(
        "POST", BATCHES, gzip.compress(body), content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["inserted"] == 5
    soc = sample_columns(battery_id=battery.pk)["soc_pct"]
    assert np.isnan(soc[2]) and soc[3] == 53.0


def test_csv_body_with_battery_and_batch_id_in_the_query(device_client, device, battery) -> None:
    csv = "timestamp,current_a,voltage_v,temperature_c\n" + "".join(
        f"2026-03-10T12:00:{s:02d}Z,-5.0,52.{s},\n" for s in range(0, 50, 10)
    )
    client = device_client(device.key)
    url = f"{BATCHES}?battery={battery.identifier}&batch_id=csv-1"
    response = client.generic("POST", url, csv.encode(), content_type="text/csv")
    assert response.status_code == 201, response.json()
    assert response.json()["samples"] == 5
    again = client.generic(
        "POST", url, gzip.compress(csv.encode()), content_type="text/csv; charset=utf-8",
        HTTP_CONTENT_ENCODING="gzip",
    )
    assert again.status_code == 200
    response = client.generic("POST", BATCHES + "?batch_id=x", csv.encode(), content_type="text/csv")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "battery"


def test_the_same_batch_id_answers_the_first_answer_and_stores_nothing(send, battery, samples) -> None:
    first = send(samples(10))
    # Different content under the same id: still the first answer, nothing written.
    again = send(samples(10, start=SAMPLES_START + timedelta(hours=1)))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert stored_count(battery) == 10
    assert Batch.objects.count() == 1


def test_overlapping_batches_are_merged_never_doubled(send, battery, samples) -> None:
    send(samples(10), batch_id="a")
    response = send(samples(10, start=SAMPLES_START + timedelta(seconds=50)), batch_id="b")
    assert response.status_code == 201
    assert response.json()["inserted"] == 5
    assert response.json()["duplicates"] == 5
    assert stored_count(battery) == 15
    assert np.all(np.diff(sample_columns(battery_id=battery.pk)["timestamp"]) == 10.0)


BAD_VALUES = [
    # (column, row, value, words of the reason)
    ("current_a", 3, None, "NaN"),
    ("current_a", 2, "lots", "not a number"),
    ("voltage_v", 4, -3.0, "physical range"),
    ("temperature_c", 1, 400.0, "physical range"),
    ("soc_pct", 0, 140, "physical range"),
    ("timestamp", 3, "2026-03-10T12:00:05Z", "out of order"),
    ("timestamp", 2, "not a time", "ISO 8601"),
    ("timestamp", 0, "2026-02-01T00:00:00Z", "before the battery was made"),
    ("timestamp", 5, "2099-01-01T00:00:00Z", "future"),
]


@pytest.mark.parametrize(("column", "row", "value", "reason"), BAD_VALUES)
def test_a_bad_value_names_row_column_and_reason_and_nothing_is_stored(
    send, battery, samples, column, row, value, reason
) -> None:
    columns = samples(6)
    columns[column][row] = value
    response = send(columns)
    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]
    assert error["field"] == column
    assert error["index"] == row
    assert reason in error["reason"]
    assert stored_count(battery) == 0
    assert not Batch.objects.exists()


def test_cell_count_must_match_the_model(send, samples, battery) -> None:
    response = send(samples(3, cells=15))
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "cell_15_v"
    assert "16 cells in series" in error["reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"batch_id": "x", "columns": {}}, "battery"),
        ({"battery": "B", "columns": {}}, "batch_id"),
        ({"batch_id": "x" * 65, "columns": {}}, "batch_id"),
        ({"batch_id": "x"}, "columns"),
        ({"batch_id": "x", "columns": {"timestamp": []}, "rows": []}, "columns"),
        ({"batch_id": "x", "rows": [1, 2]}, "rows"),
        ({"batch_id": "x", "rows": "many"}, "rows"),
        ({"batch_id": "x", "columns": {"current_a": [1]}}, "timestamp"),
        ({"batch_id": "x", "columns": {"timestamp": []}}, "timestamp"),
        ({"batch_id": "x", "columns": [1, 2]}, "columns"),
        ({"batch_id": "x", "columns": {"timestamp": [1.7e9], "current_a": [1, 2], "voltage_v": [50]}}, "current_a"),
        ({"batch_id": "x", "columns": {"timestamp": [[1]], "current_a": [1], "voltage_v": [50]}}, "timestamp"),
        ({"batch_id": "x", "columns": {"timestamp": [1.7e9], "current_a": [{"a": 1}], "voltage_v": [50]}}, "current_a"),
        ({"batch_id": "x", "columns": {"timestamp": [True], "current_a": [1], "voltage_v": [50]}}, "timestamp"),
        ({"batch_id": "x", "columns": {"timestamp": 5, "current_a": [1], "voltage_v": [50]}}, "timestamp"),
        ({"batch_id": "x", "columns": {"timestamp": [1.7e9], "current_a": "abc", "voltage_v": [50]}}, "current_a"),
        ({"batch_id": "x", "columns": {"timestamp": [1e20], "current_a": [1], "voltage_v": [50]}}, "timestamp"),
        ({"batch_id": "x", "columns": {"timestamp": [-1e20], "current_a": [1], "voltage_v": [50]}}, "timestamp"),
        ({"batch_id": "x", "columns": {"timestamp": [1.7e9], "current_a": [1e308], "voltage_v": [50]}}, "current_a"),
        ({"batch_id": "x", "columns": {"timestamp": [1.7e9], "current_a": [1], "voltage_v": [50], "cell_2_v": [3.3]}}, "cell_1_v"),
        ({"batch_id": "x\n", "columns": {}}, "batch_id"),
    ],
)
def test_malformed_bodies_are_400_naming_the_field(device_client, device, battery, body, field) -> None:
    body = {"battery": battery.identifier, **body} if "battery" not in body and field != "battery" else body
    response = device_client(device.key).post(BATCHES, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{not json", {}),
        (b'{"battery": "x", "batch_id": "y", "columns": {"current_a": [NaN]}}', {}),
        (b"\x1f\x8bnot really gzip", {"HTTP_CONTENT_ENCODING": "gzip"}),
        (b"{}", {"HTTP_CONTENT_ENCODING": "br"}),
        (b"[]", {}),
    ],
)
def test_unparsable_bodies_are_400_never_500(device_client, device, content, headers) -> None:
    response = device_client(device.key).generic(
        "POST", BATCHES, content, content_type="application/json", **headers
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["reason"]


def test_unknown_battery_is_404(device_client, device, samples) -> None:
    body = {"battery": "(01)04012345000016(21)NOSUCHSERIAL", "batch_id": "x", "columns": samples(2)}
    assert device_client(device.key).post(BATCHES, body, format="json").status_code == 404


def test_too_many_rows_is_413(send, samples, settings, battery) -> None:
    settings.TELEMETRY_MAX_BATCH_ROWS = 50
    response = send(samples(51))
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "timestamp"
    assert stored_count(battery) == 0


def test_too_many_bytes_is_413_also_when_a_small_gzip_inflates(device_client, device, battery, settings) -> None:
    settings.TELEMETRY_MAX_BATCH_BYTES = 10_000
    client = device_client(device.key)
    big = json.dumps({"battery": battery.identifier, "batch_id": "x", "columns": {"pad": "x" * 20_000}})
    assert client.generic("POST", BATCHES, big.encode(), content_type="application/json").status_code == 413
    bomb = gzip.compress(b"[" + b" " * 5_000_000 + b"]")
    assert len(bomb) < 10_000
    response = client.generic(
        "POST", BATCHES, bomb, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 413


def test_more_than_two_and_a_half_megabytes_is_accepted(send, battery) -> None:
    """Django's default body ceiling (2.5 MB) is below a batch's; the batch limit applies."""
    columns = make_samples(20_000, step_s=1.0, cells=16)
    assert len(json.dumps(columns)) > 2_621_440
    response = send(columns)
    assert response.status_code == 201, response.content[:300]
    assert stored_count(battery) == 20_000


def test_an_ingest_takes_a_fixed_number_of_queries(send, samples) -> None:
    send(samples(10), batch_id="warm-up")
    with CaptureQueriesContext(connection) as small:
        send(samples(10, start=SAMPLES_START + timedelta(hours=1)), batch_id="small")
    with CaptureQueriesContext(connection) as large:
        send(samples(2000, start=SAMPLES_START + timedelta(hours=2)), batch_id="large")
    assert len(large) == len(small)


def test_a_collectors_battery_binding_and_earlier_answer_are_one_query(send, samples) -> None:
    send(samples(10), batch_id="warm-up")
    with CaptureQueriesContext(connection) as queries:
        send(samples(10, start=SAMPLES_START + timedelta(hours=1)), batch_id="next")
    reads = [q["sql"] for q in queries.captured_queries
             if "telemetry_devicebinding" in q["sql"] or "passport_battery" in q["sql"]]
    assert len(reads) == 1
    assert "telemetry_batch" in reads[0]


def test_a_row_repeating_the_one_before_counts_as_a_duplicate(send, samples, battery) -> None:
    columns = samples(4)
    for values in columns.values():
        values.insert(2, values[1])
    answer = send(columns).json()
    assert (answer["samples"], answer["inserted"], answer["duplicates"]) == (5, 4, 1)
    assert stored_count(battery) == 4
    # The same time with another value is refused: which one is right cannot be told.
    columns = samples(4, start=SAMPLES_START + timedelta(hours=1))
    for values in columns.values():
        values.insert(2, values[1])
    columns["current_a"][2] += 1.0
    response = send(columns, batch_id="conflicting")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "timestamp"


def test_other_columns_are_ignored(send, samples, battery) -> None:
    columns = samples(3)
    columns["inverter_mode"] = ["a", "b", "c"]
    assert send(columns).status_code == 201


def test_samples_older_than_the_raw_retention_are_refused(send, samples, settings, battery) -> None:
    settings.TELEMETRY_RAW_RETENTION_DAYS = 30
    response = send(samples(3))
    assert response.status_code == 400
    assert "retention" in response.json()["errors"][0]["reason"]


def test_a_processing_failure_never_fails_the_request(send, samples, battery, monkeypatch, django_capture_on_commit_callbacks) -> None:
    def broken(**kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("telemetry.services.processing.battery_processing_enqueue", broken)
    monkeypatch.setattr("telemetry.services.rollups.battery_rollups_request", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(samples(3))
    assert response.status_code == 201
    assert stored_count(battery) == 3
    # The request committed with the samples: the sweep runs the battery when the broker is back.
    assert ProcessingRequest.objects.filter(battery_id=battery.pk).count() == 1


def test_processing_is_requested_with_the_batch_start_in_the_batchs_transaction(send, samples, battery, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send(samples(3, start=datetime(2026, 4, 1, tzinfo=UTC)))
        # Written before the commit, in the batch's own transaction (no second commit, and
        # never a stored batch without its request); only the enqueue waits for the commit.
        requests = list(ProcessingRequest.objects.filter(battery_id=battery.pk))
    assert [r.earliest for r in requests] == [datetime(2026, 4, 1, tzinfo=UTC)]
    assert len(callbacks) == 2


def test_a_refused_batch_leaves_no_processing_request(send, samples, battery) -> None:
    columns = samples(3)
    columns["voltage_v"][1] = 2000.0
    assert send(columns).status_code == 400
    assert not ProcessingRequest.objects.filter(battery_id=battery.pk).exists()


def test_last_seen_is_written_at_most_once_a_minute(send, samples, device) -> None:
    send(samples(3), batch_id="first")
    device.device.refresh_from_db()
    first_seen = device.device.last_seen_at
    assert first_seen is not None
    with CaptureQueriesContext(connection) as soon:
        send(samples(3, start=SAMPLES_START + timedelta(hours=1)), batch_id="soon")
    assert not [q for q in soon.captured_queries if q["sql"].startswith('UPDATE "telemetry_device"')]
    device.device.refresh_from_db()
    assert device.device.last_seen_at == first_seen
    # A minute later the batch writes it again.
    Device.objects.filter(pk=device.device.pk).update(last_seen_at=first_seen - timedelta(minutes=2))
    send(samples(3, start=SAMPLES_START + timedelta(hours=2)), batch_id="later")
    device.device.refresh_from_db()
    assert device.device.last_seen_at > first_seen


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_at_once_is_stored_once(device, battery, samples) -> None:
    """Two requests race with one batch id (a collector retrying while the first is still
    running): the unique batch id makes the second wait, roll back and answer the first answer."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers on the whole database")
    import threading

    from django.db import connections
    from rest_framework.test import APIClient

    body = {"battery": battery.identifier, "batch_id": "race", "columns": samples(500)}
    barrier = threading.Barrier(2)
    answers = []

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
        barrier.wait()
        response = client.post(BATCHES, body, format="json")
        answers.append((response.status_code, response.json()))
        connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200, 201]
    assert answers[0][1] == answers[1][1]
    assert answers[0][1]["inserted"] == 500
    assert stored_count(battery) == 500
    assert Batch.objects.filter(batch_id="race").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_samples_committed_by_another_writer_during_a_batch_are_skipped_not_doubled(device, battery, samples) -> None:
    """A batch looks for stored overlaps before its COPY. Samples of the same battery committed
    by another writer after that look (a spool replayed while the live collector sends) make
    the COPY fail: the batch rolls back whole and runs again, skipping them; answered 201."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers on the whole database")
    import threading
    import time

    import psycopg
    from django.db import connections
    from rest_framework.test import APIClient

    from telemetry.services.storage import sample_partitions_ensure_for

    sample_partitions_ensure_for(int(SAMPLES_START.timestamp() * 1e6), int(SAMPLES_START.timestamp() * 1e6))
    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
                            user=db["USER"], password=db["PASSWORD"] or None, dbname=db["NAME"])
    # The other writer holds 200 samples (the batch's last 200 times) uncommitted.
    held = [SAMPLES_START + timedelta(seconds=10 * (200 + i)) for i in range(200)]
    with other.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO telemetry_sample (battery_id, time, current_a, voltage_v) VALUES (%s, %s, 1, 52)",
            [(battery.pk, moment) for moment in held],
        )
    answers = []

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
        body = {"battery": battery.identifier, "batch_id": "live", "columns": samples(400)}
        response = client.post(BATCHES, body, format="json")
        answers.append((response.status_code, response.json()))
        connections.close_all()

    thread = threading.Thread(target=send)
    thread.start()
    try:
        # Wait until the batch's COPY waits for the held samples, then commit them.
        deadline = time.monotonic() + 30
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'")
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the batch never waited for the other writer's samples")
        other.commit()
    finally:
        thread.join()
        other.close()
    assert answers[0][0] == 201, answers
    assert answers[0][1]["inserted"] == 200
    assert answers[0][1]["duplicates"] == 200
    assert stored_count(battery) == 400
    assert Batch.objects.filter(batch_id="live").count() == 1


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)
_names = st.sampled_from(
    ["timestamp", "current_a", "voltage_v", "temperature_c", "soc_pct", "cell_1_v", "cell_2_v",
     "min_cell_v", "max_cell_temp_c", "cell_1_temp_c", "other"]
)


@given(
    columns=st.one_of(
        st.dictionaries(_names, st.one_of(_values, st.lists(_values, max_size=4)), max_size=6),
        _values,
    ),
    batch_id=st.one_of(st.text(max_size=70), _values),
)
@hypothesis_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_body_makes_a_500(device_client, device, battery, columns, batch_id) -> None:
    body = {"battery": battery.identifier, "batch_id": batch_id, "columns": columns}
    response = device_client(device.key).post(BATCHES, body, format="json")
    assert response.status_code in (200, 201, 400, 413), response.content
    if response.status_code == 400:
        assert response.json()["errors"][0]["reason"]
