"""Registering batteries (one or ten thousand at a time), updating their item data, and the
owner's one-time claim."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from passport.attributes import BY_KEY, PROVENANCE_KEY
from passport.errors import Conflict, FieldError, NotPermitted, TransitionRefused, ValidationFailed
from passport.identifiers import (
    BatteryIdentifier,
    IdentifierError,
    battery_identifier_parse,
    gs1_element_string,
    gs1_serial_normalise,
    gtin_normalise,
)
from passport.models import AccessGrant, Battery, BatteryModel, Passport, Version
from passport.services.bulk_insert import rows_insert
from passport.services.claims import claim_code_hash, claim_code_matches, claim_code_new
from passport.services.permissions import organisation_of, require_member
from passport.services.prefixes import gtins_bind, identifiers_authorise
from passport.services.snapshots import model_version_seq, operator_information, passport_snapshot
from passport.services.validation import item_data_clean, reason_clean
from passport.services.versions import (
    changes_between,
    timestamp_text,
    version_build,
    version_record,
)
from passport.values import Text
from passport.vocabulary import BatteryStatus, PassportState

IDENTITY_KEYS = ("identifier", "gtin", "serial", "batch")
# Item attributes kept in their own Battery columns rather than in Battery.data.
DATE_COLUMNS = ("manufacturing_date", "put_into_service_on")
# Large enough for a production day of a gigafactory line, small enough to validate in memory.
DEFAULT_BULK_MAX_ITEMS = 50_000
EXISTING_LOOKUP_CHUNK = 900


@dataclass(frozen=True)
class RegisteredBattery:
    battery: Battery
    passport: Passport
    # Shown once, to print beside the QR label; only its hash is stored.
    claim_code: str


@dataclass(frozen=True)
class _Row:
    identity: BatteryIdentifier
    values: dict


def bulk_max_items() -> int:
    return int(getattr(settings, "PASSPORT_BULK_MAX_ITEMS", DEFAULT_BULK_MAX_ITEMS))


def new_passport_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def manufacturing_place_text(model_data: dict) -> str:
    place = model_data.get("manufacturing_place") or {}
    parts = [place.get("street"), place.get("postal_code"), place.get("city"), place.get("country")]
    return ", ".join(part for part in parts if part)[:300]


# --- identity ----------------------------------------------------------------------------------


def identity_clean(item: dict) -> tuple[BatteryIdentifier | None, list[FieldError]]:
    """The battery's identifier from `identifier`, or from `gtin` + `serial` (+ `batch`)."""
    errors: list[FieldError] = []
    gtin, serial, batch = item.get("gtin"), item.get("serial"), item.get("batch")
    identifier = item.get("identifier")
    if gtin is not None:
        gtin14 = serial_text = None
        batch_text = ""
        try:
            gtin14 = gtin_normalise(gtin)
        except IdentifierError as error:
            errors.append(FieldError("gtin", str(error)))
        if serial is None:
            errors.append(FieldError("serial", "is required with a GTIN (GS1 application identifier 21)"))
        else:
            try:
                serial_text = gs1_serial_normalise(serial)
            except IdentifierError as error:
                errors.append(FieldError("serial", str(error)))
        if batch is not None:
            try:
                batch_text = gs1_serial_normalise(batch, what="batch")
            except IdentifierError as error:
                errors.append(FieldError("batch", str(error)))
        if errors:
            return None, errors
        if gtin14 is None or serial_text is None:
            raise TypeError("gtin and serial were cleaned without an error, yet one is missing")
        canonical = gs1_element_string(gtin14, serial_text)
        if identifier is not None and _parsed_or_none(identifier) != canonical:
            return None, [FieldError(
                "identifier", f"does not match gtin and serial, which give {canonical}"
            )]
        return BatteryIdentifier(canonical, gtin14, serial_text, batch_text), []
    if identifier is None:
        return None, [FieldError("identifier", "give the battery identifier, or gtin and serial")]
    try:
        parsed = battery_identifier_parse(identifier)
    except IdentifierError as error:
        return None, [FieldError("identifier", str(error))]
    if parsed.gtin is not None:
        return parsed, []
    # A plain ISO/IEC 15459 identifier may come with its serial and batch as printed on the label.
    extra = {}
    for key in ("serial", "batch"):
        if item.get(key) is not None:
            value, value_errors = Text(50).clean(item[key], key)
            errors.extend(value_errors)
            extra[key] = value
    if errors:
        return None, errors
    return BatteryIdentifier(parsed.identifier, None, extra.get("serial", ""), extra.get("batch", "")), []


