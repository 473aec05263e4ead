"""What a read hands back besides the document: the tiers and the view, so callers need not work
them out again."""

from __future__ import annotations

import pytest

from passport.attributes import TIER_OF, Tier, View
from passport.services import passport_read

pytestmark = pytest.mark.django_db


def test_a_reading_carries_the_tiers_and_view_it_was_filtered_for(users, complete_battery, passport):
    public = passport_read(user=None, passport=passport, endpoint="test")
    assert (public.tiers, public.view) == (View.PUBLIC.tiers(), View.PUBLIC)
    assert {TIER_OF[key] for key in public.document} == {Tier.PUBLIC}

    authority = passport_read(user=users.authority, passport=passport, endpoint="test")
    assert (authority.tiers, authority.view) == (View.AUTHORITY.tiers(), View.AUTHORITY)

    lowered = passport_read(user=users.manufacturer, passport=passport, view="legitimate", endpoint="test")
    assert lowered.view == View.LEGITIMATE and Tier.AUTHORITIES not in lowered.tiers
    assert not any(TIER_OF[key] == Tier.AUTHORITIES for key in lowered.document)
