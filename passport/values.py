"""Value kinds of passport attributes: how a value is checked and normalised.

Each kind's `clean(value, path)` returns the normalised value (what is stored and hashed) and the
list of FieldErrors found; `json_schema()` describes the accepted JSON for API documentation.
Values are JSON: numbers must be JSON numbers (not strings), dates ISO 8601 strings.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator

from passport.errors import FieldError

Cleaned = tuple[Any, list[FieldError]]

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)


def _fail(path: str, reason: str) -> Cleaned:
    return None, [FieldError(field=path, reason=reason)]


def _format_number(value: float) -> str:
    """As `%g`; an integer too large for a float (JSON allows any) in the same short form,
    without converting it."""
    if isinstance(value, int) and abs(value) >= 10**16:
        digits = str(abs(value))
        sign = "-" if value < 0 else ""
        return f"{sign}{digits[0]}.{digits[1:6].rstrip('0') or '0'}e+{len(digits) - 1}"
    return f"{value:g}"


def canonical_number(value: int | float) -> int | float:
    """Store integral floats as ints: PostgreSQL jsonb would give 1e16 back as an int, and the
    version hash must be the same before and after the round trip."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class Kind(ABC):
    """How one attribute (or one field of a structured value) is validated."""

    @abstractmethod
    def clean(self, value: Any, path: str) -> Cleaned: ...

    @abstractmethod
    def json_schema(self) -> dict: ...

    def describe(self) -> str:
        return self.json_schema().get("type", "value")


