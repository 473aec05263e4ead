"""Domain errors raised by the services; the API maps each class to one HTTP status.

ValidationFailed -> 400, NotPermitted -> 403, NotFound -> 404, TransitionRefused and Conflict -> 409,
TooLarge -> 413, Unavailable -> 503.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one input value.

    `field` is an attribute key or a dotted path into a structured value
    (e.g. "hazardous_substances.0.cas_number"); `index` is the row of a bulk request.
    """

    field: str
    reason: str
    index: int | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        if self.index is None:
            del data["index"]
        return data

    def at_index(self, index: int) -> FieldError:
        return FieldError(field=self.field, reason=self.reason, index=index)


class PassportError(Exception):
    """Base class of every error the passport services raise on purpose."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationFailed(PassportError):
    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        summary = "; ".join(
            (f"row {e.index}: " if e.index is not None else "") + f"{e.field}: {e.reason}"
            for e in self.errors[:5]
        )
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"validation failed: {summary}{more}")

    def as_dict(self) -> dict:
        return {"errors": [error.as_dict() for error in self.errors]}


class NotPermitted(PassportError):
    """403. `errors` names the refused inputs when there are several (e.g. the rows of a bulk
    registration whose identifiers belong to another organisation)."""

    def __init__(self, reason: str, errors: list[FieldError] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.errors = list(errors or [])


class NotFound(PassportError):
    def __init__(self, what: str):
        super().__init__(f"{what} not found")
        self.what = what


class TransitionRefused(PassportError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Conflict(PassportError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Unavailable(PassportError):
    """The service cannot answer this now, through no fault of the request (a PDF report whose
    rendering hit its time limit); ask again after `retry_after_s` seconds."""

    def __init__(self, reason: str, retry_after_s: int):
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class TooLarge(PassportError):
    """More than one request may carry (rows of a telemetry batch, bytes of a body)."""

    def __init__(self, field: str | None, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason
