"""Organisations, memberships and the owner's access grants."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from passport.errors import Conflict, FieldError, NotPermitted, ValidationFailed
from passport.identifiers import gln_is_valid, lei_is_valid
from passport.models import AccessGrant, Battery, Membership, Organisation
from passport.services.prefixes import identifier_prefix_declare, prefix_clean
from passport.values import CountryCode, Email, Text, Url
from passport.vocabulary import IdentifierScheme, MembershipRole, OrganisationKind

PREFIX_FIELDS = {"gs1_prefixes": IdentifierScheme.GS1, "iso15459_prefixes": IdentifierScheme.ISO15459}

ORGANISATION_TEXT_FIELDS = {
    "eori": 17,
    "vat": 20,
    "street": 200,
    "postal_code": 20,
    "city": 100,
}


def _organisation_errors(kind: Any, name: Any, fields: dict) -> tuple[dict, list[FieldError]]:
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    if kind not in OrganisationKind.values:
        errors.append(FieldError("kind", f"must be one of {', '.join(OrganisationKind.values)}"))
    name_value, name_errors = Text(200).clean(name, "name")
    errors.extend(name_errors)
    cleaned["name"] = name_value
    unknown = set(fields) - set(ORGANISATION_TEXT_FIELDS) - {"lei", "gln", "country", "website", "email"} - set(PREFIX_FIELDS)
    errors.extend(FieldError(key, "is not a field of an organisation") for key in sorted(unknown))

    lei = (fields.get("lei") or "").strip().upper()
    if lei and not lei_is_valid(lei):
        errors.append(FieldError("lei", f"{lei!r} is not a valid LEI (ISO 17442: 20 characters "
                                        "ending in two MOD 97-10 check digits)"))
    cleaned["lei"] = lei
    gln = (fields.get("gln") or "").strip()
    if gln and not gln_is_valid(gln):
        errors.append(FieldError("gln", f"{gln!r} is not a valid GLN (13 digits with a GS1 "
                                        "check digit)"))
    cleaned["gln"] = gln
    for key, kind_of_value in (("country", CountryCode()), ("website", Url()), ("email", Email())):
        if fields.get(key):
            value, value_errors = kind_of_value.clean(fields[key], key)
            errors.extend(value_errors)
            cleaned[key] = value
    for key, length in ORGANISATION_TEXT_FIELDS.items():
        if fields.get(key):
            value, value_errors = Text(length).clean(fields[key], key)
            errors.extend(value_errors)
            cleaned[key] = value
    return cleaned, errors


def organisation_clean(*, kind: Any, name: Any, fields: dict) -> dict[str, Any]:
    """The organisation's values as stored, or ValidationFailed naming each bad field: the one
    check of an organisation, for organisation_create and for the admin's form."""
    cleaned, errors = _organisation_errors(kind, name, fields)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def organisation_create(*, kind: str, name: str, **fields: Any) -> Organisation:
    """Create an organisation. Identifiers are checked (LEI check digits, GLN check digit).
    `gs1_prefixes` and `iso15459_prefixes` (lists) declare the identifier prefixes licensed to
    it (passport.services.prefixes): only under those may it register batteries."""
    prefixes = {scheme: fields.pop(field, None) or [] for field, scheme in PREFIX_FIELDS.items()}
    errors: list[FieldError] = []
    for field, scheme in PREFIX_FIELDS.items():
        if not isinstance(prefixes[scheme], list):
            errors.append(FieldError(field, "must be a list of prefixes"))
            prefixes[scheme] = []
        for prefix in prefixes[scheme]:
            errors.extend(prefix_clean(scheme, prefix)[1])
    try:
        cleaned = organisation_clean(kind=kind, name=name, fields=fields)
    except ValidationFailed as failed:
        raise ValidationFailed([*failed.errors, *errors]) from None
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(kind=kind, **cleaned)
            for scheme, declared in prefixes.items():
                for prefix in declared:
                    identifier_prefix_declare(organisation=organisation, scheme=scheme, prefix=prefix)
            return organisation
    except IntegrityError as error:
        raise Conflict("lei" if cleaned["lei"] else "gln",
                       "another organisation already has this identifier") from error


def membership_create(*, user: Any, organisation: Organisation, role: str = MembershipRole.MEMBER) -> Membership:
    """Make `user` act for `organisation` (a user acts for at most one organisation)."""
    if role not in MembershipRole.values:
        raise ValidationFailed([FieldError("role", f"must be one of {', '.join(MembershipRole.values)}")])
    if Membership.objects.filter(user=user).exists():
        raise Conflict("user", f"{user} already acts for an organisation")
    return Membership.objects.create(user=user, organisation=organisation, role=role)


def _is_owner(user: Any, battery: Battery) -> bool:
    """Checked against the stored row: ownership may have changed since `battery` was loaded."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and Battery.objects.filter(pk=battery.pk, owner_id=user.pk).exists()
    )


def access_grant_create(*, user: Any, battery: Battery, organisation: Organisation) -> AccessGrant:
    """The owner lets `organisation` read the individual data (Annex XIII point 4) of the
    owner's battery, e.g. an energy aggregator or a repairer acting for the owner."""
    if not _is_owner(user, battery):
        raise NotPermitted("only the owner of the battery may grant access to its data")
    if organisation.kind == OrganisationKind.AUTHORITY:
        # Art. 77(2): authorities never read point 4, and the owner cannot change that.
        raise ValidationFailed([FieldError(
            "organisation",
            "authorities cannot be granted access to individual battery data (Art. 77(2))",
        )])
    grant, _ = AccessGrant.objects.get_or_create(
        battery=battery, organisation=organisation, defaults={"granted_by": user}
    )
    return grant


def access_grant_revoke(*, user: Any, battery: Battery, organisation: Organisation) -> None:
    if not _is_owner(user, battery):
        raise NotPermitted("only the owner of the battery may revoke access to its data")
    AccessGrant.objects.filter(battery=battery, organisation=organisation).delete()