@dataclass(frozen=True)
class Number(Kind):
    """A JSON number within [minimum, maximum]; exclusive_minimum refuses the minimum itself."""

    minimum: float
    maximum: float
    exclusive_minimum: bool = False
    integer: bool = False
    unit: str = ""

    def clean(self, value: Any, path: str) -> Cleaned:
        noun = "a whole number" if self.integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _fail(path, f"must be {noun}{self._range_text()}, got {_type_name(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            return _fail(path, f"must be a finite number{self._range_text()}")
        # Not float(value): a JSON integer may be too large for a float.
        if self.integer and isinstance(value, float) and not value.is_integer():
            return _fail(path, f"must be a whole number{self._range_text()}, got {value}")
        too_low = value <= self.minimum if self.exclusive_minimum else value < self.minimum
        if too_low or value > self.maximum:
            return _fail(path, f"must be {noun}{self._range_text()}, got {_format_number(value)}")
        return canonical_number(int(value) if self.integer else value), []

    def _range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        low = "greater than" if self.exclusive_minimum else "at least"
        return (
            f" {low} {_format_number(self.minimum)}{unit}"
            f" and at most {_format_number(self.maximum)}{unit}"
        )

    def json_schema(self) -> dict:
        schema: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        schema["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = self.minimum
        schema["maximum"] = self.maximum
        if self.unit:
            schema["description"] = f"unit: {self.unit}"
        return schema


def Percent(minimum: float = 0, maximum: float = 100) -> Number:  # noqa: N802 - reads as a kind
    return Number(minimum=minimum, maximum=maximum, unit="%")


# A material the battery does not contain at all (nickel or cobalt in LFP): not the same fact as
# a recycled share of 0 % of a material it does contain, and Art. 8's minimums do not apply.
NOT_CONTAINED = "not contained"


@dataclass(frozen=True)
class OrNotContained(Kind):
    """`kind`, or the text "not contained"."""

    kind: Kind

    def clean(self, value: Any, path: str) -> Cleaned:
        if value == NOT_CONTAINED:
            return NOT_CONTAINED, []
        cleaned, errors = self.kind.clean(value, path)
        if errors:
            return None, [FieldError(e.field, f"{e.reason}, or {NOT_CONTAINED!r}", e.index) for e in errors]
        return cleaned, []

    def json_schema(self) -> dict:
        return {"oneOf": [self.kind.json_schema(), {"type": "string", "enum": [NOT_CONTAINED]}]}


def Count() -> Number:  # noqa: N802 - reads as a kind
    return Number(minimum=0, maximum=10**9, integer=True)


@dataclass(frozen=True)
class Text(Kind):
    max_length: int = 2000

    def clean(self, value: Any, path: str) -> Cleaned:
        if not isinstance(value, str):
            return _fail(path, f"must be a text, got {_type_name(value)}")
        text = value.strip()
        if not text:
            return _fail(path, "must not be empty")
        if "\x00" in text:
            # PostgreSQL cannot store NUL in text or jsonb.
            return _fail(path, "must not contain NUL characters")
        if len(text) > self.max_length:
            return _fail(path, f"must be at most {self.max_length} characters, got {len(text)}")
        return text, []

    def json_schema(self) -> dict:
        return {"type": "string", "minLength": 1, "maxLength": self.max_length}


_url_validator = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class Url(Kind):
    def clean(self, value: Any, path: str) -> Cleaned:
        if not isinstance(value, str):
            return _fail(path, f"must be an http(s) URL, got {_type_name(value)}")
        url = value.strip()
        if len(url) > 2000:
            return _fail(path, "must be an http(s) URL of at most 2000 characters")
        try:
            _url_validator(url)
        except DjangoValidationError:
            return _fail(path, f"must be an absolute http(s) URL, got {url!r}")
        return url, []

    def json_schema(self) -> dict:
        return {"type": "string", "format": "uri", "maxLength": 2000}


_email_validator = EmailValidator()


@dataclass(frozen=True)
class Email(Kind):
    def clean(self, value: Any, path: str) -> Cleaned:
        if not isinstance(value, str):
            return _fail(path, f"must be an e-mail address, got {_type_name(value)}")
        email = value.strip()
        try:
            _email_validator(email)
        except DjangoValidationError:
            return _fail(path, f"must be a valid e-mail address, got {email!r}")
        return email, []

    def json_schema(self) -> dict:
        return {"type": "string", "format": "email"}


@dataclass(frozen=True)
class Date(Kind):
    """An ISO 8601 calendar date, never in the future and not before `earliest`."""

    earliest: dt.date = dt.date(1990, 1, 1)

    def clean(self, value: Any, path: str) -> Cleaned:
        parsed = parse_date(value)
        if parsed is None:
            return _fail(path, f"must be a date in ISO 8601 form YYYY-MM-DD, got {value!r}")
        if parsed < self.earliest:
            return _fail(path, f"must not be before {self.earliest.isoformat()}, got {parsed}")
        if parsed > dt.date.today():
            return _fail(path, f"must not be in the future, got {parsed}")
        return parsed.isoformat(), []

    def json_schema(self) -> dict:
        return {"type": "string", "format": "date"}


@dataclass(frozen=True)
class DateTime(Kind):
    """An ISO 8601 timestamp with a time zone, not in the future (a measurement time)."""

    def clean(self, value: Any, path: str) -> Cleaned:
        parsed = parse_datetime(value)
        if parsed is None:
            return _fail(path, f"must be an ISO 8601 date-time with time zone, got {value!r}")
        # A minute of tolerance for clock skew between a BMS gateway and this server.
        if parsed > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1):
            return _fail(path, f"must not be in the future, got {parsed.isoformat()}")
        return parsed.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"), []

    def json_schema(self) -> dict:
        return {"type": "string", "format": "date-time"}


@dataclass(frozen=True)
class Boolean(Kind):
    def clean(self, value: Any, path: str) -> Cleaned:
        if not isinstance(value, bool):
            return _fail(path, f"must be true or false, got {_type_name(value)}")
        return value, []

    def json_schema(self) -> dict:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice(Kind):
    choices: tuple[str, ...]

    def clean(self, value: Any, path: str) -> Cleaned:
        if value not in self.choices:
            return _fail(path, f"must be one of {', '.join(self.choices)}, got {value!r}")
        return value, []

    def json_schema(self) -> dict:
        return {"type": "string", "enum": list(self.choices)}


@dataclass(frozen=True)
class CountryCode(Kind):
    def clean(self, value: Any, path: str) -> Cleaned:
        if not isinstance(value, str) or value.strip().upper() not in COUNTRY_CODES:
            return _fail(path, f"must be an ISO 3166-1 alpha-2 country code such as DE, got {value!r}")
        return value.strip().upper(), []

    def json_schema(self) -> dict:
        return {"type": "string", "pattern": "^[A-Z]{2}$"}


_CAS_PATTERN = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")


def cas_number_is_valid(value: str) -> bool:
    """CAS Registry Number: the last digit is the sum of the other digits, each weighted by its
    position counted from the right, modulo 10."""
    match = _CAS_PATTERN.match(value)
    if not match:
        return False
    digits = (match.group(1) + match.group(2))[::-1]
    return sum(int(d) * (i + 1) for i, d in enumerate(digits)) % 10 == int(match.group(3))


@dataclass(frozen=True)
class CasNumber(Kind):
    def clean(self, value: Any, path: str) -> Cleaned:
        if not isinstance(value, str) or not _CAS_PATTERN.match(value.strip()):
            return _fail(path, f"must be a CAS Registry Number such as 7439-93-2, got {value!r}")
        if not cas_number_is_valid(value.strip()):
            return _fail(path, f"CAS Registry Number {value.strip()} has a wrong check digit")
        return value.strip(), []

    def json_schema(self) -> dict:
        return {"type": "string", "pattern": r"^\d{2,7}-\d{2}-\d$"}


@dataclass(frozen=True)
class Field:
    kind: Kind
    required: bool = True


@dataclass(frozen=True)
class Object(Kind):
    """A JSON object with known fields; unknown fields are refused so typos do not pass silently."""

    fields: Mapping[str, Field] = field(default_factory=dict)

    def clean(self, value: Any, path: str) -> Cleaned:
        if not isinstance(value, dict):
            return _fail(path, f"must be an object with fields {', '.join(self.fields)}")
        cleaned: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name in value:
            if name not in self.fields:
                errors.append(
                    FieldError(
                        field=f"{path}.{name}",
                        reason=f"is not a known field; expected one of {', '.join(self.fields)}",
                    )
                )
        for name, spec in self.fields.items():
            sub_path = f"{path}.{name}"
            if value.get(name) is None:
                if spec.required:
                    errors.append(FieldError(field=sub_path, reason="is required"))
                continue
            sub_value, sub_errors = spec.kind.clean(value[name], sub_path)
            errors.extend(sub_errors)
            if not sub_errors:
                cleaned[name] = sub_value
        return (None if errors else cleaned), errors

    def json_schema(self) -> dict:
        return {
            "type": "object",
            "properties": {name: spec.kind.json_schema() for name, spec in self.fields.items()},
            "required": [name for name, spec in self.fields.items() if spec.required],
            "additionalProperties": False,
        }

    def describe(self) -> str:
        return "object"


@dataclass(frozen=True)
class ListOf(Kind):
    item: Kind
    min_items: int = 0
    max_items: int = 1000

    def clean(self, value: Any, path: str) -> Cleaned:
        if not isinstance(value, list):
            return _fail(path, f"must be a list, got {_type_name(value)}")
        if len(value) < self.min_items:
            return _fail(path, f"must have at least {self.min_items} entr{'y' if self.min_items == 1 else 'ies'}")
        if len(value) > self.max_items:
            return _fail(path, f"must have at most {self.max_items} entries, got {len(value)}")
        cleaned: list[Any] = []
        errors: list[FieldError] = []
        for position, entry in enumerate(value):
            entry_value, entry_errors = self.item.clean(entry, f"{path}.{position}")
            errors.extend(entry_errors)
            cleaned.append(entry_value)
        return (None if errors else cleaned), errors

    def json_schema(self) -> dict:
        return {
            "type": "array",
            "items": self.item.json_schema(),
            "minItems": self.min_items,
            "maxItems": self.max_items,
        }

    def describe(self) -> str:
        return f"list of {self.item.describe()}"


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def parse_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# The moments a passport can be read at: every date-time Python can hold in UTC.
EARLIEST_MOMENT = dt.datetime.min.replace(tzinfo=dt.UTC)
LATEST_MOMENT = dt.datetime.max.replace(tzinfo=dt.UTC)


def parse_moment(value: Any) -> dt.datetime | None:
    """A moment to read a passport at, in UTC, or None when `value` is not one.

    An ISO 8601 date means the end of that day (the passport as it stood that day), in UTC; a
    date-time without a zone is UTC. A date-time whose UTC equivalent falls outside years
    1-9999 (e.g. `9999-12-31T23:59:59-01:00`) is held at the nearest end: before any passport
    existed, or after every version."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    day = parse_date(text)
    if day is not None:
        return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        offset = moment.utcoffset() or dt.timedelta(0)
        return EARLIEST_MOMENT if offset > dt.timedelta(0) else LATEST_MOMENT
