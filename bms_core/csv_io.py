"""Histories as CSV files (plain or gzip): a header row with the column names, one row per sample.

Reading parses whole columns with numpy's C tokenizer (no per-row Python), in chunks of
``chunk_rows`` rows, so :func:`iter_csv` (and :func:`analyze_file`, which feeds the chunks
to an incremental :class:`bms_core.Analyzer`) uses memory bounded by the chunk, whatever the
file's size. ``timestamp`` may be ISO 8601, Unix seconds or Unix milliseconds and comes back
as Unix seconds (float64, UTC); every other column comes back as float64. Empty fields in
optional columns become NaN (missing readings); in required columns they are reported as
errors by :func:`bms_core.columns.validate` when the history is analysed.

What spreadsheet programs and loggers write is accepted: a UTF-8 byte-order mark, quoted
names and fields, and ``;`` or tab as the separator (with ``;``, a decimal comma is read as a
decimal point, as a European spreadsheet writes it). A damaged or truncated gzip file, a file
without a header and a header without rows are errors that say so.
"""

from __future__ import annotations

import gzip
import io
import itertools
import re
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from bms_core.columns import TIMESTAMP, parse_timestamps

_GZIP_MAGIC = b"\x1f\x8b"
_LOADTXT_FIELD = re.compile(r"could not convert string '(.*)' to \w+ at row (\d+), column (\d+)")
_DELIMITERS = (",", ";", "\t")
CHUNK_ROWS = 50_000
# What a damaged gzip stream raises while it is read.
_DAMAGED = (EOFError, gzip.BadGzipFile, zlib.error)


def _open_text(path: Path, mode: str) -> io.TextIOBase:
    if mode == "r":
        with open(path, "rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
        # utf-8-sig drops a byte-order mark that a spreadsheet program put at the start.
        encoding = "utf-8-sig"
    else:
        compressed = path.suffix == ".gz"
        encoding = "utf-8"
    if compressed:
        return gzip.open(path, mode + "t", encoding=encoding, newline="", compresslevel=3)  # type: ignore[return-value]
    return open(path, mode, encoding=encoding, newline="")  # type: ignore[return-value]


def _header(path: Path, line: str) -> tuple[list[str], str]:
    """Column names and the separator, from the header line."""
    if not line.strip():
        raise ValueError(f"{path}: empty file, expected a header row")
    delimiter = max(_DELIMITERS, key=line.count)
    names = [name.strip().strip('"').strip("'").strip() for name in line.strip().split(delimiter)]
    if TIMESTAMP not in names:
        raise ValueError(
            f"column '{TIMESTAMP}': required column is missing from {path} (header: "
            f"{', '.join(names[:6])}{', ...' if len(names) > 6 else ''})"
        )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"column '{duplicates[0]}': appears more than once in the header")
    return names, delimiter


def iter_csv(
    path: str | Path, chunk_rows: int = CHUNK_ROWS
) -> Iterator[dict[str, npt.NDArray[np.float64]]]:
    """The history in chunks of at most ``chunk_rows`` rows, as named columns, in file order."""
    path = Path(path)
    try:
        with _open_text(path, "r") as stream:
            names, delimiter = _header(path, stream.readline())
            first_row = 0
            while True:
                lines = list(itertools.islice(stream, chunk_rows))
                if not lines:
                    break
                body = "".join(lines)
                if body.strip():
                    yield _parse_chunk(body, names, delimiter, first_row)
                first_row += len(lines)
    except _DAMAGED as error:
        raise ValueError(
            f"{path}: the gzip file is truncated or damaged ({error}); the rows before the "
            "damage cannot be told apart from a complete history, so nothing is analysed"
        ) from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if first_row == 0:
        raise ValueError(f"{path}: a header but no data rows: nothing to analyse")


def read_csv(path: str | Path) -> dict[str, npt.NDArray[np.float64]]:
    """Read a whole history CSV (``.gz`` or plain, detected from the content) into columns."""
    chunks = list(iter_csv(path))
    if len(chunks) == 1:
        return chunks[0]
    return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}


def analyze_file(
    path: str | Path, *, chunk_rows: int = CHUNK_ROWS, **options: Any
) -> dict[str, Any]:
    """Analyse a history file chunk by chunk (bounded memory); options as for ``analyze``."""
    from bms_core.analyzer import Analyzer

    analyzer = Analyzer(**options)
    for chunk in iter_csv(path, chunk_rows):
        analyzer.feed(chunk)
    return analyzer.report()


def _parse_chunk(
    body: str, names: list[str], delimiter: str, first_row: int
) -> dict[str, npt.NDArray[np.float64]]:
    if delimiter == ";" and "," in body:
        body = body.replace(",", ".")
    time_index = names.index(TIMESTAMP)
    numeric = [k for k in range(len(names)) if k != time_index]
    columns: dict[str, npt.NDArray[np.float64]] = {
        TIMESTAMP: _read_timestamps(body, time_index, delimiter)
    }
    if numeric:
        values = _read_numeric(body, numeric, names, delimiter, first_row)
        for j, k in enumerate(numeric):
            columns[names[k]] = values[:, j]
    return {name: columns[name] for name in names}


def _read_timestamps(body: str, index: int, delimiter: str) -> npt.NDArray[np.float64]:
    try:
        numbers = np.loadtxt(
            io.StringIO(body),
            delimiter=delimiter,
            usecols=[index],
            dtype=np.float64,
            ndmin=1,
            quotechar='"',
        )
        return parse_timestamps(numbers)
    except ValueError as error:
        if "Unix" in str(error):  # seconds and milliseconds mixed, or neither
            raise
        # Not numbers: read the field as text and parse it as ISO 8601.
        text = np.loadtxt(
            io.StringIO(body),
            delimiter=delimiter,
            usecols=[index],
            dtype=str,
            ndmin=1,
            quotechar='"',
        )
        return parse_timestamps(text)


def _read_numeric(
    body: str, indices: list[int], names: list[str], delimiter: str, first_row: int
) -> npt.NDArray[np.float64]:
    try:
        return np.loadtxt(
            io.StringIO(body),
            delimiter=delimiter,
            usecols=indices,
            dtype=np.float64,
            ndmin=2,
            quotechar='"',
        )
    except ValueError as error:
        match = _LOADTXT_FIELD.search(str(error))
        if match is None:
            raise ValueError(f"CSV body near data row {first_row}: {error}") from None
        # numpy reports the data row from 0 and the file's column from 1.
        field, row, column = match.group(1), int(match.group(2)), int(match.group(3))
        name = names[column - 1] if 0 < column <= len(names) else "?"
        if field.strip().strip('"'):
            raise ValueError(
                f"column '{name}': not a number at data row {first_row + row}: {field!r}"
            ) from None
    # Some fields are empty: the slower parser fills them with NaN.
    return np.atleast_2d(
        np.genfromtxt(
            io.StringIO(body.replace('"', "")),
            delimiter=delimiter,
            usecols=indices,
            dtype=np.float64,
        )
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
        unit: Literal["s", "ms"] = "s" if whole else "ms"
        stamps = np.asarray(milliseconds, dtype="datetime64[ms]")
        time_text = (np.datetime_as_string(stamps, unit=unit) + "Z").tolist()
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
