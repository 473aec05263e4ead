"""Versions: one immutable, hash-chained record per change; tampering is caught and named; the
passport can be read as it was on any past date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passport.errors import NotFound, ValidationFailed
from passport.models import Battery, ImmutableRecord, Version
from passport.services import (
    battery_model_update,
    battery_update,
    passport_document,
    version_chain_verify,
    version_chain_verify_all,
)
from passport.services import versions as versions_service
from passport.services.versions import passport_subject, version_hash
from passport.vocabulary import BatteryStatus


def three_versions(battery, users):
    battery_update(user=users.manufacturer, battery=battery, data={"state_of_charge_pct": 80}, reason="telemetry")
    battery_update(user=users.manufacturer, battery=battery, data={"state_of_charge_pct": 60}, reason="telemetry")


def test_every_change_is_a_version_chained_to_the_previous_one(battery, passport, users, organisations,
                                                               stationary_model, hand_over):
    three_versions(battery, users)
    hand_over(user=users.manufacturer, battery=battery, status=BatteryStatus.WASTE,
              operator=organisations.recycler, reason="collected")
    battery_model_update(user=users.manufacturer, model=stationary_model, data={"battery_mass_kg": 46},
                         reason="re-weighed")
    versions = list(passport.versions.order_by("seq"))
    assert [v.seq for v in versions] == [1, 2, 3, 4, 5]
    assert [v.reason for v in versions] == [
        "battery registered", "telemetry", "telemetry",
        "collected (offered by Voltaro Energy GmbH, accepted by ReCell Recycling GmbH)",
        # A model edit reaches the active passport through a version of its own.
        "battery model changed: re-weighed",
    ]
    assert versions[4].changes == {"model_version": {"old": 1, "new": 2}}
    assert versions[2].changes["state_of_charge_pct"] == {"old": 80, "new": 60}
    # Besides the value, only its provenance (its own last_updated) changed.
    assert set(versions[2].changes) == {"state_of_charge_pct", "dynamic_values_provenance"}
    assert versions[3].changes["status"] == {"old": "original", "new": "waste"}
    assert versions[3].changes["operator_information"]["new"]["name"] == "ReCell Recycling GmbH"
    for previous, version in zip(versions, versions[1:], strict=False):
        assert version.prev_hash == previous.hash
    assert [v.author for v in versions] == [users.manufacturer] * 3 + [users.recycler, users.manufacturer]
    assert stationary_model.versions.count() == 2
    assert [r.ok for r in version_chain_verify()] == [True, True]


def test_the_hash_covers_the_canonical_record(passport):
    version = passport.versions.get()
    assert version.hash == version_hash(
        subject=passport_subject(passport.passport_id), seq=1, created_at=version.created_at,
        author_id=version.author_id, reason=version.reason, changes=version.changes, data=version.data,
        prev_hash="",
    )


def test_stored_versions_refuse_changes_through_the_orm(passport):
    version = passport.versions.get()
    version.reason = "rewritten"
    with pytest.raises(ImmutableRecord):
        version.save()
    with pytest.raises(ImmutableRecord):
        version.delete()


def test_the_database_refuses_updates_of_versions(passport):
    with pytest.raises(DatabaseError), transaction.atomic():
        Version.objects.filter(passport=passport).update(reason="rewritten")
    assert passport.versions.get().reason == "battery registered"


def test_an_edit_behind_the_services_back_is_caught_and_named(battery, passport, users, versions_editable):
    three_versions(battery, users)
    with versions_editable():
        Version.objects.filter(passport=passport, seq=2).update(data={**passport.versions.get(seq=2).data,
                                                                      "state_of_charge_pct": 99})
    [report] = version_chain_verify(subject=passport)
    assert not report.ok
    assert report.subject == f"passport:{passport.passport_id}"
    assert report.broken_seq == 2
    assert report.reason == "hash mismatch: version 2 was altered after it was stored"


def test_raw_sql_tampering_is_caught_too(battery, passport, users, versions_editable):
    three_versions(battery, users)
    with versions_editable(), connection.cursor() as cursor:
        cursor.execute("UPDATE passport_version SET reason = %s WHERE passport_id = %s AND seq = %s",
                       ["nothing happened", passport.pk, 3])
    [report] = version_chain_verify(subject=passport)
    assert (report.ok, report.broken_seq) == (False, 3)


def test_a_recomputed_hash_breaks_the_next_link(battery, passport, users, versions_editable):
    three_versions(battery, users)
    forged = passport.versions.get(seq=2)
    data = {**forged.data, "state_of_charge_pct": 99}
    new_hash = version_hash(subject=passport_subject(passport.passport_id), seq=2, created_at=forged.created_at,
                            author_id=forged.author_id, reason=forged.reason, changes=forged.changes,
                            data=data, prev_hash=forged.prev_hash)
    with versions_editable():
        Version.objects.filter(pk=forged.pk).update(data=data, hash=new_hash)
    [report] = version_chain_verify(subject=passport)
    assert (report.ok, report.broken_seq) == (False, 3)
    assert report.reason.startswith("prev_hash mismatch")


def test_a_deleted_version_leaves_a_gap(battery, passport, users):
    three_versions(battery, users)
    Version.objects.filter(passport=passport, seq=2).delete()
    [report] = version_chain_verify(subject=passport)
    assert (report.ok, report.broken_seq) == (False, 3)
    assert report.reason == "seq gap: expected version 2, found 3"


def test_live_data_edited_behind_the_services_back_is_caught(battery, passport, stationary_model):
    Battery.objects.filter(pk=battery.pk).update(status="recycled")
    [report] = version_chain_verify(subject=passport)
    assert not report.ok and "live data differs from version 1" in report.reason and "status" in report.reason
    all_reports = {r.subject: r for r in version_chain_verify()}
    assert not all_reports[f"passport:{passport.passport_id}"].ok

    type(stationary_model).objects.filter(pk=stationary_model.pk).update(data={**stationary_model.data,
                                                                              "battery_mass_kg": 1})
    [model_report] = version_chain_verify(subject=stationary_model)
    assert not model_report.ok and "battery_mass_kg" in model_report.reason


def test_verifying_everything_streams_in_chunks_and_reports_as_one_by_one(
    monkeypatch, register_battery, users, stationary_model, versions_editable
):
    monkeypatch.setattr(versions_service, "VERIFY_CHUNK", 2)
    registered = [register_battery() for _ in range(5)]
    three_versions(registered[3].battery, users)
    with versions_editable():
        Version.objects.filter(passport=registered[3].passport, seq=2).update(reason="forged")
    Version.objects.filter(passport=registered[1].passport).delete()
    one_by_one = [*version_chain_verify(subject=stationary_model)] + [
        report for item in registered for report in version_chain_verify(subject=item.passport)
    ]
    # A passport without any version is reported after the others, as before streaming.
    expected = one_by_one[:2] + one_by_one[3:] + one_by_one[2:3]

    with CaptureQueriesContext(connection) as queries:
        streamed = list(version_chain_verify_all())

    assert streamed == expected == version_chain_verify()
    assert [(r.subject, r.broken_seq, r.reason) for r in streamed if not r.ok] == [
        (passport_subject(registered[3].passport.passport_id), 2,
         "hash mismatch: version 2 was altered after it was stored"),
        (passport_subject(registered[1].passport.passport_id), None, "no versions recorded"),
    ]
    # Five passports, two at a time: three chunks and the empty query that ends them, each
    # bounded; never one query for the whole register.
    passport_reads = [q["sql"] for q in queries.captured_queries if 'FROM "passport_passport"' in q["sql"]]
    assert len(passport_reads) == 4 and all("LIMIT 2" in sql for sql in passport_reads)


def test_the_passport_as_it_was_on_any_past_date(battery, passport, users, stationary_model, at_time):
    registered_at = passport.versions.get().created_at
    t1 = registered_at + dt.timedelta(days=10)
    t2 = registered_at + dt.timedelta(days=20)
    t3 = registered_at + dt.timedelta(days=30)
    with at_time(t1):
        battery_update(user=users.manufacturer, battery=battery, data={"state_of_charge_pct": 80}, reason="t1")
    with at_time(t2):
        battery_model_update(user=users.manufacturer, model=stationary_model,
                             data={"warranty_period_years": 12}, reason="longer warranty")
    with at_time(t3):
        battery_update(user=users.manufacturer, battery=battery, data={"state_of_charge_pct": 55}, reason="t3")

    def at(moment):
        return passport_document(passport=passport, at=moment)

    assert at(registered_at)["state_of_charge_pct"] is None
    assert at(t1 + dt.timedelta(days=1))["state_of_charge_pct"] == 80
    assert at(t1 + dt.timedelta(days=1))["warranty_period_years"] == 10
    assert at(t2)["warranty_period_years"] == 12 and at(t2)["state_of_charge_pct"] == 80
    latest = at(None)
    assert latest["state_of_charge_pct"] == 55 and latest["passport_version"] == 4 and latest["model_version"] == 2
    assert at(t2)["passport_version"] == 3 and at(t1)["model_version"] == 1
    assert latest["last_updated"] == t3.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with pytest.raises(NotFound):
        at(registered_at - dt.timedelta(seconds=1))
    assert all(r.ok for r in version_chain_verify())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    soc=st.floats(min_value=0, max_value=100),
    description=st.text(min_size=1, max_size=80).filter(lambda t: t.strip()),
)
def test_any_valid_value_survives_the_database_round_trip_with_the_chain_intact(battery, passport, users, soc,
                                                                                  description):
    try:
        battery_update(user=users.manufacturer, battery=battery, reason="property test", data={
            "state_of_charge_pct": soc,
            "accident_information": [{"occurred_on": "2026-05-01", "description": description}],
        })
    except ValidationFailed as refused:
        assert {e.field for e in refused.errors} == {"accident_information.0.description"}
        return
    [report] = version_chain_verify(subject=passport)
    assert report.ok, report.reason
    stored = passport_document(passport=passport)
    assert stored["state_of_charge_pct"] == soc
    assert stored["accident_information"][0]["description"] == description.strip()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_take_consecutive_version_numbers(battery, passport, users):
    """Two writers at once: the row lock makes the second wait, so the chain stays linear."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers on the whole database, no row locks")
    import threading

    from django.db import connections

    barrier = threading.Barrier(4)
    failures: list[Exception] = []

    def writer(value: int) -> None:
        try:
            barrier.wait()
            battery_update(user=users.manufacturer, battery=battery, data={"full_cycles_count": value},
                           reason=f"writer {value}")
        except Exception as error:  # reported to the test below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(passport.versions.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    [report] = version_chain_verify(subject=passport)
    assert report.ok, report.reason
