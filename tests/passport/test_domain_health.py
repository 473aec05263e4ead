"""State of health and use data from a bms_core analysis, written into the passport."""

from __future__ import annotations

import pytest

import bms_core
from bms_core.simulate import simulate_history
from passport.models import Version
from passport.services import passport_document
from passport.services.health import HEALTH_REASON, battery_health_record, health_values_from_report

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def simulated() -> tuple[dict, dict]:
    columns, truth = simulate_history(14, 7, sample_s=30.0, capacity_ah=100.0, weak_cell=None)
    return bms_core.analyze(columns, rated_capacity_ah=100.0, series_cells=16), truth


def test_report_values_land_in_the_passport_as_a_system_version(battery, simulated) -> None:
    report, truth = simulated
    passport = battery_health_record(battery=battery, report=report)

    document = passport_document(passport=passport)
    assert document["full_cycles_count"] == int(report["equivalent_full_cycles"])
    assert document["capacity_throughput_ah"] == pytest.approx(report["discharge_throughput_ah"], abs=0.05)
    assert document["energy_throughput_kwh"] == pytest.approx(report["energy_discharged_kwh"], abs=0.005)
    assert document["deep_discharge_events_count"] == truth["events"]["deep_discharge"]
    assert document["time_charging_below_temperature_boundary_minutes"] == round(
        report["time_charging_below_low_temp_min"]
    )
    # A healthy simulated pack: the estimate is close to the simulator's true capacity.
    assert document["remaining_capacity_ah"] == pytest.approx(truth["capacity_ah"]["pack"], rel=0.02)
    [period] = document["temperature_information"]
    assert period["min_c"] <= period["max_c"]

    latest = Version.objects.filter(passport=passport).order_by("-seq").first()
    assert latest.author is None
    assert latest.reason == HEALTH_REASON
    assert "full_cycles_count" in latest.changes


def test_values_the_analysis_could_not_estimate_are_left_out(simulated) -> None:
    report, _ = simulated
    unknown = {**report, "capacity_ah": None, "soc_pct": None, "temperature_min_c": None}
    values = health_values_from_report(unknown)
    assert "remaining_capacity_ah" not in values
    assert "state_of_charge_pct" not in values
    assert "temperature_information" not in values
    assert values["full_cycles_count"] == int(report["equivalent_full_cycles"])


def test_recording_keeps_earlier_values_the_report_does_not_cover(complete_battery, simulated) -> None:
    report, _ = simulated
    before = passport_document(passport=complete_battery.passports.get(state="active"))
    passport = battery_health_record(
        battery=complete_battery, report={**report, "capacity_ah": None}
    )
    after = passport_document(passport=passport)
    assert after["remaining_capacity_ah"] == before["remaining_capacity_ah"]
    assert after["full_cycles_count"] == int(report["equivalent_full_cycles"])
