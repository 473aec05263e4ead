"""Histories as CSV files (plain or gzip): a header row with the column names, one row per sample.

Reading parses whole columns with numpy's C tokenizer (no per-row Python). ``timestamp`` may
be ISO 8601 or Unix seconds and comes back as Unix seconds (float64, UTC); every other column
comes back as float64. Empty fields in optional columns become NaN; in required columns they
are reported as errors by :func:`bms_core.columns.validate` when the history is analysed.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bms_core.columns import TIMESTAMP, parse_timestamps

_GZIP_MAGIC = b"\x1f\x8b"
_LOADTXT_FIELD = re.compile(r"could not convert string '(.*)' to \w+ at row (\d+), column (\d+)")


def _open_text(path: Path, mode: str) -> io.TextIOBase:
    if mode == "r":
        with open(path, "rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
    else:
        compressed = path.suffix == ".gz"
    if compressed:
        return gzip.open(path, mode + "t", encoding="utf-8", newline="", compresslevel=3)  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8", newline="")  # type: ignore[return-value]


def read_csv(path: str | Path) -> dict[str, npt.NDArray[np.float64]]:
    """Read a history CSV (``.gz`` or plain, detected from the content) into named columns."""
    path = Path(path)
    with _open_text(path, "r") as stream:
        header_line = stream.readline()
        body = stream.read()
    names = [name.strip() for name in header_line.strip().split(",")]
    if not header_line.strip():
        raise ValueError(f"{path}: empty file, expected a header row")
    if TIMESTAMP not in names:
        raise ValueError(f"column '{TIMESTAMP}': required column is missing from {path}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"column '{duplicates[0]}': appears more than once in the header")
    time_index = names.index(TIMESTAMP)
    numeric = [k for k in range(len(names)) if k != time_index]
    columns: dict[str, npt.NDArray[np.float64]] = {}
    if not body.strip():
        return {name: np.empty(0) for name in names}
    columns[TIMESTAMP] = _read_timestamps(body, time_index)
    if numeric:
        values = _read_numeric(body, numeric, names)
        for j, k in enumerate(numeric):
            columns[names[k]] = values[:, j]
    return {name: columns[name] for name in names}


def _read_timestamps(body: str, index: int) -> npt.NDArray[np.float64]:
    try:
        return np.loadtxt(
            io.StringIO(body), delimiter=",", usecols=[index], dtype=np.float64, ndmin=1
        )
    except ValueError:
        # Not Unix seconds: read the field as text and parse it as ISO 8601.
        text = np.loadtxt(io.StringIO(body), delimiter=",", usecols=[index], dtype=str, ndmin=1)
        return parse_timestamps(text)


def _read_numeric(body: str, indices: list[int], names: list[str]) -> npt.NDArray[np.float64]:
    try:
        return np.loadtxt(
            io.StringIO(body), delimiter=",", usecols=indices, dtype=np.float64, ndmin=2
        )
    except ValueError as error:
        match = _LOADTXT_FIELD.search(str(error))
        if match is None:
            raise ValueError(f"CSV body: {error}") from None
        # numpy reports the data row from 0 and the file's column from 1.
        field, row, column = match.group(1), int(match.group(2)), int(match.group(3))
        name = names[column - 1] if 0 < column <= len(names) else "?"
        if field.strip():
            raise ValueError(
                f"column '{name}': not a number at data row {row}: {field!r}"
            ) from None
    # Some fields are empty: the slower parser fills them with NaN.
    return np.atleast_2d(
        np.genfromtxt(io.StringIO(body), delimiter=",", usecols=indices, dtype=np.float64)
    ).reshape(-1, len(indices))


def write_csv(
    path: str | Path,
    columns: Mapping[str, npt.ArrayLike],
    *,
    timestamps: str = "iso",
    decimals: Mapping[str, int] | None = None,
    default_decimals: int = 4,
) -> None:
    """Write a history; ``timestamps`` is "iso" (UTC, ``Z``) or "unix" (seconds).

    ``decimals`` gives the number of decimals per column (``default_decimals`` otherwise);
    a path ending in ``.gz`` is gzip-compressed.
    """
    if timestamps not in ("iso", "unix"):
        raise ValueError("timestamps: 'iso' or 'unix'")
    names = [TIMESTAMP] + [name for name in columns if name != TIMESTAMP]
    if TIMESTAMP not in columns:
        raise ValueError(f"column '{TIMESTAMP}': required column is missing")
    seconds = parse_timestamps(columns[TIMESTAMP])
    if timestamps == "iso":
        milliseconds = np.round(seconds * 1000.0).astype(np.int64).astype("datetime64[ms]")
        whole = (milliseconds.astype(np.int64) % 1000 == 0).all()
        unit = "s" if whole else "ms"
        time_text = (np.datetime_as_string(milliseconds, unit=unit) + "Z").tolist()
    else:
        time_text = [f"{s:.3f}" for s in seconds.tolist()]
    decimals = decimals or {}
    formats = ["%s"] + [f"%.{decimals.get(name, default_decimals)}f" for name in names[1:]]
    row_format = ",".join(formats)
    data = [time_text] + [
        np.asarray(columns[name], dtype=np.float64).tolist() for name in names[1:]
    ]
    with _open_text(Path(path), "w") as stream:
        stream.write(",".join(names) + "\n")
        stream.writelines(
            (row_format % row).replace("nan", "") + "\n" for row in zip(*data, strict=True)
        )
