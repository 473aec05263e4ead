"""Batteries from a CSV file, in the shape battery_register_bulk takes.

A spreadsheet is how a production line hands over a day's batteries: one row per battery, one
column per item attribute (the keys of the attribute table, or gtin / serial / batch /
identifier), the first row naming the columns. A cell holds text, so each is read by the kind its
attribute declares: numbers as numbers, yes/no as booleans, lists and objects as JSON. An empty
cell means "not given". What cannot be read that way is handed on as the text it was, so the
registration service reports it beside every other problem of the file, with its row; nothing
is decided here that the service decides.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from passport.attributes import BY_KEY
from passport.errors import FieldError, ValidationFailed
from passport.values import Boolean, ListOf, Number, Object

# A day of a gigafactory line fits; a file larger than this is refused before it is read.
MAX_CSV_BYTES = 16 * 1024 * 1024
TRUE_WORDS = frozenset({"yes", "true", "1", "y"})
FALSE_WORDS = frozenset({"no", "false", "0", "n"})
# The header row is line 1.
FIRST_DATA_LINE = 2


def cell_value(key: str, text: str) -> Any:
    """The value of one cell for attribute `key`; the text itself when it is not of the kind."""
    attribute = BY_KEY.get(key)
    kind = attribute.kind if attribute is not None else None
    if isinstance(kind, Number):
        try:
            number = float(text.replace(",", ".")) if "," in text and "." not in text else float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and (kind.integer or "." not in text) else number
    if isinstance(kind, Boolean):
        word = text.lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else text
    if isinstance(kind, ListOf | Object):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


@dataclass(frozen=True)
class CsvBatteries:
    items: list[dict[str, Any]]
    # The file line of each item (blank lines are skipped, so this is not always index + 2).
    lines: list[int]


def items_from_csv(content: bytes) -> CsvBatteries:
    """The battery items of a CSV file (UTF-8, with or without BOM; comma, semicolon or tab).
    Raises ValidationFailed for a file that is not such a CSV (an error's `index` is then the
    file line)."""
    if len(content) > MAX_CSV_BYTES:
        raise ValidationFailed([FieldError("file", f"is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationFailed([FieldError("file", f"is not UTF-8 text (byte {error.start})")]) from error
    if not text.strip():
        raise ValidationFailed([FieldError("file", "is empty")])
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [name.strip() for name in next(reader)]
        rows = list(reader)
    except csv.Error as error:
        raise ValidationFailed([FieldError("file", f"is not a readable CSV file: {error}")]) from error
    errors = [FieldError("file", f"column {position + 1} has no name in the first row")
              for position, name in enumerate(header) if not name]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    errors.extend(FieldError(name, "names two columns") for name in repeated)
    if errors:
        raise ValidationFailed(errors)
    items: list[dict[str, Any]] = []
    lines: list[int] = []
    for line, row in enumerate(rows, start=FIRST_DATA_LINE):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            errors.append(FieldError("file", f"{len(row)} cells for {len(header)} columns", line))
            continue
        items.append({name: cell_value(name, cell.strip()) for name, cell in zip(header, row, strict=False)
                      if cell.strip()})
        lines.append(line)
    if errors:
        raise ValidationFailed(errors)
    if not items:
        raise ValidationFailed([FieldError("file", "has a header row but no battery")])
    return CsvBatteries(items, lines)
