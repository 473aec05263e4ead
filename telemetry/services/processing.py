"""The health pipeline: stored samples -> bms_core.Analyzer -> snapshot, alerts and passport.

Requests. Ingestion calls `battery_processing_request` inside the batch's transaction. It appends
a ProcessingRequest row (an INSERT, which never waits for a running analysis; it commits with the
samples) and, once that transaction has committed, enqueues one
`battery_process` task per battery per TELEMETRY_PROCESSING_DELAY_S: a cache key taken with an
atomic add decides which request enqueues, so a collector sending every few seconds costs one run
per delay, not one per batch. The enqueue never raises into the ingest request: with the broker (or
the cache) down the request row stays, and the beat sweep enqueues the battery when the broker is
back. In the embedded default (no Redis) every request runs the task in-process at once.

Runs. `battery_process` holds the battery's BatteryAnalysis row FOR UPDATE for the whole run, so
two workers never feed the same samples. It restores the Analyzer from its stored state and feeds
only the samples after the checkpoint, in windows of TIME_WINDOW_S so memory stays bounded, or
starts from all raw data (a rebuild) when a request's first sample is at or before the checkpoint,
when a run found samples it had not fed in its own range (a batch committed mid-run), or when the
model's analysis settings changed. The new state and checkpoint, the HealthSnapshot, the alerts and
the passport version are written in the run's one transaction: a worker killed mid-run leaves
nothing, and the task (acks_late) runs again from the same stored state, giving exactly the result
of one clean run.

Limits. A rebuild is only as complete as the raw data: once retention has dropped a month of raw
samples, a rebuild would restart the lifetime counts from the oldest sample kept, so a rebuild
request then keeps the analysis as it is and says so (last_error) rather than lower a lifetime total.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, Max, Min, OuterRef, Q
from django.utils import timezone

import bms_core
from bms_core.columns import TIMESTAMP
from passport.errors import TransitionRefused, ValidationFailed
from passport.models import Battery
from passport.services.health import (
    AnalysisSettings,
    analysis_settings_of_model,
    battery_health_record,
    battery_values_record,
    health_mapping,
)
from passport.vocabulary import BatteryStatus, PassportState
from telemetry.models import BatteryAnalysis, HealthSnapshot, ProcessingRequest, Sample
from telemetry.selectors import sample_column_parts
from telemetry.services.sample_days import ONE_US, day_start

logger = logging.getLogger(__name__)

# Samples read and fed at once: a week is 605k rows at 1 Hz (about 100 MB with 16 cells).
TIME_WINDOW_S = 7 * 86_400
ENQUEUED_KEY = "telemetry:processing-enqueued:{battery_id}"
# A request older than the delay plus this is considered lost by the sweep.
SWEEP_GRACE_S = 60
# Statuses whose passport no longer takes use data (it ceased with the battery).
FINISHED_STATUSES = (BatteryStatus.RECYCLED,)


@dataclasses.dataclass(frozen=True)
class ProcessingResult:
    battery_id: int
    samples_new: int
    rebuilt: bool
    snapshot_id: int | None
    passport_updated: bool
    error: str = ""


# --- requests --------------------------------------------------------------------------------


def battery_processing_request(*, battery_id: int, earliest: datetime) -> None:
    """Ask for the battery's samples from `earliest` on to be analysed.

    Called inside the transaction that stores those samples: the request row commits with them
    or not at all (a batch is never stored without its request, and the batch costs one commit,
    not two), and the run is enqueued only once that transaction has committed, so a worker
    never looks for samples that may still roll back. Outside a transaction the row commits at
    once and the run is enqueued at once. A database error here is the caller's (the batch fails
    whole); the enqueue never raises: a lost enqueue is found by the sweep.
    """
    ProcessingRequest.objects.create(
        battery_id=battery_id, earliest=earliest, requested_at=timezone.now()
    )
    transaction.on_commit(lambda: _enqueue_after_commit(battery_id))


def _enqueue_after_commit(battery_id: int) -> None:
    try:
        battery_processing_enqueue(battery_id=battery_id, coalesce=True)
    except Exception:  # noqa: BLE001 - the sender was told "stored"; the request row stays
        logger.exception("processing enqueue for battery %s failed", battery_id)


def battery_processing_enqueue(*, battery_id: int, coalesce: bool) -> bool:
    """Send the battery's run to the broker; with `coalesce`, only if none was sent in the last
    TELEMETRY_PROCESSING_DELAY_S (that run will read these samples too). False when the broker or
    the cache could not be reached (the sweep retries)."""
    from telemetry.tasks import battery_process_task

    eager = settings.CELERY_TASK_ALWAYS_EAGER
    delay = settings.TELEMETRY_PROCESSING_DELAY_S
    key = ENQUEUED_KEY.format(battery_id=battery_id)
    try:
        if coalesce and not eager and not cache.add(key, 1, timeout=delay):
            return True
    except Exception:  # noqa: BLE001 - any cache failure: fall through and try the broker
        logger.warning("cache unreachable; enqueueing battery %s without coalescing", battery_id)
    try:
        battery_process_task.apply_async(
            args=[battery_id], countdown=delay if coalesce and not eager else 0, retry=False
        )
        return True
    except Exception:  # noqa: BLE001 - broker down: the request row stays for the sweep
        if eager:
            # In-process: the run itself failed. Log it; the request row stays for a later run.
            logger.exception("in-process health run of battery %s failed", battery_id)
        else:
            logger.warning("broker unreachable; battery %s left for the sweep", battery_id)
        try:
            cache.delete(key)
        except Exception:  # noqa: BLE001
            pass
        return False


def processing_sweep() -> list[int]:
    """Enqueue every battery with work left: requests older than the delay (the broker was down,
    or a worker lost the message), a rebuild asked for, or samples after its checkpoint. Returns
    the battery ids enqueued."""
    cutoff = timezone.now() - timedelta(seconds=settings.TELEMETRY_PROCESSING_DELAY_S + SWEEP_GRACE_S)
    waiting = set(
        ProcessingRequest.objects.filter(requested_at__lt=cutoff)
        .values_list("battery_id", flat=True).distinct()
    )
    waiting |= set(
        BatteryAnalysis.objects.filter(rebuild_requested=True).values_list("battery_id", flat=True)
    )
    # Samples after the checkpoint, one index probe per battery inside one query. Batteries
    # whose analysis stopped on their data wait for a new batch or the daily run instead of
    # being retried every sweep.
    after_checkpoint = Sample.objects.filter(
        battery_id=OuterRef("battery_id"), time__gt=OuterRef("checkpoint")
    )
    never_run = Sample.objects.filter(battery_id=OuterRef("battery_id"))
    waiting |= set(
        BatteryAnalysis.objects.filter(last_error="")
        .filter(
            (Q(checkpoint__isnull=False) & Exists(after_checkpoint))
            | (Q(checkpoint__isnull=True) & Exists(never_run))
        )
        .values_list("battery_id", flat=True)
    )
    enqueued = [
        battery_id for battery_id in sorted(waiting)
        if battery_processing_enqueue(battery_id=battery_id, coalesce=False)
    ]
    return enqueued


def batteries_for_daily_run() -> list[int]:
    """Batteries whose use data the daily run refreshes: every battery with an analysis whose
    passport is still active."""
    return list(
        BatteryAnalysis.objects.exclude(battery__status__in=FINISHED_STATUSES)
        .filter(battery__passports__state=PassportState.ACTIVE)
        .values_list("battery_id", flat=True)
        .order_by("battery_id")
    )


# --- runs ------------------------------------------------------------------------------------


def _datetime_of(unix_s: float) -> datetime:
    return datetime.fromtimestamp(unix_s, tz=UTC)


def _settings_changed(analyzer: bms_core.Analyzer, analysis_settings: AnalysisSettings) -> bool:
    options = analyzer.options
    # Cells in series count only for a history without per-cell columns: its cell limits are
    # judged on pack voltage / cells (with per-cell columns the analyzer drops the figure).
    without_cells = not (analyzer.layout or {}).get("cells")
    return (
        options.rated_capacity_ah != analysis_settings.rated_capacity_ah
        or options.low_temp_c != analysis_settings.low_temp_c
        or options.high_temp_c != analysis_settings.high_temp_c
        or (without_cells and options.series_cells != analysis_settings.series_cells)
    )


def _has_cell_voltages(columns: dict[str, np.ndarray]) -> bool:
    return "cell_1_v" in columns


def _new_analyzer(
    analysis_settings: AnalysisSettings, columns: dict[str, np.ndarray]
) -> bms_core.Analyzer:
    """An analyzer for a history whose first samples are `columns`: per-cell columns decide the
    cell count, the model's figure only serves histories without them."""
    options = analysis_settings.analyzer_options()
    if _has_cell_voltages(columns):
        options.pop("series_cells", None)
    rated_capacity_ah = analysis_settings.rated_capacity_ah
    if rated_capacity_ah is None:
        # battery_process gives up on such a model before feeding (not a ValueError: that is
        # how a run reports bad data).
        raise TypeError("an analyzer needs the model's rated capacity; it has none")
    return bms_core.Analyzer(rated_capacity_ah, **options)


