"""Who may read what (Art. 77(2), Annex XIII), and THE filter every output goes through.

The tiers are not nested: authorities never see point 4 (INDIVIDUAL); persons with a legitimate
interest never see point 3 (AUTHORITIES) and see point 4 only for batteries they have an
interest in; the responsible economic operator (and staff) see everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from passport.attributes import TIER_OF, Tier, View
from passport.errors import NotPermitted
from passport.models import AccessGrant, Battery, Membership, Organisation


def organisation_of(user: Any) -> Organisation | None:
    """The organisation a user acts for, or None for anonymous users and private persons."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = Membership.objects.select_related("organisation").filter(user=user).first()
    return membership.organisation if membership is not None else None


def acts_for_authority(user: Any) -> bool:
    """Market surveillance authorities, notified bodies and the Commission (and staff)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return True
    organisation = organisation_of(user)
    return organisation is not None and organisation.is_authority


def filter_document(document: dict, tiers: Iterable[Tier]) -> dict:
    """Keep the keys whose tier is in `tiers`. Keys not declared in the attribute table are
    dropped: what nobody classified, nobody reads."""
    allowed = frozenset(tiers)
    return {key: value for key, value in document.items() if TIER_OF.get(key) in allowed}


def _own_tiers(user: Any, organisation: Organisation | None, battery: Battery) -> frozenset[Tier]:
    """Everything the user's position gives, before any explicit choice of a lower view."""
    if user is None or not getattr(user, "is_authenticated", False):
        return View.PUBLIC.tiers()
    if user.is_staff:
        return View.FULL.tiers()
    if organisation is not None and organisation.pk == battery.responsible_operator_id:
        return View.FULL.tiers()
    tiers = set(View.PUBLIC.tiers())
    if battery.owner_id is not None and battery.owner_id == user.pk:
        tiers |= View.LEGITIMATE.tiers(interest=True)
    if organisation is not None:
        if organisation.is_authority:
            tiers |= View.AUTHORITY.tiers()
        else:
            if organisation.is_legitimate_interest:
                tiers |= View.LEGITIMATE.tiers(interest=False)
            # The owner's grant lets an organisation act for the owner on this battery's own
            # data: point 4, nothing more (a manufacturer granted access does not thereby read
            # another maker's point-2 composition and dismantling data).
            if AccessGrant.objects.filter(battery=battery, organisation=organisation).exists():
                tiers.add(Tier.INDIVIDUAL)
    return frozenset(tiers)


def access_tiers(*, user: Any, battery: Battery, view: View | str | None = None) -> frozenset[Tier]:
    """The tiers `user` may read for `battery`. With `view`, the caller asks for a lower view
    (e.g. to see what the public sees); asking for more than one's own raises NotPermitted."""
    return acting_tiers(user=user, organisation=organisation_of(user), battery=battery, view=view)


def acting_tiers(
    *, user: Any, organisation: Organisation | None, battery: Battery, view: View | str | None = None
) -> frozenset[Tier]:
    """access_tiers for a caller who has already looked up `organisation_of(user)`: a read that
    also logs, or a listing of many batteries, asks for the membership once, not per check."""
    own = _own_tiers(user, organisation, battery)
    if view is None:
        return own
    try:
        wanted = View(view)
    except ValueError as error:
        raise NotPermitted(f"unknown view {view!r}; use one of {', '.join(View)}") from error
    if wanted is view_of_tiers(own):
        return own
    requested = wanted.tiers(interest=Tier.INDIVIDUAL in own)
    if not requested <= own:
        raise NotPermitted(f"you may not read the {wanted} view of this battery's passport")
    return requested


def view_of_tiers(tiers: Iterable[Tier]) -> View:
    """The audience a set of tiers corresponds to (for labels and access logs)."""
    tier_set = frozenset(tiers)
    if tier_set >= View.FULL.tiers():
        return View.FULL
    if Tier.AUTHORITIES in tier_set:
        return View.AUTHORITY
    if Tier.RESTRICTED in tier_set or Tier.INDIVIDUAL in tier_set:
        return View.LEGITIMATE
    return View.PUBLIC


def access_view(*, user: Any, battery: Battery) -> View:
    return view_of_tiers(access_tiers(user=user, battery=battery))


def acts_as_operator(organisation: Organisation | None, battery: Battery) -> bool:
    """The responsible operator maintains the passport (Art. 77(4)); its reads are not logged."""
    return organisation is not None and organisation.pk == battery.responsible_operator_id
