"""Access rights per attribute (Art. 77(2), Annex XIII): for EVERY attribute of the table, each
audience sees it exactly when its tier is among the audience's tiers — and the tiers are not
nested. Also: lower views on request, access logs, single elements."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from passport.access import access_tiers, access_view, filter_document
from passport.attributes import ATTRIBUTES, TIER_OF, Tier, View
from passport.errors import NotFound, NotPermitted, ValidationFailed
from passport.models import AccessLog
from passport.services import (
    access_grant_create,
    access_grant_revoke,
    battery_claim,
    passport_document,
    passport_element,
    passport_read,
)

P, R, A, I = Tier.PUBLIC, Tier.RESTRICTED, Tier.AUTHORITIES, Tier.INDIVIDUAL  # noqa: E741

# Who is reading, and what Art. 77(2) lets them read.
AUDIENCES: dict[str, frozenset[Tier]] = {
    "anonymous": frozenset({P}),
    "private person, not the owner": frozenset({P}),
    "other manufacturer": frozenset({P}),
    "legitimate interest, no interest in this battery": frozenset({P, R}),
    "legitimate interest, granted by the owner": frozenset({P, R, I}),
    "owner": frozenset({P, R, I}),
    "authority": frozenset({P, R, A}),
    "responsible operator": frozenset({P, R, A, I}),
    "staff": frozenset({P, R, A, I}),
}


@dataclass
class Readers:
    by_audience: dict


@pytest.fixture
def readers(complete_battery, registered, users, organisations) -> Readers:
    battery_claim(user=users.owner, identifier=complete_battery.identifier, claim_code=registered.claim_code)
    access_grant_create(user=users.owner, battery=complete_battery, organisation=organisations.repurposer)
    return Readers({
        "anonymous": None,
        "private person, not the owner": users.stranger,
        "other manufacturer": users.other_manufacturer,
        "legitimate interest, no interest in this battery": users.repairer,
        "legitimate interest, granted by the owner": users.repurposer,
        "owner": users.owner,
        "authority": users.authority,
        "responsible operator": users.manufacturer,
        "staff": users.staff,
    })


@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: f"{a.number}-{a.key}")
def test_each_attribute_reaches_exactly_the_audiences_of_its_tier(attribute, readers, passport):
    for audience, allowed in AUDIENCES.items():
        document = passport_read(user=readers.by_audience[audience], passport=passport, endpoint="test").document
        if attribute.tier in allowed:
            assert attribute.key in document, f"{audience} must see {attribute.key} ({attribute.tier})"
            assert document[attribute.key] is not None, f"{attribute.key} has no value in the fixture"
        else:
            assert attribute.key not in document, f"{audience} must NOT see {attribute.key} ({attribute.tier})"


@pytest.mark.parametrize("audience", AUDIENCES)
def test_the_audiences_tiers(audience, readers, complete_battery):
    complete_battery.refresh_from_db()
    assert access_tiers(user=readers.by_audience[audience], battery=complete_battery) == AUDIENCES[audience]


def test_the_full_view_carries_every_attribute_with_a_value(readers, passport):
    document = passport_read(user=readers.by_audience["responsible operator"], passport=passport,
                             endpoint="test").document
    assert set(document) == set(TIER_OF)
    assert [a.key for a in ATTRIBUTES if document[a.key] is None] == []


def test_authorities_never_see_point_4_and_legitimate_interest_never_point_3(readers, passport):
    authority = passport_read(user=readers.by_audience["authority"], passport=passport, endpoint="test").document
    legitimate = passport_read(user=readers.by_audience["legitimate interest, granted by the owner"],
                               passport=passport, endpoint="test").document
    assert "test_reports" in authority and "state_of_charge_pct" not in authority
    assert "state_of_charge_pct" in legitimate and "test_reports" not in legitimate


def test_filter_document_drops_keys_nobody_classified():
    assert filter_document({"rated_capacity_ah": 100, "secret": 1}, View.FULL.tiers()) == {"rated_capacity_ah": 100}


def test_a_lower_view_may_be_requested_never_a_higher_one(readers, passport, complete_battery):
    operator = readers.by_audience["responsible operator"]
    public = passport_read(user=operator, passport=passport, view="public", endpoint="test").document
    assert {TIER_OF[key] for key in public} == {P}
    authority_view = passport_read(user=operator, passport=passport, view=View.AUTHORITY, endpoint="test").document
    assert {TIER_OF[key] for key in authority_view} == {P, R, A}
    with pytest.raises(NotPermitted):
        passport_read(user=readers.by_audience["legitimate interest, granted by the owner"], passport=passport,
                      view=View.AUTHORITY, endpoint="test")
    with pytest.raises(NotPermitted):
        passport_read(user=None, passport=passport, view=View.LEGITIMATE, endpoint="test")
    with pytest.raises(NotPermitted):
        passport_read(user=operator, passport=passport, view="everything", endpoint="test")
    # Without interest, "legitimate" means points 1 and 2.
    assert access_tiers(user=readers.by_audience["legitimate interest, no interest in this battery"],
                        battery=complete_battery, view="legitimate") == {P, R}


def test_access_view_names_the_audience(readers, complete_battery):
    complete_battery.refresh_from_db()
    views = {audience: access_view(user=user, battery=complete_battery) for audience, user in readers.by_audience.items()}
    assert views["anonymous"] is View.PUBLIC
    assert views["legitimate interest, no interest in this battery"] is View.LEGITIMATE
    assert views["authority"] is View.AUTHORITY
    assert views["responsible operator"] is View.FULL


def test_restricted_reads_are_logged_with_who_what_when(readers, passport, users, organisations):
    passport_read(user=users.authority, passport=passport, endpoint="/api/v1/dpp/x")
    [log] = AccessLog.objects.all()
    assert log.user == users.authority and log.organisation == organisations.authority
    assert log.battery == passport.battery and log.passport == passport
    assert log.view == "authority" and log.endpoint == "/api/v1/dpp/x" and log.at is not None
    assert "test_reports" in log.attribute_keys and "rated_capacity_ah" not in log.attribute_keys
    assert "state_of_charge_pct" not in log.attribute_keys

    passport_read(user=users.repairer, passport=passport, endpoint="e")
    assert AccessLog.objects.filter(user=users.repairer, view="legitimate").count() == 1


def test_public_and_operator_reads_are_not_logged(readers, passport, users):
    for user in (None, users.stranger, users.manufacturer):
        passport_read(user=user, passport=passport, endpoint="e")
    passport_read(user=users.authority, passport=passport, view="public", endpoint="e")
    assert AccessLog.objects.count() == 0


def test_single_elements_by_path(readers, passport, users):
    assert passport_element(user=None, passport=passport, path="rated_capacity_ah") == 100
    assert passport_element(user=None, passport=passport, path="hazardous_substances/0/cas_number") == "21324-40-3"
    assert passport_element(user=users.authority, passport=passport, path="test_reports.0.issued_by").startswith("TÜV")
    with pytest.raises(NotPermitted):
        passport_element(user=None, passport=passport, path="state_of_charge_pct")
    with pytest.raises(NotPermitted):
        passport_element(user=users.authority, passport=passport, path="accident_information")
    with pytest.raises(NotFound):
        passport_element(user=None, passport=passport, path="no_such_attribute")
    with pytest.raises(NotFound):
        passport_element(user=None, passport=passport, path="hazardous_substances.7.name")
    assert AccessLog.objects.filter(user=users.authority).count() == 1


def test_an_absent_value_is_not_found_only_for_those_who_may_read_it(passport, users, battery):
    with pytest.raises(NotFound):
        passport_element(user=users.manufacturer, passport=passport, path="state_of_charge_pct")
    with pytest.raises(NotPermitted):
        passport_element(user=None, passport=passport, path="state_of_charge_pct")


def test_grants_are_the_owners_to_give_and_revoke(owned_battery, users, organisations, passport):
    with pytest.raises(NotPermitted):
        access_grant_create(user=users.stranger, battery=owned_battery, organisation=organisations.repairer)
    with pytest.raises(ValidationFailed):
        access_grant_create(user=users.owner, battery=owned_battery, organisation=organisations.authority)
    access_grant_create(user=users.owner, battery=owned_battery, organisation=organisations.repairer)
    assert I in access_tiers(user=users.repairer, battery=owned_battery)
    access_grant_revoke(user=users.owner, battery=owned_battery, organisation=organisations.repairer)
    assert access_tiers(user=users.repairer, battery=owned_battery) == {P, R}


def test_the_document_is_the_same_for_everyone_before_filtering(passport):
    document = passport_document(passport=passport)
    assert filter_document(document, View.FULL.tiers()) == document