def _feed(
    analyzer: bms_core.Analyzer | None,
    analysis_settings: AnalysisSettings,
    *,
    battery_id: int,
    after: datetime | None,
    until: datetime,
) -> tuple[bms_core.Analyzer | None, int]:
    """Feed the samples in (after, until] window by window into `analyzer` (a new one when
    None). Returns the analyzer and how many were fed.

    Windows end at a UTC midnight, so whole days come from their column blocks, and days are fed
    one by one (no copy of a week into one set of arrays). While a window is fed, this thread
    reads the next one: the database and the block decoding work on another core meanwhile, a
    third off a year's rebuild. All reads stay in this thread, on the run's connection and
    transaction; the feeding thread touches only the analyzer, one window at a time.
    """
    cursor = after
    if cursor is None:
        first = Sample.objects.filter(battery_id=battery_id).aggregate(first=Min("time"))["first"]
        if first is None:
            return analyzer, 0
        cursor = first - ONE_US
    fed = 0

    def feed_window(parts: list[dict[str, np.ndarray]]) -> None:
        nonlocal analyzer, fed
        for columns in parts:
            if not len(columns[TIMESTAMP]):
                continue
            if analyzer is None:
                analyzer = _new_analyzer(analysis_settings, columns)
            analyzer.feed(columns)
            fed += len(columns[TIMESTAMP])

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed") as feeder:
        feeding: Future[None] | None = None
        while cursor < until:
            window_end = min(
                day_start((cursor + timedelta(seconds=TIME_WINDOW_S)).astimezone(UTC).date())
                - ONE_US,
                until,
            )
            parts = sample_column_parts(battery_id=battery_id, after=cursor, until=window_end)
            if feeding is not None:
                feeding.result()  # the previous window is fed (or its error raised) first
            feeding = feeder.submit(feed_window, parts)
            cursor = window_end
        if feeding is not None:
            feeding.result()
    return analyzer, fed


