"""Explicit input and output serializers, one pair per endpoint.

Input serializers check the envelope (types, required keys, references that must exist); the
attribute values themselves are checked by the services against the attribute table, so the
rules live in one place and the bulk path does not pay a serializer per row.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from passport.api.schema import (
    BATTERY_ITEM_SCHEMA,
    DOCUMENT_SCHEMA,
    ITEM_DATA_SCHEMA,
    MODEL_DATA_SCHEMA,
)
from passport.attributes import View
from passport.identifiers import IdentifierError, battery_identifier_parse
from passport.models import Battery, BatteryModel, Organisation
from passport.register import MAX_ID, STATUS_FILTER_REFUSED, search_range_errors
from passport.vocabulary import BatteryStatus, Category, Chemistry, OrganisationKind

# --- fields ------------------------------------------------------------------------------------


@extend_schema_field(MODEL_DATA_SCHEMA)
class ModelDataField(serializers.DictField):
    pass


@extend_schema_field(ITEM_DATA_SCHEMA)
class ItemDataField(serializers.DictField):
    pass


@extend_schema_field(BATTERY_ITEM_SCHEMA)
class BatteryItemField(serializers.DictField):
    pass


@extend_schema_field({"type": "array", "items": BATTERY_ITEM_SCHEMA, "minItems": 1})
class BatteryItemsField(serializers.ListField):
    """A list of objects; each row is validated by the registration service, not here."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            raise serializers.ValidationError("must be a list of battery objects")
        if not data:
            raise serializers.ValidationError("must contain at least one battery")
        return data


@extend_schema_field(DOCUMENT_SCHEMA)
class DocumentField(serializers.DictField):
    pass


@extend_schema_field(OpenApiTypes.STR)
class BatteryReferenceField(serializers.Field):
    """A battery given by its identifier (any accepted form); resolves to the Battery."""

    default_error_messages = {
        "malformed": "{reason}",
        "unknown": "no battery is registered with identifier {identifier}",
    }

    def to_internal_value(self, data: Any) -> Battery:
        if not isinstance(data, str):
            self.fail("malformed", reason="must be a battery identifier (text)")
        try:
            canonical = battery_identifier_parse(data).identifier
        except IdentifierError as error:
            self.fail("malformed", reason=str(error))
        battery = Battery.objects.filter(identifier=canonical).first()
        if battery is None:
            self.fail("unknown", identifier=canonical)
        return battery

    def to_representation(self, value: Battery) -> str:
        return value.identifier


# --- authentication ----------------------------------------------------------------------------


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


# --- organisations -----------------------------------------------------------------------------


class OrganisationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=OrganisationKind.choices)


class OrganisationOutputSerializer(OrganisationRefSerializer):
    lei = serializers.CharField()
    gln = serializers.CharField()
    country = serializers.CharField()
    website = serializers.CharField()


class OrganisationFilterSerializer(serializers.Serializer):
    # Empty parameters mean "any", as a browser's form sends them.
    kind = serializers.ChoiceField(choices=OrganisationKind.choices, required=False, allow_blank=True)
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="Part of the name.")


# --- battery models ----------------------------------------------------------------------------


class BatteryModelCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    category = serializers.ChoiceField(choices=Category.choices)
    chemistry = serializers.ChoiceField(choices=Chemistry.choices)
    data = ModelDataField(help_text="Every mandatory model-level attribute of the category.")  # type: ignore[assignment]  # the body key, not Serializer.data
    gtins = serializers.ListField(
        child=serializers.CharField(max_length=14), required=False, max_length=1000,
        help_text="GTINs naming this model, under your GS1 company prefix (else bound at first registration).",
    )


class BatteryModelUpdateInputSerializer(serializers.Serializer):
    data = ModelDataField(help_text="Only the attributes that change; null removes an optional one.")  # type: ignore[assignment]  # the body key, not Serializer.data
    reason = serializers.CharField(max_length=2000, help_text="Why; kept in the version history.")
    gtins = serializers.ListField(
        child=serializers.CharField(max_length=14), required=False, max_length=1000,
        help_text="GTINs to add to this model (under your GS1 company prefix).",
    )


class BatteryModelOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
    chemistry = serializers.ChoiceField(choices=Chemistry.choices)
    manufacturer = OrganisationRefSerializer()
    data = ModelDataField()  # type: ignore[assignment]  # the body key, not Serializer.data
    gtins = serializers.SerializerMethodField(help_text="The GTINs naming this model.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_gtins(self, model: BatteryModel) -> list[str]:
        return sorted(row.gtin for row in model.gtins.all())


# --- registration ------------------------------------------------------------------------------


class BatteryRegisterInputSerializer(serializers.Serializer):
    model = serializers.PrimaryKeyRelatedField(queryset=BatteryModel.objects.select_related("manufacturer"))
    item = BatteryItemField()


class BatteryBulkRegisterInputSerializer(serializers.Serializer):
    model = serializers.PrimaryKeyRelatedField(queryset=BatteryModel.objects.select_related("manufacturer"))
    items = BatteryItemsField(help_text="Up to 50,000 batteries; all are registered or none.")


class RegisteredBatteryOutputSerializer(serializers.Serializer):
    identifier = serializers.CharField(source="battery.identifier")
    passport_identifier = serializers.CharField(source="passport.passport_id")
    claim_code = serializers.CharField(
        help_text="One-time code for the owner; shown only in this response."
    )
    url = serializers.SerializerMethodField(help_text="The passport's public page and JSON.")

    def get_url(self, registered: Any) -> str:
        return reverse("passport-page", kwargs={"passport_id": registered.passport.passport_id})


class BulkRegisterOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    batteries = RegisteredBatteryOutputSerializer(many=True)


# --- updates and lifecycle ---------------------------------------------------------------------


class BatteryUpdateInputSerializer(serializers.Serializer):
    data = ItemDataField(help_text="Only the attributes that change; null removes an optional one.")  # type: ignore[assignment]  # the body key, not Serializer.data
    reason = serializers.CharField(max_length=2000, help_text="Why; kept in the version history.")


class StatusChangeInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BatteryStatus.choices)
    reason = serializers.CharField(max_length=2000)
    operator = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Organisation taking over responsibility (repurposed, remanufactured, waste).",
    )
    predecessors = serializers.ListField(
        child=BatteryReferenceField(),
        required=False,
        default=list,
        max_length=1000,
        help_text="Further original batteries combined into the repurposed/remanufactured one.",
    )
    new_identifier = serializers.CharField(
        required=False, allow_null=True, allow_blank=False, max_length=100,
        help_text="Identifier of the new battery built by repurposing/remanufacturing.",
    )
    model = serializers.PrimaryKeyRelatedField(
        queryset=BatteryModel.objects.all(),
        required=False,
        allow_null=True,
        help_text="Battery model of the new battery (one of the operator's models).",
    )


class PassportRefSerializer(serializers.Serializer):
    passport_identifier = serializers.CharField(source="passport_id")
    state = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, passport: Any) -> str:
        return reverse("passport-page", kwargs={"passport_id": passport.passport_id})


class StatusChangeOutputSerializer(serializers.Serializer):
    battery_identifier = serializers.CharField(source="battery.identifier")
    status = serializers.ChoiceField(choices=BatteryStatus.choices, source="battery.status")
    responsible_operator = OrganisationRefSerializer(source="battery.responsible_operator")
    passport = PassportRefSerializer(source="*", help_text="The battery's passport after the change.")
    predecessors = PassportRefSerializer(many=True, source="predecessors.all")


# --- owners ------------------------------------------------------------------------------------


class ClaimInputSerializer(serializers.Serializer):
    # Not trimmed: a code of blanks is a wrong code (403, like any other), not a missing one.
    identifier = serializers.CharField(max_length=200, trim_whitespace=False)
    claim_code = serializers.CharField(max_length=100, trim_whitespace=False)


class ClaimOutputSerializer(serializers.Serializer):
    battery_identifier = serializers.CharField(source="identifier")
    url = serializers.SerializerMethodField()

    def get_url(self, battery: Battery) -> str:
        return reverse("battery-page", kwargs={"identifier": battery.identifier})


class GrantInputSerializer(serializers.Serializer):
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())


class GrantOutputSerializer(serializers.Serializer):
    battery_identifier = serializers.CharField(source="battery.identifier")
    organisation = OrganisationRefSerializer()
    created_at = serializers.DateTimeField()


# --- passports ---------------------------------------------------------------------------------


class PassportReadQuerySerializer(serializers.Serializer):
    view = serializers.ChoiceField(
        choices=[view.value for view in View],
        required=False,
        allow_blank=True,  # empty means not given, as on the passport page
        help_text="Ask for a lower view than your own (never a higher one).",
    )


