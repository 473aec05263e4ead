"""The history format: column names, timestamp parsing and validation.

A history is a mapping of column name to a 1-D numpy array (the same names as the CSV
header): ``timestamp`` (ISO 8601 strings, ``datetime64`` or Unix seconds), ``current_a``
(positive = charging), ``voltage_v`` (pack), and optionally ``temperature_c``, ``soc_pct``
(what the BMS reported), ``cell_<k>_v`` and ``cell_<k>_temp_c`` for k = 1..N. A collector that
only sees the extremes (the Pylontech inverter bus carries min/max cell only) may give
``min_cell_v``, ``max_cell_v``, ``min_cell_temp_c`` and ``max_cell_temp_c`` instead; they may
have empty rows. Other columns are ignored, so a collector may add its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

TIMESTAMP = "timestamp"
CURRENT = "current_a"
VOLTAGE = "voltage_v"
TEMPERATURE = "temperature_c"
BMS_SOC = "soc_pct"
MIN_CELL_V = "min_cell_v"
MAX_CELL_V = "max_cell_v"
MIN_CELL_TEMP = "min_cell_temp_c"
MAX_CELL_TEMP = "max_cell_temp_c"
EXTREME_COLUMNS = (MIN_CELL_V, MAX_CELL_V, MIN_CELL_TEMP, MAX_CELL_TEMP)
REQUIRED_COLUMNS = (TIMESTAMP, CURRENT, VOLTAGE)

_CELL_VOLTAGE = re.compile(r"^cell_(\d+)_v$")
_CELL_TEMPERATURE = re.compile(r"^cell_(\d+)_temp_c$")

FloatArray = npt.NDArray[np.floating]


def cell_voltage_column(k: int) -> str:
    return f"cell_{k}_v"


def cell_temperature_column(k: int) -> str:
    return f"cell_{k}_temp_c"


@dataclass(frozen=True)
class History:
    """A validated history: Unix seconds (float64) and float arrays of equal length."""

    time_s: npt.NDArray[np.float64]
    current_a: FloatArray
    voltage_v: FloatArray
    temperature_c: FloatArray | None
    bms_soc_pct: FloatArray | None
    cell_v: tuple[FloatArray, ...]
    cell_temp_c: tuple[FloatArray, ...]
    # Reported extremes, for histories without per-cell columns (NaN where not reported).
    extremes: dict[str, FloatArray]

    def __len__(self) -> int:
        return int(self.time_s.size)

    def slice(self, start: int, stop: int) -> History:
        def part(a: FloatArray | None) -> FloatArray | None:
            return None if a is None else a[start:stop]

        return History(
            time_s=self.time_s[start:stop],
            current_a=self.current_a[start:stop],
            voltage_v=self.voltage_v[start:stop],
            temperature_c=part(self.temperature_c),
            bms_soc_pct=part(self.bms_soc_pct),
            cell_v=tuple(a[start:stop] for a in self.cell_v),
            cell_temp_c=tuple(a[start:stop] for a in self.cell_temp_c),
            extremes={name: a[start:stop] for name, a in self.extremes.items()},
        )


def _cell_columns(
    names: list[str], pattern: re.Pattern[str], column_name: Callable[[int], str]
) -> list[str]:
    """Cell columns in cell order; they must be numbered 1..N without holes."""
    numbered = {int(m.group(1)): name for name in names if (m := pattern.match(name))}
    expected = list(range(1, len(numbered) + 1))
    if sorted(numbered) != expected:
        missing = min(set(range(1, max(numbered) + 1)) - set(numbered))
        raise ValueError(
            f"column '{column_name(missing)}': missing; cell columns must be numbered 1..N "
            f"without holes (found up to {column_name(max(numbered))})"
        )
    return [numbered[k] for k in expected]


def _as_float(name: str, values: npt.ArrayLike) -> FloatArray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"column '{name}': must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"column '{name}': not numeric ({error})") from None


def _require_finite(name: str, array: FloatArray) -> None:
    # A sum is finite only if every term is (these columns are far from overflowing): one
    # cheap pass in the common case, the row search only when something is wrong.
    if np.isfinite(array.sum()):
        return
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"column '{name}': NaN or infinite value at row {row}")


def parse_timestamps(values: npt.ArrayLike, name: str = TIMESTAMP) -> npt.NDArray[np.float64]:
    """Unix seconds (UTC) from ISO 8601 strings, ``datetime64`` values or numbers.

    ISO strings may end in ``Z`` or a ``+HH:MM`` / ``-HH:MM`` offset; strings without one are
    taken as UTC. Numeric strings are Unix seconds.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"column '{name}': must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind in "iuf":
        return array.astype(np.float64)
    if array.dtype.kind == "M":
        nanoseconds = array.astype("datetime64[ns]").astype(np.int64)
        if np.isnat(array).any():
            raise ValueError(f"column '{name}': NaT at row {int(np.argmax(np.isnat(array)))}")
        return nanoseconds / 1e9
    text = np.strings.strip(array.astype(str))
    try:
        return text.astype(np.float64)
    except ValueError:
        pass
    return _parse_iso(text, name)


