"""The regulators' register listing: one row per battery, as the authority tier may see it, and
its streamed CSV / JSON exports.

A row is built like a small passport document and goes through the same access filter as every
other output, so an attribute the authorities may not read (e.g. the point-4 status) never
appears; nor may they filter by it, which would tell as much. Register facts that are not passport attributes
(manufacturer id, registration time) are added after filtering.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from passport.access import filter_document
from passport.attributes import Tier, View
from passport.errors import FieldError
from passport.models import Battery
from passport.selectors import current_passport_of, with_current_passport

AUTHORITY_TIERS = View.AUTHORITY.tiers()

# The rules of the register search, for the API's query serializer and the page's form alike.
# The largest id a database row can have (a signed 64-bit key): a larger one names nothing, and
# the databases refuse to compare with it.
MAX_ID = 2**63 - 1
# Why there is no filter by status: it would reveal what the column would (docs/passport-domain.md).
STATUS_FILTER_REFUSED = (
    "a battery's status is individual data (Annex XIII point 4), which authorities may not read "
    "(Art. 77(2)); filtering by it would reveal it, so there is no such filter"
)
# (from, to) pairs of inclusive date bounds.
DATE_RANGES = (("manufactured_from", "manufactured_to"), ("registered_from", "registered_to"))


def search_range_errors(filters: Mapping[str, Any]) -> list[FieldError]:
    """A date range whose start is after its end, named by its end."""
    return [
        FieldError(end, f"must not be before {start}")
        for start, end in DATE_RANGES
        if filters.get(start) is not None and filters.get(end) is not None and filters[start] > filters[end]
    ]

# Candidate columns from the passport document, in listing order; filtered per tier.
DOCUMENT_COLUMNS = (
    "battery_identifier",
    "passport_identifier",
    "model_name",
    "category",
    "chemistry",
    "gtin",
    "serial_number",
    "batch",
    "manufacturing_date",
    "status",
    "state",
)
REGISTER_COLUMNS = ("manufacturer_id", "manufacturer", "model_id", "registered_at")
COLUMNS: tuple[str, ...] = tuple(filter_document(dict.fromkeys(DOCUMENT_COLUMNS), AUTHORITY_TIERS)) + REGISTER_COLUMNS
EXPORT_CHUNK = 2000


def battery_row(battery: Battery, tiers: Iterable[Tier]) -> dict[str, Any]:
    """The listing columns of one battery that `tiers` may read, plus the register facts."""
    passport = current_passport_of(battery)
    model = battery.model
    document = {
        "battery_identifier": battery.identifier,
        "passport_identifier": passport.passport_id if passport else None,
        "model_name": model.name,
        "category": model.category,
        "chemistry": model.chemistry,
        "gtin": battery.gtin,
        "serial_number": battery.serial or None,
        "batch": battery.batch or None,
        "manufacturing_date": battery.manufacturing_date.isoformat(),
        "status": battery.status,
        "state": passport.state if passport else None,
    }
    row = filter_document(document, tiers)
    row.update(
        manufacturer_id=model.manufacturer_id,
        manufacturer=model.manufacturer.name,
        model_id=model.pk,
        registered_at=battery.created_at.isoformat(),
    )
    return row


def register_row(battery: Battery) -> dict[str, Any]:
    return battery_row(battery, AUTHORITY_TIERS)


def register_rows(batteries: Iterable[Battery]) -> list[dict[str, Any]]:
    return [register_row(battery) for battery in batteries]


def _iterate(batteries: QuerySet[Battery]) -> Iterator[dict[str, Any]]:
    for battery in with_current_passport(batteries).iterator(chunk_size=EXPORT_CHUNK):
        yield register_row(battery)


class _Echo:
    """csv.writer wants a file; this one hands each written line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


# A spreadsheet would run a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def csv_lines(batteries: QuerySet[Battery]) -> Iterator[str]:
    writer = csv.DictWriter(_Echo(), fieldnames=COLUMNS, extrasaction="ignore")
    yield writer.writeheader()
    for row in _iterate(batteries):
        yield writer.writerow({key: csv_cell(value) for key, value in row.items()})


def json_chunks(batteries: QuerySet[Battery]) -> Iterator[str]:
    yield '{"columns": ' + json.dumps(COLUMNS) + ', "results": ['
    first = True
    for row in _iterate(batteries):
        yield ("" if first else ",") + "\n" + json.dumps(row, ensure_ascii=False)
        first = False
    yield "\n]}\n"


def export_response(batteries: QuerySet[Battery], export_format: str) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    if export_format == "csv":
        response = StreamingHttpResponse(csv_lines(batteries), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(json_chunks(batteries), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="battery-register-{stamp}.{export_format}"'
    return response
