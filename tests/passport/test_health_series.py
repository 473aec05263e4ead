"""Health over time is drawn over the time of the data (issue #9 leftovers): a history the
telemetry pipeline writes within seconds describes weeks, and the charts must show weeks."""

from __future__ import annotations

import datetime as dt

import pytest

from passport import charts
from passport.selectors import passport_value_series
from passport.services import battery_update

pytestmark = pytest.mark.django_db


def day(number: int) -> dt.datetime:
    return dt.datetime(2026, 5, number, tzinfo=dt.UTC)


def test_values_are_placed_at_the_moment_of_their_data_and_late_history_supersedes(battery, users):
    # The operator enters figures by hand now (no moment of data: drawn at the version's time).
    battery_update(user=users.manufacturer, battery=battery, reason="entered by hand",
                   data={"full_cycles_count": 14, "remaining_capacity_ah": 99.0})
    # Then a collector's backlog: a day's figures per version, all written within a second.
    for number, cycles, capacity in ((1, 2, 99.5), (8, 6, 99.1), (15, 9, 98.7)):
        stamp = day(number).isoformat().replace("+00:00", "Z")
        battery_update(user=None, battery=battery, reason="telemetry",
                       data={"full_cycles_count": cycles, "remaining_capacity_ah": capacity},
                       provenance={"full_cycles_count": {"as_of": stamp}, "remaining_capacity_ah": {"as_of": stamp}})
    passport = battery.passports.get()
    series = passport_value_series(passport=passport, keys=charts.HEALTH_SERIES_KEYS)
    # The hand-entered figure "as of now" was superseded by the measured history behind it.
    assert series["full_cycles_count"] == [(day(1), 2), (day(8), 6), (day(15), 9)]
    assert series["remaining_capacity_ah"] == [(day(1), 99.5), (day(8), 99.1), (day(15), 98.7)]
    # Up to a version: what the passport said then (the PDF of an older version).
    first_measured = passport.versions.order_by("seq").filter(reason="telemetry").first().seq
    assert passport_value_series(passport=passport, keys=("full_cycles_count",),
                                 upto_seq=first_measured)["full_cycles_count"] == [(day(1), 2)]
    # A later figure without a moment of data (a correction by hand) is drawn at its own time.
    battery_update(user=users.manufacturer, battery=battery, reason="corrected", data={"full_cycles_count": 10})
    latest = passport_value_series(passport=passport, keys=("full_cycles_count",))["full_cycles_count"]
    assert latest[:3] == [(day(1), 2), (day(8), 6), (day(15), 9)]
    assert latest[3][1] == 10 and latest[3][0] > day(15)


def test_the_charts_axis_spans_the_data_not_the_writing():
    series = {"remaining_capacity_ah": [(day(1), 99.5), (day(15), 98.7)], "full_cycles_count": [(day(1), 2)]}
    drawn = charts.health_chart_svgs(series=series, rated_capacity_ah=100.0, cell_spread=[])
    # One chart: the cycles have a single point (it is in the table), the capacity two.
    assert len(drawn) == 1 and "Capacity retention" in drawn[0]
    assert "2026-05-01" in drawn[0] and "2026-05-15" in drawn[0] and "98.7 %" in drawn[0]
