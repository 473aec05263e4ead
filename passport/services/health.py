"""State of health and use data (Art. 14, Annex VII) from a bms_core analysis report.

The report must cover the battery's whole life since it was put into service (the analytics
library's incremental Analyzer keeps it so across batches): Annex VII Part B counts are
lifetime totals, not per batch.
"""

from __future__ import annotations

from typing import Any

from passport.models import Battery, Passport
from passport.services.batteries import battery_update

# Annex VII Part B (2) and (3) do not say which direction counts; we count what the battery
# delivered (discharged), as the equivalent-full-cycle count does, so the three agree.
HEALTH_REASON = "state of health and use data from the BMS history (bms_core analysis)"


def health_values_from_report(report: dict[str, Any]) -> dict[str, Any]:
    """The passport's dynamic attributes that a bms_core report determines. Values the report
    could not estimate (capacity without anchors, SOC after a gap) are left out, never guessed."""
    values: dict[str, Any] = {
        # The attribute counts whole cycles: completed equivalent full cycles.
        "full_cycles_count": int(report["equivalent_full_cycles"]),
        "capacity_throughput_ah": round(report["discharge_throughput_ah"], 1),
        "energy_throughput_kwh": round(report["energy_discharged_kwh"], 2),
        "time_above_temperature_boundary_minutes": round(report["time_above_high_temp_min"]),
        "time_below_temperature_boundary_minutes": round(report["time_below_low_temp_min"]),
        "time_charging_above_temperature_boundary_minutes": round(
            report["time_charging_above_high_temp_min"]
        ),
        "time_charging_below_temperature_boundary_minutes": round(
            report["time_charging_below_low_temp_min"]
        ),
        "deep_discharge_events_count": int(report["deep_discharge_events"]),
        "overcharge_events_count": int(report["overvoltage_events"]),
    }
    if report.get("capacity_ah") is not None:
        values["remaining_capacity_ah"] = round(report["capacity_ah"], 1)
    if report.get("soc_pct") is not None:
        values["state_of_charge_pct"] = round(min(max(report["soc_pct"], 0.0), 100.0), 1)
    if report.get("temperature_min_c") is not None and report.get("temperature_max_c") is not None:
        values["temperature_information"] = [
            {
                "period_start": report["start"],
                "period_end": report["end"],
                "min_c": round(report["temperature_min_c"], 1),
                "max_c": round(report["temperature_max_c"], 1),
            }
        ]
    return values


def battery_health_record(
    *, battery: Battery, report: dict[str, Any], user: Any = None
) -> Passport:
    """Write the report's values into the battery's passport as a new version (user None: the
    system, i.e. the telemetry pipeline)."""
    return battery_update(
        user=user, battery=battery, data=health_values_from_report(report), reason=HEALTH_REASON
    )
