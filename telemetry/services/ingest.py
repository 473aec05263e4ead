"""Ingestion of a batch of BMS samples: validate whole, store whole, answer once.

The rules, in the order they are applied (each failure is a domain error the API maps to its
status in passport.api.exceptions):

1. The battery must exist (NotFound, 404) and, for a device, be bound to it (NotPermitted, 403).
2. A batch id already seen from this device answers the first answer again and stores nothing
   (the collector resends after a timeout without knowing whether the first try committed).
3. At most TELEMETRY_MAX_BATCH_ROWS samples (TooLarge, 413).
4. bms_core.validate: required columns, equal lengths, numbers, no NaN/Inf where a value is
   required, strictly increasing time, cell columns 1..N; then bms_core.plausibility's physical
   ranges; then the battery's own facts: as many cell voltages as the model has cells in series,
   no sample before the battery was made or in the future. Every refusal names the column, the
   row and the reason (ValidationFailed, 400); nothing of a refused batch is stored.
5. Samples already stored for the battery (an overlapping batch) are skipped, never doubled; the
   answer counts them as duplicates.

The samples, the batch row and the health pipeline's processing request commit together, in
one transaction (one commit per batch); the run is enqueued only after that commit, so the
pipeline never sees a batch that may still roll back, no stored batch lacks its request, and a
collector's 2xx always means stored. The device's `last_seen_at` is written at most once a minute
(telemetry.services.devices.device_seen).

A collector's batch (`device_batch_ingest`, the API) reads its battery, the device's permission
and an earlier answer to its batch id in one query; what is left per batch is the COPY, the
batch row, the request row and the commit (docs/benchmarks.md counts the round trips).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

import bms_core
from bms_core.columns import (
    BMS_SOC,
    CURRENT,
    EXTREME_COLUMNS,
    TEMPERATURE,
    TIMESTAMP,
    VOLTAGE,
    History,
    format_time,
)
from bms_core.plausibility import first_implausible
from passport.errors import FieldError, NotFound, NotPermitted, TooLarge, ValidationFailed
from passport.identifiers import IdentifierError, battery_identifier_parse
from passport.models import Battery, BatteryModel
from passport.services.health import series_cells_of_model
from telemetry.models import Batch, Device
from telemetry.services.devices import device_may_write, device_may_write_sql, device_seen
from telemetry.services.processing import battery_processing_request
from telemetry.services.storage import (
    SampleRows,
    SamplesStoredConcurrently,
    microseconds_to_datetime,
    retention_cutoff,
    samples_store,
    unix_s_to_microseconds,
)

logger = logging.getLogger(__name__)
ModelT = TypeVar("ModelT", bound=Model)

BATCH_ID_MAX = 64
LAST_CALENDAR_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z
# A collector's clock may run a little ahead of ours; more than this is a wrong clock.
FUTURE_TOLERANCE = timedelta(minutes=5)
_CELL_COLUMN = re.compile(r"^cell_\d+_(v|temp_c)$")
_KNOWN_COLUMNS = frozenset({TIMESTAMP, CURRENT, VOLTAGE, TEMPERATURE, BMS_SOC, *EXTREME_COLUMNS})
_BMS_CORE_ERROR = re.compile(r"^column '(?P<column>[^']+)': (?P<reason>.*)$", re.DOTALL)
_ROW = re.compile(r"\brow (\d+)")


@dataclass(frozen=True)
class BatchOutcome:
    """`created` False: the batch id was seen before and `answer` is the first answer."""

    created: bool
    answer: dict[str, Any]


def batch_id_clean(batch_id: Any) -> str:
    if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= BATCH_ID_MAX:
        raise ValidationFailed(
            [FieldError("batch_id", f"a string of 1 to {BATCH_ID_MAX} characters")]
        )
    if not batch_id.isprintable():
        raise ValidationFailed([FieldError("batch_id", "printable characters only")])
    return batch_id


def batch_ingest(
    *,
    device: Device | None,
    battery: Battery,
    batch_id: str,
    columns: Mapping[str, Any],
    now: datetime | None = None,
) -> BatchOutcome:
    """Store a batch of samples of `battery` sent by `device` (None: an import by an operator,
    whose permission the caller has checked). Returns the answer given to the sender."""
    batch_id = batch_id_clean(batch_id)
    if device is not None and not device_may_write(device, battery):
        raise _not_bound(battery)
    previous = _previous_answer(device, battery, batch_id)
    if previous is not None:
        return previous
    return _batch_store(device, battery, batch_id, columns, now or timezone.now())


def device_batch_ingest(
    *,
    device: Device,
    identifier: str,
    batch_id: str,
    columns: Mapping[str, Any],
    now: datetime | None = None,
) -> BatchOutcome:
    """A collector's batch (the API): batch_ingest for the battery named by `identifier`, with
    the battery, the device's permission to write it and an earlier answer to this batch id
    read in one query instead of three (round trips are most of a small batch's cost)."""
    batch_id = batch_id_clean(batch_id)
    battery, may_write, previous_answer = _battery_for_device(device, identifier, batch_id)
    if not may_write:
        raise _not_bound(battery)
    if previous_answer is not None:
        return BatchOutcome(created=False, answer=previous_answer)
    return _batch_store(device, battery, batch_id, columns, now or timezone.now())


def _not_bound(battery: Battery) -> NotPermitted:
    return NotPermitted(f"this device is not bound to battery {battery.identifier}")


# A collector's lookup as SQL written out: built through the ORM (a join, an EXISTS and a
# subquery) it cost 1.2-2.4 ms of CPU per batch in query compilation alone, about a fifth of
# the web side's CPU for a 3,600-sample batch; written out, 0.15 ms. Values are read back
# through Django's own converters, so the instances are as the ORM would build them.
_BATTERY_FIELDS = ("id", "identifier", "manufacturing_date", "model_id")
_MODEL_FIELDS = ("id", "name", "chemistry", "data")


def _battery_for_device(device: Device, identifier: str, batch_id: str) -> tuple[Battery, bool, Any]:
    """The battery as passport.selectors.battery_get finds it (only the columns and the model
    ingestion reads), whether `device` may write it, and the answer `device` was given for
    `batch_id` before (None: not seen)."""
    try:
        canonical = battery_identifier_parse(identifier).identifier
    except IdentifierError as error:
        raise NotFound(f"battery {identifier!r}") from error
    quote = connection.ops.quote_name
    may_write, may_write_params = device_may_write_sql(device, "b.id")
    columns = [f"b.{quote(_column(Battery, name))}" for name in _BATTERY_FIELDS]
    columns += [f"m.{quote(_column(BatteryModel, name))}" for name in _MODEL_FIELDS]
    sql = (
        f"SELECT {', '.join(columns)}, {may_write}, "
        # _previous_answer for a device: the batch id is unique per device.
        f"(SELECT answer FROM {quote(Batch._meta.db_table)} WHERE device_id = %s AND batch_id = %s) "
        f"FROM {quote(Battery._meta.db_table)} b "
        f"JOIN {quote(BatteryModel._meta.db_table)} m ON m.id = b.model_id "
        "WHERE b.identifier = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*may_write_params, device.pk, batch_id, canonical])
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"battery {identifier!r}")
    battery_end = len(_BATTERY_FIELDS)
    model_end = battery_end + len(_MODEL_FIELDS)
    battery = _from_row(Battery, _BATTERY_FIELDS, row[:battery_end])
    battery.model = _from_row(BatteryModel, _MODEL_FIELDS, row[battery_end:model_end])
    previous = _converted(Batch, "answer", row[model_end + 1])
    return battery, bool(row[model_end]), previous


def _field(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # a column of the model, not a reverse relation
    return field


def _column(model: type[Model], name: str) -> str:
    column = _field(model, name).column
    assert column is not None
    return column


def _converted(model: type[Model], name: str, value: Any) -> Any:
    """A column's value as the ORM gives it (dates on SQLite, JSON on both databases)."""
    if value is None:
        return None
    column = _field(model, name).get_col(model._meta.db_table)
    for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
        value = converter(value, column, connection)
    return value


def _from_row(model: type[ModelT], names: tuple[str, ...], values: Sequence[Any]) -> ModelT:
    """An instance with these fields loaded and the others deferred (as .only() makes)."""
    given = {
        _field(model, name).attname: _converted(model, name, value)
        for name, value in zip(names, values, strict=True)
    }
    # from_db takes the values in the order of the model's concrete fields.
    attnames = [field.attname for field in model._meta.concrete_fields if field.attname in given]
    return model.from_db(connection.alias, attnames, [given[name] for name in attnames])


def _batch_store(
    device: Device | None,
    battery: Battery,
    batch_id: str,
    columns: Mapping[str, Any],
    now: datetime,
) -> BatchOutcome:
    """Validate and store a batch whose permission and batch id were checked (module doc)."""
    rows = samples_prepare(battery=battery, columns=columns, now=now)
    try:
        return _batch_commit(device, battery, batch_id, rows)
    except SamplesStoredConcurrently:
        # An overlapping batch of the same battery committed while ours was being written:
        # ours rolled back whole; once more, it now sees the overlap and skips those samples.
        return _batch_commit(device, battery, batch_id, rows)


def _batch_commit(device: Device | None, battery: Battery, batch_id: str, rows: SampleRows) -> BatchOutcome:
    earliest = microseconds_to_datetime(int(rows.time_us[0]))
    latest = microseconds_to_datetime(int(rows.time_us[-1]))
    try:
        # One transaction, one commit: the samples, the batch row (its unique batch id decides
        # between two concurrent sends of one batch) and the processing request.
        with transaction.atomic():
            inserted = samples_store(rows)
            answer = _answer(battery, batch_id, rows, inserted)
            Batch.objects.create(
                device=device,
                battery=battery,
                batch_id=batch_id,
                received_at=timezone.now(),
                samples=answer["samples"],
                inserted=inserted,
                duplicates=answer["duplicates"],
                first=earliest,
                last=latest,
                answer=answer,
            )
            battery_processing_request(battery_id=battery.pk, earliest=earliest)
            if device is not None:
                device_seen(device, now=timezone.now())
            transaction.on_commit(
                lambda: batch_committed(battery_id=battery.pk, earliest=earliest, latest=latest)
            )
    except SamplesStoredConcurrently:
        raise
    except IntegrityError:
        # The same batch id committed by a concurrent request between our check and our insert:
        # its samples are stored, ours rolled back; answer as for any resend.
        previous = _previous_answer(device, battery, batch_id)
        if previous is None:
            raise
        return previous
    return BatchOutcome(created=True, answer=answer)


def _previous_answer(device: Device | None, battery: Battery, batch_id: str) -> BatchOutcome | None:
    """A batch id is unique per device; an import's (no device) per battery."""
    batches = Batch.objects.filter(batch_id=batch_id)
    if device is not None:
        batches = batches.filter(device=device)
    else:
        batches = batches.filter(device__isnull=True, battery=battery)
    batch = batches.only("answer").first()
    return BatchOutcome(created=False, answer=batch.answer) if batch is not None else None


def _answer(battery: Battery, batch_id: str, rows: SampleRows, inserted: int) -> dict[str, Any]:
    # Samples as sent: a row repeating the one before counts as a duplicate, as one stored
    # already does.
    sent = len(rows) + rows.repeated_rows
    return {
        "batch_id": batch_id,
        "battery": battery.identifier,
        "samples": sent,
        "inserted": inserted,
        "duplicates": sent - inserted,
        "first": format_time(int(rows.time_us[0]) / 1e6),
        "last": format_time(int(rows.time_us[-1]) / 1e6),
    }


def batch_committed(*, battery_id: int, earliest: datetime, latest: datetime) -> None:
    """After a batch commits: ask for the rollups of the closed days it touched (its processing
    request committed with it and enqueues itself). Never raises into the request: the samples
    are stored, and the nightly rollup sweep recomputes what a lost request missed."""
    try:
        from telemetry.services.rollups import battery_rollups_request

        battery_rollups_request(battery_id=battery_id, first=earliest, last=latest)
    except Exception:  # noqa: BLE001 - the collector was told "stored"; that stays true
        logger.exception("rollup request for battery %s failed", battery_id)


# --- validation ----------------------------------------------------------------------------------


def _refuse(column: str | None, reason: str, row: int | None = None) -> ValidationFailed:
    return ValidationFailed([FieldError(column or "columns", reason, row)])


def validation_error_from_bms_core(error: ValueError) -> ValidationFailed:
    """bms_core's errors read "column 'name': reason ... row N ..."; keep all three apart."""
    message = str(error)
    match = _BMS_CORE_ERROR.match(message)
    if match is None:
        return _refuse(None, message)
    reason = match.group("reason")
    row = _ROW.search(reason)
    return _refuse(match.group("column"), reason, int(row.group(1)) if row else None)


def _numeric(name: str, values: Any) -> npt.NDArray[np.float64]:
    """Numbers (null = no value) as float64; the first row that is not one is named."""
    array = _one_dimensional(values)
    if array is None or array.ndim != 1:
        raise _refuse(name, "must be a list of numbers")
    if array.dtype.kind in "fiu":
        return array.astype(np.float64, copy=False)
    for row, value in enumerate(array.tolist()):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _refuse(name, f"not a number: {value!r}", row)
        try:
            float(value)
        except ValueError:
            raise _refuse(name, f"not a number: {value!r}", row) from None
    return np.array([np.nan if v is None else float(v) for v in array.tolist()], dtype=np.float64)


def _one_dimensional(values: Any) -> np.ndarray | None:
    """The values as an array, or None when they nest unevenly (numpy refuses those)."""
    try:
        return np.asarray(values)
    except ValueError:
        return None


def _timestamps(values: Any) -> npt.NDArray[np.float64]:
    array = _one_dimensional(values)
    if array is None or array.ndim != 1:
        raise _refuse(TIMESTAMP, "must be a list of ISO 8601 times or Unix seconds")
    if array.dtype.kind == "O":
        for row, value in enumerate(array.tolist()):
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise _refuse(TIMESTAMP, f"not a time: {value!r}", row)
        array = np.array([str(value) for value in array.tolist()])
    try:
        time_s = bms_core.parse_timestamps(array)
    except ValueError as error:
        raise validation_error_from_bms_core(error) from None
    # Beyond the calendar (Python's datetime) a time cannot even be named in a message.
    outside = ~(np.abs(time_s) <= LAST_CALENDAR_SECOND)
    if outside.any():
        row = int(np.argmax(outside))
        raise _refuse(TIMESTAMP, f"{time_s[row]:g} is not a time (Unix seconds)", row)
    return time_s


def samples_prepare(*, battery: Battery, columns: Mapping[str, Any], now: datetime) -> SampleRows:
    """Validate a batch for `battery` and bring it into the stored form (see the module doc)."""
    if not isinstance(columns, Mapping) or not columns:
        raise _refuse(None, "no columns: send at least timestamp, current_a and voltage_v")
    if TIMESTAMP not in columns:
        raise _refuse(TIMESTAMP, "required column is missing")
    time_s = _timestamps(columns[TIMESTAMP])
    if time_s.size == 0:
        raise _refuse(TIMESTAMP, "a batch needs at least one sample")
    limit = settings.TELEMETRY_MAX_BATCH_ROWS
    if time_s.size > limit:
        raise TooLarge(TIMESTAMP, f"{time_s.size} samples; at most {limit} in one batch")
    numeric: dict[str, Any] = {TIMESTAMP: time_s}
    for name, values in columns.items():
        if name != TIMESTAMP and (name in _KNOWN_COLUMNS or _CELL_COLUMN.match(name)):
            numeric[name] = _numeric(name, values)
    try:
        history = bms_core.validate(numeric)
    except ValueError as error:
        raise validation_error_from_bms_core(error) from None
    implausible = first_implausible(history)
    if implausible is not None:
        raise _refuse(implausible.column, implausible.reason, implausible.row)
    _check_battery_facts(battery, history, now)
    return _stored_form(battery, history)


def _time_text(seconds: float) -> str:
    """ISO 8601 where the time is one a calendar can show; else the Unix seconds as given."""
    try:
        return format_time(seconds)
    except (OverflowError, OSError, ValueError):
        return f"{seconds:g} (Unix seconds)"


def _check_battery_facts(battery: Battery, history: History, now: datetime) -> None:
    series_cells = series_cells_of_model(battery.model)
    if history.cell_v and series_cells is not None and len(history.cell_v) != series_cells:
        name = f"cell_{len(history.cell_v)}_v"
        raise _refuse(
            name,
            f"{len(history.cell_v)} cell voltage columns, but model {battery.model.name} has "
            f"{series_cells} cells in series",
        )
    made = datetime.combine(battery.manufacturing_date, datetime.min.time(), tzinfo=UTC)
    # Older than the raw retention: the samples would be dropped at once, and a partial day
    # recomputed from them would overwrite the rollup kept for it.
    cutoff = retention_cutoff(now)
    time_s = history.time_s
    for wrong, what in (
        (time_s < made.timestamp(),
         f"is before the battery was made ({battery.manufacturing_date.isoformat()})"),
        (time_s < cutoff.timestamp(),
         f"is older than the raw retention (samples before {cutoff.date().isoformat()} are "
         "not kept)"),
        (time_s > (now + FUTURE_TOLERANCE).timestamp(),
         f"is in the future (the server's time is {format_time(now.timestamp())})"),
    ):
        if wrong.any():
            row = int(np.argmax(wrong))
            raise _refuse(TIMESTAMP, f"{_time_text(float(time_s[row]))} {what}", row)


def _stored_form(battery: Battery, history: History) -> SampleRows:
    scalars: dict[str, npt.NDArray[np.floating]] = {
        CURRENT: history.current_a,
        VOLTAGE: history.voltage_v,
    }
    if history.temperature_c is not None:
        scalars[TEMPERATURE] = history.temperature_c
    if history.bms_soc_pct is not None:
        scalars[BMS_SOC] = history.bms_soc_pct
    scalars.update(history.extremes)
    return SampleRows(
        battery_id=battery.pk,
        time_us=unix_s_to_microseconds(history.time_s),
        scalars=scalars,
        cell_v=np.column_stack(history.cell_v) if history.cell_v else None,
        cell_temp_c=np.column_stack(history.cell_temp_c) if history.cell_temp_c else None,
        repeated_rows=history.duplicates_dropped,
    )


def columns_from_rows(rows: Any) -> dict[str, list[Any]]:
    """Row-oriented samples ([{"timestamp": ..., ...}, ...]) as columns; a name missing from a
    row is an empty value there (null), as an empty CSV field is."""
    if not isinstance(rows, list):
        raise _refuse("rows", "must be a list of objects, one per sample")
    names: dict[str, None] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise _refuse("rows", "must be an object of column: value", index)
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


def batches_import(
    *, battery: Battery, columns: Mapping[str, Any], source_id: str
) -> list[BatchOutcome]:
    """Store a whole history (an operator's import, no device) as consecutive batches of at
    most TELEMETRY_MAX_BATCH_ROWS samples, through batch_ingest. Batch ids are
    `<source_id>:<k>`: importing the same source again stores nothing and answers as before."""
    if TIMESTAMP not in columns:
        raise _refuse(TIMESTAMP, "required column is missing")
    total = len(columns[TIMESTAMP])
    size = settings.TELEMETRY_MAX_BATCH_ROWS
    outcomes = []
    for k, start in enumerate(range(0, max(total, 1), size)):
        part = {name: values[start : start + size] for name, values in columns.items()}
        outcomes.append(
            batch_ingest(device=None, battery=battery, batch_id=f"{source_id}:{k}", columns=part)
        )
    return outcomes
