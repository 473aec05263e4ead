"""Django admin for staff: see devices, batches and rollups; revoke a device. Devices are created
and keys issued only through the API (telemetry.services.devices), which shows a key once."""

from __future__ import annotations

from django.contrib import admin, messages

from passport.admin import ReadOnlyAdmin, pretty_json
from telemetry.models import (
    Alert,
    Batch,
    BatteryAnalysis,
    DailyRollup,
    Device,
    DeviceBinding,
    HealthSnapshot,
)
from telemetry.services.devices import device_revoke


class DeviceBindingInline(admin.TabularInline):
    model = DeviceBinding
    extra = 0
    fields = ("battery", "bound_by", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ["name", "key_prefix", "organisation", "owner", "last_seen_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "key_prefix", "organisation__name", "owner__username"]
    exclude = ["key_hash", "batteries"]
    inlines = [DeviceBindingInline]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected devices (their keys stop working)")
    def revoke(self, request, queryset) -> None:
        for device in queryset:
            device_revoke(user=request.user, device=device)
        messages.success(request, f"{queryset.count()} device(s) revoked.")

    def has_change_permission(self, request, obj=None) -> bool:
        # The change view is the detail view; every field is read-only.
        return request.user.is_staff


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ["batch_id", "battery", "device", "received_at", "samples", "inserted", "duplicates"]
    list_filter = ["received_at"]
    search_fields = ["batch_id", "battery__identifier", "device__key_prefix"]
    exclude = ["answer"]
    readonly_fields = ["answer_shown"]

    @admin.display(description="answer")
    def answer_shown(self, batch: Batch) -> str:
        return pretty_json(batch.answer)


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdmin):
    list_display = ["battery", "day", "samples", "coverage_pct", "charge_kwh", "discharge_kwh"]
    list_filter = ["day"]
    search_fields = ["battery__identifier"]


# --- Health pipeline (tel-pipeline): read-only; runs and alerts change through the services ----


@admin.register(BatteryAnalysis)
class BatteryAnalysisAdmin(ReadOnlyAdmin):
    list_display = ["battery", "checkpoint", "samples", "runs", "rebuild_requested", "last_run_at",
                    "passport_updated_at", "last_error"]
    list_filter = ["rebuild_requested"]
    search_fields = ["battery__identifier"]
    # The Analyzer state is large and only meaningful to bms_core.
    exclude = ["state"]


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["battery", "created_at", "samples", "samples_new", "rebuilt", "passport_updated"]
    list_filter = ["rebuilt", "passport_updated"]
    search_fields = ["battery__identifier"]
    exclude = ["report", "passport_values", "missing", "settings"]
    readonly_fields = ["report_shown", "missing_shown"]

    @admin.display(description="report")
    def report_shown(self, snapshot: HealthSnapshot) -> str:
        return pretty_json(snapshot.report)

    @admin.display(description="left as it was, and why")
    def missing_shown(self, snapshot: HealthSnapshot) -> str:
        return pretty_json(snapshot.missing)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["battery", "cause", "severity", "status", "raised_at", "last_seen_at", "resolved_by"]
    list_filter = ["status", "severity", "kind"]
    search_fields = ["battery__identifier", "cause"]
