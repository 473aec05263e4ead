"""Celery tasks of the telemetry app: thin wrappers over the services, safe to run twice.

Every task is acks_late (settings.CELERY_TASK_ACKS_LATE): a worker killed mid-task leaves its
message unacknowledged and another worker runs it again. They can, because each service is
idempotent: a health run writes its state, snapshot and passport version in one transaction
(all or nothing) and starts from the stored state; the periodic ones create what is missing or
drop what is due. The schedule is CELERY_BEAT_SCHEDULE in config/settings.py.
"""

from __future__ import annotations

from celery import shared_task

from telemetry.services import alerts, processing


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def battery_process_task(battery_id: int, force_passport: bool = False) -> None:
    """One health run of one battery (telemetry.services.processing.battery_process)."""
    processing.battery_process(battery_id=battery_id, force_passport=force_passport)


@shared_task(acks_late=True, ignore_result=True)
def processing_sweep() -> None:
    """Enqueue batteries whose samples were not processed (broker down, lost messages)."""
    processing.processing_sweep()


@shared_task(acks_late=True, ignore_result=True)
def batteries_process_daily() -> None:
    """Art. 14: every active battery's use data at least daily; one task per battery."""
    for battery_id in processing.batteries_for_daily_run():
        battery_process_task.delay(battery_id, True)


@shared_task(acks_late=True, ignore_result=True)
def sample_partitions_ensure() -> None:
    """Monthly partitions of the raw sample table, created ahead (PostgreSQL)."""
    from telemetry.services import storage

    storage.sample_partitions_ensure()


@shared_task(acks_late=True, ignore_result=True)
def sample_retention_apply() -> None:
    """Drop raw samples older than TELEMETRY_RAW_RETENTION_DAYS (whole partitions)."""
    from telemetry.services import storage

    storage.sample_retention_apply()


@shared_task(acks_late=True, ignore_result=True)
def devices_check_silence() -> None:
    """"No data for N hours" alerts per device."""
    alerts.devices_check_silence()
