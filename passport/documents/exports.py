"""Exporting a passport: the Battery Pass v1.2 envelope of an access-filtered document, its
canonical bytes and its detached signature.

A document is filtered once, by `passport.access.filter_document` (through `passport_read` for
a reader, or `passport_document_for` for an explicit view in the command line), and everything
here works from that filtered document only. Each export is checked against our schema of its view before anybody
gets it (`schemas.document_validate`): a failure is a bug and raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from passport.attributes import Tier, View
from passport.documents.batterypass import ASPECTS, aspects_build, aspects_read
from passport.documents.schemas import ENVELOPE_DOCUMENT_KEYS, document_validate, schema_url
from passport.documents.signing import sign_detached, signing_key
from passport.models import Passport, Version
from passport.services.documents import passport_document_for
from passport.services.versions import canonical_json

JSON_MEDIA_TYPE = "application/json"


def stamp(moment: dt.datetime) -> str:
    """A time as the consortium's Timestamp pattern wants it: UTC, to the second."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DocumentVersions:
    """The two versions a document was built from, and when each value last changed."""

    passport_hash: str
    model_hash: str
    updated: dict[str, str]


def document_versions(*, passport: Passport, document: dict) -> DocumentVersions:
    """Hashes of the passport and model versions `document` was built from, and for every key
    the time of the latest of those versions that changed it (the consortium's `lastUpdate`):
    two queries."""
    updated: dict[str, str] = {}
    hashes: dict[str, str] = {}
    subjects = (
        ("model", Version.objects.filter(model_id=passport.battery.model_id,
                                         seq__lte=document["model_version"])),
        ("passport", Version.objects.filter(passport_id=passport.pk, seq__lte=document["passport_version"])),
    )
    # Passport versions come second: a battery's own value wins over its model's default.
    for subject, versions in subjects:
        for created_at, version_hash, changes in versions.order_by("seq").values_list(
            "created_at", "hash", "changes"
        ):
            for key in changes:
                updated[key] = stamp(created_at)
            hashes[subject] = version_hash
    return DocumentVersions(hashes["passport"], hashes["model"], updated)


def passport_export(
    *, passport: Passport, document: dict, view: View, generated_at: dt.datetime | None = None
) -> dict[str, Any]:
    """The export envelope of an access-filtered `document` read in `view`, validated against
    our schema of that view."""
    versions = document_versions(passport=passport, document=document)
    aspects = aspects_build(document, versions.updated.get)
    recovered, _paths = aspects_read(aspects)
    # What the aspects cannot give back identically travels under our own key.
    additional = {
        key: value for key, value in document.items()
        if key not in ENVELOPE_DOCUMENT_KEYS and value is not None and recovered.get(key) != value
    }
    envelope: dict[str, Any] = {
        "$schema": schema_url(view),
        "passportIdentifier": passport.passport_id,
        "batteryIdentifier": document.get("battery_identifier") or passport.battery.identifier,
        "state": document.get("state"),
        "passportVersion": document["passport_version"],
        "modelVersion": document["model_version"],
        "versionHash": versions.passport_hash,
        "modelVersionHash": versions.model_hash,
        "predecessors": document.get("predecessors") or [],
        "successors": document.get("successors") or [],
        "lastUpdated": stamp(dt.datetime.fromisoformat(document["last_updated"].replace("Z", "+00:00")))
        if document.get("last_updated") else None,
        "view": view.value,
        "generatedAt": stamp(generated_at or timezone.now()),
        **{name: aspects[name] for name in ASPECTS},
        "additionalAttributes": additional,
    }
    envelope = {key: value for key, value in envelope.items() if value is not None}
    document_validate(envelope, view)
    return envelope


def document_bytes(envelope: dict) -> bytes:
    """The canonical bytes of an export (sorted keys, no whitespace, UTF-8): what is served,
    written and signed."""
    return canonical_json(envelope).encode("utf-8")


@dataclass(frozen=True)
class SignedDocument:
    body: bytes
    signature: str
    kid: str
    media_type: str
    filename: str


def json_signed(envelope: dict) -> SignedDocument:
    body = document_bytes(envelope)
    key = signing_key()
    filename = f"passport-{envelope['passportIdentifier'].rsplit(':', 1)[-1]}-{envelope['view']}.json"
    return SignedDocument(body, sign_detached(body, key), key.kid, JSON_MEDIA_TYPE, filename)


def passport_export_view(
    *, passport: Passport, view: View, at: dt.datetime | None = None
) -> tuple[dict, frozenset[Tier]]:
    """The export of `passport` for an audience named by the operator's tools (command line,
    benchmarks): the full document filtered for `view` (with an interest in this battery)."""
    tiers = view.tiers(interest=True)
    document = passport_document_for(passport=passport, tiers=tiers, at=at)
    return passport_export(passport=passport, document=document, view=view), tiers


def tiers_key(tiers: Iterable[Tier]) -> str:
    return "+".join(sorted(tier.value for tier in tiers))
