"""The demo's telemetry: the demo owner's battery fed through the real path (a collector device,
batch ingestion, the health pipeline), so `make demo` shows a passport kept current by telemetry.

It builds on passport.demo's dataset (run `manage.py demo_data` first) and is idempotent: a
battery that already has samples is left as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bms_core.simulate import simulate_history
from passport.models import Battery
from passport.vocabulary import BatteryStatus
from telemetry.models import HealthSnapshot, Sample
from telemetry.services.devices import device_create
from telemetry.services.ingest import batch_ingest
from telemetry.services.processing import battery_process

DEMO_OWNER = "owner"
DEMO_DEVICE_NAME = "demo collector (garage)"
# The simulator's coarsest sampling keeps the demo quick: about 3,000 samples a day.
DEMO_SAMPLE_S = 30.0
DAY_S = 86_400.0


@dataclass(frozen=True)
class TelemetryDemo:
    battery: Battery | None
    created: bool
    device_key: str | None
    batches: int
    samples: int
    snapshot: HealthSnapshot | None


def demo_battery() -> Battery | None:
    """The demo owner's original battery (battery 1 of passport.demo)."""
    return (
        Battery.objects.filter(owner__username=DEMO_OWNER, status=BatteryStatus.ORIGINAL)
        .select_related("model")
        .order_by("id")
        .first()
    )


def demo_telemetry_build(*, today: dt.date | None = None) -> TelemetryDemo:
    """Simulate the battery's BMS since it was put into service and send it a day per batch
    through batch_ingest (the API's service); each committed batch asks for a health run, which
    the embedded default runs in-process."""
    battery = demo_battery()
    if battery is None or battery.put_into_service_on is None:
        return TelemetryDemo(battery, False, None, 0, 0, None)
    if Sample.objects.filter(battery_id=battery.pk).exists():
        latest = HealthSnapshot.objects.filter(battery=battery).order_by("-created_at", "-id").first()
        return TelemetryDemo(battery, False, None, 0, 0, latest)
    today = today or dt.date.today()
    days = (today - battery.put_into_service_on).days
    start = dt.datetime.combine(battery.put_into_service_on, dt.time(), tzinfo=dt.UTC)
    capacity_ah = float(battery.model.data.get("rated_capacity_ah", 100))
    columns, _truth = simulate_history(
        days, 0, sample_s=DEMO_SAMPLE_S, capacity_ah=capacity_ah,
        start=start.isoformat().replace("+00:00", "Z"),
    )
    device, key = device_create(user=battery.owner, name=DEMO_DEVICE_NAME, batteries=[battery])
    times = columns["timestamp"]
    batches = 0
    for day in range(days):
        day_start = start.timestamp() + day * DAY_S
        mask = (times >= day_start) & (times < day_start + DAY_S)
        if not mask.any():
            continue
        batch_ingest(
            device=device, battery=battery, batch_id=f"demo-{day:04d}",
            columns={name: values[mask] for name, values in columns.items()},
        )
        batches += 1
        # As the daily run does for a battery that sends live: the passport takes the day's
        # figures. The runs after each batch write it at most once an hour of wall-clock time,
        # so without this a history imported in a minute would leave one or two versions, and
        # the health charts (drawn over the time of the data) a single point.
        result = battery_process(battery_id=battery.pk, force_passport=True)
    # The catch-up writes the final figures (a no-op when the last day's run did).
    result = battery_process(battery_id=battery.pk, force_passport=True)
    snapshot = (
        (HealthSnapshot.objects.filter(pk=result.snapshot_id).first() if result.snapshot_id is not None else None)
        or HealthSnapshot.objects.filter(battery=battery).order_by("-created_at", "-id").first()
    )
    return TelemetryDemo(battery, True, key, batches, int(times.size), snapshot)