def _raw_count(*, battery_id: int, after: datetime | None, until: datetime) -> int:
    samples = Sample.objects.filter(battery_id=battery_id, time__lte=until)
    if after is not None:
        samples = samples.filter(time__gt=after)
    return samples.count()


def _test_pause() -> None:
    """Test-only (TELEMETRY_TEST_PAUSE_S): hold the run open, every write made but not
    committed, so a test can kill the worker there."""
    pause_s = settings.TELEMETRY_TEST_PAUSE_S
    if pause_s <= 0:
        return
    if settings.TELEMETRY_TEST_PAUSE_FILE:
        Path(settings.TELEMETRY_TEST_PAUSE_FILE).write_text(str(time.time()))
    time.sleep(pause_s)


def _passport_due(analysis: BatteryAnalysis, *, now: datetime, force: bool, rebuilt: bool) -> bool:
    if force or rebuilt or analysis.passport_updated_at is None:
        return True
    interval = timedelta(seconds=settings.TELEMETRY_PASSPORT_UPDATE_INTERVAL_S)
    return now - analysis.passport_updated_at >= interval


def _battery_accepts_use_data(battery: Battery) -> bool:
    return (
        battery.status not in FINISHED_STATUSES
        and battery.passports.filter(state=PassportState.ACTIVE).exists()
    )


