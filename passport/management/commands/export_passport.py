"""manage.py export_passport: a battery's passport as JSON, filtered for one audience."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from passport.access import filter_document
from passport.attributes import View
from passport.errors import NotFound
from passport.selectors import battery_get, battery_passport
from passport.services import passport_document
from passport.values import parse_moment


class Command(BaseCommand):
    help = (
        "Export the current passport of a battery (identifier in any accepted form) filtered for "
        "an audience: public, legitimate (legitimate interest WITH an interest in this battery), "
        "authority, or full."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("battery", help="battery identifier, e.g. '(01)04260000000001(21)SN1'")
        parser.add_argument("--view", choices=[v.value for v in View], default=View.PUBLIC.value)
        parser.add_argument("--format", choices=["json", "pdf"], default="json")
        parser.add_argument("--out", type=Path, help="write to this file instead of standard output")
        parser.add_argument("--at", help="the passport as it was at this ISO date or date-time (UTC)")

    def handle(self, *args, **options) -> None:
        if options["format"] == "pdf":
            raise CommandError("PDF export is not available yet; use --format json")
        try:
            battery = battery_get(identifier=options["battery"])
            document = passport_document(passport=battery_passport(battery=battery), at=_moment(options["at"]))
        except NotFound as error:
            raise CommandError(str(error)) from error
        filtered = filter_document(document, View(options["view"]).tiers(interest=True))
        text = json.dumps(filtered, indent=2, ensure_ascii=False) + "\n"
        if options["out"]:
            options["out"].parent.mkdir(parents=True, exist_ok=True)
            options["out"].write_text(text, encoding="utf-8")
            self.stderr.write(f"{options['view']} view of {battery.identifier} written to {options['out']}")
        else:
            self.stdout.write(text, ending="")


def _moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    moment = parse_moment(text)
    if moment is None:
        raise CommandError(f"--at {text!r} is not an ISO date or date-time")
    return moment
