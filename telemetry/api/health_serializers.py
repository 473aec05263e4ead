"""Explicit output (and action input) serializers of the health and alerts endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from telemetry.models import Alert, AlertStatus, HealthSnapshot

# The figures of each entry of the health history (the full report is in the latest snapshot).
HISTORY_REPORT_KEYS = (
    "samples",
    "end",
    "capacity_ah",
    "capacity_retention_pct",
    "equivalent_full_cycles",
    "discharge_throughput_ah",
    "energy_discharged_kwh",
    "soc_pct",
    "deep_discharge_events",
    "overvoltage_events",
    "temperature_min_c",
    "temperature_max_c",
)


class AlertFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)


class AlertResolveInputSerializer(serializers.Serializer):
    resolution = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="",
        help_text="What was done about it (kept with the alert).",
    )


class AlertOutputSerializer(serializers.ModelSerializer):
    acknowledged_by = serializers.SerializerMethodField()
    resolved_by = serializers.SerializerMethodField()
    device = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id", "cause", "kind", "cell", "severity", "message", "evidence", "status",
            "raised_at", "last_seen_at", "cleared_at", "acknowledged_at", "acknowledged_by",
            "resolved_at", "resolved_by", "resolution", "device",
        ]

    def get_acknowledged_by(self, alert: Alert) -> str | None:
        return alert.acknowledged_by.get_username() if alert.acknowledged_by else None

    def get_resolved_by(self, alert: Alert) -> str | None:
        """The person's user name; null when the system resolved it (the cause went away)."""
        return alert.resolved_by.get_username() if alert.resolved_by else None

    def get_device(self, alert: Alert) -> str | None:
        return alert.device.name if alert.device else None


class HealthSnapshotOutputSerializer(serializers.ModelSerializer):
    """One run: bms_core's report (every key), what went into the passport, and why the rest
    did not."""

    class Meta:
        model = HealthSnapshot
        fields = [
            "id", "created_at", "data_start", "data_end", "samples", "samples_new", "rebuilt",
            "passport_updated", "passport_values", "missing", "settings", "report",
        ]


class HealthHistoryEntrySerializer(serializers.ModelSerializer):
    figures = serializers.SerializerMethodField()

    class Meta:
        model = HealthSnapshot
        fields = ["id", "created_at", "data_end", "samples", "rebuilt", "passport_updated", "figures"]

    def get_figures(self, snapshot: HealthSnapshot) -> dict[str, Any]:
        """The report's key figures: {key: value} for the keys of HISTORY_REPORT_KEYS."""
        return {key: snapshot.report.get(key) for key in HISTORY_REPORT_KEYS}
