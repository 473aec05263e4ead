"""Django admin for staff: browse and support. Versions and access logs are read-only records;
passport data changes go through the services (and the API), which record versions."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from passport.errors import ValidationFailed
from passport.models import (
    AccessGrant,
    AccessLog,
    Battery,
    BatteryModel,
    Handover,
    IdentifierPrefix,
    Membership,
    Organisation,
    Passport,
    Version,
)
from passport.services.organisations import organisation_clean
from passport.services.prefixes import prefix_clean, prefix_overlapping


def pretty_json(value) -> str:
    return format_html("<pre style='white-space: pre-wrap'>{}</pre>",
                       json.dumps(value, indent=2, ensure_ascii=False))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are written by the services only."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class IdentifierPrefixForm(forms.ModelForm):
    """The same checks as identifier_prefix_declare: well formed, and overlapping no other
    organisation's prefix."""

    class Meta:
        model = IdentifierPrefix
        fields = ["scheme", "prefix"]

    def clean(self) -> dict:
        cleaned = super().clean()
        scheme, prefix = cleaned.get("scheme"), cleaned.get("prefix")
        if scheme and prefix:
            text, errors = prefix_clean(scheme, prefix)
            if errors:
                raise forms.ValidationError({"prefix": errors[0].reason})
            other = prefix_overlapping(scheme, text)
            if other is not None and other.organisation_id != self.instance.organisation_id:
                raise forms.ValidationError(
                    {"prefix": f"overlaps {other.prefix}, declared by {other.organisation.name}"}
                )
            cleaned["prefix"] = text
            self.instance.prefix = text
        return cleaned


class IdentifierPrefixInline(admin.TabularInline):
    model = IdentifierPrefix
    form = IdentifierPrefixForm
    extra = 0


class OrganisationForm(forms.ModelForm):
    """Staff edit organisations directly; the values get the service's checks (organisation_clean),
    not a copy of them."""

    website = forms.URLField(max_length=2000, required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = ["name", "kind", "lei", "gln", "eori", "vat", "street", "postal_code", "city",
                  "country", "website", "email"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        given = {key: cleaned[key] for key in self.Meta.fields if key not in ("name", "kind") and cleaned.get(key)}
        try:
            values = organisation_clean(kind=cleaned.get("kind"), name=cleaned.get("name"), fields=given)
        except ValidationFailed as error:
            for problem in error.errors:
                self.add_error(problem.field if problem.field in self.fields else None, problem.reason)
            return cleaned
        cleaned.update(values)
        return cleaned


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationForm
    list_display = ["name", "kind", "country", "lei", "gln", "created_at"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "lei", "gln", "eori", "vat"]
    inlines = [MembershipInline, IdentifierPrefixInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["user__username", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]


class ModelVersionInline(admin.TabularInline):
    model = Version
    fk_name = "model"
    readonly_fields = ("seq", "created_at", "author", "reason", "hash")
    fields = list(readonly_fields)
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BatteryModel)
class BatteryModelAdmin(ReadOnlyAdmin):
    list_display = ["name", "manufacturer", "category", "chemistry", "updated_at"]
    list_filter = ["category", "chemistry"]
    search_fields = ["name", "manufacturer__name"]
    readonly_fields = ["manufacturer", "name", "category", "chemistry", "attribute_values", "created_at", "updated_at"]
    exclude = ["data"]
    inlines = [ModelVersionInline]

    @admin.display(description="attribute values")
    def attribute_values(self, obj: BatteryModel) -> str:
        return pretty_json(obj.data)


class PassportInline(admin.TabularInline):
    model = Passport
    readonly_fields = ("passport_id", "state", "created_at", "ceased_at")
    fields = list(readonly_fields)
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Battery)
class BatteryAdmin(ReadOnlyAdmin):
    list_display = ["identifier", "model", "status", "responsible_operator", "manufacturing_date", "created_at"]
    list_filter = ["status", "model__category", "model__chemistry", "manufacturing_date"]
    search_fields = ["identifier", "serial", "batch", "gtin"]
    date_hierarchy = "manufacturing_date"
    list_select_related = ["model", "responsible_operator"]
    readonly_fields = [
        "identifier", "gtin", "serial", "batch", "model", "manufacturing_date", "manufacturing_place",
        "put_into_service_on", "status", "responsible_operator", "owner", "claim_code_state",
        "item_values", "created_at", "updated_at",
    ]
    exclude = ["data", "claim_code_hash"]
    inlines = [PassportInline]

    @admin.display(description="claim code")
    def claim_code_state(self, obj: Battery) -> str:
        return "unused code outstanding" if obj.claim_code_hash else "used or none"

    @admin.display(description="item attribute values")
    def item_values(self, obj: Battery) -> str:
        return pretty_json(obj.data)


class PassportVersionInline(ModelVersionInline):
    fk_name = "passport"


@admin.register(Passport)
class PassportAdmin(ReadOnlyAdmin):
    list_display = ["passport_id", "battery", "state", "created_at", "ceased_at"]
    list_filter = ["state"]
    search_fields = ["passport_id", "battery__identifier"]
    list_select_related = ["battery"]
    readonly_fields = ["passport_id", "battery", "state", "predecessors", "created_at", "ceased_at"]
    inlines = [PassportVersionInline]


@admin.register(Version)
class VersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "seq", "created_at", "author", "reason"]
    list_filter = ["created_at"]
    search_fields = ["passport__passport_id", "passport__battery__identifier", "reason", "hash"]
    list_select_related = ["passport", "model", "author"]
    readonly_fields = ["model", "passport", "seq", "created_at", "author", "reason", "what_changed",
                       "snapshot", "prev_hash", "hash"]
    exclude = ["changes", "data"]

    @admin.display(description="changes")
    def what_changed(self, obj: Version) -> str:
        return pretty_json(obj.changes)

    @admin.display(description="data (snapshot after the change)")
    def snapshot(self, obj: Version) -> str:
        return pretty_json(obj.data)


@admin.register(AccessGrant)
class AccessGrantAdmin(ReadOnlyAdmin):
    list_display = ["battery", "organisation", "granted_by", "created_at"]
    search_fields = ["battery__identifier", "organisation__name"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "organisation", "battery", "view", "endpoint"]
    list_filter = ["view", "at"]
    search_fields = ["user__username", "battery__identifier", "endpoint"]
    date_hierarchy = "at"
    list_select_related = ["user", "organisation", "battery"]


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    """Offers are made and decided through the services; staff only look."""

    list_display = ["battery", "kind", "status", "from_operator", "to_operator", "state", "offered_at", "decided_at"]
    list_filter = ["state", "kind"]
    search_fields = ["battery__identifier", "from_operator__name", "to_operator__name"]
