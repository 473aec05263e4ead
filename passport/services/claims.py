"""One-time claim codes: printed beside the QR label, they let the buyer become the owner.

Only an HMAC of the code is stored. A 140-bit random code cannot be guessed, so a fast keyed
hash is enough (a slow password hash per battery would make bulk registration take minutes);
the key is SECRET_KEY, so rotating it invalidates unclaimed codes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

# Crockford base32: no I, L, O, U, so codes read aloud or typed from a label survive.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SYMBOLS = 28  # 28 x 5 bits = 140 bits of randomness
GROUP = 4
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def claim_code_new() -> str:
    number = int.from_bytes(secrets.token_bytes(18), "big")
    symbols = []
    for _ in range(SYMBOLS):
        number, digit = divmod(number, 32)
        symbols.append(ALPHABET[digit])
    code = "".join(symbols)
    return "-".join(code[i : i + GROUP] for i in range(0, SYMBOLS, GROUP))


def claim_code_normalise(code: str) -> str:
    return "".join(code.upper().split()).replace("-", "").translate(_CONFUSABLE)


def claim_code_hash(identifier: str, code: str) -> str:
    """Bound to the battery identifier, so a code only ever works for its own battery."""
    message = f"battery-claim-code\x00{identifier}\x00{claim_code_normalise(code)}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def claim_code_matches(identifier: str, code: str, stored_hash: str) -> bool:
    if not stored_hash or not isinstance(code, str):
        return False
    return hmac.compare_digest(claim_code_hash(identifier, code), stored_hash)
