"""THE filter set of the battery register search, for the API and the regulator's page alike.

One table declares each filter (its name in the query string, its label for people, what it
accepts); one function reads a query string into the keyword arguments of
selectors.battery_search and refuses, with the field and the reason, what it cannot read:
a malformed value, a filter given twice, and a parameter that is no filter at all (a typo such
as `?chemestry=LFP` would otherwise return the whole register as if it had matched). The API
documents its query parameters from the same table, the page draws its form from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from passport.errors import FieldError, ValidationFailed
from passport.identifiers import IdentifierError, battery_identifier_parse, gtin_normalise
from passport.vocabulary import Category, Chemistry

MAX_TEXT = 120
# Why there is no filter by status: it would reveal what the column would (docs/passport-domain.md).
STATUS_FILTER_REFUSED = (
    "a battery's status is individual data (Annex XIII point 4), which authorities may not read "
    "(Art. 77(2)); filtering by it would reveal it, so there is no such filter"
)
# The largest id a database row can have (a signed 64-bit key): a larger one names nothing, and
# the databases refuse to compare with it.
MAX_ID = 2**63 - 1


class FilterKind:
    TEXT = "text"
    ID = "id"
    DATE = "date"
    CHOICE = "choice"
    # Named so that asking for it gets its reason, not "no such filter".
    REFUSED = "refused"


@dataclass(frozen=True)
class RegisterFilter:
    name: str
    label: str
    kind: str
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    # Text filters: turns the given text into the stored form, or raises IdentifierError.
    normalise: Callable[[str], str] | None = None


def _identifier(text: str) -> str:
    return battery_identifier_parse(text).identifier


def _serial(text: str) -> str:
    return text.strip()


REGISTER_FILTERS: tuple[RegisterFilter, ...] = (
    RegisterFilter("identifier", "Battery identifier", FilterKind.TEXT,
                   "GS1 element string, Digital Link or ISO/IEC 15459 identifier.", normalise=_identifier),
    RegisterFilter("gtin", "GTIN", FilterKind.TEXT, "GTIN-8, -12, -13 or -14 of the battery model.",
                   normalise=gtin_normalise),
    RegisterFilter("serial", "Serial number", FilterKind.TEXT, "As printed on the battery.", normalise=_serial),
    RegisterFilter("manufacturer", "Manufacturer", FilterKind.ID, "Organisation id."),
    RegisterFilter("model", "Battery model", FilterKind.ID, "Battery model id."),
    RegisterFilter("category", "Category", FilterKind.CHOICE, choices=tuple(Category.choices)),
    RegisterFilter("chemistry", "Chemistry", FilterKind.CHOICE, choices=tuple(Chemistry.choices)),
    RegisterFilter("status", "Status", FilterKind.REFUSED, STATUS_FILTER_REFUSED),
    RegisterFilter("manufactured_from", "Manufactured from", FilterKind.DATE, "First day, inclusive."),
    RegisterFilter("manufactured_to", "Manufactured until", FilterKind.DATE, "Last day, inclusive."),
    RegisterFilter("registered_from", "Registered from", FilterKind.DATE, "First day, inclusive."),
    RegisterFilter("registered_to", "Registered until", FilterKind.DATE, "Last day, inclusive."),
)
BY_NAME = {spec.name: spec for spec in REGISTER_FILTERS}
RANGES = (("manufactured_from", "manufactured_to"), ("registered_from", "registered_to"))


def _clean(spec: RegisterFilter, raw: str) -> tuple[Any, str | None]:
    """(value, None) or (None, reason)."""
    text = raw.strip()
    if spec.kind == FilterKind.TEXT:
        if len(text) > MAX_TEXT:
            return None, f"at most {MAX_TEXT} characters"
        try:
            return (spec.normalise(text) if spec.normalise else text), None
        except IdentifierError as error:
            return None, str(error)
    if spec.kind == FilterKind.ID:
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
            return None, f"must be a whole number from 1 to {MAX_ID} (an id), got {raw[:40]!r}"
        return int(text), None
    if spec.kind == FilterKind.DATE:
        try:
            return dt.date.fromisoformat(text), None
        except ValueError:
            return None, f"must be a date as YYYY-MM-DD, got {raw[:40]!r}"
    allowed = [value for value, _ in spec.choices]
    if text not in allowed:
        return None, f"must be one of {', '.join(allowed)}"
    return text, None


def _values(params: Mapping[str, Any], name: str) -> list[Any]:
    """Every value given for `name` (a query string may repeat a parameter)."""
    if hasattr(params, "getlist"):
        return list(params.getlist(name))
    value = params.get(name)
    return value if isinstance(value, list) else [value]


def register_filters_clean(params: Mapping[str, Any], *, also_allowed: Iterable[str] = ()) -> dict[str, Any]:
    """The filters in `params` (a query string) as keyword arguments of
    selectors.battery_search. Empty values mean "any". `also_allowed` names the caller's own
    parameters (page, format). Raises ValidationFailed naming every bad parameter."""
    errors: list[FieldError] = []
    allowed = set(BY_NAME) | set(also_allowed)
    for name in params:
        if name not in allowed:
            errors.append(FieldError(
                name[:60], f"is not a filter of the register; use {', '.join(sorted(allowed))}"
            ))
    filters: dict[str, Any] = {}
    for spec in REGISTER_FILTERS:
        if spec.name not in params:
            continue
        if spec.kind == FilterKind.REFUSED:
            errors.append(FieldError(spec.name, spec.help))
            continue
        given = [value for value in _values(params, spec.name) if value is not None and str(value).strip()]
        if not given:
            continue
        if len(given) > 1:
            errors.append(FieldError(spec.name, "give this filter once"))
            continue
        value, reason = _clean(spec, str(given[0]))
        if reason is not None:
            errors.append(FieldError(spec.name, reason))
        else:
            filters[spec.name] = value
    for start, end in RANGES:
        if start in filters and end in filters and filters[start] > filters[end]:
            errors.append(FieldError(end, f"must not be before {start}"))
    if errors:
        raise ValidationFailed(errors)
    return filters
