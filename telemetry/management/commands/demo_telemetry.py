"""manage.py demo_telemetry: feed the demo owner's battery through the telemetry path (see
telemetry/demo.py). Run after demo_data; `make demo` runs both."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from telemetry.demo import demo_telemetry_build


class Command(BaseCommand):
    help = (
        "Send the demo owner's battery a simulated BMS history through a collector device and "
        "batch ingestion, and analyse it with the health pipeline. Safe to re-run."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        demo = demo_telemetry_build()
        write = self.stdout.write
        if demo.battery is None:
            write("No demo battery in service found; run `manage.py demo_data` first.")
            return
        if not demo.created:
            write(f"Telemetry demo already present for {demo.battery.identifier}; nothing sent.")
            return
        write(self.style.SUCCESS(
            f"Telemetry: {demo.samples} samples in {demo.batches} batches sent for "
            f"{demo.battery.identifier} through the collector API's service."
        ))
        write(f"  collector device key (shown once): {demo.device_key}")
        if demo.snapshot is not None:
            report = demo.snapshot.report
            capacity = report["capacity_ah"]
            write(
                f"  health: {report['equivalent_full_cycles']:.1f} equivalent full cycles, "
                f"capacity {f'{capacity:.1f} Ah' if capacity is not None else 'not estimated yet'}, "
                f"{len(report.get('alerts') or [])} alert(s)"
            )
        write(f"  API (as 'owner'): /api/v1/telemetry/batteries/{demo.battery.identifier}/health/")