def _parsed_or_none(identifier: Any) -> str | None:
    try:
        return battery_identifier_parse(identifier).identifier
    except IdentifierError:
        return None


def _row_clean(item: Any, model: BatteryModel) -> tuple[_Row | None, list[FieldError]]:
    """The clean row and no errors, or None and the errors (at least one)."""
    if not isinstance(item, dict):
        return None, [FieldError("item", "must be an object with the battery's identifier and attributes")]
    identity, errors = identity_clean(item)
    attributes = {key: value for key, value in item.items() if key not in IDENTITY_KEYS}
    values, value_errors = item_data_clean(
        category=model.category, data=attributes, model_data=model.data
    )
    errors.extend(value_errors)
    if errors:
        return None, errors
    if identity is None:
        raise TypeError("identity_clean gave no identifier and no error")
    return _Row(identity, values), []


def _existing_identifiers(identifiers: Iterable[str]) -> set[str]:
    wanted = list(identifiers)
    found: set[str] = set()
    for start in range(0, len(wanted), EXISTING_LOOKUP_CHUNK):
        chunk = wanted[start : start + EXISTING_LOOKUP_CHUNK]
        found.update(Battery.objects.filter(identifier__in=chunk).values_list("identifier", flat=True))
    return found


def _duplicate_errors(rows: dict[int, _Row]) -> list[FieldError]:
    errors: list[FieldError] = []
    first_seen: dict[str, int] = {}
    for index, row in rows.items():
        identifier = row.identity.identifier
        if identifier in first_seen:
            errors.append(FieldError(
                "identifier", f"{identifier} appears twice in this request (first at row "
                              f"{first_seen[identifier]})", index,
            ))
        else:
            first_seen[identifier] = index
    existing = _existing_identifiers(first_seen)
    errors.extend(
        FieldError("identifier", f"{identifier} is already registered", index)
        for identifier, index in first_seen.items()
        if identifier in existing
    )
    return errors


def _row_index(error: FieldError) -> int:
    """The row of an error of a bulk request (every one is given its row)."""
    if error.index is None:
        raise TypeError(f"an error of a bulk request without its row: {error}")
    return error.index


# --- registration ------------------------------------------------------------------------------


def _model_fresh(model: BatteryModel) -> BatteryModel:
    """Validate against the model as stored now, not a caller's possibly stale instance."""
    return BatteryModel.objects.select_related("manufacturer").get(pk=model.pk)


def battery_register(
    *, user: Any, model: BatteryModel, item: dict, passport_id: str | None = None
) -> RegisteredBattery:
    """Register one battery of `model`: its battery row, its first passport and version 1.
    A duplicate identifier raises Conflict. `passport_id` keeps the identifier a passport had
    in another system (an import); a new one is made otherwise."""
    model = _model_fresh(model)
    require_member(user, model.manufacturer, "register batteries of its models")
    row, errors = _row_clean(item, model)
    if row is None:
        raise ValidationFailed(errors)
    if _existing_identifiers([row.identity.identifier]):
        raise Conflict("identifier", f"{row.identity.identifier} is already registered")
    identifiers_authorise(organisation=model.manufacturer, model=model, identities=[(None, row.identity)])
    try:
        return _insert(user=user, model=model, rows=[row], passport_ids=[passport_id])[0]
    except IntegrityError as error:
        if passport_id is not None and Passport.objects.filter(passport_id=passport_id).exists():
            raise Conflict("passport_identifier", f"{passport_id} is already registered") from error
        raise Conflict("identifier", f"{row.identity.identifier} is already registered") from error


