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
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, F, JSONField, OuterRef, Q, Subquery, Value, When

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

if TYPE_CHECKING:
    # Only a type: django-stubs (a dev dependency) names a model instance with annotations.
    from django_stubs_ext import WithAnnotations

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
) + (PROVENANCE_KEY, "performance_history")


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


class _VersionHashes(TypedDict):
    passport_version_hash: str | None
    model_version_hash: str | None


def _battery_now(passport: Passport, at: dt.datetime | None) -> WithAnnotations[Battery, _VersionHashes]:
    """The passport's battery as stored now (rights follow its current owner and operator, not a
    copy the caller loaded earlier), with the hashes of the passport version in force at `at`
    (the latest when None) and of the model version in force when THAT passport version was
    written, as `passport_version_hash` and `model_version_hash` (None when there is none): one
    query. A model edit reaches an active passport only through a new passport version
    (passport_versions_follow_model), so a ceased or superseded passport, whose versions end,
    keeps the model data it had."""
    passport_versions = Version.objects.filter(passport_id=passport.pk)
    if at is not None:
        passport_versions = passport_versions.filter(created_at__lte=at)
    written_at = Subquery(passport_versions.order_by("-seq").values("created_at")[:1])
    model_versions = Version.objects.filter(model_id=OuterRef("model_id"), created_at__lte=written_at)
    return (
        Battery.objects.only("id", "model_id", "owner_id", "responsible_operator_id")
        .annotate(
            passport_version_hash=Subquery(passport_versions.order_by("-seq").values("hash")[:1]),
            model_version_hash=Subquery(model_versions.order_by("-seq").values("hash")[:1]),
        )
        .get(pk=passport.battery_id)
    )


# The document's own bookkeeping keys: which versions it was built from. A reader is told the
# versions that changed something it may read, never the later ones that changed only what it
# may not (their number and time would tell when hidden data changed).
VERSION_KEYS = ("model_version", "passport_version", "last_updated")
# Where a built document keeps, per tier, the latest versions that changed a key of that tier;
# not a document key, so filter_document drops it.
VISIBILITY_KEY = "_latest_by_tier"


def _visibility(*, passport_version: Version, model_version: Version, history: list[tuple]) -> dict[str, list]:
    """{tier: [passport seq, model seq, time]} of the latest passport and model versions (up to
    the two read) whose changes touch a key of that tier."""
    latest: dict[str, list] = {}
    for passport_id, _, seq, created_at, changes, _, _ in history:
        is_passport = passport_id is not None
        if seq > (passport_version.seq if is_passport else model_version.seq):
            continue
        # A passport version that only follows its model names no fact of its own.
        keys = set(changes or {}) - ({"model_version"} if is_passport else set())
        for tier in {found for key in keys if (found := TIER_OF.get(key)) is not None}:
            entry = latest.setdefault(tier.value, [None, None, None])
            slot = 0 if is_passport else 1
            entry[slot] = max(entry[slot] or 0, seq)
            entry[2] = max(entry[2] or "", timestamp_text(created_at))
    return latest


def _document_build(*, passport_version: Version, model_version: Version, history: list[tuple]) -> dict:
    values: dict[str, Any] = {}
    # Model values first: an item attribute with a model default (extinguishing agent) is
    # overridden by the battery's own value.
    values.update(model_version.data)
    values.update(passport_version.data)
    values["model_version"] = model_version.seq
    values["passport_version"] = passport_version.seq
    values["last_updated"] = timestamp_text(max(model_version.created_at, passport_version.created_at))
    document = {key: values.get(key) for key in DOCUMENT_KEYS}
    document[VISIBILITY_KEY] = _visibility(passport_version=passport_version, model_version=model_version,
                                           history=history)
    return document


def document_for_tiers(document: dict, tiers: frozenset[Tier]) -> dict:
    """THE way a built document reaches a reader: filter_document, then the version keys as of
    the latest change the reader can see (unchanged for readers of every tier)."""
    visible = filter_document(document, tiers)
    latest = document.get(VISIBILITY_KEY)
    if latest is None or frozenset(tiers) >= frozenset(Tier):
        return visible
    entries = [latest[tier.value] for tier in tiers if tier.value in latest]
    seen = {
        "passport_version": max((e[0] for e in entries if e[0] is not None), default=None),
        "model_version": max((e[1] for e in entries if e[1] is not None), default=None),
        "last_updated": max((e[2] for e in entries if e[2] is not None), default=None),
    }
    for key in VERSION_KEYS:
        if key in visible:
            visible[key] = seen[key]
    return visible


def _document(
    *, passport: Passport, battery: WithAnnotations[Battery, _VersionHashes], at: dt.datetime | None
) -> dict:
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
    # One query for both histories: the two snapshots read, and every version's changes (for
    # what each tier may be told of them, _visibility), without the other snapshots.
    wanted = [battery.passport_version_hash, battery.model_version_hash]
    history = list(
        Version.objects.filter(Q(passport_id=passport.pk) | Q(model_id=battery.model_id))
        .annotate(snapshot=Case(When(hash__in=wanted, then=F("data")), default=Value(None),
                                output_field=JSONField()))
        .values_list("passport_id", "model_id", "seq", "created_at", "changes", "hash", "snapshot")
    )
    read = {
        (passport_id is not None): Version(passport_id=passport_id, model_id=model_id, seq=seq,
                                           created_at=created_at, data=snapshot)
        for passport_id, model_id, seq, created_at, _, hash_, snapshot in history
        if hash_ == (battery.passport_version_hash if passport_id is not None else battery.model_version_hash)
    }
    passport_version, model_version = read.get(True), read.get(False)
    if passport_version is None:
        # Cannot happen: the hash read was annotated from this passport's versions, which are
        # never deleted.
        raise NotFound(f"passport {passport.passport_id} version {battery.passport_version_hash}")
    if model_version is None:
        # Cannot happen through the services (the model exists before its batteries); a
        # database edited by hand gets a clear error rather than a half document.
        raise NotFound(f"battery model {battery.model_id} version at {passport_version.created_at}")
    document = _document_build(passport_version=passport_version, model_version=model_version, history=history)
    if seconds > 0:
        cache.set(key, document, seconds)
    return document


def passport_document(*, passport: Passport, at: dt.datetime | None = None) -> dict:
    """The full, unfiltered document: every attribute key (None when not declared) plus the
    identity keys, from the model version and the passport version in force at `at` (now when
    None). Never hand this out directly: go through passport_read / passport_document_for."""
    document = dict(_document(passport=passport, battery=_battery_now(passport, at), at=at))
    document.pop(VISIBILITY_KEY, None)
    return document


def passport_document_for(*, passport: Passport, tiers: frozenset[Tier], at: dt.datetime | None = None) -> dict:
    """The document as readers of `tiers` see it, without a reader to log (exports by a console
    operator)."""
    return document_for_tiers(_document(passport=passport, battery=_battery_now(passport, at), at=at), tiers)


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
    document = document_for_tiers(_document(passport=passport, battery=battery, at=at), tiers)
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
    visible = document_for_tiers(_document(passport=passport, battery=battery, at=at), tiers)
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

