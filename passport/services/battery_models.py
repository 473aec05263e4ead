"""Battery models: the model-level attributes shared by every battery of a model."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from passport.errors import Conflict, FieldError, ValidationFailed
from passport.models import Battery, BatteryModel, Organisation, Passport, Version
from passport.services.bulk_insert import rows_insert
from passport.services.permissions import require_member
from passport.services.prefixes import model_gtins_declare
from passport.services.snapshots import model_snapshot
from passport.services.validation import model_data_clean, reason_clean
from passport.services.versions import changes_between, version_build, version_record
from passport.values import Choice, Text
from passport.vocabulary import MODEL_OWNER_KINDS, Category, Chemistry, PassportState


def manufacturer_information_of(organisation: Organisation) -> dict:
    """Attribute 4 from the organisation's own record (used when the model does not give it)."""
    info = {
        "name": organisation.name,
        "identifier": f"LEI {organisation.lei}" if organisation.lei else (
            f"GLN {organisation.gln}" if organisation.gln else None),
        "street": organisation.street or None,
        "postal_code": organisation.postal_code or None,
        "city": organisation.city or None,
        "country": organisation.country or None,
        "website": organisation.website or None,
        "email": organisation.email or None,
    }
    return {key: value for key, value in info.items() if value is not None}


def battery_model_create(
    *,
    user: Any,
    manufacturer: Organisation,
    name: str,
    category: str,
    chemistry: str,
    data: dict,
    gtins: list[str] | None = None,
) -> BatteryModel:
    """Create a battery model with every mandatory static model attribute of its category, and
    record its first version. manufacturer_information defaults to the organisation's record.
    `gtins` binds GTINs to the model now (each under the manufacturer's GS1 prefix and naming no
    other model, else NotPermitted); otherwise a GTIN binds at its first registration."""
    require_member(user, manufacturer, "create battery models for it")
    errors: list[FieldError] = []
    if manufacturer.kind not in MODEL_OWNER_KINDS:
        errors.append(FieldError(
            "manufacturer",
            f"a {manufacturer.get_kind_display().lower()} does not place battery models on the "
            "market; the manufacturer, a remanufacturer or a repurposer does",
        ))
    clean_name, name_errors = Text(200).clean(name, "name")
    errors.extend(name_errors)
    _, category_errors = Choice(tuple(Category.values)).clean(category, "category")
    errors.extend(category_errors)
    _, chemistry_errors = Choice(tuple(Chemistry.values)).clean(chemistry, "chemistry")
    errors.extend(chemistry_errors)
    if not isinstance(data, dict):
        raise ValidationFailed([*errors, FieldError("data", "must be an object keyed by attribute key")])

    given = dict(data)
    filled_in = "manufacturer_information" not in given
    if filled_in:
        given["manufacturer_information"] = manufacturer_information_of(manufacturer)
    cleaned, data_errors = model_data_clean(
        category=category if not category_errors else Category.STATIONARY, data=given
    )
    if filled_in:
        data_errors = [
            FieldError(e.field, f"{e.reason} (taken from the organisation's record: complete it "
                                "or give manufacturer_information)")
            if e.field.startswith("manufacturer_information") else e
            for e in data_errors
        ]
    errors.extend(data_errors)
    if errors:
        raise ValidationFailed(errors)

    now = timezone.now()
    try:
        with transaction.atomic():
            model = BatteryModel.objects.create(
                manufacturer=manufacturer,
                name=clean_name,
                category=category,
                chemistry=chemistry,
                data=cleaned,
                created_at=now,
                updated_at=now,
            )
            version_record(
                model=model,
                created_at=now,
                author_id=user.pk,
                reason="battery model created",
                data=model_snapshot(model),
            )
            if gtins:
                model_gtins_declare(model=model, gtins=gtins)
    except IntegrityError as error:
        raise Conflict("name", f"{manufacturer.name} already has a battery model named {clean_name!r}") from error
    return model


def battery_model_update(
    *, user: Any, model: BatteryModel, data: dict, reason: str, gtins: list[str] | None = None
) -> BatteryModel:
    """Change some model attributes (None removes an optional one) and record a version; the
    model's active passports get a new version that names it (passport_versions_follow_model).
    An update that changes nothing records nothing. `gtins` adds GTINs as in
    battery_model_create."""
    with transaction.atomic():
        # The row lock serialises concurrent updates, so version numbers are never taken twice.
        locked = BatteryModel.objects.select_for_update(of=("self",)).select_related("manufacturer").get(pk=model.pk)
        require_member(user, locked.manufacturer, "change its battery models")
        reason_text, errors = reason_clean(reason)
        merged, data_errors = model_data_clean(category=locked.category, data=data, previous=locked.data)
        errors.extend(data_errors)
        if errors:
            raise ValidationFailed(errors)
        if gtins:
            model_gtins_declare(model=locked, gtins=gtins)
        if merged == locked.data:
            return locked
        now = timezone.now()
        locked.data = merged
        locked.updated_at = now
        locked.save(update_fields=["data", "updated_at"])
        model_version = version_record(
            model=locked,
            created_at=now,
            author_id=user.pk,
            reason=reason_text,
            data=model_snapshot(locked),
        )
        if model_version is not None:
            passport_versions_follow_model(
                model=locked, model_version=model_version, author_id=user.pk, reason=reason_text, now=now
            )
    return locked


# Passports versioned per query when a model changes: memory follows this, not the model's size.
FOLLOW_CHUNK = 1000


def passport_versions_follow_model(
    *, model: BatteryModel, model_version: Version, author_id: int | None, reason: str, now: dt.datetime
) -> int:
    """Record, for every ACTIVE passport of the model's batteries, a version that names the new
    model version: the passport's document changes through its own history, and a ceased or
    superseded passport (whose history has ended) keeps the model data it had. The batteries are
    locked (in key order, as every other writer locks them) so no version number is taken twice.
    Returns how many passports were versioned."""
    battery_ids = list(
        Passport.objects.filter(battery__model=model, state=PassportState.ACTIVE)
        .order_by("battery_id").values_list("battery_id", flat=True)
    )
    written = 0
    for start in range(0, len(battery_ids), FOLLOW_CHUNK):
        chunk = battery_ids[start : start + FOLLOW_CHUNK]
        list(Battery.objects.select_for_update(of=("self",)).filter(pk__in=chunk).order_by("pk").values_list("pk"))
        latest_ids = Passport.objects.filter(battery_id__in=chunk, state=PassportState.ACTIVE).annotate(
            latest_id=Subquery(Version.objects.filter(passport_id=OuterRef("pk")).order_by("-seq").values("id")[:1])
        ).values_list("latest_id", flat=True)
        versions = []
        for previous in Version.objects.filter(id__in=list(latest_ids)).select_related("passport"):
            data = {**previous.data, "model_version": model_version.seq}
            versions.append(version_build(
                passport=previous.passport, previous=previous, created_at=now, author_id=author_id,
                reason=f"battery model changed: {reason}",
                changes=changes_between(previous.data, data), data=data,
            ))
        rows_insert(Version, versions)
        written += len(versions)
    return written
