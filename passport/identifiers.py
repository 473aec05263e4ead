"""Battery identifiers (ISO/IEC 15459, GS1) and organisation identifiers (LEI, GLN).

Canonical battery identifier:
- with a GTIN: the GS1 element string "(01)<GTIN-14>(21)<serial>", e.g. "(01)04012345000016(21)A1B2";
  its web form is the GS1 Digital Link path "/01/<GTIN-14>/21/<serial>";
- otherwise: an ISO/IEC 15459 unique identifier (issuing agency code + company + serial), upper
  case letters, digits and "-", ".", "/", e.g. "UN.BATTCO.48V-000123".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from django.conf import settings

from passport.errors import NotFound

if TYPE_CHECKING:
    from passport.models import Battery, Passport


class IdentifierError(ValueError):
    """An identifier that is malformed; the message is a sentence for the user."""


# --- GS1 keys ------------------------------------------------------------------------------------


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of the digits before it: weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin_normalise(value: str) -> str:
    """Validate a GTIN-8/12/13/14 and return it as GTIN-14 (left-padded with zeros, which keeps
    the check digit valid). Raises IdentifierError with the reason."""
    if not isinstance(value, str):
        raise IdentifierError(f"a GTIN is a text of 8, 12, 13 or 14 digits, got {value!r}")
    gtin = value.strip()
    if not gtin.isdigit() or not gtin.isascii():
        raise IdentifierError(f"a GTIN has only digits, got {gtin!r}")
    if len(gtin) not in (8, 12, 13, 14):
        raise IdentifierError(f"a GTIN has 8, 12, 13 or 14 digits, got {len(gtin)}")
    expected = gs1_check_digit(gtin[:-1])
    if int(gtin[-1]) != expected:
        raise IdentifierError(
            f"GTIN {gtin} has check digit {gtin[-1]}, but its digits give {expected}"
        )
    return gtin.zfill(14)


def gtin_is_valid(gtin: str) -> bool:
    try:
        gtin_normalise(gtin)
    except IdentifierError:
        return False
    return True


def gln_is_valid(gln: str) -> bool:
    return (
        isinstance(gln, str)
        and len(gln) == 13
        and gln.isdigit()
        and gs1_check_digit(gln[:-1]) == int(gln[-1])
    )


# GS1 application identifiers 10 (batch/lot) and 21 (serial): up to 20 characters of
# GS1 character set 82.
_GS1_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")


def gs1_serial_normalise(value: str, *, what: str = "serial") -> str:
    if not isinstance(value, str) or not value.strip():
        raise IdentifierError(f"the {what} must be a non-empty text")
    text = value.strip()
    if not _GS1_CSET82.match(text):
        raise IdentifierError(
            f"a GS1 {what} has 1 to 20 characters of letters, digits and !\"%&'()*+,-./:;<=>?_"
            f", got {text!r}"
        )
    if "(" in text or ")" in text:
        # Parentheses would make the element string form ambiguous.
        raise IdentifierError(f"the {what} must not contain parentheses, got {text!r}")
    return text


# --- LEI (ISO 17442) -----------------------------------------------------------------------------


def lei_is_valid(lei: str) -> bool:
    """ISO 17442: 18 alphanumerics + 2 check digits, ISO 7064 MOD 97-10 (as IBAN)."""
    if not isinstance(lei, str) or not re.fullmatch(r"[0-9A-Z]{18}[0-9]{2}", lei):
        return False
    return int("".join(str(int(c, 36)) for c in lei)) % 97 == 1


def lei_with_check_digits(base18: str) -> str:
    """Complete an 18-character LEI prefix with its check digits (for test and demo data)."""
    number = int("".join(str(int(c, 36)) for c in base18 + "00"))
    return f"{base18}{98 - number % 97:02d}"


# --- Battery identifiers --------------------------------------------------------------------------

_ISO15459 = re.compile(r"^[A-Z0-9][A-Z0-9\-./]{0,49}$")
_ELEMENT_STRING = re.compile(r"^\(01\)(\d{14})(?:\(10\)([^()]+))?\(21\)([^()]+)$")
_DIGITAL_LINK = re.compile(r"^(?:https?://[^/]+)?/01/(\d{8,14})(?:/10/([^/]+))?/21/([^/?#]+)")


@dataclass(frozen=True)
class BatteryIdentifier:
    identifier: str  # canonical form
    gtin: str | None = None
    serial: str = ""
    batch: str = ""


def gs1_element_string(gtin14: str, serial: str) -> str:
    return f"(01){gtin14}(21){serial}"


def battery_identifier_from_gtin(gtin: str, serial: str, batch: str = "") -> BatteryIdentifier:
    gtin14 = gtin_normalise(gtin)
    serial_text = gs1_serial_normalise(serial)
    batch_text = gs1_serial_normalise(batch, what="batch") if batch else ""
    return BatteryIdentifier(gs1_element_string(gtin14, serial_text), gtin14, serial_text, batch_text)


def battery_identifier_parse(text: str) -> BatteryIdentifier:
    """Read a battery identifier in any accepted form into its canonical form: a GS1 element
    string "(01)...(21)...", a GS1 Digital Link URL or path "/01/.../21/...", or an ISO/IEC 15459
    string."""
    if not isinstance(text, str) or not text.strip():
        raise IdentifierError("the battery identifier must be a non-empty text")
    value = text.strip()
    element = _ELEMENT_STRING.match(value)
    if element:
        return battery_identifier_from_gtin(element.group(1), element.group(3), element.group(2) or "")
    link = _DIGITAL_LINK.match(value)
    if link:
        return battery_identifier_from_gtin(
            link.group(1), unquote(link.group(3)), unquote(link.group(2) or "")
        )
    if value.startswith("(01)") or value.startswith("/01/"):
        raise IdentifierError(
            f"{value!r} looks like a GS1 identifier but is not of the form (01)<GTIN>(21)<serial>"
        )
    upper = value.upper()
    if not _ISO15459.match(upper):
        raise IdentifierError(
            "an ISO/IEC 15459 identifier has 1 to 50 characters: letters, digits, '-', '.' "
            f"and '/', starting with a letter or digit; got {value!r}"
        )
    return BatteryIdentifier(upper)


def digital_link_path(gtin: str, serial: str) -> str:
    """GS1 Digital Link path of a serialised battery: /01/<GTIN-14>/21/<serial>."""
    return f"/01/{gtin_normalise(gtin)}/21/{quote(serial, safe='')}"


def digital_link_identifier(gtin: str, serial: str) -> str:
    """The canonical identifier of the battery a Digital Link names; NotFound when the GTIN or
    serial cannot name one."""
    try:
        return battery_identifier_from_gtin(gtin, serial).identifier
    except IdentifierError as error:
        raise NotFound(f"battery /01/{gtin}/21/{serial} ({error})") from error


def battery_by_digital_link(gtin: str, serial: str) -> Battery:
    from passport.models import Battery

    identifier = digital_link_identifier(gtin, serial)
    try:
        return Battery.objects.select_related("model").get(identifier=identifier)
    except Battery.DoesNotExist as error:
        raise NotFound(f"battery /01/{gtin}/21/{serial}") from error


def battery_url_path(battery: Battery) -> str:
    """The stable web path of a battery (it resolves to its current passport)."""
    if battery.gtin:
        return digital_link_path(battery.gtin, battery.serial)
    return f"/batteries/{quote(battery.identifier, safe='')}"


def qr_url(passport: Passport) -> str:
    """What the QR code on the battery encodes (Art. 13(6)): the battery's Digital Link on the
    configured resolver, so the label keeps working when a new passport replaces this one."""
    return f"{settings.PASSPORT_BASE_URL}{battery_url_path(passport.battery)}"
