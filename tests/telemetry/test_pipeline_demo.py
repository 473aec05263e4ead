"""`make demo`'s telemetry: the demo owner's battery fed through ingestion and the pipeline."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from passport.attributes import PROVENANCE_KEY, Tier
from passport.health_sources import battery_cell_spread
from passport.selectors import passport_value_series
from passport.services import passport_document
from passport.services.health import HEALTH_REASON
from telemetry.demo import demo_battery
from telemetry.models import Alert, Batch, BatteryAnalysis, HealthSnapshot

pytestmark = pytest.mark.django_db


def test_demo_battery_is_fed_through_ingestion_and_the_pipeline_once(
    django_capture_on_commit_callbacks, tasks_in_process
) -> None:
    call_command("demo_data", stdout=StringIO())
    out = StringIO()
    # The rollups of the imported days are requested once each batch commits, in a task that
    # runs here as in `make demo` (no worker in this test).
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo_telemetry", stdout=out)
    battery = demo_battery()
    assert "collector device key" in out.getvalue()

    batches = Batch.objects.filter(battery=battery)
    days = (batches.order_by("-last").first().last.date() - battery.put_into_service_on).days + 1
    assert batches.count() == days and all(batch.device_id for batch in batches)
    analysis = BatteryAnalysis.objects.get(battery=battery)
    assert analysis.samples == sum(batch.inserted for batch in batches)
    latest = HealthSnapshot.objects.filter(battery=battery).order_by("-created_at", "-id").first()
    assert latest.passport_updated and latest.samples == analysis.samples
    passport = battery.passports.get(state="active")
    document = passport_document(passport=passport)
    assert document["full_cycles_count"] == int(latest.report["equivalent_full_cycles"])
    assert document[PROVENANCE_KEY]["full_cycles_count"]["as_of"] == latest.report["end"]
    assert passport.versions.order_by("-seq").first().reason == HEALTH_REASON
    # The health charts span the data (a day's figures per version, drawn at the time of their
    # data), not the seconds the import took.
    cycles = passport_value_series(passport=passport, keys=("full_cycles_count",))["full_cycles_count"]
    assert len(cycles) >= days // 2 and (cycles[-1][0] - cycles[0][0]).days >= days - 7
    spread = battery_cell_spread(battery_id=battery.pk, tiers=frozenset({Tier.INDIVIDUAL}),
                                 until=batches.order_by("-last").first().last.date())
    assert len(spread) >= days - 2
    # The simulated pack has a weak cell: bms_core's alerts became records, one per cause.
    reported = {(alert["kind"], alert["cell"]) for alert in latest.report["alerts"]}
    recorded = set(Alert.objects.filter(battery=battery, status="open").values_list("kind", "cell"))
    assert reported and recorded == reported

    again = StringIO()
    call_command("demo_telemetry", stdout=again)
    assert "already present" in again.getvalue()
    assert Batch.objects.filter(battery=battery).count() == days
