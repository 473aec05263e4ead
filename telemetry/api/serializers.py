"""Explicit input and output serializers of the telemetry API."""

from __future__ import annotations

from rest_framework import serializers

from telemetry.models import Device


class DeviceCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    batteries = serializers.ListField(
        child=serializers.CharField(max_length=200),
        min_length=1,
        max_length=1000,
        help_text="Identifiers of the batteries the device reads.",
    )


class DeviceBindInputSerializer(serializers.Serializer):
    battery = serializers.CharField(max_length=200, help_text="The battery's identifier.")


class DeviceOutputSerializer(serializers.ModelSerializer):
    batteries = serializers.SerializerMethodField()
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = [
            "id",
            "name",
            "key_prefix",
            "batteries",
            "organisation",
            "created_at",
            "key_rotated_at",
            "revoked",
            "revoked_at",
            "last_seen_at",
        ]

    def get_batteries(self, device: Device) -> list[str]:
        return [battery.identifier for battery in device.batteries.all()]

    def get_revoked(self, device: Device) -> bool:
        return device.is_revoked


class DeviceKeyOutputSerializer(serializers.Serializer):
    """Shown once: at creation and at rotation. Only a hash of the key is stored."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    key = serializers.CharField(help_text="The device key; send it as `Authorization: Device <key>`.")
    batteries = serializers.ListField(child=serializers.CharField())


class BatchInputSerializer(serializers.Serializer):
    """The JSON body: `columns` (column -> list of values) or `rows` (list of objects)."""

    battery = serializers.CharField(max_length=200, help_text="The battery's identifier.")
    batch_id = serializers.CharField(
        min_length=1, max_length=64, trim_whitespace=False, help_text="The collector's id of this batch; a resend answers the first answer."
    )
    columns = serializers.JSONField(
        required=False,
        help_text=(
            "Column-oriented samples: {\"timestamp\": [...], \"current_a\": [...], "
            "\"voltage_v\": [...], ...} (names as in docs/analytics.md)."
        ),
    )
    rows = serializers.JSONField(
        required=False,
        help_text="Row-oriented samples: [{\"timestamp\": ..., \"current_a\": ..., ...}, ...].",
    )


class BatchAnswerSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    battery = serializers.CharField()
    samples = serializers.IntegerField(help_text="Samples in the batch.")
    inserted = serializers.IntegerField(help_text="Samples stored by this batch.")
    duplicates = serializers.IntegerField(help_text="Samples that were stored already (overlap).")
    first = serializers.CharField(help_text="Time of the first sample (ISO 8601, UTC).")
    last = serializers.CharField(help_text="Time of the last sample (ISO 8601, UTC).")