def battery_register_bulk(*, user: Any, model: BatteryModel, items: list[dict]) -> list[RegisteredBattery]:
    """Register many batteries of one model in one transaction: all of them or none.

    Every bad row is reported (index, field, reason), including identifiers repeated within the
    request or already registered; nothing is written unless every row is good.
    """
    model = _model_fresh(model)
    require_member(user, model.manufacturer, "register batteries of its models")
    if not isinstance(items, list) or not items:
        raise ValidationFailed([FieldError("items", "must be a non-empty list of batteries")])
    if len(items) > bulk_max_items():
        raise ValidationFailed([FieldError(
            "items", f"at most {bulk_max_items()} batteries per request, got {len(items)}"
        )])
    rows: dict[int, _Row] = {}
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        row, row_errors = _row_clean(item, model)
        if row is None:
            errors.extend(error.at_index(index) for error in row_errors)
        else:
            rows[index] = row
    errors.extend(_duplicate_errors(rows))
    if errors:
        raise ValidationFailed(sorted(errors, key=_row_index))
    identifiers_authorise(
        organisation=model.manufacturer, model=model,
        identities=[(index, row.identity) for index, row in rows.items()],
    )
    try:
        return _insert(user=user, model=model, rows=list(rows.values()))
    except IntegrityError as error:
        # Another request registered some of these identifiers since we looked.
        late = _duplicate_errors(rows)
        if late:
            raise ValidationFailed(sorted(late, key=_row_index)) from error
        raise


def _insert(
    *, user: Any, model: BatteryModel, rows: list[_Row], passport_ids: list[str | None] | None = None
) -> list[RegisteredBattery]:
    """Write batteries, passports and first versions with three bulk inserts (COPY on
    PostgreSQL); every hash and snapshot is computed here in Python, so no row needs a second
    round trip."""
    now = timezone.now()
    operator = model.manufacturer
    operator_info = operator_information(operator)
    place = manufacturing_place_text(model.data)
    codes: list[str] = []
    batteries: list[Battery] = []
    for row in rows:
        values = dict(row.values)
        made = dt.date.fromisoformat(values.pop("manufacturing_date"))
        in_service = values.pop("put_into_service_on", None)
        code = claim_code_new()
        codes.append(code)
        batteries.append(Battery(
            identifier=row.identity.identifier,
            gtin=row.identity.gtin,
            serial=row.identity.serial,
            batch=row.identity.batch,
            model=model,
            manufacturing_date=made,
            manufacturing_place=place,
            put_into_service_on=dt.date.fromisoformat(in_service) if in_service else None,
            status=BatteryStatus.ORIGINAL,
            responsible_operator=operator,
            claim_code_hash=claim_code_hash(row.identity.identifier, code),
            data=values,
            created_at=now,
            updated_at=now,
        ))
    author_id = user.pk if user is not None else None
    model_version = model_version_seq(model.pk)
    with transaction.atomic():
        gtins_bind(model=model, gtins={row.identity.gtin for row in rows if row.identity.gtin is not None})
        rows_insert(Battery, batteries)
        given_ids = passport_ids or [None] * len(batteries)
        passports = [
            Passport(passport_id=given or new_passport_id(), battery=battery, state=PassportState.ACTIVE,
                     created_at=now)
            for battery, given in zip(batteries, given_ids, strict=True)
        ]
        rows_insert(Passport, passports)
        versions = []
        for battery, passport in zip(batteries, passports, strict=True):
            snapshot = passport_snapshot(
                passport=passport, battery=battery, operator=operator, predecessors=[], successors=[],
                model_version=model_version,
            )
            snapshot["operator_information"] = operator_info
            versions.append(version_build(
                passport=passport,
                previous=None,
                created_at=now,
                author_id=author_id,
                reason="battery registered",
                changes=changes_between({}, snapshot),
                data=snapshot,
            ))
        rows_insert(Version, versions)
    return [
        RegisteredBattery(battery=battery, passport=passport, claim_code=code)
        for battery, passport, code in zip(batteries, passports, codes, strict=True)
    ]


# --- updates -----------------------------------------------------------------------------------


