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


def test_the_rest_of_annex_vii_part_a_is_mapped_where_the_report_has_it(simulated) -> None:
    """Reports of bms_core versions that estimate usable energy, efficiency and self-discharge
    (and the capacity on the rated definition) fill those attributes; withheld ones say why."""
    from passport.services.health import health_mapping

    report, _ = simulated
    richer = {
        **report,
        "capacity_rated_basis_ah": 97.26,
        "usable_energy_kwh": {"kwh": 4.9512, "interval_kwh": [4.8, 5.1]},
        "round_trip_efficiency": {"pct": 94.44, "interval_pct": [93.0, 95.5]},
        "self_discharge": {"pct_per_month": None, "reason": "the sensor's zero is not known well enough"},
        "power_capability_w": {"discharge_w": 5100.0},
    }
    mapping = health_mapping(richer)
    assert mapping.values["remaining_capacity_ah"] == 97.3
    assert "rated definition" in mapping.methods["remaining_capacity_ah"]
    assert mapping.values["remaining_usable_energy_kwh"] == 4.95
    assert mapping.values["remaining_round_trip_efficiency_pct"] == 94.4
    assert "sensor's zero" in mapping.missing["current_self_discharge_pct_per_month"]
    assert "80 % and 20 %" in mapping.missing["remaining_power_capability_w"]
    # The current report has none of these keys: nothing is claimed about them.
    assert "remaining_usable_energy_kwh" not in health_mapping(report).missing
