"""The history format: column names, timestamp parsing and validation.

A history is a mapping of column name to a 1-D numpy array (the same names as the CSV
header): ``timestamp`` (ISO 8601 strings, ``datetime64`` or Unix seconds), ``current_a``
(positive = charging), ``voltage_v`` (pack), and optionally ``temperature_c``, ``soc_pct``
(what the BMS reported), ``cell_<k>_v`` and ``cell_<k>_temp_c`` for k = 1..N. A collector that
only sees the extremes (the Pylontech inverter bus carries min/max cell only) may give
``min_cell_v``, ``max_cell_v``, ``min_cell_temp_c`` and ``max_cell_temp_c`` instead; they may
have empty rows. Other columns are ignored, so a collector may add its own.

Real BMS logs are not clean, and the rules for what is not are these. A missing value (NaN,
an empty CSV field) in an optional or cell column is a gap in that column only: the row is
kept, the other columns are used, and the report counts the missing values per column.
``timestamp``, ``current_a`` and ``voltage_v`` carry the integration and may not be missing.
A row repeated with the same timestamp and identical values (a logger that writes a sample
twice) is dropped and counted; the same timestamp with different values, or a row earlier
than the one before it, is an error naming the rows (sort the history first: the order of
two differing readings cannot be guessed). Numeric timestamps above 1e11 are taken as Unix
milliseconds (1e11 Unix seconds is the year 5138), detected on the whole column up front.
"""

from __future__ import annotations

import dataclasses
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
    # Missing values (NaN) per optional or cell column, only columns with any.
    missing: dict[str, int] = dataclasses.field(default_factory=dict)
    duplicates_dropped: int = 0

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

    def take(self, rows: npt.NDArray[np.int64]) -> History:
        """The history restricted to ``rows`` (counts kept as they are)."""

        def part(a: FloatArray | None) -> FloatArray | None:
            return None if a is None else a[rows]

        return dataclasses.replace(
            self,
            time_s=self.time_s[rows],
            current_a=self.current_a[rows],
            voltage_v=self.voltage_v[rows],
            temperature_c=part(self.temperature_c),
            bms_soc_pct=part(self.bms_soc_pct),
            cell_v=tuple(a[rows] for a in self.cell_v),
            cell_temp_c=tuple(a[rows] for a in self.cell_temp_c),
            extremes={name: a[rows] for name, a in self.extremes.items()},
        )

    def columns(self) -> dict[str, FloatArray]:
        """Every column by its history name (timestamp as Unix seconds)."""
        out: dict[str, FloatArray] = {
            TIMESTAMP: self.time_s,
            CURRENT: self.current_a,
            VOLTAGE: self.voltage_v,
        }
        if self.temperature_c is not None:
            out[TEMPERATURE] = self.temperature_c
        if self.bms_soc_pct is not None:
            out[BMS_SOC] = self.bms_soc_pct
        for k, a in enumerate(self.cell_v):
            out[cell_voltage_column(k + 1)] = a
        for k, a in enumerate(self.cell_temp_c):
            out[cell_temperature_column(k + 1)] = a
        out.update(self.extremes)
        return out


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


def _count_missing(name: str, array: FloatArray) -> int:
    """NaN values (missing readings) in an optional column; an infinity is an error."""
    if np.isfinite(array.sum()):
        return 0
    infinite = np.isinf(array)
    if infinite.any():
        row = int(np.argmax(infinite))
        raise ValueError(f"column '{name}': infinite value at row {row}")
    return int(np.isnan(array).sum())


