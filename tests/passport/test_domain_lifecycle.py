"""The lifecycle: re-use, waste, recycling, repurposing and remanufacturing (Art. 77(7)-(8))."""

from __future__ import annotations

import itertools

import pytest

from passport.errors import Conflict, NotPermitted, TransitionRefused, ValidationFailed
from passport.models import AccessGrant, Battery, Passport
from passport.services import (
    access_grant_create,
    battery_change_status,
    battery_claim,
    battery_claim_code_reissue,
    battery_model_create,
    battery_update,
    passport_document,
    passport_read,
    transition_refusal,
    version_chain_verify,
)
from passport.services.lifecycle import TRANSITIONS
from passport.vocabulary import BatteryStatus, Category, Chemistry

S = BatteryStatus
ALLOWED = {
    (S.ORIGINAL, S.REUSED), (S.ORIGINAL, S.REPURPOSED), (S.ORIGINAL, S.REMANUFACTURED), (S.ORIGINAL, S.WASTE),
    (S.REUSED, S.REPURPOSED), (S.REUSED, S.REMANUFACTURED), (S.REUSED, S.WASTE),
    (S.REPURPOSED, S.REUSED), (S.REPURPOSED, S.REPURPOSED), (S.REPURPOSED, S.REMANUFACTURED), (S.REPURPOSED, S.WASTE),
    (S.REMANUFACTURED, S.REUSED), (S.REMANUFACTURED, S.REPURPOSED), (S.REMANUFACTURED, S.REMANUFACTURED),
    (S.REMANUFACTURED, S.WASTE),
    # Waste → re-used: preparation for re-use, with a new passport (Art. 77(7)).
    (S.WASTE, S.RECYCLED), (S.WASTE, S.REUSED), (S.WASTE, S.REPURPOSED), (S.WASTE, S.REMANUFACTURED),
}


@pytest.mark.parametrize(("current", "new"), list(itertools.product(S.values, S.values)))
def test_the_transition_table(current, new):
    refusal = transition_refusal(current, new)
    assert (refusal is None) == ((current, new) in ALLOWED), refusal
    assert (new in TRANSITIONS[current]) == ((current, new) in ALLOWED)


def current(battery: Battery) -> Passport:
    return Passport.objects.exclude(state="superseded").get(battery=battery)


def test_re_use_keeps_the_passport_and_the_operator(battery, passport, users, organisations):
    result = battery_change_status(user=users.manufacturer, battery=battery, status=S.REUSED,
                                   reason="repaired: BMS board replaced")
    assert result.pk == passport.pk and result.state == "active"
    battery.refresh_from_db()
    assert battery.status == S.REUSED and battery.responsible_operator == organisations.manufacturer
    latest = passport.versions.order_by("-seq").first()
    assert latest.seq == 2 and latest.changes["status"] == {"old": "original", "new": "re-used"}
    assert set(latest.changes) == {"status", "performance_history"}  # Annex XIII 4(a)
    assert latest.reason == "repaired: BMS board replaced"


def test_re_use_does_not_move_responsibility(battery, users, organisations):
    with pytest.raises(ValidationFailed) as caught:
        battery_change_status(user=users.manufacturer, battery=battery, status=S.REUSED,
                              operator=organisations.repairer, reason="r")
    assert caught.value.errors[0].field == "operator"


def test_waste_moves_responsibility_and_the_new_operator_writes(owned_battery, passport, users, organisations, hand_over):
    access_grant_create(user=users.owner, battery=owned_battery, organisation=organisations.repairer)
    hand_over(user=users.manufacturer, battery=owned_battery, status=S.WASTE,
                          operator=organisations.recycler, reason="collected at the municipal site")
    owned_battery.refresh_from_db()
    assert owned_battery.status == S.WASTE
    assert owned_battery.responsible_operator == organisations.recycler
    assert owned_battery.owner is None and not AccessGrant.objects.exists()
    assert current(owned_battery).pk == passport.pk
    assert passport_document(passport=passport)["operator_information"]["name"] == "ReCell Recycling GmbH"

    with pytest.raises(NotPermitted):
        battery_update(user=users.manufacturer, battery=owned_battery, data={"state_of_charge_pct": 10},
                       reason="the manufacturer no longer maintains it")
    battery_update(user=users.recycler, battery=owned_battery, data={"state_of_charge_pct": 10},
                   reason="discharged for storage")