def current_passport_for_update(battery: Battery) -> Passport:
    """The battery's active passport, locked; a ceased one is read-only."""
    passport = (
        Passport.objects.select_for_update(of=("self",))
        .filter(battery=battery)
        .exclude(state=PassportState.SUPERSEDED)
        .first()
    )
    if passport is None:
        raise TransitionRefused(f"battery {battery.identifier} has no active passport")
    if passport.state == PassportState.CEASED:
        raise TransitionRefused(
            f"passport {passport.passport_id} has ceased (the battery was recycled, Art. 77(8)); "
            "it is kept read-only"
        )
    return passport


def item_values_of(battery: Battery) -> dict:
    """The battery's item attribute values as validation sees them (dates as ISO text)."""
    values = dict(battery.data)
    values["manufacturing_date"] = battery.manufacturing_date.isoformat()
    if battery.put_into_service_on is not None:
        values["put_into_service_on"] = battery.put_into_service_on.isoformat()
    return values


def item_values_apply(battery: Battery, values: dict) -> None:
    remaining = dict(values)
    battery.manufacturing_date = dt.date.fromisoformat(remaining.pop("manufacturing_date"))
    in_service = remaining.pop("put_into_service_on", None)
    battery.put_into_service_on = dt.date.fromisoformat(in_service) if in_service else None
    battery.data = remaining


def passport_version_record(
    *, passport: Passport, battery: Battery, author_id: int | None, reason: str, now: dt.datetime
) -> Version | None:
    snapshot = passport_snapshot(
        passport=passport,
        battery=battery,
        operator=battery.responsible_operator,
        predecessors=list(passport.predecessors.values_list("passport_id", flat=True)),
        successors=list(passport.successors.values_list("passport_id", flat=True)),
        model_version=model_version_seq(battery.model_id),
    )
    return version_record(
        passport=passport, created_at=now, author_id=author_id, reason=reason, data=snapshot
    )


def battery_update(
    *, user: Any, battery: Battery, data: dict, reason: str,
    provenance: dict[str, dict] | None = None,
) -> Passport:
    """Change item attributes of a battery (static corrections, put into service, dynamic values
    such as state of health; None removes an optional value) and record a passport version.

    `user` is the acting member of the responsible operator; None means the system itself
    (the telemetry pipeline), recorded as a version without author. Every dynamic value written
    gets its own `last_updated`; `provenance` adds what the caller knows of a value (its counting
    `method`, the `as_of` moment of its data). A ceased passport is read-only (TransitionRefused).
    """
    return _item_data_update(
        user=user, battery=battery, data=data, reason=reason, addressed=None, provenance=provenance
    )


def _superseded_refusal(passport: Passport) -> TransitionRefused:
    return TransitionRefused(
        f"passport {passport.passport_id} was superseded by a newer passport and is read-only"
    )


def passport_update(*, user: Any, passport: Passport, data: dict, reason: str) -> Passport:
    """battery_update addressed by passport (EN 18222): only the battery's current passport can
    change. A superseded one stays as it was, since the battery's data now belongs to its newer
    passport; a ceased one is read-only. Both raise TransitionRefused."""
    if passport.state == PassportState.SUPERSEDED:
        raise _superseded_refusal(passport)
    return _item_data_update(user=user, battery=passport.battery, data=data, reason=reason, addressed=passport)


def dynamic_provenance_apply(
    values: dict, data: dict, *, now: dt.datetime, system: bool, provenance: dict[str, dict] | None
) -> None:
    """Record in `values` when each dynamic value in `data` was last updated, by whom (the
    system or the operator) and how (Annex VII asks for values kept current, at least daily
    (Art. 14); each value carries its own time since not every update covers every value)."""
    provenance = provenance or {}
    record = dict(values.get(PROVENANCE_KEY) or {})
    for key, value in data.items():
        attribute = BY_KEY.get(key)
        if attribute is None or not attribute.dynamic:
            continue
        if value is None:
            record.pop(key, None)
            continue
        record[key] = {
            "last_updated": timestamp_text(now),
            "source": "system" if system else "operator",
            **provenance.get(key, {}),
        }
    if record:
        values[PROVENANCE_KEY] = dict(sorted(record.items()))
    else:
        values.pop(PROVENANCE_KEY, None)


