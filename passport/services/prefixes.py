"""Who may issue which battery identifiers: GS1 company prefixes and ISO/IEC 15459 prefixes
declared on organisations, and GTINs bound to one battery model.

A GS1 company prefix is licensed to one company, and every GTIN that starts with it is that
company's to allocate (GS1 General Specifications 1.4); an ISO/IEC 15459 identifier starts with
the issuing agency code and the company identification the agency gave one company (ISO/IEC
15459-2, -4). A GTIN names one trade item, so one battery model. Without these checks anyone with
an account could register batteries under another maker's identifiers, and the public Digital
Link would then show the squatter as the maker. The prefixes are declared by staff (admin or
`organisation_create`), never by the organisation itself: the licence is a fact from outside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import reduce
from operator import or_

from django.db import IntegrityError, transaction
from django.db.models import Q

from passport.errors import Conflict, FieldError, NotPermitted, ValidationFailed
from passport.identifiers import BatteryIdentifier
from passport.models import BatteryModel, IdentifierPrefix, ModelGtin, Organisation
from passport.vocabulary import IdentifierScheme

# A GS1 company prefix, written in its GTIN-13 form: 4 to 12 digits (GS1 GS 1.4.3; 12 digits
# leaves no item reference, a one-off GTIN).
GS1_PREFIX = re.compile(r"\d{4,12}")
# Issuing agency code (1-3 letters/digits) followed by the company identification; separators
# as in the identifiers themselves.
ISO15459_PREFIX = re.compile(r"[A-Z0-9][A-Z0-9.\-/]{1,29}")


def prefix_clean(scheme: str, prefix: object) -> tuple[str, list[FieldError]]:
    field = f"{scheme}_prefixes"
    if not isinstance(prefix, str):
        return "", [FieldError(field, "each prefix must be text")]
    text = prefix.strip().upper()
    if scheme == IdentifierScheme.GS1:
        if not GS1_PREFIX.fullmatch(text):
            return "", [FieldError(field, f"{prefix!r} is not a GS1 company prefix (4 to 12 digits, "
                                          "in its GTIN-13 form)")]
        return text, []
    if scheme == IdentifierScheme.ISO15459:
        if not ISO15459_PREFIX.fullmatch(text):
            return "", [FieldError(field, f"{prefix!r} is not an ISO/IEC 15459 prefix (issuing agency "
                                          "code and company identification: 2 to 30 of A-Z 0-9 . - /)")]
        return text, []
    return "", [FieldError("scheme", f"must be one of {', '.join(IdentifierScheme.values)}")]


def prefix_overlapping(scheme: str, prefix: str) -> IdentifierPrefix | None:
    """A declared prefix of the scheme that starts with `prefix` or that `prefix` starts with."""
    shorter = [prefix[:length] for length in range(1, len(prefix) + 1)]
    found = IdentifierPrefix.objects.select_related("organisation").filter(scheme=scheme, prefix__in=shorter).first()
    if found is not None:
        return found
    return (
        IdentifierPrefix.objects.select_related("organisation")
        .filter(scheme=scheme, prefix__startswith=prefix)
        .first()
    )


def identifier_prefix_declare(*, organisation: Organisation, scheme: str, prefix: str) -> IdentifierPrefix:
    """Record that `organisation` holds `prefix`. A prefix that overlaps another organisation's
    (one starts with the other) is a Conflict: identifiers under it would have two issuers."""
    text, errors = prefix_clean(scheme, prefix)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        existing = prefix_overlapping(scheme, text)
        if existing is not None:
            if existing.organisation_id == organisation.pk and existing.prefix == text:
                return existing
            if existing.organisation_id != organisation.pk:
                raise Conflict(f"{scheme}_prefixes", f"{text} overlaps {existing.prefix}, declared by "
                                                     f"{existing.organisation.name}")
        try:
            return IdentifierPrefix.objects.create(organisation=organisation, scheme=scheme, prefix=text)
        except IntegrityError as error:
            raise Conflict(f"{scheme}_prefixes", f"{text} is already declared") from error


def _candidates(text: str) -> list[str]:
    return [text[:length] for length in range(2, min(len(text), 30) + 1)]


def identifier_issuer(identity: BatteryIdentifier) -> IdentifierPrefix | None:
    """The declared prefix the identifier falls under, or None."""
    return issuers_of([identity]).get(identity.identifier)


def _scheme_and_text(identity: BatteryIdentifier) -> tuple[str, str]:
    if identity.gtin is not None:
        # The company prefix follows the indicator digit of the GTIN-14.
        return IdentifierScheme.GS1, identity.gtin[1:]
    return IdentifierScheme.ISO15459, identity.identifier


def issuers_of(identities: Iterable[BatteryIdentifier]) -> dict[str, IdentifierPrefix]:
    """{identifier: the declared prefix it falls under (the longest)} for those that fall under
    one. The prefixes loaded are those sharing the identifiers' first two characters (a few
    organisations' worth), then each identifier is matched in memory: 50,000 identifiers with
    distinct serials cost one query per scheme, not an IN list of every head of every one."""
    keyed = [(identity, *_scheme_and_text(identity)) for identity in identities]
    heads: dict[str, set[str]] = {}
    for _, scheme, text in keyed:
        heads.setdefault(scheme, set()).add(text[:2])
    declared: dict[tuple[str, str], IdentifierPrefix] = {}
    for scheme, starts in heads.items():
        wanted = reduce(or_, (Q(prefix__startswith=start) for start in sorted(starts)))
        for row in IdentifierPrefix.objects.select_related("organisation").filter(wanted, scheme=scheme):
            declared[(scheme, row.prefix)] = row
    found: dict[str, IdentifierPrefix] = {}
    for identity, scheme, text in keyed:
        for candidate in reversed(_candidates(text)):
            row = declared.get((scheme, candidate))
            if row is not None:
                found[identity.identifier] = row
                break
    return found


def _issuer_refusal(identity: BatteryIdentifier, issuer: IdentifierPrefix | None, organisation: Organisation) -> str | None:
    what = f"GTIN {identity.gtin}" if identity.gtin is not None else f"identifier {identity.identifier}"
    if issuer is None:
        scheme = "GS1 company prefix" if identity.gtin is not None else "ISO/IEC 15459 prefix"
        return (f"{what} is under no {scheme} declared by {organisation.name}; "
                "an identifier must be issued under the registering organisation's own prefix")
    if issuer.organisation_id != organisation.pk:
        return f"{what} is issued under prefix {issuer.prefix}, which belongs to another organisation"
    return None


def identifiers_authorise(
    *, organisation: Organisation, model: BatteryModel, identities: Sequence[tuple[int | None, BatteryIdentifier]]
) -> None:
    """Raise NotPermitted (403) naming every refused row unless each identifier is issued under
    one of `organisation`'s prefixes and each GTIN names `model` (or no model yet). Nothing is
    bound here; gtins_bind does that when the batteries are written."""
    issuers = issuers_of(identity for _, identity in identities)
    gtins = {identity.gtin for _, identity in identities if identity.gtin is not None}
    bound = dict(ModelGtin.objects.filter(gtin__in=gtins).values_list("gtin", "model_id"))
    errors: list[FieldError] = []
    for index, identity in identities:
        field = "gtin" if identity.gtin is not None else "identifier"
        refusal = _issuer_refusal(identity, issuers.get(identity.identifier), organisation)
        if refusal is None and identity.gtin is not None and bound.get(identity.gtin, model.pk) != model.pk:
            refusal = f"GTIN {identity.gtin} names another battery model; a GTIN names one model"
        if refusal is not None:
            errors.append(FieldError(field, refusal, index))
    if errors:
        shown = "; ".join(
            (f"row {e.index}: " if e.index is not None else "") + e.reason for e in errors[:3]
        )
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise NotPermitted(f"{shown}{more}", errors)


def gtins_bind(*, model: BatteryModel, gtins: Iterable[str]) -> None:
    """Bind unbound GTINs to `model` (inside the caller's transaction). Two registrations racing
    to bind the same new GTIN both succeed when it is for the same model; when another model won
    the race, NotPermitted (and the caller's transaction rolls back)."""
    wanted = set(gtins)
    if not wanted:
        return
    ModelGtin.objects.bulk_create(
        [ModelGtin(gtin=gtin, model=model) for gtin in sorted(wanted)], ignore_conflicts=True
    )
    taken = sorted(
        ModelGtin.objects.filter(gtin__in=wanted).exclude(model=model).values_list("gtin", flat=True)
    )
    if taken:
        raise NotPermitted(f"GTIN {taken[0]} names another battery model; a GTIN names one model",
                           [FieldError("gtin", f"GTIN {gtin} names another battery model") for gtin in taken])


def model_gtins_declare(*, model: BatteryModel, gtins: object) -> None:
    """A model's own GTINs, given at model create/update: each must be valid, under the
    manufacturer's GS1 prefix, and not name another model (403 otherwise)."""
    from passport.identifiers import IdentifierError, gtin_normalise

    if not isinstance(gtins, list) or not all(isinstance(g, str) for g in gtins):
        raise ValidationFailed([FieldError("gtins", "must be a list of GTINs (text)")])
    errors: list[FieldError] = []
    identities: list[tuple[int | None, BatteryIdentifier]] = []
    for position, value in enumerate(gtins):
        try:
            gtin14 = gtin_normalise(value)
        except IdentifierError as error:
            errors.append(FieldError(f"gtins.{position}", str(error)))
            continue
        identities.append((position, BatteryIdentifier(f"(01){gtin14}", gtin14, "", "")))
    if errors:
        raise ValidationFailed(errors)
    try:
        identifiers_authorise(organisation=model.manufacturer, model=model, identities=identities)
    except NotPermitted as refusal:
        raise NotPermitted(refusal.reason, [
            FieldError(f"gtins.{e.index}", e.reason) for e in refusal.errors
        ]) from refusal
    gtins_bind(model=model, gtins=[identity.gtin for _, identity in identities])
