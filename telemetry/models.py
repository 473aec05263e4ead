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


class SampleDay(models.Model):
    """One battery's closed UTC day of raw samples as one compressed column block.

    The raw table holds one row per sample, which PostgreSQL must visit one by one: reading a
    year of 1 Hz samples back for a rebuild costs minutes. Once a day is over, the rollup task
    writes its samples here as well (telemetry.services.sample_days: zstd-compressed column
    arrays, about 3 MB for a day of 16-cell data), and readers take whole days from here. A block
    is a copy, never the only record: a batch that writes into a day deletes that day's block
    in its own transaction, so a block always equals the day's committed raw rows. Retention
    drops blocks with the raw samples.
    """

    pk = models.CompositePrimaryKey("battery_id", "day")
    battery_id = models.BigIntegerField()
    day = models.DateField()
    samples = models.PositiveIntegerField()
    columns = models.BinaryField()
    built_at = models.DateTimeField()

    class Meta:
        db_table = "telemetry_sampleday"

    def __str__(self) -> str:
        return f"battery {self.battery_id} on {self.day:%Y-%m-%d} ({self.samples} samples)"


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


# --- Health pipeline (tel-pipeline): analysis state, snapshots, alerts ---------------------------
# Written by telemetry/services/processing.py and telemetry/services/alerts.py only.


class BatteryAnalysis(models.Model):
    """One battery's running bms_core analysis: the Analyzer state after the last sample fed.

    `checkpoint` is the time of that sample: the next run feeds only samples after it. A run
    locks this row (select_for_update), so two workers never feed the same samples twice.
    `rebuild_requested` asks the next run to start again from all raw data (samples older than
    the checkpoint arrived, or the model's analysis settings changed).
    """

    battery = models.OneToOneField(
        Battery, on_delete=models.CASCADE, related_name="telemetry_analysis"
    )
    # bms_core.Analyzer.to_state(); None before the first run.
    state = models.JSONField(null=True, blank=True)
    checkpoint = models.DateTimeField(null=True, blank=True)
    samples = models.BigIntegerField(default=0)
    rebuild_requested = models.BooleanField(default=False)
    runs = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    # When the passport last received this analysis's values (at most once per
    # TELEMETRY_PASSPORT_UPDATE_INTERVAL_S, plus the daily run).
    passport_updated_at = models.DateTimeField(null=True, blank=True)
    # Why the last run could not analyse (bad model data, inconsistent columns); "" when fine.
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "battery analyses"

    def __str__(self) -> str:
        return f"analysis of {self.battery_id} up to {self.checkpoint}"


class ProcessingRequest(models.Model):
    """A batch of samples waiting to be analysed, written after its batch committed.

    Append-only and never locked by a run, so ingestion does not wait for analysis. A run
    deletes the requests it covered; the sweep re-enqueues batteries whose requests are left
    over (the broker was down when the batch arrived).
    """

    battery_id = models.BigIntegerField()
    # Time of the batch's first sample: at or before the checkpoint means a rebuild.
    earliest = models.DateTimeField()
    requested_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["battery_id", "earliest"]),
            models.Index(fields=["requested_at"]),
        ]

    def __str__(self) -> str:
        return f"process {self.battery_id} from {self.earliest}"


class HealthSnapshot(models.Model):
    """What one run of the analysis found: the bms_core report (every key, as `report()` gives
    it), what went into the passport, and why the other values did not."""

    battery = models.ForeignKey(Battery, on_delete=models.PROTECT, related_name="health_snapshots")
    created_at = models.DateTimeField()
    data_start = models.DateTimeField(null=True, blank=True)
    data_end = models.DateTimeField(null=True, blank=True)
    samples = models.BigIntegerField()
    # Samples fed by this run (all of them after a rebuild).
    samples_new = models.BigIntegerField()
    rebuilt = models.BooleanField(default=False)
    report = models.JSONField()
    # Passport attribute -> value this run determined (written when passport_updated).
    passport_values = models.JSONField(default=dict)
    # Passport attribute (or "internal_resistance") -> why it was left as it was.
    missing = models.JSONField(default=dict)
    # The analysis settings taken from the battery model, and why a default was used.
    settings = models.JSONField(default=dict)
    passport_updated = models.BooleanField(default=False)

    class Meta:
        ordering = ["battery_id", "-created_at", "-id"]
        indexes = [models.Index(fields=["battery", "-created_at"])]

    def __str__(self) -> str:
        return f"health of {self.battery_id} at {self.created_at:%Y-%m-%d %H:%M}"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """A warning about one battery (a bms_core cell alert, or a device that stopped sending).

    `cause` names what it is about (e.g. "resistance_high:cell-3", "no_data:device-5"): while an
    alert for a cause is not resolved, the same cause updates it instead of raising another.
    Resolved by a person (`resolved_by`) or by the system when the cause went away
    (`resolved_by` None).
    """

    battery = models.ForeignKey(Battery, on_delete=models.CASCADE, related_name="telemetry_alerts")
    device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    cause = models.CharField(max_length=100)
    kind = models.CharField(max_length=50)
    cell = models.PositiveSmallIntegerField(null=True, blank=True)
    severity = models.CharField(max_length=10)
    message = models.TextField()
    evidence = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    raised_at = models.DateTimeField()
    # Last time the cause was seen; `cleared_at` once it no longer was.
    last_seen_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["battery", "cause"],
                condition=~Q(status="resolved"),
                name="alert_one_unresolved_per_cause",
            )
        ]
        indexes = [models.Index(fields=["battery", "status"])]

    def __str__(self) -> str:
        return f"{self.cause} on {self.battery_id} ({self.status})"
