"""The passport document: what a passport says (now or at any past moment), and reading it
through the caller's access rights.

A document is a function of two versions only: the battery model's version and the passport's
version in force at the moment read. Versions are immutable and each is named by its hash, so a
built (unfiltered) document is kept in Django's cache under the two hashes: a write records a
new version, the next read asks for other hashes, and nothing needs invalidating. Access rights
are decided on every read from the current rows, never cached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import OuterRef, Q, Subquery

from passport.access import (
    acting_tiers,
    acts_as_operator,
    filter_document,
    organisation_of,
    view_of_tiers,
)
from passport.attributes import ATTRIBUTES, PROVENANCE_KEY, TIER_OF, Tier, View
from passport.errors import NotFound, NotPermitted
from passport.models import AccessLog, Battery, Organisation, Passport, Version
from passport.services.versions import timestamp_text

# Document order: identity first, then the attributes in the table's order.
IDENTITY_ORDER = (
    "passport_identifier",
    "battery_identifier",
    "model_name",
    "gtin",
    "serial_number",
    "batch",
    "state",
    "predecessors",
    "successors",
    "model_version",
    "passport_version",
    "last_updated",
)
DOCUMENT_KEYS: tuple[str, ...] = IDENTITY_ORDER + tuple(
    a.key for a in ATTRIBUTES if a.key not in IDENTITY_ORDER
) + (PROVENANCE_KEY,)


# Part of the cache key: a release that changes the document's keys never reads entries built
# by the release before. A change only in how values are built shows once the old entries expire
# (PASSPORT_DOCUMENT_CACHE_SECONDS).
DOCUMENT_SHAPE = hashlib.sha256("\n".join(DOCUMENT_KEYS).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class PassportReading:
    """What a read hands back: the filtered document, the tiers it was filtered for, and the
    audience those tiers make (for the answer's `view`)."""

    document: dict
    tiers: frozenset[Tier]
    view: View


def _battery_now(passport: Passport, at: dt.datetime | None) -> Battery:
    """The passport's battery as stored now (rights follow its current owner and operator, not a
    copy the caller loaded earlier), with the hashes of the passport version and the model
    version in force at `at` (the latest when None) as `passport_version_hash` and
    `model_version_hash` (None when there is none): one query."""
    passport_versions = Version.objects.filter(passport_id=passport.pk)
    model_versions = Version.objects.filter(model_id=OuterRef("model_id"))
    if at is not None:
        passport_versions = passport_versions.filter(created_at__lte=at)
        model_versions = model_versions.filter(created_at__lte=at)
    return (
        Battery.objects.only("id", "model_id", "owner_id", "responsible_operator_id")
        .annotate(
            passport_version_hash=Subquery(passport_versions.order_by("-seq").values("hash")[:1]),
            model_version_hash=Subquery(model_versions.order_by("-seq").values("hash")[:1]),
        )
        .get(pk=passport.battery_id)
    )


def _document_build(*, passport_version: Version, model_version: Version) -> dict:
    values: dict[str, Any] = {}
    # Model values first: an item attribute with a model default (extinguishing agent) is
    # overridden by the battery's own value.
    values.update(model_version.data)
    values.update(passport_version.data)
    values["model_version"] = model_version.seq
    values["passport_version"] = passport_version.seq
    values["last_updated"] = timestamp_text(max(model_version.created_at, passport_version.created_at))
    return {key: values.get(key) for key in DOCUMENT_KEYS}


def _document(*, passport: Passport, battery: Battery, at: dt.datetime | None) -> dict:
    """The unfiltered document from the versions `battery` was annotated with (_battery_now)."""
    if battery.passport_version_hash is None:
        when = f" at {at.isoformat()}" if at is not None else ""
        raise NotFound(f"passport {passport.passport_id}{when}")
    seconds = settings.PASSPORT_DOCUMENT_CACHE_SECONDS
    key = f"passport-document:{DOCUMENT_SHAPE}:{battery.model_version_hash}:{battery.passport_version_hash}"
    if seconds > 0:
        document = cache.get(key)
        if document is not None:
            return document
    passport_version = model_version = None
    for version in Version.objects.filter(
        Q(passport_id=passport.pk, hash=battery.passport_version_hash)
        | Q(model_id=battery.model_id, hash=battery.model_version_hash)
    ):
        if version.passport_id is not None:
            passport_version = version
        else:
            model_version = version
    if model_version is None:
        # Cannot happen through the services (the model exists before its batteries); a
        # database edited by hand gets a clear error rather than a half document.
        raise NotFound(f"battery model {battery.model_id} version at {passport_version.created_at}")
    document = _document_build(passport_version=passport_version, model_version=model_version)
    if seconds > 0:
        cache.set(key, document, seconds)
    return document


def passport_document(*, passport: Passport, at: dt.datetime | None = None) -> dict:
    """The full, unfiltered document: every attribute key (None when not declared) plus the
    identity keys, from the model version and the passport version in force at `at` (now when
    None). Never hand this out directly: go through passport_read / filter_document."""
    return _document(passport=passport, battery=_battery_now(passport, at), at=at)


def _log_restricted_read(
    *,
    user: Any,
    organisation: Organisation | None,
    passport: Passport,
    battery: Battery,
    tiers: frozenset[Tier],
    keys: list[str],
    endpoint: str,
) -> None:
    """Art. 78: restricted data read by anyone but the responsible operator leaves a trace."""
    if user is None or not getattr(user, "is_authenticated", False):
        return
    restricted = sorted(key for key in keys if TIER_OF.get(key) not in (None, Tier.PUBLIC))
    if not restricted or acts_as_operator(organisation, battery):
        return
    AccessLog.objects.create(
        user=user,
        organisation=organisation,
        battery_id=battery.pk,
        passport=passport,
        view=view_of_tiers(tiers),
        attribute_keys=restricted,
        endpoint=endpoint[:300],
    )


def passport_read(
    *,
    user: Any,
    passport: Passport,
    at: dt.datetime | None = None,
    view: View | str | None = None,
    endpoint: str,
) -> PassportReading:
    """The document as `user` may see it (optionally a lower `view`), logging restricted reads."""
    battery = _battery_now(passport, at)
    organisation = organisation_of(user)
    tiers = acting_tiers(user=user, organisation=organisation, battery=battery, view=view)
    document = filter_document(_document(passport=passport, battery=battery, at=at), tiers)
    _log_restricted_read(user=user, organisation=organisation, passport=passport, battery=battery,
                         tiers=tiers, keys=list(document), endpoint=endpoint)
    return PassportReading(document=document, tiers=tiers, view=view_of_tiers(tiers))


def passport_element(
    *, user: Any, passport: Passport, path: str, at: dt.datetime | None = None, endpoint: str = ""
) -> Any:
    """One data element by path (EN 18222), e.g. "rated_capacity_ah" or
    "hazardous_substances.0.cas_number" ("/" also separates). NotPermitted when the caller's
    tiers do not cover the attribute (whether or not it has a value, so absence leaks nothing);
    NotFound when it is not an attribute or has no value."""
    parts = [part for part in path.replace("/", ".").split(".") if part]
    if not parts or parts[0] not in TIER_OF:
        raise NotFound(f"element {path!r}")
    key = parts[0]
    battery = _battery_now(passport, at)
    organisation = organisation_of(user)
    tiers = acting_tiers(user=user, organisation=organisation, battery=battery)
    visible = filter_document(_document(passport=passport, battery=battery, at=at), tiers)
    if key not in visible:
        raise NotPermitted(f"you may not read {key} of this passport")
    value: Any = visible[key]
    for part in parts[1:]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise NotFound(f"element {path!r}")
    if value is None:
        raise NotFound(f"element {path!r}")
    _log_restricted_read(user=user, organisation=organisation, passport=passport, battery=battery,
                         tiers=tiers, keys=[key], endpoint=endpoint or f"element:{path}")
    return value


def passport_document_of_versions(*, passport_version: Version, model_version: Version) -> dict:
    """The unfiltered document two given versions make: a report rendered later (PDF) shows
    exactly the versions the reader was shown, even if a newer one was recorded meanwhile."""
    return _document_build(passport_version=passport_version, model_version=model_version)
