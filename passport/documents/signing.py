"""Detached JSON Web Signatures (RFC 7515 Appendix F, unencoded payload RFC 7797) over exported
documents, with Ed25519 (EdDSA, RFC 8037) keys published as a JWKS.

Why detached and unencoded: the signed bytes are the document as downloaded (the canonical JSON,
or the PDF file), so a reader keeps the file as it is and checks it with the signature beside
it; nothing needs decoding first. The protected header is
`{"alg": "EdDSA", "b64": false, "crit": ["b64"], "kid": <key id>}`, the signature
`<header>..<signature>` (empty payload part).

Keys: the private key is a PEM file, `PASSPORT_SIGNING_KEY_FILE` in production; without it a
development key is generated once under `PASSPORT_SIGNING_KEY_DIR` (VAR_DIR/signing-keys).
The key id is the key's RFC 7638 thumbprint, so it names the key and nothing else.
Rotation (`manage.py rotate_signing_key`, or a new key file with the old public key added to
`PASSPORT_SIGNING_RETIRED_KEY_FILES`) keeps every retired public key in the JWKS, so documents
signed before stay verifiable: the `kid` in their header says which key to use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

ALGORITHM = "EdDSA"
CURRENT_KEY_NAME = "current.pem"
RETIRED_DIR_NAME = "retired"


class SignatureInvalid(Exception):
    """The signature does not match the bytes, or names no key we publish."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    # RFC 7638: SHA-256 over the required members, sorted, without whitespace.
    thumbprint = hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest()
    return {**jwk, "kid": _b64url(thumbprint), "alg": ALGORITHM, "use": "sig"}


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    kid: str


def key_dir() -> Path:
    return Path(settings.PASSPORT_SIGNING_KEY_DIR)


def _write_new_key(path: Path) -> None:
    """Write a fresh private key to `path` unless one is there already (several processes may
    start at once: the first link wins, the others use its key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(pem)
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)


def _load_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def _load_public(path: Path) -> Ed25519PublicKey:
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        return _load_private(path).public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def signing_key() -> SigningKey:
    """The key new documents are signed with."""
    configured = settings.PASSPORT_SIGNING_KEY_FILE
    path = Path(configured) if configured else key_dir() / CURRENT_KEY_NAME
    if not configured and not path.exists():
        _write_new_key(path)
    private_key = _load_private(path)
    return SigningKey(private_key, public_jwk(private_key.public_key())["kid"])


def _retired_public_keys() -> list[Ed25519PublicKey]:
    paths = sorted((key_dir() / RETIRED_DIR_NAME).glob("*.pem"))
    paths += [Path(p) for p in settings.PASSPORT_SIGNING_RETIRED_KEY_FILES]
    return [_load_public(path) for path in paths]


def jwks() -> dict[str, list[dict[str, str]]]:
    """Every public key a published signature may name: the current one first."""
    keys = [public_jwk(signing_key().private_key.public_key())]
    seen = {keys[0]["kid"]}
    for public_key in _retired_public_keys():
        jwk = public_jwk(public_key)
        if jwk["kid"] not in seen:
            seen.add(jwk["kid"])
            keys.append(jwk)
    return {"keys": keys}


def signing_key_rotate() -> tuple[str, str]:
    """Retire the development key (its public half stays in the JWKS) and start a new one.
    Returns (old kid, new kid). With PASSPORT_SIGNING_KEY_FILE set, rotation is a deployment
    step instead (docs/documents.md)."""
    if settings.PASSPORT_SIGNING_KEY_FILE:
        raise ValueError("the signing key comes from PASSPORT_SIGNING_KEY_FILE: rotate it there")
    old = signing_key()
    retired = key_dir() / RETIRED_DIR_NAME / f"{old.kid}.pem"
    retired.parent.mkdir(parents=True, exist_ok=True)
    retired.write_bytes(old.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (key_dir() / CURRENT_KEY_NAME).unlink()
    return old.kid, signing_key().kid


def _signing_input(header_b64: str, payload: bytes) -> bytes:
    return header_b64.encode("ascii") + b"." + payload


def sign_detached(payload: bytes, key: SigningKey | None = None) -> str:
    """The detached JWS of `payload` (compact form with an empty payload part)."""
    key = key or signing_key()
    header = {"alg": ALGORITHM, "b64": False, "crit": ["b64"], "kid": key.kid}
    header_b64 = _b64url(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())
    signature = key.private_key.sign(_signing_input(header_b64, payload))
    return f"{header_b64}..{_b64url(signature)}"


def verify_detached(payload: bytes, jws: str, keys: dict | None = None) -> str:
    """Check a detached JWS over `payload` against the JWKS (ours unless given); returns the
    key id that signed it, raises SignatureInvalid otherwise."""
    parts = jws.strip().split(".")
    if len(parts) != 3 or parts[1] != "":
        raise SignatureInvalid("not a detached JWS (expected <header>..<signature>)")
    header_b64, _, signature_b64 = parts
    try:
        header = json.loads(_b64url_decode(header_b64))
        signature = _b64url_decode(signature_b64)
    except (ValueError, UnicodeDecodeError) as error:
        raise SignatureInvalid("the JWS header or signature is not valid base64url JSON") from error
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise SignatureInvalid(f"unsupported algorithm {header.get('alg') if isinstance(header, dict) else None!r}")
    if header.get("b64") is not False or header.get("crit") != ["b64"]:
        raise SignatureInvalid("expected an unencoded payload (b64: false, crit: [b64])")
    published = {jwk["kid"]: jwk for jwk in (keys or jwks())["keys"]}
    jwk = published.get(header.get("kid"))
    if jwk is None:
        raise SignatureInvalid(f"unknown key id {header.get('kid')!r}")
    public_key = Ed25519PublicKey.from_public_bytes(_b64url_decode(jwk["x"]))
    try:
        public_key.verify(signature, _signing_input(header_b64, payload))
    except InvalidSignature as error:
        raise SignatureInvalid("the signature does not match the document's bytes") from error
    return jwk["kid"]