@pytest.mark.parametrize("taker", ["repairer", "authority", "repurposer"])
def test_waste_goes_to_a_producer_pro_or_waste_operator_only(battery, users, organisations, taker):
    with pytest.raises(ValidationFailed) as caught:
        battery_change_status(user=users.manufacturer, battery=battery, status=S.WASTE,
                              operator=getattr(organisations, taker), reason="r")
    assert caught.value.errors[0].field == "operator"


def test_waste_needs_the_operator_taking_over(battery, users):
    with pytest.raises(ValidationFailed) as caught:
        battery_change_status(user=users.manufacturer, battery=battery, status=S.WASTE, reason="r")
    assert "Art. 77(7)" in caught.value.errors[0].reason


def test_recycling_ceases_the_passport_read_only_but_readable(battery, passport, users, organisations, hand_over):
    hand_over(user=users.manufacturer, battery=battery, status=S.WASTE,
                          operator=organisations.pro, reason="collected by the PRO")
    battery_change_status(user=users.pro, battery=battery, status=S.RECYCLED, reason="recycled at ReCell")
    passport.refresh_from_db()
    assert passport.state == "ceased" and passport.ceased_at is not None
    document = passport_read(user=None, passport=passport, endpoint="test").document
    assert document["state"] == "ceased" and document["rated_capacity_ah"] == 100

    with pytest.raises(TransitionRefused, match="ceased"):
        battery_update(user=users.pro, battery=battery, data={"state_of_charge_pct": 0}, reason="r")
    for status in S.values:
        with pytest.raises(TransitionRefused):
            battery_change_status(user=users.pro, battery=battery, status=status, reason="r",
                                  operator=organisations.repurposer)
    assert all(report.ok for report in version_chain_verify(subject=passport))


def test_only_waste_is_recycled(battery, users):
    with pytest.raises(TransitionRefused) as caught:
        battery_change_status(user=users.manufacturer, battery=battery, status=S.RECYCLED, reason="r")
    assert "only a waste battery can be recycled" in caught.value.reason


def test_repurposing_in_place_gives_a_new_linked_passport(battery, passport, users, organisations, hand_over):
    new = hand_over(user=users.manufacturer, battery=battery, status=S.REPURPOSED,
                    operator=organisations.repurposer, reason="second life as grid buffer")
    passport.refresh_from_db()
    battery.refresh_from_db()
    assert new.pk != passport.pk and new.battery_id == battery.pk and new.state == "active"
    assert passport.state == "superseded"
    assert list(new.predecessors.all()) == [passport]
    assert battery.status == S.REPURPOSED and battery.responsible_operator == organisations.repurposer

    new_document = passport_document(passport=new)
    old_document = passport_document(passport=passport)
    assert new_document["predecessors"] == [passport.passport_id]
    assert old_document["successors"] == [new.passport_id] and old_document["state"] == "superseded"
    assert new_document["operator_information"]["name"] == "SecondLife Storage BV"
    assert new.versions.get().reason.startswith("second life as grid buffer (offered by Voltaro")
    assert passport.versions.order_by("-seq").first().reason.startswith(f"superseded by {new.passport_id}")

    # The repurposer now maintains it; the old passport is read-only history.
    battery_update(user=users.repurposer, battery=battery, data={"state_of_charge_pct": 50}, reason="r")
    with pytest.raises(NotPermitted):
        battery_update(user=users.manufacturer, battery=battery, data={"state_of_charge_pct": 40}, reason="r")
    assert all(report.ok for report in version_chain_verify())


