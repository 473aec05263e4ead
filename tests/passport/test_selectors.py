"""The read queries the views use: the passport in force at a date, a battery's current passport
in one query, the owner's batteries, and the organisations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from passport import selectors
from passport.errors import NotFound
from passport.identifiers import digital_link_path
from passport.services import battery_claim, handover_accept, handover_offer
from passport.vocabulary import BatteryStatus, OrganisationKind, PassportState

pytestmark = pytest.mark.django_db


def repurpose_in_place(battery, users, organisations, at_time, moment: dt.datetime):
    with at_time(moment):
        offer = handover_offer(user=users.manufacturer, battery=battery, status=BatteryStatus.REPURPOSED,
                               operator=organisations.repurposer, reason="second life")
        return handover_accept(user=users.repurposer, handover=offer)


# --- passport_in_force -------------------------------------------------------------------------


def test_the_passport_in_force_is_the_latest_created_by_then(battery, passport, users, organisations, at_time):
    later = passport.created_at + dt.timedelta(days=30)
    new = repurpose_in_place(battery, users, organisations, at_time, later)

    assert selectors.passport_in_force(battery=battery, at=passport.created_at) == passport
    assert selectors.passport_in_force(battery=battery, at=later - dt.timedelta(seconds=1)) == passport
    assert selectors.passport_in_force(battery=battery, at=later) == new
    assert selectors.passport_in_force(battery=battery, at=later + dt.timedelta(days=400)) == new


def test_before_the_first_passport_there_is_none_in_force(battery, passport):
    with pytest.raises(NotFound, match="at "):
        selectors.passport_in_force(battery=battery, at=passport.created_at - dt.timedelta(seconds=1))


# --- passport_of_battery and battery_passport --------------------------------------------------


def test_the_current_passport_by_any_identifier_form_in_one_query(battery, passport, django_assert_num_queries):
    for identifier in (battery.identifier, digital_link_path(battery.gtin, battery.serial)):
        with django_assert_num_queries(1):
            found = selectors.passport_of_battery(identifier=identifier)
            assert found == passport and found.battery.identifier == battery.identifier


def test_after_repurposing_the_new_passport_is_current(battery, passport, users, organisations, at_time):
    new = repurpose_in_place(battery, users, organisations, at_time, passport.created_at + dt.timedelta(days=1))
    assert selectors.passport_of_battery(identifier=battery.identifier) == new
    assert selectors.battery_passport(battery=battery) == new


def test_a_battery_built_into_another_answers_with_its_last_passport(register_battery, users, organisations, hand_over):
    first, second = register_battery(), register_battery()
    new = hand_over(
        user=users.manufacturer, battery=first.battery, predecessors=[second.battery],
        status=BatteryStatus.REPURPOSED, operator=organisations.repurposer,
        new_identifier="UN.SECONDLIFE.R10-0001", reason="two modules into one rack",
    )
    for registered in (first, second):
        current = selectors.passport_of_battery(identifier=registered.battery.identifier)
        assert current == registered.passport and current.state == PassportState.SUPERSEDED
        assert selectors.battery_passport(battery=registered.battery) == registered.passport
    assert selectors.passport_of_battery(identifier="un.secondlife.r10-0001") == new


def test_an_unknown_or_malformed_identifier_is_not_found(battery):
    with pytest.raises(NotFound, match="'UN.NO.SUCH'"):
        selectors.passport_of_battery(identifier="UN.NO.SUCH")
    with pytest.raises(NotFound):
        selectors.passport_of_battery(identifier="(01)123(21)X")


def test_battery_passport_keeps_the_callers_battery(battery, passport, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = selectors.battery_passport(battery=battery)
        assert found.battery is battery


# --- battery_list_owned ------------------------------------------------------------------------


def test_an_owner_lists_exactly_their_batteries(register_battery, users):
    mine = [register_battery() for _ in range(2)]
    register_battery()  # nobody's
    theirs = register_battery()
    for registered in mine:
        battery_claim(user=users.owner, identifier=registered.battery.identifier, claim_code=registered.claim_code)
    battery_claim(user=users.stranger, identifier=theirs.battery.identifier, claim_code=theirs.claim_code)

    owned = list(selectors.battery_list_owned(user=users.owner))
    assert [b.identifier for b in owned] == sorted(r.battery.identifier for r in mine)
    assert [b.identifier for b in selectors.battery_list_owned(user=users.stranger)] == [theirs.battery.identifier]
    assert list(selectors.battery_list_owned(user=users.manufacturer)) == []
    assert list(selectors.battery_list_owned(user=AnonymousUser())) == []


# --- organisations -----------------------------------------------------------------------------


def test_organisations_by_name_kind_and_part_of_the_name(organisations):
    every = list(selectors.organisation_list())
    assert [o.name for o in every] == sorted(o.name for o in every) and len(every) == 8
    assert list(selectors.organisation_list(kind=OrganisationKind.RECYCLER)) == [organisations.recycler]
    assert list(selectors.organisation_list(name_contains="gmbh", kind=OrganisationKind.REPAIRER)) == [
        organisations.repairer
    ]
    assert {o.name for o in selectors.organisation_list(name_contains="GMBH")} == {
        "Voltaro Energy GmbH", "ReCell Recycling GmbH", "SolarFix Service GmbH",
    }


def test_an_organisation_by_id(organisations):
    assert selectors.organisation_get(organisation_id=organisations.pro.pk) == organisations.pro
    with pytest.raises(NotFound, match="organisation 0"):
        selectors.organisation_get(organisation_id=0)