def parse_timestamps(values: npt.ArrayLike, name: str = TIMESTAMP) -> npt.NDArray[np.float64]:
    """Unix seconds (UTC) from ISO 8601 strings, ``datetime64`` values or numbers.

    ISO strings may end in ``Z`` or a ``+HH:MM`` / ``-HH:MM`` offset; strings without one are
    taken as UTC. Numeric strings are Unix seconds.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"column '{name}': must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind in "iuf":
        return _seconds_from_number(array.astype(np.float64), name)
    if array.dtype.kind == "M":
        nanoseconds = array.astype("datetime64[ns]").astype(np.int64)
        if np.isnat(array).any():
            raise ValueError(f"column '{name}': NaT at row {int(np.argmax(np.isnat(array)))}")
        return nanoseconds / 1e9
    text = np.strings.strip(array.astype(str))
    try:
        numbers = text.astype(np.float64)
    except ValueError:
        return _parse_iso(text, name)
    return _seconds_from_number(numbers, name)


# Unix seconds stay below this until the year 5138; Unix milliseconds are above it after 1973.
MILLISECONDS_ABOVE = 1e11
# Milliseconds stay below this until the year 5138; larger numbers are micro- or nanoseconds.
MILLISECONDS_BELOW = 1e14


def _seconds_from_number(numbers: npt.NDArray[np.float64], name: str) -> npt.NDArray[np.float64]:
    """Unix seconds from numeric timestamps, in seconds or milliseconds (decided per column)."""
    if numbers.size == 0 or not np.isfinite(numbers.sum()):
        return numbers  # the finiteness check reports the row
    low, high = float(numbers.min()), float(numbers.max())
    if high < MILLISECONDS_ABOVE:
        return numbers
    if low >= MILLISECONDS_ABOVE and high < MILLISECONDS_BELOW:
        return numbers / 1000.0
    if low >= MILLISECONDS_ABOVE:
        row = int(np.argmax(numbers >= MILLISECONDS_BELOW))
        raise ValueError(
            f"column '{name}': {numbers[row]:.0f} at row {row} is neither Unix seconds nor "
            "milliseconds (micro- or nanoseconds?): give seconds, milliseconds or ISO 8601"
        )
    row = int(np.argmax(numbers >= MILLISECONDS_ABOVE))
    raise ValueError(
        f"column '{name}': mixes Unix seconds and milliseconds (row {row} is "
        f"{numbers[row]:.0f}, row {int(np.argmin(numbers))} is {low:.0f})"
    )


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
    current = column(CURRENT)
    voltage = column(VOLTAGE)
    _require_finite(CURRENT, current)
    _require_finite(VOLTAGE, voltage)
    cell_v_names = _cell_columns(names, _CELL_VOLTAGE, cell_voltage_column)
    cell_t_names = _cell_columns(names, _CELL_TEMPERATURE, cell_temperature_column)
    history = History(
        time_s=time_s,
        current_a=current,
        voltage_v=voltage,
        temperature_c=column(TEMPERATURE) if TEMPERATURE in columns else None,
        bms_soc_pct=column(BMS_SOC) if BMS_SOC in columns else None,
        cell_v=tuple(column(name) for name in cell_v_names),
        cell_temp_c=tuple(column(name) for name in cell_t_names),
        extremes={name: column(name) for name in EXTREME_COLUMNS if name in columns},
    )
    history = _without_repeated_rows(history)
    optional = {k: v for k, v in history.columns().items() if k not in REQUIRED_COLUMNS}
    missing = {name: count for name, a in optional.items() if (count := _count_missing(name, a))}
    return dataclasses.replace(history, missing=missing)


def _without_repeated_rows(history: History) -> History:
    """Drop rows that repeat the previous row exactly; refuse any other disorder."""
    if len(history) < 2:
        return history
    steps = np.diff(history.time_s)
    if (steps > 0).all():
        return history
    backwards = np.flatnonzero(steps < 0)
    if backwards.size:
        row = int(backwards[0]) + 1
        raise ValueError(
            f"column '{TIMESTAMP}': rows out of order: row {row} ({format_time(history.time_s[row])})"
            f" is before row {row - 1} ({format_time(history.time_s[row - 1])}); "
            f"{backwards.size} row(s) go back in time. Sort the history by timestamp first"
        )
    repeated = np.flatnonzero(steps == 0) + 1
    for name, values in history.columns().items():
        a, b = values[repeated], values[repeated - 1]
        differs = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        if differs.any():
            row = int(repeated[np.argmax(differs)])
            raise ValueError(
                f"column '{TIMESTAMP}': rows {row - 1} and {row} have the same time "
                f"({format_time(history.time_s[row])}) but different '{name}' values "
                f"({b[np.argmax(differs)]!r} and {a[np.argmax(differs)]!r}): which one is "
                "right cannot be told; remove one"
            )
    keep = np.ones(len(history), dtype=bool)
    keep[repeated] = False
    trimmed = history.take(np.flatnonzero(keep))
    return dataclasses.replace(trimmed, duplicates_dropped=int(repeated.size))
