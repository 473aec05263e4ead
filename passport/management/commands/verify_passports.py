"""manage.py verify_passports: check every version hash chain; non-zero exit when one is broken."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from passport.errors import NotFound
from passport.selectors import passport_get
from passport.services import version_chain_verify, version_chain_verify_all


class Command(BaseCommand):
    help = (
        "Verify the hash chains of all battery models and passports (or of one passport). Exits "
        "non-zero and names the first broken link of every broken chain."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--passport", help="verify only this passport (its passport id)")

    def handle(self, *args, **options) -> None:
        if options["passport"]:
            try:
                reports = iter(version_chain_verify(subject=passport_get(passport_id=options["passport"])))
            except NotFound as error:
                raise CommandError(str(error)) from error
        else:
            # Streamed: a register of millions of passports is checked in bounded memory.
            reports = version_chain_verify_all()
        chains = versions = 0
        broken = []
        for report in reports:
            chains += 1
            versions += report.versions
            if not report.ok:
                broken.append(report)
                where = f" at version {report.broken_seq}" if report.broken_seq is not None else ""
                self.stderr.write(f"BROKEN {report.subject}{where}: {report.reason}")
        if broken:
            first = broken[0]
            raise CommandError(
                f"{len(broken)} of {chains} chains broken; first broken link: {first.subject} "
                f"version {first.broken_seq}: {first.reason}"
            )
        self.stdout.write(self.style.SUCCESS(
            f"{chains} chains, {versions} versions: all intact"
        ))
