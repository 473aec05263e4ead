"""Battery models: the model-level attributes shared by every battery of a model."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from passport.errors import Conflict, FieldError, ValidationFailed
from passport.models import BatteryModel, Organisation
from passport.services.permissions import require_member
from passport.services.snapshots import model_snapshot
from passport.services.validation import model_data_clean, reason_clean
from passport.services.versions import version_record
from passport.values import Choice, Text
from passport.vocabulary import MODEL_OWNER_KINDS, Category, Chemistry


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
) -> BatteryModel:
    """Create a battery model with every mandatory static model attribute of its category, and
    record its first version. manufacturer_information defaults to the organisation's record."""
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
    except IntegrityError as error:
        raise Conflict("name", f"{manufacturer.name} already has a battery model named {clean_name!r}") from error
    return model


def battery_model_update(*, user: Any, model: BatteryModel, data: dict, reason: str) -> BatteryModel:
    """Change some model attributes (None removes an optional one) and record a version.
    An update that changes nothing records nothing."""
    with transaction.atomic():
        # The row lock serialises concurrent updates, so version numbers are never taken twice.
        locked = BatteryModel.objects.select_for_update(of=("self",)).select_related("manufacturer").get(pk=model.pk)
        require_member(user, locked.manufacturer, "change its battery models")
        reason_text, errors = reason_clean(reason)
        merged, data_errors = model_data_clean(category=locked.category, data=data, previous=locked.data)
        errors.extend(data_errors)
        if errors:
            raise ValidationFailed(errors)
        if merged == locked.data:
            return locked
        now = timezone.now()
        locked.data = merged
        locked.updated_at = now
        locked.save(update_fields=["data", "updated_at"])
        version_record(
            model=locked,
            created_at=now,
            author_id=user.pk,
            reason=reason_text,
            data=model_snapshot(locked),
        )
    return locked
