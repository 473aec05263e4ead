"""Passports that cannot change after the fact, Annex XIII 4(a) values at status changes, and the
lifecycle gaps of Art. 77(4), (6)-(8): preparation for re-use, change of operator without a
status change, state of health at repurposing."""

from __future__ import annotations

import datetime as dt

import pytest

from passport.demo import demo_gtin, lfp_item_dynamic_data
from passport.errors import NotPermitted, TransitionRefused, ValidationFailed
from passport.models import Version
from passport.services import (
    battery_change_status,
    battery_model_update,
    battery_update,
    handover_accept,
    handover_offer,
    passport_document,
    version_chain_verify,
)
from passport.vocabulary import BatteryStatus, HandoverKind, PassportState

pytestmark = pytest.mark.django_db

# After the fixtures' model was created (now): a passport never predates its model.
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)


@pytest.fixture
def three_passports(users, organisations, register_battery, hand_over, at_time):
    """An active passport, a ceased one (recycled) and a superseded one (repurposed in place)."""
    with at_time(T0):
        active = register_battery()
        ceased = register_battery()
        superseded = register_battery()
    with at_time(T0 + dt.timedelta(days=1)):
        hand_over(user=users.manufacturer, battery=ceased.battery, status=BatteryStatus.WASTE,
                  operator=organisations.recycler, reason="collected")
        battery_change_status(user=users.recycler, battery=ceased.battery, status=BatteryStatus.RECYCLED,
                              reason="recycled")
        hand_over(user=users.manufacturer, battery=superseded.battery, status=BatteryStatus.REPURPOSED,
                  operator=organisations.repurposer, reason="second life")
    return active, ceased, superseded


def test_a_model_edit_never_reaches_ceased_or_superseded_passports(users, stationary_model, three_passports, at_time) -> None:
    active, ceased, superseded = three_passports
    before = {r.passport.pk: passport_document(passport=r.passport) for r in three_passports}
    assert {d["warranty_period_years"] for d in before.values()} == {10}
    with at_time(T0 + dt.timedelta(days=30)):
        battery_model_update(user=users.manufacturer, model=stationary_model,
                             data={"warranty_period_years": 12}, reason="longer warranty")
    assert passport_document(passport=ceased.passport) == before[ceased.passport.pk]
    assert passport_document(passport=superseded.passport) == before[superseded.passport.pk]
    now = passport_document(passport=active.passport)
    assert now["warranty_period_years"] == 12
    assert now["passport_version"] == before[active.passport.pk]["passport_version"] + 1
    latest = Version.objects.filter(passport=active.passport).order_by("-seq").first()
    assert latest.reason == "battery model changed: longer warranty"
    assert latest.changes == {"model_version": {"old": 1, "new": 2}}
    # Reading as of a date uses the model version of that date.
    then = passport_document(passport=active.passport, at=T0 + dt.timedelta(days=2))
    assert then["warranty_period_years"] == 10
    for result in three_passports:
        assert all(report.ok for report in version_chain_verify(subject=result.passport)), result


def test_the_repurposed_batterys_new_passport_does_follow_its_model(users, stationary_model, three_passports, at_time) -> None:
    _, _, superseded = three_passports
    new_passport = superseded.battery.passports.get(state=PassportState.ACTIVE)
    with at_time(T0 + dt.timedelta(days=30)):
        battery_model_update(user=users.manufacturer, model=stationary_model,
                             data={"warranty_period_years": 12}, reason="longer warranty")
    assert passport_document(passport=new_passport)["warranty_period_years"] == 12


