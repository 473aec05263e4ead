"""Who may write: the members of the organisation responsible for the thing, nobody else."""

from __future__ import annotations

from typing import Any

from passport.errors import NotPermitted
from passport.models import Membership, Organisation


def organisation_of(user: Any) -> Organisation | None:
    """The organisation a user acts for, or None for anonymous users and private persons."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = Membership.objects.select_related("organisation").filter(user=user).first()
    return membership.organisation if membership is not None else None


def require_member(user: Any, organisation: Organisation, action: str) -> None:
    """Raise NotPermitted unless `user` acts for `organisation`."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotPermitted(f"sign in as a member of {organisation.name} to {action}")
    acting_for = organisation_of(user)
    if acting_for is None or acting_for.pk != organisation.pk:
        raise NotPermitted(f"only members of {organisation.name} may {action}")
