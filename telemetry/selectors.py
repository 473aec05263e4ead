"""Reads of telemetry data. `sample_columns` is the one reader of the raw sample table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import Q, QuerySet

from bms_core.columns import (
    BMS_SOC,
    CURRENT,
    MAX_CELL_TEMP,
    MAX_CELL_V,
    MIN_CELL_TEMP,
    MIN_CELL_V,
    TEMPERATURE,
    TIMESTAMP,
    VOLTAGE,
    cell_temperature_column,
    cell_voltage_column,
)
from passport.access import organisation_of
from passport.errors import NotFound
from passport.models import BatteryModel
from passport.vocabulary import Chemistry
from telemetry.models import Device
from telemetry.services.storage import (
    CELL_DTYPE,
    db_time_param,
    db_times_to_unix_s,
    time_select_sql,
)

# Stored column -> bms_core column, in the order of the SELECT below.
SCALAR_COLUMNS = (
    ("current_a", CURRENT),
    ("voltage_v", VOLTAGE),
    ("temperature_c", TEMPERATURE),
    ("soc_pct", BMS_SOC),
    ("min_cell_v", MIN_CELL_V),
    ("max_cell_v", MAX_CELL_V),
    ("min_cell_temp_c", MIN_CELL_TEMP),
    ("max_cell_temp_c", MAX_CELL_TEMP),
)
REQUIRED_SCALARS = {CURRENT, VOLTAGE}

# Nominal cell voltages of the chemistries whose value the industry agrees on (IEC 62620 data
# sheets: LFP 3.2 V, LTO 2.4 V, lead-acid 2.0 V, NiMH 1.2 V). NMC, NCA, LMO and LCO cells are
# sold as 3.6 V and as 3.7 V, so a pack voltage does not tell their cell count.
NOMINAL_CELL_VOLTAGE_V = {
    Chemistry.LFP: 3.2,
    Chemistry.LTO: 2.4,
    Chemistry.LEAD_ACID: 2.0,
    Chemistry.NIMH: 1.2,
}
# How far nominal pack / nominal cell voltage may be from a whole number of cells.
SERIES_CELLS_TOLERANCE = 0.02


def battery_model_series_cells(model: BatteryModel) -> int | None:
    """Cells in series, from the model's nominal voltage and its chemistry's nominal cell
    voltage (the passport has no attribute for the cell count); None when they do not tell it."""
    cell_v = NOMINAL_CELL_VOLTAGE_V.get(model.chemistry)
    nominal_v = (model.data or {}).get("nominal_voltage_v")
    if cell_v is None or not isinstance(nominal_v, int | float) or nominal_v <= 0:
        return None
    ratio = nominal_v / cell_v
    cells = round(ratio)
    if cells < 1 or abs(ratio - cells) > SERIES_CELLS_TOLERANCE * ratio:
        return None
    return cells


def sample_columns(
    *, battery_id: int, after: datetime | None = None, until: datetime | None = None
) -> dict[str, npt.NDArray]:
    """The battery's stored samples in bms_core's column format, ordered by time.

    `after` is exclusive, `until` inclusive. `timestamp` is Unix seconds (float64); the other
    columns float64, per-cell columns float32 as stored. Optional columns appear only when at
    least one sample has a value (NaN elsewhere). Per-cell columns appear when every sample of
    the range has them with the same cell count; otherwise (a collector that sent cells for a
    while and extremes for another) they are left out and only the extremes remain, because
    bms_core does not accept holes in cell voltages.
    """
    conditions = ["battery_id = %s"]
    params: list[object] = [battery_id]
    if after is not None:
        conditions.append("time > %s")
        params.append(db_time_param(after))
    if until is not None:
        conditions.append("time <= %s")
        params.append(db_time_param(until))
    stored = ", ".join(name for name, _ in SCALAR_COLUMNS)
    sql = (
        f"SELECT {time_select_sql()}, {stored}, cell_v, cell_temp_c FROM telemetry_sample "
        f"WHERE {' AND '.join(conditions)} ORDER BY time"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _rows_to_columns(rows)


def _rows_to_columns(rows: list[tuple]) -> dict[str, npt.NDArray]:
    n = len(rows)
    if n == 0:
        return {
            TIMESTAMP: np.empty(0, dtype=np.float64),
            CURRENT: np.empty(0, dtype=np.float64),
            VOLTAGE: np.empty(0, dtype=np.float64),
        }
    fields = list(zip(*rows, strict=True))
    columns: dict[str, npt.NDArray] = {TIMESTAMP: db_times_to_unix_s(fields[0])}
    for position, (_, name) in enumerate(SCALAR_COLUMNS, start=1):
        values = np.array(fields[position], dtype=np.float64)  # None becomes NaN
        if name in REQUIRED_SCALARS or not np.isnan(values).all():
            columns[name] = values
    cells_start = 1 + len(SCALAR_COLUMNS)
    for blobs, column_name in (
        (fields[cells_start], cell_voltage_column),
        (fields[cells_start + 1], cell_temperature_column),
    ):
        per_cell = _cell_matrix(blobs)
        if per_cell is not None:
            for k in range(per_cell.shape[1]):
                columns[column_name(k + 1)] = per_cell[:, k]
    return columns


def _cell_matrix(blobs: tuple) -> npt.NDArray[np.float32] | None:
    """Rows x cells, or None unless every row has the same number of cells."""
    if any(blob is None for blob in blobs):
        return None
    sizes = {len(blob) for blob in blobs}
    if len(sizes) != 1 or 0 in sizes:
        return None
    joined = b"".join(bytes(blob) for blob in blobs)
    cells = sizes.pop() // CELL_DTYPE.itemsize
    return np.frombuffer(joined, dtype=CELL_DTYPE).reshape(len(blobs), cells).astype(np.float32)


def device_get(*, device_id: int) -> Device:
    try:
        return Device.objects.select_related("organisation", "owner").get(pk=device_id)
    except Device.DoesNotExist as error:
        raise NotFound(f"device {device_id}") from error


def device_list_managed(*, user: Any) -> QuerySet[Device]:
    """The devices `user` manages: their organisation's, or their own as a private owner."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Device.objects.none()
    organisation = organisation_of(user)
    managed = Q(owner=user)
    if organisation is not None:
        managed |= Q(organisation=organisation)
    return Device.objects.filter(managed).prefetch_related("batteries").order_by("id")