def _passport_record(battery: Battery, report: dict[str, Any], missing: dict[str, str]) -> bool:
    """Write the report's values into the passport. A value the passport's own rules refuse
    (e.g. a capacity implausibly above the rated one) is left out with the reason in `missing`
    and the others are written. False when the passport takes no update (it ceased)."""
    try:
        battery_health_record(battery=battery, report=report)
        return True
    except ValidationFailed as error:
        refused = {item.field.split(".")[0]: item.reason for item in error.errors}
    except TransitionRefused as error:
        missing["passport"] = error.reason
        return False
    missing.update({key: f"refused by the passport: {reason}" for key, reason in refused.items()})
    kept = {key: value for key, value in health_mapping(report).values.items() if key not in refused}
    battery_values_record(battery=battery, values=kept, report=report)
    return True


def battery_process(*, battery_id: int, force_passport: bool = False) -> ProcessingResult:
    """One run of the battery's analysis (see the module docstring). Idempotent: a run with no
    new samples and no rebuild writes nothing, unless `force_passport` (the daily run) finds the
    passport behind the latest snapshot."""
    if not Battery.objects.filter(pk=battery_id).exists():
        return ProcessingResult(battery_id, 0, False, None, False, error="no such battery")
    # Not get_or_create: that would read (and parse) the whole stored state once more.
    BatteryAnalysis.objects.bulk_create([BatteryAnalysis(battery_id=battery_id)], ignore_conflicts=True)
    with transaction.atomic():
        analysis = BatteryAnalysis.objects.select_for_update().get(battery_id=battery_id)
        battery = Battery.objects.select_related("model").get(pk=battery_id)
        now = timezone.now()
        checkpoint = analysis.checkpoint
        claimed = list(ProcessingRequest.objects.filter(battery_id=battery_id).values("id", "earliest"))
        bounds = Sample.objects.filter(battery_id=battery_id).aggregate(
            first=Min("time"), last=Max("time")
        )
        horizon = bounds["last"]
        analysis_settings = analysis_settings_of_model(battery.model)
        if analysis_settings.rated_capacity_ah is None:
            return _give_up(analysis, claimed, analysis_settings.notes["rated_capacity_ah"])

        notes: dict[str, str] = dict(analysis_settings.notes)
        stored = bms_core.Analyzer.from_state(analysis.state) if analysis.state else None
        rebuild = stored is None or analysis.rebuild_requested
        if checkpoint is not None and any(r["earliest"] <= checkpoint for r in claimed):
            rebuild = True
        if stored is not None and _settings_changed(stored, analysis_settings):
            rebuild = True
        if (
            rebuild and stored is not None and stored.first_time_s is not None
            and bounds["first"] is not None
            and bounds["first"].timestamp() > stored.first_time_s + 1e-3
        ):
            # Retention dropped raw samples the stored totals include: a rebuild would lower
            # lifetime counts, so the analysis goes on from its state instead.
            rebuild = False
            notes["rebuild"] = (
                "a rebuild was due (samples older than the checkpoint, or changed settings) but "
                "raw data before "
                f"{bounds['first']:%Y-%m-%d} is no longer kept; the analysis continued from its "
                "state and the older samples were not counted"
            )
        analyzer = None if rebuild else stored
        after = None if rebuild else checkpoint

        if horizon is None or (after is not None and horizon <= after):
            ProcessingRequest.objects.filter(id__in=[r["id"] for r in claimed]).delete()
            if force_passport:
                return _passport_catch_up(analysis, battery, now)
            return ProcessingResult(battery_id, 0, False, None, False)

        try:
            analyzer, fed = _feed(
                analyzer, analysis_settings, battery_id=battery_id, after=after, until=horizon
            )
        except ValueError as error:
            # Columns that changed shape, a model whose cell count disagrees with the data:
            # keep the last good state and say why, rather than fail the task forever.
            return _give_up(analysis, claimed, f"analysis stopped: {error}")
        if analyzer is None:
            return ProcessingResult(battery_id, 0, False, None, False)

        report = analyzer.report()
        mapping = health_mapping(report)
        missing = {**mapping.missing}
        # Requests inside this run's range that it did not claim came from batches that
        # committed during the run; if the raw count shows samples it did not read, the next run
        # starts from raw data rather than miss them. (A batch whose request is not even visible
        # yet keeps that request, which then lies at or before the checkpoint: a rebuild too.)
        claimed_ids = {r["id"] for r in claimed}
        in_range = ProcessingRequest.objects.filter(battery_id=battery_id, earliest__lte=horizon)
        if after is not None:
            in_range = in_range.filter(earliest__gt=after)
        covered_ids = claimed_ids | set(in_range.values_list("id", flat=True))
        missed = bool(covered_ids - claimed_ids) and (
            _raw_count(battery_id=battery_id, after=after, until=horizon) != fed
        )

        passport_updated = False
        if _passport_due(analysis, now=now, force=force_passport, rebuilt=rebuild):
            if _battery_accepts_use_data(battery):
                passport_updated = _passport_record(battery, report, missing)
            else:
                missing["passport"] = "the battery's passport has ceased; it takes no use data"
            if passport_updated:
                analysis.passport_updated_at = now
        snapshot = HealthSnapshot.objects.create(
            battery=battery,
            created_at=now,
            data_start=_datetime_of(analyzer.first_time_s) if analyzer.first_time_s else None,
            data_end=_datetime_of(analyzer.last_time_s) if analyzer.last_time_s else None,
            samples=analyzer.samples,
            samples_new=fed,
            rebuilt=rebuild,
            report=report,
            passport_values={k: v for k, v in mapping.values.items() if k not in missing},
            missing=missing,
            settings={**dataclasses.asdict(analysis_settings), "notes": notes},
            passport_updated=passport_updated,
        )
        from telemetry.services.alerts import battery_alerts_sync

        battery_alerts_sync(battery=battery, alerts=report.get("alerts") or [], now=now)

        analysis.state = analyzer.to_state()
        # The stored time itself, not one rebuilt from the analyzer's float seconds: a
        # microsecond lost to rounding would make the next run feed this sample again.
        analysis.checkpoint = horizon
        analysis.samples = analyzer.samples
        analysis.rebuild_requested = missed
        analysis.runs += 1
        analysis.last_run_at = now
        analysis.last_error = ""
        analysis.save()
        # Requests this run covered: those it claimed, and those inside its range it checked
        # above. Any that arrive from now on stay for the next run.
        ProcessingRequest.objects.filter(id__in=covered_ids).delete()
        _test_pause()
        if missed:
            transaction.on_commit(
                lambda: battery_processing_enqueue(battery_id=battery_id, coalesce=False)
            )
    return ProcessingResult(battery_id, fed, rebuild, snapshot.pk, passport_updated)


