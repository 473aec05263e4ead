"""Importing a passport in our export format (a manufacturer moving from another system).

The document goes through three gates, and every refusal names the JSON path of the value and
the reason; nothing is stored unless all pass (one transaction):

1. Shape: our JSON Schema of the full view (types, enumerations, ranges, no unknown property).
2. Identity: the battery identifier (GS1 or ISO/IEC 15459), the passport identifier (a URN),
   GTIN, serial and batch consistent with it; a battery or passport already registered is a
   conflict.
3. Values: the attribute table and its cross-checks, through the same services that create
   models and register batteries (negative or impossible values, carbon stage shares that do
   not add up to the total, ...).

The battery model is created for the importer's organisation, or reused when one of the same
name has exactly the same data; the battery is registered as `original` and its item values
recorded as a new passport version. What is not ours to import is refused rather than ignored
silently: another status than original, and operator information (the importer becomes the
responsible operator).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from passport.access import organisation_of
from passport.attributes import BY_KEY, Entry, Level, View
from passport.documents.batterypass import aspects_read
from passport.documents.schemas import ENVELOPE_DOCUMENT_KEYS, schema_errors
from passport.errors import Conflict, FieldError, NotPermitted, ValidationFailed
from passport.identifiers import IdentifierError, battery_identifier_parse
from passport.models import BatteryModel, Passport
from passport.services import battery_model_create, battery_register, battery_update
from passport.services.validation import model_data_clean
from passport.vocabulary import MODEL_OWNER_KINDS, BatteryStatus

IMPORT_REASON = "imported from another passport system"
# RFC 8141 URN with an RFC 9562 UUID, or the consortium's pattern (urn:<nid>:<id>).
PASSPORT_ID_PATTERN = re.compile(
    r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^urn:[a-z0-9]+:[a-z0-9]+$"
)
IDENTITY_FIELDS = ("model_name", "gtin", "serial_number", "batch")


def _error_path(field: str, paths: dict[str, str]) -> str:
    """The JSON path in the imported document of a service's error on attribute path `field`."""
    key, _, rest = field.partition(".")
    base = paths.get(key)
    if base is None:
        return field
    return f"{base}.{rest}" if rest and base.startswith("additionalAttributes.") else base


def _mapped(error: ValidationFailed, paths: dict[str, str]) -> ValidationFailed:
    return ValidationFailed([FieldError(_error_path(e.field, paths), e.reason) for e in error.errors])


def _values_of(document: dict) -> tuple[dict[str, Any], dict[str, str]]:
    aspects = {name: document.get(name) or {} for name in document if name[:1].isupper()}
    values, paths = aspects_read(aspects)
    for key, value in (document.get("additionalAttributes") or {}).items():
        values[key] = value
        paths[key] = f"additionalAttributes.{key}"
    return values, paths


def _identity(document: dict, values: dict, paths: dict) -> tuple[dict, str, list[FieldError]]:
    errors: list[FieldError] = []
    item: dict[str, Any] = {}
    battery_path = paths.get("battery_identifier", "GeneralProductInformation.productIdentifier")
    try:
        identity = battery_identifier_parse(str(values.get("battery_identifier", "")))
        item["identifier"] = identity.identifier
        if identity.gtin is not None:
            # The batch travels with GTIN and serial (GS1 application identifiers 01, 21, 10).
            item.update(gtin=identity.gtin, serial=identity.serial)
        elif values.get("serial_number"):
            item["serial"] = values["serial_number"]
        if values.get("gtin") not in (None, identity.gtin):
            errors.append(FieldError(paths["gtin"], f"does not match the battery identifier's GTIN {identity.gtin}"))
        if identity.gtin is not None and values.get("serial_number") not in (None, identity.serial):
            errors.append(FieldError(paths["serial_number"], "does not match the battery identifier's serial"))
    except IdentifierError as error:
        errors.append(FieldError(battery_path, str(error)))
    if document.get("batteryIdentifier") not in (None, values.get("battery_identifier")):
        errors.append(FieldError("batteryIdentifier", "differs from GeneralProductInformation.productIdentifier"))
    passport_id = str(values.get("passport_identifier") or document.get("passportIdentifier") or "")
    if not PASSPORT_ID_PATTERN.match(passport_id):
        errors.append(FieldError(paths.get("passport_identifier", "passportIdentifier"),
                                 "must be a URN such as urn:uuid:<RFC 9562 UUID>"))
    elif document.get("passportIdentifier") not in (None, passport_id):
        errors.append(FieldError("passportIdentifier", "differs from GeneralProductInformation.batteryPassportIdentifier"))
    if values.get("batch"):
        item["batch"] = values["batch"]
    if values.get("status", BatteryStatus.ORIGINAL) != BatteryStatus.ORIGINAL:
        errors.append(FieldError(paths["status"], "an import registers a battery as Original; record a later "
                                 "status through a status change"))
    if not values.get("model_name"):
        errors.append(FieldError("additionalAttributes.model_name", "is required: the battery model's name"))
    return item, passport_id, errors


