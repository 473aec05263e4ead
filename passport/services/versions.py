"""Immutable, hash-chained versions of battery models and passports.

Each Version's hash is SHA-256 over a canonical JSON (sorted keys, no whitespace) of
(subject, seq, created_at, author, reason, changes, data, prev_hash), and prev_hash is the hash of
the subject's previous version. Editing, inserting or deleting a stored version therefore breaks
the chain, which version_chain_verify() detects and names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from passport.models import BatteryModel, Passport, Version
from passport.vocabulary import PassportState

NO_CHANGE = object()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def timestamp_text(moment: dt.datetime) -> str:
    """One spelling of a time for hashing, whatever the database hands back."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def model_subject(model_id: int) -> str:
    return f"battery-model:{model_id}"


def passport_subject(passport_id: str) -> str:
    return f"passport:{passport_id}"


def version_hash(
    *,
    subject: str,
    seq: int,
    created_at: dt.datetime,
    author_id: int | None,
    reason: str,
    changes: dict,
    data: dict,
    prev_hash: str,
) -> str:
    payload = {
        "subject": subject,
        "seq": seq,
        "created_at": timestamp_text(created_at),
        "author": author_id,
        "reason": reason,
        "changes": changes,
        "data": data,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def changes_between(old: dict, new: dict) -> dict:
    """{key: {"old": x, "new": y}} for every key whose value differs (absent counts as None)."""
    changes = {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before != after:
            changes[key] = {"old": before, "new": after}
    return changes


def version_build(
    *,
    model: BatteryModel | None = None,
    passport: Passport | None = None,
    previous: Version | None,
    created_at: dt.datetime,
    author_id: int | None,
    reason: str,
    changes: dict,
    data: dict,
) -> Version:
    """An unsaved Version chained to `previous` (None for the first version of a subject)."""
    if model is not None and passport is None:
        subject = model_subject(model.pk)
    elif passport is not None and model is None:
        subject = passport_subject(passport.passport_id)
    else:
        raise ValueError("a version has exactly one subject: a battery model or a passport")
    seq = previous.seq + 1 if previous is not None else 1
    prev_hash = previous.hash if previous is not None else ""
    return Version(
        model=model,
        passport=passport,
        seq=seq,
        created_at=created_at,
        author_id=author_id,
        reason=reason,
        changes=changes,
        data=data,
        prev_hash=prev_hash,
        hash=version_hash(
            subject=subject,
            seq=seq,
            created_at=created_at,
            author_id=author_id,
            reason=reason,
            changes=changes,
            data=data,
            prev_hash=prev_hash,
        ),
    )


def version_latest(*, model: BatteryModel | None = None, passport: Passport | None = None) -> Version | None:
    versions = Version.objects.filter(model=model) if model is not None else Version.objects.filter(passport=passport)
    return versions.order_by("-seq").first()


def version_record(
    *,
    model: BatteryModel | None = None,
    passport: Passport | None = None,
    created_at: dt.datetime,
    author_id: int | None,
    reason: str,
    data: dict,
) -> Version | None:
    """Store the next version of a subject whose attribute snapshot is now `data`; returns None
    (and stores nothing) when `data` equals the latest snapshot. The caller holds a row lock on
    the subject, so the sequence number cannot be taken twice."""
    previous = version_latest(model=model, passport=passport)
    changes = changes_between(previous.data if previous is not None else {}, data)
    if previous is not None and not changes:
        return None
    version = version_build(
        model=model,
        passport=passport,
        previous=previous,
        created_at=created_at,
        author_id=author_id,
        reason=reason,
        changes=changes,
        data=data,
    )
    version.save(force_insert=True)
    return version


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    subject: str
    versions: int
    ok: bool
    broken_seq: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return {
            "subject": self.subject,
            "versions": self.versions,
            "ok": self.ok,
            "broken_seq": self.broken_seq,
            "reason": self.reason,
        }


def chain_check(subject: str, versions: Iterable[Version]) -> ChainReport:
    """Walk one subject's versions in seq order and report the first broken link."""
    count = 0
    previous: Version | None = None
    for version in versions:
        count += 1
        expected_seq = previous.seq + 1 if previous is not None else 1
        if version.seq != expected_seq:
            return ChainReport(
                subject, count, False, version.seq,
                f"seq gap: expected version {expected_seq}, found {version.seq}",
            )
        expected_prev = previous.hash if previous is not None else ""
        if version.prev_hash != expected_prev:
            return ChainReport(
                subject, count, False, version.seq,
                f"prev_hash mismatch: version {version.seq} does not point to version "
                f"{expected_seq - 1}'s hash",
            )
        recomputed = version_hash(
            subject=subject,
            seq=version.seq,
            created_at=version.created_at,
            author_id=version.author_id,
            reason=version.reason,
            changes=version.changes,
            data=version.data,
            prev_hash=version.prev_hash,
        )
        if recomputed != version.hash:
            return ChainReport(
                subject, count, False, version.seq,
                f"hash mismatch: version {version.seq} was altered after it was stored",
            )
        previous = version
    if count == 0:
        return ChainReport(subject, 0, False, None, "no versions recorded")
    return ChainReport(subject, count, True)


def _grouped(versions: QuerySet[Version], key: str) -> Iterator[tuple[Any, list[Version]]]:
    current_key: Any = NO_CHANGE
    bucket: list[Version] = []
    for version in versions.iterator(chunk_size=2000):
        value = getattr(version, key)
        if value != current_key and bucket:
            yield current_key, bucket
            bucket = []
        current_key = value
        bucket.append(version)
    if bucket:
        yield current_key, bucket


def _live_mismatch(latest: Version, live: dict) -> ChainReport | None:
    recorded = {key: value for key, value in latest.data.items() if key in live}
    if recorded != live or set(live) - set(latest.data):
        differing = sorted(
            key for key in set(live) | set(recorded) if live.get(key) != recorded.get(key)
        )
        return ChainReport(
            subject="",
            versions=0,
            ok=False,
            broken_seq=latest.seq,
            reason=(
                f"live data differs from version {latest.seq} (changed outside the services): "
                f"{', '.join(differing)}"
            ),
        )
    return None


def _with_live_check(report: ChainReport, latest: Version, live: dict | None) -> ChainReport:
    if not report.ok or live is None:
        return report
    mismatch = _live_mismatch(latest, live)
    if mismatch is None:
        return report
    return ChainReport(report.subject, report.versions, False, mismatch.broken_seq, mismatch.reason)


def version_chain_verify(*, subject: BatteryModel | Passport | None = None) -> list[ChainReport]:
    """Verify the version chains of one battery model, one passport, or (subject=None) all of
    them. One report per subject; a broken one names the first bad version (seq) and why.

    Beyond the chain itself, the latest version of a model and of a current passport must match
    the live rows, which catches edits of batteries or models made behind the services' back.
    """
    from passport.services.snapshots import live_part_of, model_snapshot, passport_snapshot_now

    if isinstance(subject, BatteryModel):
        # Compare with the stored row, not with the caller's copy of it.
        subject = BatteryModel.objects.get(pk=subject.pk)
        versions = list(Version.objects.filter(model=subject).order_by("seq"))
        report = chain_check(model_subject(subject.pk), versions)
        latest = versions[-1] if versions else None
        return [_with_live_check(report, latest, model_snapshot(subject))] if latest else [report]
    if isinstance(subject, Passport):
        subject = Passport.objects.select_related("battery__responsible_operator").get(pk=subject.pk)
        versions = list(Version.objects.filter(passport=subject).order_by("seq"))
        report = chain_check(passport_subject(subject.passport_id), versions)
        if not versions:
            return [report]
        live = None
        if subject.state != PassportState.SUPERSEDED:
            live = live_part_of(passport_snapshot_now(subject))
        return [_with_live_check(report, versions[-1], live)]
    if subject is not None:
        raise TypeError(f"cannot verify versions of {type(subject).__name__}")
    return list(version_chain_verify_all())


# Subjects (models, passports) verified per query: memory follows this, not the register's size.
VERIFY_CHUNK = 1000


def _in_pk_chunks(rows: QuerySet, size: int) -> Iterator[list]:
    """Rows in primary key order, `size` at a time (keyset pagination: each query starts after
    the last key seen, so it costs the same on the last chunk as on the first)."""
    chunk = list(rows.order_by("pk")[:size])
    while chunk:
        yield chunk
        chunk = list(rows.filter(pk__gt=chunk[-1].pk).order_by("pk")[:size])


def version_chain_verify_all() -> Iterator[ChainReport]:
    """Every chain's report, one at a time, in the order of version_chain_verify(subject=None)
    (models, then passports, each by key; subjects without any version after the others of
    their kind). Memory holds VERIFY_CHUNK subjects and one subject's versions, whatever the
    size of the register."""
    from passport.services.snapshots import battery_part, model_snapshot

    unversioned: list[str] = []
    for models in _in_pk_chunks(BatteryModel.objects.all(), VERIFY_CHUNK):
        by_pk = {model.pk: model for model in models}
        versions = Version.objects.filter(model_id__gte=models[0].pk, model_id__lte=models[-1].pk)
        for model_id, chain in _grouped(versions.order_by("model_id", "seq"), "model_id"):
            report = chain_check(model_subject(model_id), chain)
            yield _with_live_check(report, chain[-1], model_snapshot(by_pk.pop(model_id)))
        unversioned.extend(model_subject(model_id) for model_id in by_pk)
    for subject in unversioned:
        yield ChainReport(subject, 0, False, None, "no versions recorded")

    unversioned = []
    for passports in _in_pk_chunks(Passport.objects.select_related("battery"), VERIFY_CHUNK):
        by_pk = {passport.pk: passport for passport in passports}
        versions = Version.objects.filter(passport_id__gte=passports[0].pk, passport_id__lte=passports[-1].pk)
        for passport_pk, chain in _grouped(versions.order_by("passport_id", "seq"), "passport_id"):
            passport = by_pk.pop(passport_pk)
            report = chain_check(passport_subject(passport.passport_id), chain)
            live = None
            if passport.state != PassportState.SUPERSEDED:
                live = {"passport_identifier": passport.passport_id, "state": passport.state,
                        **battery_part(passport.battery)}
            yield _with_live_check(report, chain[-1], live)
        unversioned.extend(passport_subject(passport.passport_id) for passport in by_pk.values())
    for subject in unversioned:
        yield ChainReport(subject, 0, False, None, "no versions recorded")
