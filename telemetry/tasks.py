"""Celery tasks of telemetry: thin, idempotent wrappers around the services.

Storage upkeep and rollups (tel-ingest) are below; the health pipeline's tasks join them.
"""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from telemetry.services.rollups import battery_rollups_sweep, battery_rollups_update
from telemetry.services.storage import sample_partitions_ensure, sample_retention_apply

# How far back the daily rollup sweep looks for batches: a day plus slack for a late beat.
ROLLUP_SWEEP_HOURS = 26


@shared_task(acks_late=True)
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