def test_repurposing_several_batteries_into_a_new_one(register_battery, users, organisations, hand_over):
    first, second, third = (register_battery().battery for _ in range(3))
    old = [current(b) for b in (first, second, third)]
    for b in (first, second, third):
        hand_over(user=users.manufacturer, battery=b, status=S.WASTE,
                  operator=organisations.recycler, reason="end of first life")
    second_life = battery_model_create(
        user=users.repurposer, manufacturer=organisations.repurposer, name="SecondLife 15",
        category=Category.STATIONARY, chemistry=Chemistry.LFP,
        data={**Battery.objects.get(pk=first.pk).model.data, "rated_capacity_ah": 300},
    )
    new = hand_over(
        user=users.recycler, battery=first, predecessors=[second, third], status=S.REPURPOSED,
        operator=organisations.repurposer, model=second_life, new_identifier="UN.SECONDLIFE.R15-0001",
        reason="three modules rebuilt into one rack",
    )
    assert new.battery.identifier == "UN.SECONDLIFE.R15-0001"
    assert new.battery.model == second_life and new.battery.status == S.REPURPOSED
    assert new.battery.responsible_operator == organisations.repurposer
    assert new.battery.data == {}  # the static item values came from the model default
    assert set(new.predecessors.all()) == set(old)
    for passport in old:
        passport.refresh_from_db()
        assert passport.state == "superseded"
        assert passport_document(passport=passport)["successors"] == [new.passport_id]
    assert passport_document(passport=new)["rated_capacity_ah"] == 300
    code = battery_claim_code_reissue(user=users.repurposer, battery=new.battery)
    assert battery_claim(user=users.owner, identifier="un.secondlife.r15-0001", claim_code=code).owner == users.owner


def test_a_new_model_needs_a_new_identifier_and_must_be_the_operators(battery, users, organisations, stationary_model):
    with pytest.raises(ValidationFailed) as caught:
        battery_change_status(user=users.manufacturer, battery=battery, status=S.REMANUFACTURED,
                              operator=organisations.remanufacturer, model=stationary_model, reason="r")
    assert {e.field for e in caught.value.errors} == {"new_identifier", "model"}


def test_a_new_identifier_must_be_free(register_battery, users, organisations):
    taken, battery = register_battery().battery, register_battery().battery
    with pytest.raises(Conflict):
        battery_change_status(user=users.manufacturer, battery=battery, status=S.REMANUFACTURED,
                              operator=organisations.remanufacturer, new_identifier=taken.identifier,
                              reason="r")
    assert current(battery).state == "active"


def test_predecessors_must_be_writable_by_the_user(register_battery, users, organisations, hand_over):
    mine = register_battery().battery
    theirs = register_battery().battery
    hand_over(user=users.manufacturer, battery=theirs, status=S.WASTE,
              operator=organisations.recycler, reason="r")
    with pytest.raises(NotPermitted):
        battery_change_status(user=users.manufacturer, battery=mine, predecessors=[theirs],
                              status=S.REPURPOSED, operator=organisations.repurposer, reason="r")
    assert current(mine).state == "active" and current(theirs).state == "active"


def test_status_arguments_are_checked(battery, users, organisations):
    with pytest.raises(ValidationFailed) as caught:
        battery_change_status(user=users.manufacturer, battery=battery, status="broken", reason="")
    assert {e.field for e in caught.value.errors} == {"status", "reason"}
    with pytest.raises(ValidationFailed):
        battery_change_status(user=users.manufacturer, battery=battery, status=S.REPURPOSED,
                              operator=organisations.recycler, reason="a recycler cannot repurpose")
    with pytest.raises(ValidationFailed):
        battery_change_status(user=users.manufacturer, battery=battery, predecessors=[battery],
                              status=S.REPURPOSED, operator=organisations.repurposer, reason="r")


@pytest.mark.parametrize("who", ["other_manufacturer", "recycler", "repurposer", "authority", "owner", "staff"])
def test_nobody_but_the_responsible_operator_changes_status(battery, users, organisations, who):
    with pytest.raises(NotPermitted):
        battery_change_status(user=getattr(users, who), battery=battery, status=S.WASTE,
                              operator=organisations.recycler, reason="r")
    battery.refresh_from_db()
    assert battery.status == S.ORIGINAL