class PassportLinksSerializer(serializers.Serializer):
    page = serializers.CharField(help_text="This passport's page (HTML or JSON by Accept).")
    battery = serializers.CharField(help_text="The battery's stable address (its current passport).")
    qr = serializers.CharField(help_text="What the QR code on the battery encodes.")
    versions = serializers.CharField()
    verify = serializers.CharField()


class PassportOutputSerializer(serializers.Serializer):
    passport_identifier = serializers.CharField()
    battery_identifier = serializers.CharField()
    view = serializers.ChoiceField(
        choices=[view.value for view in View],
        help_text="The audience the document was filtered for.",
    )
    at = serializers.DateTimeField(allow_null=True, help_text="The moment read; null for now.")
    document = DocumentField()
    links = PassportLinksSerializer()


class ChainReportOutputSerializer(serializers.Serializer):
    subject = serializers.CharField()
    versions = serializers.IntegerField()
    ok = serializers.BooleanField()
    broken_seq = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class VersionOutputSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    reason = serializers.CharField(
        allow_null=True, help_text="Given only to readers of the full passport (it may mention restricted facts)."
    )
    changed_keys = serializers.ListField(
        child=serializers.CharField(), help_text="Changed attributes the caller may read."
    )
    hash = serializers.CharField()
    prev_hash = serializers.CharField()


class VersionListOutputSerializer(serializers.Serializer):
    passport_identifier = serializers.CharField()
    versions = VersionOutputSerializer(many=True)


class VerifyOutputSerializer(serializers.Serializer):
    passport_identifier = serializers.CharField()
    ok = serializers.BooleanField(help_text="True when every chain below is intact.")
    chains = ChainReportOutputSerializer(many=True)


class ElementOutputSerializer(serializers.Serializer):
    passport_identifier = serializers.CharField()
    path = serializers.CharField()
    value = serializers.JSONField()


# --- errors (documentation of the one error body) ---------------------------------------------


class ErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="Dotted path of the input, or null.")
    reason = serializers.CharField()
    index = serializers.IntegerField(required=False, help_text="Row of a bulk request.")


class ErrorsSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]  # the body key, not Serializer.errors


# --- regulator ---------------------------------------------------------------------------------


class RegulatorFilterSerializer(serializers.Serializer):
    manufacturer = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Organisation id.")
    model = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Battery model id.")
    chemistry = serializers.ChoiceField(choices=Chemistry.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    manufactured_from = serializers.DateField(required=False)
    manufactured_to = serializers.DateField(required=False)
    registered_from = serializers.DateField(required=False)
    registered_to = serializers.DateField(required=False)

    def validate(self, attrs: dict) -> dict:
        if "status" in self.initial_data:
            raise serializers.ValidationError({"status": [STATUS_FILTER_REFUSED]})
        errors = search_range_errors(attrs)
        if errors:
            raise serializers.ValidationError({error.field: [error.reason] for error in errors})
        return attrs


class RegulatorExportQuerySerializer(RegulatorFilterSerializer):
    format = serializers.ChoiceField(
        choices=["csv", "json"], required=False,
        help_text="Export every matching battery (streamed) instead of one page.",
    )


class RegisterRowSerializer(serializers.Serializer):
    """One battery as the authority tier may see it in the register listing."""

    battery_identifier = serializers.CharField()
    passport_identifier = serializers.CharField(allow_null=True)
    model_name = serializers.CharField()
    category = serializers.CharField()
    chemistry = serializers.CharField()
    gtin = serializers.CharField(allow_null=True)
    serial_number = serializers.CharField(allow_null=True)
    batch = serializers.CharField(allow_null=True)
    manufacturing_date = serializers.DateField()
    state = serializers.CharField(allow_null=True)
    manufacturer_id = serializers.IntegerField()
    manufacturer = serializers.CharField()
    model_id = serializers.IntegerField()
    registered_at = serializers.DateTimeField()


class RegisterPageSerializer(serializers.Serializer):
    """One page of the register listing (the default)."""

    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = RegisterRowSerializer(many=True)


class RegisterExportSerializer(serializers.Serializer):
    """Every match at once (`?format=json`), streamed."""

    columns = serializers.ListField(child=serializers.CharField())
    results = RegisterRowSerializer(many=True)