def test_performance_values_are_stored_with_each_status_change(users, organisations, battery, hand_over, at_time) -> None:
    battery_update(user=users.manufacturer, battery=battery, reason="telemetry",
                   data=lfp_item_dynamic_data(soh_pct=91, capacity_ah=100, cycles=800, days=400))
    with at_time(T0 + dt.timedelta(days=3)):
        passport = hand_over(user=users.manufacturer, battery=battery, status=BatteryStatus.REPURPOSED,
                             operator=organisations.repurposer, reason="second life")
    battery.refresh_from_db()
    [entry] = battery.performance_history
    assert entry["status_from"] == "original" and entry["status"] == "repurposed"
    assert entry["state_of_health_pct"] == pytest.approx(91, abs=0.5)
    assert entry["values"]["remaining_capacity_ah"] == battery.data["remaining_capacity_ah"]
    assert entry["at"] == (T0 + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = passport_document(passport=passport)
    assert document["performance_history"] == [entry]
    # Point 4: the public does not see it.
    from passport.services import passport_read
    public = passport_read(user=None, passport=passport, endpoint="test").document
    assert "performance_history" not in public


def test_a_new_battery_built_from_old_ones_keeps_their_state_of_health(users, organisations, register_battery, hand_over) -> None:
    first, second = register_battery(), register_battery()
    for result, soh in ((first, 90), (second, 88)):
        battery_update(user=users.manufacturer, battery=result.battery, reason="tested",
                       data={"remaining_capacity_ah": soh})
    # The new pack carries an identifier under the remanufacturer's own prefix (5901234).
    new_identifier = "(01)" + demo_gtin("001", company_prefix="590123400") + "(21)R1"
    passport = hand_over(user=users.manufacturer, battery=first.battery, predecessors=[second.battery],
                         status=BatteryStatus.REMANUFACTURED, operator=organisations.remanufacturer,
                         new_identifier=new_identifier, reason="rebuilt")
    history = passport.battery.performance_history
    assert [entry["state_of_health_pct"] for entry in history] == [90.0, 88.0]


def test_a_new_identifier_must_be_the_receivers_own(users, organisations, battery) -> None:
    offer = handover_offer(user=users.manufacturer, battery=battery, status=BatteryStatus.REPURPOSED,
                           operator=organisations.repurposer, reason="second life",
                           new_identifier="(01)" + demo_gtin("777") + "(21)SL1")
    with pytest.raises(NotPermitted) as refused:
        handover_accept(user=users.repurposer, handover=offer)
    assert "another organisation" in refused.value.reason
    battery.refresh_from_db()
    assert battery.status == BatteryStatus.ORIGINAL


# --- lifecycle gaps --------------------------------------------------------------------------------


def test_preparation_for_re_use_gives_a_waste_battery_a_new_passport_and_operator(users, organisations, battery, passport, hand_over) -> None:
    hand_over(user=users.manufacturer, battery=battery, status=BatteryStatus.WASTE,
              operator=organisations.recycler, reason="collected")
    with pytest.raises(ValidationFailed) as refused:
        battery_change_status(user=users.recycler, battery=battery, status=BatteryStatus.REUSED, reason="r")
    assert refused.value.errors[0].field == "operator"
    offer = handover_offer(user=users.recycler, battery=battery, status=BatteryStatus.REUSED,
                           operator=organisations.repairer, reason="tested and prepared for re-use")
    assert offer.kind == HandoverKind.PREPARE_FOR_REUSE
    new_passport = handover_accept(user=users.repairer, handover=offer)
    battery.refresh_from_db()
    passport.refresh_from_db()
    assert new_passport != passport
    assert passport.state == PassportState.SUPERSEDED
    assert list(new_passport.predecessors.all()) == [passport]
    assert (battery.status, battery.responsible_operator) == (BatteryStatus.REUSED, organisations.repairer)


def test_preparation_for_repurposing_of_waste_goes_to_the_repurposer(users, organisations, battery, passport, hand_over) -> None:
    hand_over(user=users.manufacturer, battery=battery, status=BatteryStatus.WASTE,
              operator=organisations.recycler, reason="collected")
    new_passport = hand_over(user=users.recycler, battery=battery, status=BatteryStatus.REPURPOSED,
                             operator=organisations.repurposer, reason="prepared for repurposing")
    assert list(new_passport.predecessors.all()) == [passport]
    battery.refresh_from_db()
    assert battery.responsible_operator == organisations.repurposer


def test_an_importer_takes_over_with_its_written_authorisation(users, organisations, battery, passport) -> None:
    with pytest.raises(ValidationFailed) as refused:
        handover_offer(user=users.manufacturer, battery=battery, operator=organisations.other_manufacturer,
                       kind=HandoverKind.IMPORTER, reason="EU importer")
    assert refused.value.errors[0].field == "authorisation"
    offer = handover_offer(
        user=users.manufacturer, battery=battery, operator=organisations.other_manufacturer,
        kind=HandoverKind.AUTHORISED_REPRESENTATIVE, reason="our EU representative from now on",
        authorisation={"document": "Mandate as authorised representative", "reference": "AR-2026-17",
                       "signed_on": "2026-04-01"},
    )
    battery.refresh_from_db()
    assert battery.responsible_operator == organisations.manufacturer
    result = handover_accept(user=users.other_manufacturer, handover=offer)
    battery.refresh_from_db()
    assert result == passport
    assert battery.status == BatteryStatus.ORIGINAL
    assert battery.responsible_operator == organisations.other_manufacturer
    latest = Version.objects.filter(passport=passport).order_by("-seq").first()
    assert "AR-2026-17" in latest.reason and "Mandate as authorised representative" in latest.reason
    assert latest.changes["operator_information"]["new"]["name"] == "Other Cells SA"
    document = passport_document(passport=passport)
    assert document["operator_information"]["name"] == "Other Cells SA"
    with pytest.raises(NotPermitted):
        battery_update(user=users.manufacturer, battery=battery, data={"state_of_charge_pct": 50}, reason="x")


def test_a_change_of_operator_needs_a_kind_and_refuses_status_only_fields(users, organisations, battery) -> None:
    with pytest.raises(ValidationFailed) as refused:
        handover_offer(user=users.manufacturer, battery=battery, operator=organisations.other_manufacturer,
                       reason="x", new_identifier="OTHER.1")
    assert {e.field for e in refused.value.errors} >= {"kind", "authorisation", "new_identifier"}


def test_a_recycled_battery_cannot_be_offered(users, organisations, battery, hand_over) -> None:
    hand_over(user=users.manufacturer, battery=battery, status=BatteryStatus.WASTE,
              operator=organisations.recycler, reason="collected")
    battery_change_status(user=users.recycler, battery=battery, status=BatteryStatus.RECYCLED, reason="done")
    with pytest.raises(TransitionRefused):
        handover_offer(user=users.recycler, battery=battery, status=BatteryStatus.REPURPOSED,
                       operator=organisations.repurposer, reason="too late")
