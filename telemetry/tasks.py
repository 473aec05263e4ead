"""Celery tasks of the telemetry app: thin, idempotent wrappers around the services.

Every task is acks_late (also settings.CELERY_TASK_ACKS_LATE): a worker killed mid-task leaves
its message unacknowledged and the task runs again. It may, because each service is idempotent:
a health run writes its state, snapshot, alerts and passport version in one transaction (all or
nothing) and starts from the stored state; rollups recompute whole days; the upkeep tasks create
what is missing and drop what is due. The schedule is CELERY_BEAT_SCHEDULE in config/settings.py.
"""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from telemetry.services import alerts, processing
from telemetry.services.rollups import battery_rollups_sweep, battery_rollups_update
from telemetry.services.storage import sample_partitions_ensure, sample_retention_apply

# How far back the daily rollup sweep looks for batches: a day plus slack for a late beat.
ROLLUP_SWEEP_HOURS = 26


# --- storage upkeep and rollups (tel-ingest) -----------------------------------------------------


# ignore_result: nobody reads the count, and with a result backend every publish from an ingest
# request also subscribed to the result's channel (two more Redis round trips) and kept the
# result in Redis for a day.
@shared_task(acks_late=True, ignore_result=True)
def battery_rollups_update_task(battery_id: int, first_day: str, last_day: str) -> int:
    return battery_rollups_update(
        battery_id=battery_id,
        first_day=date.fromisoformat(first_day),
        last_day=date.fromisoformat(last_day),
    )


@shared_task(acks_late=True)
def battery_rollups_sweep_task() -> int:
    return battery_rollups_sweep(since=timezone.now() - timedelta(hours=ROLLUP_SWEEP_HOURS))


@shared_task(acks_late=True)
def sample_partitions_ensure_task() -> list[str]:
    return sample_partitions_ensure()


@shared_task(acks_late=True)
def sample_retention_apply_task() -> list[str]:
    return sample_retention_apply()


# --- the health pipeline (tel-pipeline) ----------------------------------------------------------


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def battery_process_task(battery_id: int, force_passport: bool = False) -> None:
    """One health run of one battery (telemetry.services.processing.battery_process)."""
    processing.battery_process(battery_id=battery_id, force_passport=force_passport)


@shared_task(acks_late=True, ignore_result=True)
def processing_sweep_task() -> None:
    """Enqueue batteries whose samples were not processed (broker down, lost messages)."""
    processing.processing_sweep()


@shared_task(acks_late=True, ignore_result=True)
def batteries_process_daily_task() -> None:
    """Art. 14: every active battery's use data at least daily; one task per battery."""
    for battery_id in processing.batteries_for_daily_run():
        battery_process_task.delay(battery_id, True)


@shared_task(acks_late=True, ignore_result=True)
def devices_check_silence_task() -> None:
    """"No data for N hours" alerts per device."""
    alerts.devices_check_silence()
