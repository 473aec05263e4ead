"""Who may write: the members of the organisation responsible for the thing, nobody else."""

from __future__ import annotations

from typing import Any

from passport.access import organisation_of
from passport.errors import NotPermitted
from passport.models import Organisation


def require_member(user: Any, organisation: Organisation, action: str) -> None:
    """Raise NotPermitted unless `user` acts for `organisation`."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotPermitted(f"sign in as a member of {organisation.name} to {action}")
    acting_for = organisation_of(user)
    if acting_for is None or acting_for.pk != organisation.pk:
        raise NotPermitted(f"only members of {organisation.name} may {action}")
