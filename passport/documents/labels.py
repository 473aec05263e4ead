"""QR codes of a battery's GS1 Digital Link URL (segno) and printable label sheets.

The QR code encodes `passport.identifiers.qr_url`: the battery's Digital Link on the configured
resolver, which keeps working when a new passport replaces the current one. Error correction
level M (15 %) survives a scratched label while keeping the code small enough for 25 mm.

A label sheet (A4, 3 x 8 labels of 70 x 37 mm, the common address-label layout) prints for each
battery its QR code, identifier and a one-time claim code. Claim codes are stored only as keyed
hashes, so printing a sheet issues fresh codes (the previous unused ones stop working), and only
for batteries that nobody has claimed yet: a new code for an owned battery would let someone
else take it over.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import segno
from django.db import transaction
from django.template.loader import render_to_string

from passport.errors import FieldError, NotFound, NotPermitted, ValidationFailed
from passport.identifiers import IdentifierError, battery_identifier_parse, qr_url
from passport.models import Battery
from passport.services import battery_claim_code_reissue
from passport.services.permissions import require_member

QR_ERROR_LEVEL = "m"
LABEL_SHEET_MAX_BATTERIES = 240  # ten sheets
LABEL_TEMPLATE = "documents/label_sheet.html"


def qr_code(url: str) -> segno.QRCode:
    return segno.make_qr(url, error=QR_ERROR_LEVEL)


def qr_svg(url: str, *, scale: int = 4) -> str:
    """The QR code of `url` as an inline SVG element (no XML declaration)."""
    return qr_code(url).svg_inline(scale=scale, border=2)


def qr_png(url: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def battery_qr_url(battery: Battery) -> str:
    """The Digital Link URL of a battery, whichever of its passports is current."""
    passport = battery.passports.order_by("-id").first()
    if passport is None:
        raise NotFound(f"passport of battery {battery.identifier}")
    return qr_url(passport)


@dataclass(frozen=True)
class Label:
    identifier: str
    url: str
    qr_svg: str
    claim_code: str | None

    @property
    def claim_code_lines(self) -> list[str]:
        """The code in lines of four groups, so that it fits beside the QR code (a claim
        ignores the hyphens and line breaks between groups)."""
        if not self.claim_code:
            return []
        groups = self.claim_code.split("-")
        return ["-".join(groups[i:i + 4]) for i in range(0, len(groups), 4)]


def _batteries_of(user: Any, identifiers: list[Any]) -> list[Battery]:
    if not isinstance(identifiers, list) or not identifiers:
        raise ValidationFailed([FieldError("identifiers", "give a list of battery identifiers")])
    if len(identifiers) > LABEL_SHEET_MAX_BATTERIES:
        raise ValidationFailed([FieldError(
            "identifiers", f"at most {LABEL_SHEET_MAX_BATTERIES} batteries per label sheet, got {len(identifiers)}")])
    canonical: list[str] = []
    errors: list[FieldError] = []
    for position, identifier in enumerate(identifiers):
        try:
            canonical.append(battery_identifier_parse(str(identifier)).identifier)
        except IdentifierError as error:
            errors.append(FieldError(f"identifiers.{position}", str(error), position))
    if errors:
        raise ValidationFailed(errors)
    found = {b.identifier: b for b in Battery.objects.select_related("responsible_operator")
             .filter(identifier__in=canonical)}
    batteries = []
    for position, identifier in enumerate(canonical):
        battery = found.get(identifier)
        if battery is None:
            errors.append(FieldError(f"identifiers.{position}", f"no battery {identifier}", position))
            continue
        batteries.append(battery)
    if errors:
        raise ValidationFailed(errors)
    for battery in batteries:
        # Same answer for every battery that is not the caller's: the sheet reveals nothing.
        try:
            require_member(user, battery.responsible_operator, "print labels of this battery")
        except NotPermitted as error:
            raise NotPermitted("you may print labels only of batteries your organisation is responsible for") from error
    return batteries


def label_sheet_build(*, user: Any, identifiers: list[Any]) -> list[Label]:
    """The labels of a batch of the caller's batteries, issuing fresh claim codes for the
    unclaimed ones (all or none: one transaction)."""
    batteries = _batteries_of(user, identifiers)
    labels = []
    with transaction.atomic():
        for battery in batteries:
            code = None if battery.owner_id is not None else battery_claim_code_reissue(user=user, battery=battery)
            url = battery_qr_url(battery)
            labels.append(Label(battery.identifier, url, qr_svg(url, scale=2), code))
    return labels


def label_sheet_pdf(labels: list[Label]) -> bytes:
    from weasyprint import HTML

    html = render_to_string(LABEL_TEMPLATE, {"labels": labels})
    return HTML(string=html).write_pdf()
