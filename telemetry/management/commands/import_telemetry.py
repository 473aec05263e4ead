"""manage.py import_telemetry <battery> FILE: a BMS history from a CSV(.gz) or a CAN log."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

import bms_core
from passport.errors import PassportError
from passport.selectors import battery_get
from telemetry.services.ingest import batches_import

CSV_SUFFIXES = (".csv", ".csv.gz")
HASH_CHUNK_BYTES = 1024 * 1024


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = (
        "Import a battery's BMS history through the same validation and storage as the "
        "collector API: a CSV in bms_core's column format (plain or .gz), or a CAN log "
        "(candump .log, .asc, .blf, .trc) read through bms_core.can. Importing the same file "
        "again stores nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("battery", help="the battery's identifier")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--format", choices=("auto", "csv", "can"), default="auto",
            help="auto: CSV for .csv and .csv.gz, a CAN log otherwise",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        kind = options["format"]
        if kind == "auto":
            kind = "csv" if path.name.lower().endswith(CSV_SUFFIXES) else "can"
        try:
            battery = battery_get(identifier=options["battery"])
            columns = bms_core.read_csv(path) if kind == "csv" else self._read_can(path)
            outcomes = batches_import(
                battery=battery, columns=columns, source_id=f"import:{file_digest(path)[:32]}"
            )
        except PassportError as error:
            raise CommandError(str(error)) from None
        except ValueError as error:
            raise CommandError(f"{path}: {error}") from None
        for outcome in outcomes:
            answer = outcome.answer
            again = "" if outcome.created else " (imported before)"
            self.stdout.write(
                f"{answer['batch_id']}: {answer['samples']} samples {answer['first']} .. "
                f"{answer['last']}, {answer['inserted']} stored, {answer['duplicates']} "
                f"already there{again}"
            )
        stored = sum(outcome.answer["inserted"] for outcome in outcomes if outcome.created)
        self.stdout.write(self.style.SUCCESS(f"{battery.identifier}: {stored} samples stored."))

    def _read_can(self, path: Path) -> dict:
        from bms_core.can import read_log

        table = read_log(path)
        if table.row_count == 0:
            raise ValueError("no Pylontech samples in the log")
        return dict(table)
