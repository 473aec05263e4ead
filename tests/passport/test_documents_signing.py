"""Detached JWS over exported documents: a changed byte is refused, rotation keeps old
signatures verifiable, the JWKS publishes every key a signature may name."""

from __future__ import annotations

import base64
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from passport.attributes import View
from passport.documents.exports import json_signed, passport_export_view
from passport.documents.signing import (
    SignatureInvalid,
    jwks,
    sign_detached,
    signing_key,
    signing_key_rotate,
    verify_detached,
)


def test_a_signature_verifies_its_bytes_and_nothing_else() -> None:
    payload = b'{"passportIdentifier":"urn:uuid:x","batteryMass":45}'
    signature = sign_detached(payload)
    header = json.loads(base64.urlsafe_b64decode(signature.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "b64": False, "crit": ["b64"], "kid": signing_key().kid}
    assert signature.split(".")[1] == ""  # detached: no payload inside
    assert verify_detached(payload, signature) == signing_key().kid
    for position in (0, len(payload) // 2, len(payload) - 1):
        tampered = bytearray(payload)
        tampered[position] ^= 0x01
        with pytest.raises(SignatureInvalid, match="does not match"):
            verify_detached(bytes(tampered), signature)


def test_malformed_or_foreign_signatures_are_refused() -> None:
    payload = b"document"
    good = sign_detached(payload)
    header, _, sig = good.split(".")
    with pytest.raises(SignatureInvalid, match="detached"):
        verify_detached(payload, f"{header}.cGF5bG9hZA.{sig}")
    with pytest.raises(SignatureInvalid):
        verify_detached(payload, "not-a-jws")
    forged_header = base64.urlsafe_b64encode(json.dumps(
        {"alg": "none", "b64": False, "crit": ["b64"], "kid": signing_key().kid}).encode()).rstrip(b"=").decode()
    with pytest.raises(SignatureInvalid, match="unsupported algorithm"):
        verify_detached(payload, f"{forged_header}..{sig}")
    unknown = base64.urlsafe_b64encode(json.dumps(
        {"alg": "EdDSA", "b64": False, "crit": ["b64"], "kid": "someone-else"}).encode()).rstrip(b"=").decode()
    with pytest.raises(SignatureInvalid, match="unknown key id"):
        verify_detached(payload, f"{unknown}..{sig}")


def test_rotation_keeps_old_signatures_verifiable() -> None:
    payload = b"signed before the rotation"
    old_signature = sign_detached(payload)
    old_kid, new_kid = signing_key_rotate()
    assert old_kid != new_kid == signing_key().kid
    kids = [key["kid"] for key in jwks()["keys"]]
    assert kids == [new_kid, old_kid]
    assert verify_detached(payload, old_signature) == old_kid
    assert verify_detached(payload, sign_detached(payload)) == new_kid
    assert all(set(key) == {"kty", "crv", "x", "kid", "alg", "use"} for key in jwks()["keys"])


def test_a_configured_key_file_is_used_and_not_rotated_here(settings) -> None:
    generated = signing_key()
    settings.PASSPORT_SIGNING_KEY_FILE = str(settings.PASSPORT_SIGNING_KEY_DIR / "current.pem")
    assert signing_key().kid == generated.kid
    with pytest.raises(ValueError, match="PASSPORT_SIGNING_KEY_FILE"):
        signing_key_rotate()


def test_jwks_endpoint_publishes_the_keys(client) -> None:
    signing_key_rotate()
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == jwks() and len(response.json()["keys"]) == 2


def test_verify_document_command_refuses_a_tampered_export(complete_battery, passport, tmp_path) -> None:
    export, _ = passport_export_view(passport=passport, view=View.FULL)
    signed = json_signed(export)
    target = tmp_path / "passport.json"
    target.write_bytes(signed.body)
    (tmp_path / "passport.json.jws").write_text(signed.signature)
    out = StringIO()
    call_command("verify_document", str(target), stdout=out)
    assert f"valid (key {signed.kid})" in out.getvalue()
    # A pretty-printed copy is the same document: it verifies (canonical bytes are signed).
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(signed.body), indent=2))
    call_command("verify_document", str(pretty), "--signature", signed.signature, stdout=StringIO())
    # One changed byte in a value does not.
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(signed.body.replace(b'"batteryMass":45', b'"batteryMass":44', 1))
    assert tampered.read_bytes() != signed.body
    with pytest.raises(CommandError, match="INVALID"):
        call_command("verify_document", str(tampered), "--signature", str(tmp_path / "passport.json.jws"))
