"""manage.py verify_document FILE [--signature SIG]: check the detached signature of an
exported document (JSON or PDF) against the published keys."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from passport.documents.exports import document_bytes
from passport.documents.signing import SignatureInvalid, verify_detached


def signed_bytes(data: bytes) -> bytes:
    """What was signed: a PDF as it is; a JSON export in its canonical form (so a pretty-printed
    copy of the same document still verifies, and any changed value does not)."""
    if data.startswith(b"%PDF-"):
        return data
    try:
        return document_bytes(json.loads(data))
    except (UnicodeDecodeError, ValueError):
        return data


class Command(BaseCommand):
    help = (
        "Verify the detached JWS of an exported passport document. The signature is read from "
        "--signature (a file or the JWS itself), else from FILE.jws beside the document."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--signature", help="the detached JWS, or a file holding it")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        given = options["signature"]
        if given is None:
            signature_path = Path(f"{path}.jws")
            if not signature_path.is_file():
                raise CommandError(f"no signature: give --signature or put it in {signature_path}")
            signature = signature_path.read_text(encoding="ascii", errors="replace")
        elif Path(given).is_file():
            signature = Path(given).read_text(encoding="ascii", errors="replace")
        else:
            signature = given
        try:
            kid = verify_detached(signed_bytes(path.read_bytes()), signature.strip())
        except SignatureInvalid as error:
            raise CommandError(f"{path}: signature INVALID: {error}") from error
        self.stdout.write(f"{path}: signature valid (key {kid})")
