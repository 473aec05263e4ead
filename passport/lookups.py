"""How an address names a passport: the one read of the API and of the pages is parameterised by
one of these, instead of a view class per address.

Each lookup turns the address's URL arguments into the passport to read and the moment to read
it at (None: now). The summary, tag and operation name describe the address in the OpenAPI
schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from passport import selectors
from passport.errors import FieldError, NotFound, ValidationFailed
from passport.identifiers import digital_link_identifier
from passport.models import Passport
from passport.values import parse_moment

Resolved = tuple[Passport, dt.datetime | None]


@dataclass(frozen=True)
class PassportLookup:
    name: str
    resolve: Callable[..., Resolved]
    tag: str
    summary: str
    description: str = ""

    def __call__(self, **url_arguments: Any) -> Resolved:
        return self.resolve(**url_arguments)


def by_passport_identifier(*, passport_id: str) -> Resolved:
    return selectors.passport_get(passport_id=passport_id), None


def by_battery_identifier(*, identifier: str) -> Resolved:
    return selectors.passport_of_battery(identifier=identifier), None


def by_digital_link(*, gtin: str, serial: str, lot: str | None = None) -> Resolved:
    """/01/<GTIN>[/10/<lot>]/21/<serial>: the battery's current passport; a lot that does not
    match the battery's batch names no battery."""
    identifier = digital_link_identifier(gtin, serial)
    try:
        passport = selectors.passport_of_battery(identifier=identifier)
    except NotFound as error:
        # Answered in the terms of the address asked for.
        raise NotFound(f"battery /01/{gtin}/21/{serial}") from error
    batch = passport.battery.batch
    if lot is not None and batch and batch != lot:
        raise NotFound(f"battery /01/{gtin}/10/{lot}/21/{serial}")
    return passport, None


def moment_of(text: str) -> dt.datetime:
    """The `at` moment of an address, or a 400 naming it."""
    moment = parse_moment(text)
    if moment is None:
        raise ValidationFailed([FieldError("at", f"must be an ISO 8601 date or date-time, got {text!r}")])
    return moment


def by_battery_at(*, identifier: str, moment: str) -> Resolved:
    """The passport the battery had at `moment` (a repurposed battery has had several)."""
    at = moment_of(moment)
    battery = selectors.battery_get(identifier=identifier)
    return selectors.passport_in_force(battery=battery, at=at), at


PASSPORT = PassportLookup(
    name="passports",
    resolve=by_passport_identifier,
    tag="passports",
    summary="Read a passport by passport identifier",
    description="JSON for programs; a browser (`Accept: text/html`) gets the passport page at "
    "the same address. The document holds the attributes the caller may read; `?view=public` "
    "asks for a lower view.",
)
BATTERY = PassportLookup(
    name="batteries",
    resolve=by_battery_identifier,
    tag="batteries",
    summary="Read a battery's current passport by battery identifier",
)
DPP_PASSPORT = PassportLookup(
    name="dpp",
    resolve=by_passport_identifier,
    tag="dpp (EN 18222)",
    summary="Read a passport by passport identifier",
)
DPP_PRODUCT = PassportLookup(
    name="dpp_product",
    resolve=by_battery_identifier,
    tag="dpp (EN 18222)",
    summary="Read the current passport of a product (battery identifier)",
)
DPP_PRODUCT_AT = PassportLookup(
    name="dpp_product_at",
    resolve=by_battery_at,
    tag="dpp (EN 18222)",
    summary="Read a product's passport as it was at a date",
)
DIGITAL_LINK = PassportLookup(
    name="digital_link",
    resolve=by_digital_link,
    tag="digital-link",
    summary="Resolve a GS1 Digital Link to the battery's passport",
    description="The address in the battery's QR code. HTML by default, JSON with "
    "`Accept: application/json`.",
)
DIGITAL_LINK_WITH_LOT = PassportLookup(
    name="digital_link_with_lot",
    resolve=by_digital_link,
    tag="digital-link",
    summary="Resolve a GS1 Digital Link with batch/lot to the battery's passport",
    description="A lot that does not match the battery's batch is a 404.",
)