def _item_data_update(
    *, user: Any, battery: Battery, data: dict, reason: str, addressed: Passport | None,
    provenance: dict[str, dict] | None = None,
) -> Passport:
    """battery_update; with `addressed` (the passport the caller named) also refused when that
    passport is no longer the battery's current one once the battery is locked (superseded
    meanwhile)."""
    with transaction.atomic():
        locked = (
            Battery.objects.select_for_update(of=("self",))
            .select_related("model", "responsible_operator")
            .get(pk=battery.pk)
        )
        if user is not None:
            require_member(user, locked.responsible_operator, "update this battery's passport")
        passport = current_passport_for_update(locked)
        if addressed is not None and passport.pk != addressed.pk:
            # Superseding locks this battery row first too, so with the lock held this answer
            # cannot change before the version is written.
            raise _superseded_refusal(addressed)
        reason_text, errors = reason_clean(reason)
        if isinstance(data, dict):
            errors.extend(
                FieldError(key, "identifies the battery and cannot be changed")
                for key in IDENTITY_KEYS if key in data
            )
            data = {key: value for key, value in data.items() if key not in IDENTITY_KEYS}
        merged, data_errors = item_data_clean(
            category=locked.model.category,
            data=data,
            model_data=locked.model.data,
            previous=item_values_of(locked),
        )
        errors.extend(data_errors)
        if errors:
            raise ValidationFailed(errors)
        now = timezone.now()
        dynamic_provenance_apply(merged, data, now=now, system=user is None, provenance=provenance)
        item_values_apply(locked, merged)
        version = passport_version_record(
            passport=passport, battery=locked, author_id=getattr(user, "pk", None),
            reason=reason_text, now=now,
        )
        if version is not None:
            locked.updated_at = now
            locked.save(update_fields=["manufacturing_date", "put_into_service_on", "data", "updated_at"])
    battery.refresh_from_db()
    return passport


# --- ownership ---------------------------------------------------------------------------------

CLAIM_REFUSED = "the identifier or the claim code is not valid, or the code was already used"


def battery_claim(*, user: Any, identifier: str, claim_code: str) -> Battery:
    """The buyer becomes the owner with the one-time code printed beside the QR label. Every
    failure gives the same answer, so it reveals nothing about which part was wrong."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotPermitted("sign in to claim a battery")
    acting_for = organisation_of(user)
    if acting_for is not None:
        # Ownership gives point 4 (Art. 77(2)(b)); an organisation's member claiming would put
        # it beside what the organisation already reads (an authority's point 3, a maker's
        # everything), which Art. 77(2) keeps apart. Owners are private persons.
        raise NotPermitted(
            f"your account acts for {acting_for.name}; batteries are claimed by their owners as "
            "private persons, with an account of their own"
        )
    try:
        canonical = battery_identifier_parse(identifier).identifier
    except IdentifierError as error:
        raise NotPermitted(CLAIM_REFUSED) from error
    with transaction.atomic():
        battery = Battery.objects.select_for_update().filter(identifier=canonical).first()
        if battery is None or not claim_code_matches(canonical, claim_code, battery.claim_code_hash):
            raise NotPermitted(CLAIM_REFUSED)
        if battery.owner_id != user.pk:
            # Grants were the previous owner's choices.
            AccessGrant.objects.filter(battery=battery).delete()
        battery.owner = user
        battery.claim_code_hash = ""
        battery.updated_at = timezone.now()
        battery.save(update_fields=["owner", "claim_code_hash", "updated_at"])
    return battery


def battery_claim_code_reissue(*, user: Any, battery: Battery) -> str:
    """A fresh one-time code (e.g. for the buyer of a repurposed battery, or a lost label);
    the previous unused code stops working. Only the responsible operator may do this."""
    require_member(user, battery.responsible_operator, "issue claim codes for this battery")
    code = claim_code_new()
    Battery.objects.filter(pk=battery.pk).update(
        claim_code_hash=claim_code_hash(battery.identifier, code), updated_at=timezone.now()
    )
    battery.refresh_from_db()
    return code
