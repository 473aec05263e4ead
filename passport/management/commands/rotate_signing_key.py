"""manage.py rotate_signing_key: start signing with a new development key; the old public key
stays in the JWKS so that documents signed before remain verifiable."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from passport.documents.signing import signing_key_rotate


class Command(BaseCommand):
    help = (
        "Rotate the signing key kept under PASSPORT_SIGNING_KEY_DIR (the development default). "
        "With PASSPORT_SIGNING_KEY_FILE set, deploy a new key file and list the old public key "
        "in PASSPORT_SIGNING_RETIRED_KEY_FILES instead."
    )

    def handle(self, *args, **options) -> None:
        try:
            old, new = signing_key_rotate()
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"signing with key {new}; key {old} retired (still published in the JWKS)")