def _parse_iso(text: npt.NDArray[np.str_], name: str) -> npt.NDArray[np.float64]:
    zulu = np.strings.endswith(text, "Z") | np.strings.endswith(text, "z")
    tail = np.strings.slice(text, -6, None)
    sign_char = np.strings.slice(tail, 0, 1)
    has_offset = (
        ~zulu
        & (np.strings.str_len(text) > 16)
        & ((sign_char == "+") | (sign_char == "-"))
        & (np.strings.slice(tail, 3, 4) == ":")
    )
    core = np.where(zulu, np.strings.slice(text, 0, -1), text)
    core = np.where(has_offset, np.strings.slice(text, 0, -6), core)
    core = np.strings.replace(core, " ", "T")
    offset_s = np.zeros(text.size, dtype=np.int64)
    if has_offset.any():
        try:
            hours = np.strings.slice(tail[has_offset], 1, 3).astype(np.int64)
            minutes = np.strings.slice(tail[has_offset], 4, 6).astype(np.int64)
        except ValueError:
            row = int(np.argmax(has_offset))
            raise ValueError(
                f"column '{name}': bad UTC offset at row {row}: {text[row]!r}"
            ) from None
        sign = np.where(sign_char[has_offset] == "-", -1, 1)
        offset_s[has_offset] = sign * (hours * 3600 + minutes * 60)
    try:
        nanoseconds = core.astype("datetime64[ns]").astype(np.int64)
    except ValueError:
        row = _first_unparsable(core)
        raise ValueError(
            f"column '{name}': not an ISO 8601 time or Unix seconds at row {row}: {text[row]!r}"
        ) from None
    if (nanoseconds == np.iinfo(np.int64).min).any():  # NaT from an empty or "NaT" field
        row = int(np.argmax(nanoseconds == np.iinfo(np.int64).min))
        raise ValueError(f"column '{name}': missing time at row {row}")
    return (nanoseconds - offset_s * 1_000_000_000) / 1e9


def _first_unparsable(core: npt.NDArray[np.str_]) -> int:
    for row, value in enumerate(core.tolist()):
        try:
            np.datetime64(value, "ns")
        except ValueError:
            return row
    return 0


def format_time(seconds: float) -> str:
    """ISO 8601 UTC with a ``Z``; milliseconds only when the time has a fraction."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    spec = "milliseconds" if abs(seconds - round(seconds)) > 5e-4 else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def validate(columns: Mapping[str, npt.ArrayLike]) -> History:
    """Check a history and bring it into the working form; ValueError names column and reason."""
    names = list(columns)
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            raise ValueError(f"column '{name}': required column is missing")
    time_s = parse_timestamps(columns[TIMESTAMP])
    n = time_s.size

    def column(name: str) -> FloatArray:
        array = _as_float(name, columns[name])
        if array.size != n:
            raise ValueError(f"column '{name}': has {array.size} rows, timestamp has {n}")
        return array

    _require_finite(TIMESTAMP, time_s)
    if n > 1:
        steps = np.diff(time_s)
        if not (steps > 0).all():
            row = int(np.argmax(~(steps > 0))) + 1
            raise ValueError(
                f"column '{TIMESTAMP}': timestamps must be strictly increasing; row {row} is not "
                f"after row {row - 1}"
            )
    current = column(CURRENT)
    voltage = column(VOLTAGE)
    _require_finite(CURRENT, current)
    _require_finite(VOLTAGE, voltage)
    cell_v_names = _cell_columns(names, _CELL_VOLTAGE, cell_voltage_column)
    cell_t_names = _cell_columns(names, _CELL_TEMPERATURE, cell_temperature_column)
    cell_v = tuple(column(name) for name in cell_v_names)
    for name, array in zip(cell_v_names, cell_v, strict=True):
        # Cell voltages decide events and anchors, so a hole would silently change them.
        _require_finite(name, array)
    return History(
        time_s=time_s,
        current_a=current,
        voltage_v=voltage,
        temperature_c=column(TEMPERATURE) if TEMPERATURE in columns else None,
        bms_soc_pct=column(BMS_SOC) if BMS_SOC in columns else None,
        cell_v=cell_v,
        cell_temp_c=tuple(column(name) for name in cell_t_names),
        extremes={name: column(name) for name in EXTREME_COLUMNS if name in columns},
    )