def _give_up(analysis: BatteryAnalysis, claimed: Sequence[Mapping[str, object]], reason: str) -> ProcessingResult:
    """Record why the battery cannot be analysed; its requests are consumed (a fix to the model
    or the data asks again)."""
    analysis.last_error = reason[:2000]
    analysis.last_run_at = timezone.now()
    analysis.save(update_fields=["last_error", "last_run_at"])
    ProcessingRequest.objects.filter(id__in=[r["id"] for r in claimed]).delete()
    logger.warning("battery %s not analysed: %s", analysis.battery_id, reason)
    return ProcessingResult(analysis.battery_id, 0, False, None, False, error=reason)


def _passport_catch_up(analysis: BatteryAnalysis, battery: Battery, now: datetime) -> ProcessingResult:
    """The daily run without new samples: write the latest snapshot into the passport if an
    earlier run left it out (rate limit)."""
    latest = HealthSnapshot.objects.filter(battery=battery).order_by("-created_at", "-id").first()
    if latest is None or latest.passport_updated or not _battery_accepts_use_data(battery):
        return ProcessingResult(battery.pk, 0, False, None, False)
    missing = dict(latest.missing)
    if not _passport_record(battery, latest.report, missing):
        HealthSnapshot.objects.filter(pk=latest.pk).update(missing=missing)
        return ProcessingResult(battery.pk, 0, False, latest.pk, False)
    HealthSnapshot.objects.filter(pk=latest.pk).update(passport_updated=True, missing=missing)
    analysis.passport_updated_at = now
    analysis.save(update_fields=["passport_updated_at"])
    return ProcessingResult(battery.pk, 0, False, latest.pk, True)
