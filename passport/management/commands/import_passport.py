"""manage.py import_passport FILE --user USERNAME: register a passport exported by another
system (our export format, full view) for the user's organisation."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from passport.documents.imports import passport_import
from passport.errors import Conflict, NotPermitted, ValidationFailed


class Command(BaseCommand):
    help = (
        "Import a passport document (the full view of our Battery Pass v1.2 export format) as "
        "USER, a member of the manufacturer that becomes its responsible operator. Every refused "
        "value is listed with its JSON path; nothing is stored unless all are valid."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="username of a member of the importing organisation")

    def handle(self, *args, **options) -> None:
        try:
            document = json.loads(options["file"].read_bytes())
        except OSError as error:
            raise CommandError(f"{options['file']}: {error.strerror}") from error
        except ValueError as error:
            raise CommandError(f"{options['file']}: not JSON ({error})") from error
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        try:
            passport = passport_import(user=user, document=document)
        except ValidationFailed as error:
            lines = "\n".join(f"  {e.field}: {e.reason}" for e in error.errors)
            raise CommandError(f"refused, nothing stored:\n{lines}") from error
        except (Conflict, NotPermitted) as error:
            raise CommandError(f"refused, nothing stored: {error}") from error
        self.stdout.write(f"imported passport {passport.passport_id} of battery {passport.battery.identifier}")