def passport_import(*, user: Any, document: Any) -> Passport:
    """Create (or reuse) the battery model and register the battery of an exported passport for
    the caller's organisation; ValidationFailed names every bad value by JSON path."""
    organisation = organisation_of(user)
    if organisation is None:
        raise NotPermitted("sign in as a member of a manufacturer to import passports")
    if organisation.kind not in MODEL_OWNER_KINDS:
        raise NotPermitted("only manufacturers, remanufacturers and repurposers place batteries on the "
                           "market; your organisation cannot import passports")
    if not isinstance(document, dict):
        raise ValidationFailed([FieldError("$", "must be a JSON object (a passport export)")])
    shape = schema_errors(document, View.FULL)
    if shape:
        raise ValidationFailed([FieldError(path, reason) for path, reason in shape])
    values, paths = _values_of(document)
    # The model service names the model's name "name".
    paths["name"] = paths.get("model_name", "additionalAttributes.model_name")
    item, passport_id, errors = _identity(document, values, paths)
    if errors:
        raise ValidationFailed(errors)
    model_data: dict[str, Any] = {}
    item_data: dict[str, Any] = {}
    for key, value in values.items():
        attribute = BY_KEY.get(key)
        if attribute is None or key in ENVELOPE_DOCUMENT_KEYS or attribute.entry is Entry.SYSTEM:
            continue
        if attribute.level is Level.MODEL or attribute.model_default:
            model_data[key] = value
        else:
            item_data[key] = value
    item["manufacturing_date"] = item_data.pop("manufacturing_date", None)
    with transaction.atomic():
        if Passport.objects.filter(passport_id=passport_id).exists():
            raise Conflict(paths.get("passport_identifier", "passportIdentifier"), f"{passport_id} is already registered")
        try:
            model = _model_for(user=user, organisation=organisation, values=values, data=model_data, paths=paths)
            registered = battery_register(user=user, model=model, item=item, passport_id=passport_id)
            if item_data:
                battery_update(user=user, battery=registered.battery, data=item_data, reason=IMPORT_REASON)
        except ValidationFailed as error:
            raise _mapped(error, paths) from error
        except Conflict as error:
            raise Conflict(_error_path(error.field, {**paths, "identifier": paths.get("battery_identifier", "")}),
                           error.reason) from error
    return registered.passport


def _model_for(*, user: Any, organisation: Any, values: dict, data: dict, paths: dict) -> BatteryModel:
    existing = BatteryModel.objects.filter(manufacturer=organisation, name=values["model_name"]).first()
    if existing is None:
        # A missing category or chemistry is the model service's to refuse, with its reason.
        return battery_model_create(user=user, manufacturer=organisation, name=values["model_name"],
                                    category=values.get("category") or "", chemistry=values.get("chemistry") or "",
                                    data=data)
    # Bad values are named as such, before they could count as "other data".
    cleaned, errors = model_data_clean(category=existing.category, data=data)
    if errors:
        raise ValidationFailed(errors)
    if existing.data != cleaned or existing.category != values.get("category") or existing.chemistry != values.get("chemistry"):
        raise Conflict("model_name", f"your battery model {existing.name!r} exists with other data; import "
                       "under another model name or update the model first")
    return existing
