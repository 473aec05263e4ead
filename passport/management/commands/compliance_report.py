"""manage.py compliance_report: every model's and battery's compliance findings, as JSON or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from passport.services.compliance import compliance_report_all

CSV_COLUMNS = ("subject", "kind", "category", "checked_on", "compliant", "attribute", "rule",
               "severity", "reason", "source")


class Command(BaseCommand):
    help = (
        "Report what every battery model and battery lacks or falls short of under Regulation "
        "(EU) 2023/1542 (missing mandatory attributes, recycled content, carbon footprint, "
        "stale dynamic data). JSON lines (one report per line) or CSV (one finding per row)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--on", help="check as of this date (ISO 8601, default today)")

    def handle(self, *args, **options) -> None:
        on = None
        if options["on"]:
            try:
                on = dt.date.fromisoformat(options["on"])
            except ValueError as error:
                raise CommandError(f"--on must be an ISO 8601 date, got {options['on']!r}") from error
        reports = compliance_report_all(on=on)
        if options["format"] == "json":
            for report in reports:
                self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        writer = csv.DictWriter(self.stdout, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for report in reports:
            head = {"subject": report.subject, "kind": report.kind, "category": report.category,
                    "checked_on": report.checked_on.isoformat(), "compliant": report.compliant}
            if not report.findings:
                writer.writerow(head)
            for finding in report.findings:
                writer.writerow({**head, **finding.as_dict()})
