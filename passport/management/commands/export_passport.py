"""manage.py export_passport: a battery's passport, filtered for one audience, as signed
Battery Pass v1.2 JSON or as the PDF report; with --out the detached signature is written
beside the file (FILE.jws)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from passport.attributes import View
from passport.documents.exports import SignedDocument, json_signed, passport_export
from passport.documents.pdf import pdf_job, report_render
from passport.errors import NotFound
from passport.selectors import battery_get, battery_passport
from passport.services.documents import passport_document_for
from passport.values import parse_moment

SIGNATURE_SUFFIX = ".jws"


class Command(BaseCommand):
    help = (
        "Export the current passport of a battery (identifier in any accepted form) filtered for "
        "an audience: public, legitimate (legitimate interest WITH an interest in this battery), "
        "authority, or full. JSON is the Battery Pass v1.2 format (seven aspects in our "
        "envelope); PDF is the passport report. Both are signed: with --out, FILE.jws holds the "
        "detached JWS (check it with manage.py verify_document FILE)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("battery", help="battery identifier, e.g. '(01)04260000000001(21)SN1'")
        parser.add_argument("--view", choices=[v.value for v in View], default=View.PUBLIC.value)
        parser.add_argument("--format", choices=["json", "pdf"], default="json")
        parser.add_argument("--out", type=Path, help="write to this file (and FILE.jws) instead of standard output")
        parser.add_argument("--at", help="the passport as it was at this ISO date or date-time (UTC)")

    def handle(self, *args, **options) -> None:
        view = View(options["view"])
        if options["format"] == "pdf" and not options["out"]:
            raise CommandError("a PDF needs --out FILE")
        try:
            battery = battery_get(identifier=options["battery"])
            passport = battery_passport(battery=battery)
            tiers = view.tiers(interest=True)
            document = passport_document_for(passport=passport, tiers=tiers, at=_moment(options["at"]))
        except NotFound as error:
            raise CommandError(str(error)) from error
        if options["format"] == "pdf":
            job = pdf_job(passport=passport, document=document, tiers=tiers)
            signed = report_render(passport=passport, document=document, tiers=tiers,
                                   passport_hash=job.passport_hash, model_hash=job.model_hash)
        else:
            signed = json_signed(passport_export(passport=passport, document=document, view=view))
        if not options["out"]:
            self.stdout.write(signed.body.decode("utf-8"))
            self.stderr.write(f"signature (detached JWS): {signed.signature}")
            return
        _write(options["out"], signed)
        self.stderr.write(
            f"{view} view of {battery.identifier} written to {options['out']} "
            f"(signature in {options['out']}{SIGNATURE_SUFFIX}, key {signed.kid})"
        )


def _write(path: Path, signed: SignedDocument) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(signed.body)
    Path(f"{path}{SIGNATURE_SUFFIX}").write_text(signed.signature + "\n", encoding="ascii")


def _moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    moment = parse_moment(text)
    if moment is None:
        raise CommandError(f"--at {text!r} is not an ISO date or date-time")
    return moment
