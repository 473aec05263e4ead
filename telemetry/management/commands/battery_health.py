"""manage.py battery_health <battery>: the latest health snapshot of a battery as JSON, with the
same keys as bms_core's report (`python -m bms_core analyze` prints the same shape)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from passport import selectors as passport_selectors
from passport.errors import NotFound
from passport.models import Battery
from telemetry.health_selectors import battery_snapshot_latest
from telemetry.services.processing import battery_process


def battery_of(reference: str) -> Battery:
    """A battery by identifier (any accepted form) or by database id."""
    try:
        return passport_selectors.battery_get(identifier=reference)
    except NotFound:
        battery = Battery.objects.filter(pk=int(reference)).first() if reference.isdigit() else None
        if battery is None:
            raise CommandError(f"battery {reference!r} not found (give its identifier or id)") from None
        return battery


class Command(BaseCommand):
    help = (
        "Print the latest health snapshot of a battery as JSON: bms_core's report, the same keys "
        "as `python -m bms_core analyze`. Exit 1 when the battery has no analysis yet."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("battery", help="the battery's identifier or database id")
        parser.add_argument(
            "--process", action="store_true",
            help="run the analysis on the stored samples first (as the Celery task would)",
        )
        parser.add_argument("--indent", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        battery = battery_of(options["battery"])
        if options["process"]:
            result = battery_process(battery_id=battery.pk)
            if result.error:
                self.stderr.write(f"analysis not run: {result.error}")
        snapshot = battery_snapshot_latest(battery=battery)
        if snapshot is None:
            raise CommandError(
                f"battery {battery.identifier} has no health snapshot yet (no samples analysed)"
            )
        self.stdout.write(json.dumps(snapshot.report, indent=options["indent"] or None))
