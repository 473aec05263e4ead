"""Telemetry models: collector devices, their batches, the raw samples and daily rollups.

Thin ORM classes; the rules live in telemetry/services/. The sample table is special: on
PostgreSQL it is partitioned by month of `time` and written with COPY (migration 0001 and
telemetry/services/storage.py), and it has no foreign key so that it can later be distributed
by battery (Citus).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from passport.models import Battery, Organisation


class Device(models.Model):
    """A collector next to one or more batteries (e.g. a Raspberry Pi on the BMS's CAN bus).

    It is managed by whoever created it: the members of an operator organisation, or a private
    owner. Only an HMAC of its key is stored; `key_prefix` (the key's public first part) finds
    the row without scanning every hash.
    """

    name = models.CharField(max_length=100)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="devices"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="telemetry_devices",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    key_prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    batteries = models.ManyToManyField(
        Battery, through="DeviceBinding", related_name="telemetry_devices", blank=True
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(organisation__isnull=False) & Q(owner__isnull=True))
                | (Q(organisation__isnull=True) & Q(owner__isnull=False)),
                name="device_managed_by_organisation_or_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class DeviceBinding(models.Model):
    """The device may send samples of this battery."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="bindings")
    battery = models.ForeignKey(Battery, on_delete=models.CASCADE, related_name="device_bindings")
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "battery"], name="device_binding_unique")
        ]

    def __str__(self) -> str:
        return f"{self.device} → {self.battery}"


class Batch(models.Model):
    """One accepted batch of samples and the answer given for it.

    The client's batch id is unique per device (per battery for imports, which have no device):
    a batch sent again gets `answer` back and stores nothing.
    """

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, null=True, blank=True, related_name="telemetry_batches"
    )
    battery = models.ForeignKey(Battery, on_delete=models.PROTECT, related_name="telemetry_batches")
    batch_id = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    samples = models.PositiveIntegerField()
    inserted = models.PositiveIntegerField()
    duplicates = models.PositiveIntegerField()
    first = models.DateTimeField()
    last = models.DateTimeField()
    answer = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(
                fields=["device", "batch_id"],
                condition=Q(device__isnull=False),
                name="batch_id_unique_per_device",
            ),
            models.UniqueConstraint(
                fields=["battery", "batch_id"],
                condition=Q(device__isnull=True),
                name="batch_id_unique_per_battery_import",
            ),
        ]
        indexes = [models.Index(fields=["battery", "received_at"])]

    def __str__(self) -> str:
        return f"batch {self.batch_id} of {self.battery_id}"


class Sample(models.Model):
    """One BMS sample of one battery; unique per (battery, time).

    `cell_v` and `cell_temp_c` hold the per-cell values as float32 little-endian bytes (4 bytes
    a cell, NaN where a cell had no value): one column instead of N, and 64 bytes for a 16-cell
    pack. Only telemetry.selectors.sample_columns reads them.
    """

    pk = models.CompositePrimaryKey("battery_id", "time")
    battery_id = models.BigIntegerField()
    time = models.DateTimeField()
    current_a = models.FloatField()
    voltage_v = models.FloatField()
    temperature_c = models.FloatField(null=True)
    soc_pct = models.FloatField(null=True)
    min_cell_v = models.FloatField(null=True)
    max_cell_v = models.FloatField(null=True)
    min_cell_temp_c = models.FloatField(null=True)
    max_cell_temp_c = models.FloatField(null=True)
    cell_v = models.BinaryField(null=True)
    cell_temp_c = models.BinaryField(null=True)

    class Meta:
        db_table = "telemetry_sample"

    def __str__(self) -> str:
        return f"battery {self.battery_id} at {self.time:%Y-%m-%d %H:%M:%S}"


class DailyRollup(models.Model):
    """One battery's UTC day in figures, kept after the raw samples are dropped.

    Recomputed whole from the raw samples of the day (telemetry.services.rollups), so the same
    day always gives the same row.
    """

    battery = models.ForeignKey(Battery, on_delete=models.PROTECT, related_name="daily_rollups")
    day = models.DateField()
    samples = models.PositiveIntegerField()
    # Seconds of the day covered by sample intervals no longer than the gap limit.
    covered_s = models.FloatField()
    coverage_pct = models.FloatField()
    voltage_min_v = models.FloatField()
    voltage_max_v = models.FloatField()
    voltage_mean_v = models.FloatField()
    current_min_a = models.FloatField()
    current_max_a = models.FloatField()
    current_mean_a = models.FloatField()
    temperature_min_c = models.FloatField(null=True, blank=True)
    temperature_max_c = models.FloatField(null=True, blank=True)
    temperature_mean_c = models.FloatField(null=True, blank=True)
    soc_min_pct = models.FloatField(null=True, blank=True)
    soc_max_pct = models.FloatField(null=True, blank=True)
    soc_mean_pct = models.FloatField(null=True, blank=True)
    charge_ah = models.FloatField()
    discharge_ah = models.FloatField()
    charge_kwh = models.FloatField()
    discharge_kwh = models.FloatField()
    # {"below": minutes, "within": ..., "above": ..., "lower_c": ..., "upper_c": ...}
    temperature_band_minutes = models.JSONField(default=dict, blank=True)
    cell_spread_max_mv = models.FloatField(null=True, blank=True)
    cell_spread_mean_mv = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["battery_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["battery", "day"], name="daily_rollup_unique")
        ]

    def __str__(self) -> str:
        return f"{self.battery_id} on {self.day}"
