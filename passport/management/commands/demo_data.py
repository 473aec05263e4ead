"""manage.py demo_data: a realistic, idempotent demo dataset (see passport/demo.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from passport.demo import DEMO_PASSWORD, demo_dataset_build
from passport.identifiers import battery_url_path
from passport.selectors import battery_passport


class Command(BaseCommand):
    help = (
        "Create the demo dataset: a 48 V LFP home battery manufacturer with two models, a dozen "
        "batteries in every lifecycle state, and users of every audience. Safe to re-run."
    )

    def handle(self, *args, **options) -> None:
        result = demo_dataset_build()
        write = self.stdout.write
        write(self.style.SUCCESS("Demo data created.") if result.created
              else "Demo data already present; nothing added (demo passwords reset).")
        write(f"\nUsers (password for all: {DEMO_PASSWORD}):")
        for user in result.users:
            acting = f" for {user.organisation}" if user.organisation else ""
            write(f"  {user.username:<13} {user.role}{acting}")
            if user.token:
                write(f"  {'':<13} API token: {user.token}")
        write("\nBatteries:")
        for battery in result.batteries:
            passport = battery_passport(battery=battery)
            owner = f", owner {battery.owner.username}" if battery.owner is not None else ""
            write(
                f"  {battery.identifier:<36} {battery.status:<15} {passport.state:<10} "
                f"{battery.responsible_operator.name}{owner}"
            )
            write(f"  {'':<36} {settings.PASSPORT_BASE_URL}{battery_url_path(battery)}")
        write(f"\nTry a claim as 'owner': identifier {result.claim_identifier}, "
              f"claim code {result.claim_code} (single use; re-running issues a new one)")
