"""Domain errors as HTTP answers: one status per error class and one error body, for the API and
the pages alike (a refused status change is a 409 wherever it is asked for).

The body is `{"errors": [{"field", "reason", "index"?}]}`: `field` is a dotted input path or None
for the request as a whole, `index` the row of a bulk request.
"""

from __future__ import annotations

from typing import Any

from passport import errors as domain

# Checked in order; the first class the error is an instance of decides.
STATUS_OF: tuple[tuple[type[domain.PassportError], int], ...] = (
    (domain.ValidationFailed, 400),
    (domain.NotPermitted, 403),
    (domain.NotFound, 404),
    (domain.TransitionRefused, 409),
    (domain.Conflict, 409),
    (domain.TooLarge, 413),
    (domain.Unavailable, 503),
)
# A PassportError of no class above is a problem with the request as sent.
DEFAULT_STATUS = 400


def _without_nul(text: str | None) -> str | None:
    return text if text is None else text.replace("\x00", "\\x00")


def error_item(field: str | None, reason: str, index: int | None = None) -> dict[str, Any]:
    # A reason (DRF's '"x" is not a valid choice.') or a field (an unknown parameter's name) may
    # quote the input; a NUL in it would break the schema's promise that text holds none (and
    # many clients' C strings): it is shown escaped.
    item: dict[str, Any] = {"field": _without_nul(field), "reason": _without_nul(reason)}
    if index is not None:
        item["index"] = index
    return item


def status_of(error: domain.PassportError) -> int:
    for error_class, status in STATUS_OF:
        if isinstance(error, error_class):
            return status
    return DEFAULT_STATUS


def error_items(error: domain.PassportError) -> list[dict[str, Any]]:
    """The `errors` list of the body answering `error`."""
    if isinstance(error, domain.ValidationFailed):
        return [error_item(item.field, item.reason, item.index) for item in error.errors]
    if isinstance(error, domain.Conflict):
        return [error_item(error.field, error.reason)]
    if isinstance(error, domain.TooLarge):
        return [error_item(error.field, error.reason)]
    if isinstance(error, domain.TransitionRefused):
        return [error_item("status", error.reason)]
    if isinstance(error, domain.TooLarge):
        return [error_item(error.field, error.reason)]
    if isinstance(error, domain.NotPermitted):
        # Several refused inputs (rows of a bulk registration) are named one by one.
        return [error_item(item.field, item.reason, item.index) for item in error.errors] or [
            error_item(None, error.reason)
        ]
    if isinstance(error, domain.NotFound):
        return [error_item(None, f"{error.what} not found.")]
    if isinstance(error, domain.Unavailable):
        return [error_item(None, error.reason)]
    if isinstance(error, domain.TooLarge):
        return [error_item(error.field, error.reason)]
    return [error_item(None, str(error))]
