"""Writes bound to rights (issue #7, security 1-4 and 6), each written as the attacker first:
identifier squatting, organisation members claiming batteries, hand-overs without the
receiver's consent, grants reading more than point 4, and tier side channels."""

from __future__ import annotations

import datetime as dt

import pytest

from passport.demo import demo_gtin, lfp_item_dynamic_data
from passport.errors import Conflict, NotPermitted, TransitionRefused, ValidationFailed
from passport.identifiers import battery_identifier_parse
from passport.models import Battery, Handover, ModelGtin, Passport, Version
from passport.services import (
    access_grant_create,
    battery_change_status,
    battery_claim,
    battery_model_create,
    battery_register,
    battery_register_bulk,
    battery_update,
    handover_accept,
    handover_decline,
    handover_offer,
    handover_withdraw,
)
from passport.services.prefixes import gtins_bind, identifier_prefix_declare, identifiers_authorise
from passport.vocabulary import BatteryStatus, Category, Chemistry, HandoverState, IdentifierScheme

pytestmark = pytest.mark.django_db

DEMO_GTIN = demo_gtin("001")


def stored() -> tuple[int, int, int]:
    return Battery.objects.count(), Passport.objects.count(), Version.objects.count()


@pytest.fixture
def squatter_model(users, organisations, stationary_model_data):
    """A model of the other manufacturer (which holds GS1 prefix 3012345 and 15459 'OTHER')."""
    return battery_model_create(
        user=users.other_manufacturer, manufacturer=organisations.other_manufacturer,
        name="Clone rack", category=Category.STATIONARY, chemistry=Chemistry.LFP, data=stationary_model_data,
    )


# --- 1. identifier squatting -----------------------------------------------------------------------


def test_another_manufacturer_cannot_register_under_our_gtin(users, squatter_model, registered) -> None:
    before = stored()
    with pytest.raises(NotPermitted) as refused:
        battery_register(user=users.other_manufacturer, model=squatter_model, item={
            "gtin": DEMO_GTIN, "serial": "VT260100014", "manufacturing_date": "2026-03-02"})
    assert "04261234560012" in refused.value.reason and "another organisation" in refused.value.reason
    assert refused.value.errors[0].field == "gtin"
    assert stored() == before


def test_a_thousand_squatted_rows_in_one_bulk_request_are_refused_all(users, squatter_model) -> None:
    before = stored()
    items = [{"gtin": DEMO_GTIN, "serial": f"SQ{number:06d}", "manufacturing_date": "2026-03-02"}
             for number in range(1000)]
    items[500] = {"gtin": demo_gtin("005", company_prefix="301234500"), "serial": "MINE1",
                  "manufacturing_date": "2026-03-02"}
    with pytest.raises(NotPermitted) as refused:
        battery_register_bulk(user=users.other_manufacturer, model=squatter_model, items=items)
    assert len(refused.value.errors) == 999
    assert {error.index for error in refused.value.errors} == set(range(1000)) - {500}
    assert stored() == before


def test_an_iso_15459_identifier_with_another_companys_prefix_is_refused(users, squatter_model) -> None:
    with pytest.raises(NotPermitted) as refused:
        battery_register(user=users.other_manufacturer, model=squatter_model, item={
            "identifier": "UN.VOLTARO.HR5-999999", "manufacturing_date": "2026-03-02"})
    assert "UN.VOLTARO" in refused.value.reason
    registered = battery_register(user=users.other_manufacturer, model=squatter_model, item={
        "identifier": "OTHER.EV.0001", "manufacturing_date": "2026-03-02"})
    assert registered.battery.responsible_operator.name == "Other Cells SA"


def test_an_identifier_under_no_declared_prefix_is_refused(users, stationary_model) -> None:
    with pytest.raises(NotPermitted) as refused:
        battery_register(user=users.manufacturer, model=stationary_model, item={
            "gtin": demo_gtin("001", company_prefix="999999999"), "serial": "X1",
            "manufacturing_date": "2026-03-02"})
    assert "no GS1 company prefix declared by Voltaro" in refused.value.reason


def test_a_gtin_names_one_model_even_of_the_same_manufacturer(users, organisations, stationary_model,
                                                             stationary_model_data, registered) -> None:
    assert ModelGtin.objects.get(gtin=DEMO_GTIN).model == stationary_model
    other_model = battery_model_create(
        user=users.manufacturer, manufacturer=organisations.manufacturer, name="HomeRack XL",
        category=Category.STATIONARY, chemistry=Chemistry.LFP, data=stationary_model_data)
    with pytest.raises(NotPermitted) as refused:
        battery_register(user=users.manufacturer, model=other_model, item={
            "gtin": DEMO_GTIN, "serial": "XL1", "manufacturing_date": "2026-03-02"})
    assert "names another battery model" in refused.value.reason


def test_models_declare_gtins_only_under_their_makers_prefix(users, organisations, stationary_model_data) -> None:
    with pytest.raises(NotPermitted) as refused:
        battery_model_create(
            user=users.other_manufacturer, manufacturer=organisations.other_manufacturer, name="Clone",
            category=Category.STATIONARY, chemistry=Chemistry.LFP, data=stationary_model_data,
            gtins=[demo_gtin("003")])
    assert refused.value.errors[0].field == "gtins.0"
    assert not ModelGtin.objects.exists()
    model = battery_model_create(
        user=users.manufacturer, manufacturer=organisations.manufacturer, name="Declared",
        category=Category.STATIONARY, chemistry=Chemistry.LFP, data=stationary_model_data,
        gtins=[demo_gtin("003")])
    assert list(model.gtins.values_list("gtin", flat=True)) == [demo_gtin("003")]


def test_prefixes_of_two_organisations_cannot_overlap(organisations) -> None:
    with pytest.raises(Conflict):
        identifier_prefix_declare(organisation=organisations.other_manufacturer,
                                  scheme=IdentifierScheme.GS1, prefix="42612345")  # inside 426123456
    with pytest.raises(Conflict):
        identifier_prefix_declare(organisation=organisations.other_manufacturer,
                                  scheme=IdentifierScheme.ISO15459, prefix="UN.VOLTARO.HR5")
    with pytest.raises(ValidationFailed):
        identifier_prefix_declare(organisation=organisations.other_manufacturer,
                                  scheme=IdentifierScheme.GS1, prefix="12ab")


def test_the_api_answers_403_with_the_reason_and_stores_nothing(api_as, users, squatter_model, registered) -> None:
    before = stored()
    response = api_as(users.other_manufacturer).post("/api/v1/batteries/", {
        "model": squatter_model.pk,
        "item": {"gtin": DEMO_GTIN, "serial": "VT260100014", "manufacturing_date": "2026-03-02"},
    }, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "gtin"
    bulk = api_as(users.other_manufacturer).post("/api/v1/batteries/bulk/", {
        "model": squatter_model.pk,
        "items": [{"gtin": DEMO_GTIN, "serial": f"S{n}", "manufacturing_date": "2026-03-02"} for n in range(3)],
    }, format="json")
    assert bulk.status_code == 403
    assert [error["index"] for error in bulk.json()["errors"]] == [0, 1, 2]
    assert stored() == before


# --- 2. claims are for private persons -----------------------------------------------------------


@pytest.mark.parametrize("member", ["authority", "manufacturer", "repairer", "other_manufacturer"])
def test_members_of_organisations_cannot_claim(users, registered, member) -> None:
    with pytest.raises(NotPermitted) as refused:
        battery_claim(user=getattr(users, member), identifier=registered.battery.identifier,
                      claim_code=registered.claim_code)
    assert "private persons" in refused.value.reason
    registered.battery.refresh_from_db()
    assert registered.battery.owner is None
    # The code was not spent: the real buyer can still use it.
    battery_claim(user=users.owner, identifier=registered.battery.identifier, claim_code=registered.claim_code)


def test_the_authoritys_claim_through_the_api_is_403(api_as, users, registered) -> None:
    response = api_as(users.authority).post("/api/v1/claims/", {
        "identifier": registered.battery.identifier, "claim_code": registered.claim_code}, format="json")
    assert response.status_code == 403
    read = api_as(users.authority).get(f"/api/v1/passports/{registered.passport.passport_id}/",
                                       HTTP_ACCEPT="application/json")
    assert read.json()["view"] == "authority"
    assert "remaining_capacity_ah" not in read.json()["document"]


# --- 3. hand-overs need the receiver's consent ---------------------------------------------------


def test_repurposing_onto_another_operators_model_without_consent_is_refused(
    users, organisations, battery, passport, squatter_model
) -> None:
    before = stored()
    with pytest.raises(NotPermitted) as refused:
        battery_change_status(
            user=users.manufacturer, battery=battery, status=BatteryStatus.REPURPOSED,
            operator=organisations.other_manufacturer, model=squatter_model,
            new_identifier="(01)" + demo_gtin("009", company_prefix="301234500") + "(21)X1",
            reason="dumped on a competitor",
        )
    assert "consent" in refused.value.reason
    battery.refresh_from_db()
    assert battery.status == BatteryStatus.ORIGINAL
    assert battery.responsible_operator == organisations.manufacturer
    assert stored() == before


def test_waste_to_a_collector_is_an_offer_until_the_collector_accepts(users, organisations, battery, passport) -> None:
    offer = handover_offer(user=users.manufacturer, battery=battery, status=BatteryStatus.WASTE,
                           operator=organisations.recycler, reason="collected")
    battery.refresh_from_db()
    assert (battery.status, battery.responsible_operator) == (BatteryStatus.ORIGINAL, organisations.manufacturer)
    for intruder in (users.manufacturer, users.repairer, users.stranger):
        with pytest.raises(NotPermitted):
            handover_accept(user=intruder, handover=offer)
    result = handover_accept(user=users.recycler, handover=offer)
    battery.refresh_from_db()
    assert result == passport
    assert (battery.status, battery.responsible_operator) == (BatteryStatus.WASTE, organisations.recycler)
    offer.refresh_from_db()
    assert (offer.state, offer.decided_by, offer.passport) == (HandoverState.ACCEPTED, users.recycler, passport)
    with pytest.raises(TransitionRefused):
        handover_accept(user=users.recycler, handover=offer)


def test_a_declined_or_withdrawn_offer_changes_nothing(users, organisations, battery) -> None:
    offer = handover_offer(user=users.manufacturer, battery=battery, status=BatteryStatus.REPURPOSED,
                           operator=organisations.repurposer, reason="second life")
    with pytest.raises(Conflict):
        handover_offer(user=users.manufacturer, battery=battery, status=BatteryStatus.WASTE,
                       operator=organisations.recycler, reason="two at once")
    with pytest.raises(NotPermitted):
        handover_decline(user=users.manufacturer, handover=offer)
    with pytest.raises(NotPermitted):
        handover_withdraw(user=users.repurposer, handover=offer)
    handover_decline(user=users.repurposer, handover=offer)
    again = handover_offer(user=users.manufacturer, battery=battery, status=BatteryStatus.REPURPOSED,
                           operator=organisations.repurposer, reason="second life, second try")
    handover_withdraw(user=users.manufacturer, handover=again)
    with pytest.raises(TransitionRefused):
        handover_accept(user=users.repurposer, handover=again)
    battery.refresh_from_db()
    assert battery.status == BatteryStatus.ORIGINAL
    assert battery.passports.count() == 1


def test_only_the_responsible_operator_offers(users, organisations, battery) -> None:
    with pytest.raises(NotPermitted):
        handover_offer(user=users.other_manufacturer, battery=battery, status=BatteryStatus.WASTE,
                       operator=organisations.other_manufacturer, reason="mine now")


def test_an_offer_lapses_when_the_battery_moved_meanwhile(users, organisations, battery) -> None:
    to_repurposer = handover_offer(user=users.manufacturer, battery=battery, status=BatteryStatus.REPURPOSED,
                                   operator=organisations.repurposer, reason="second life")
    # The offer is open; the manufacturer cannot make a second, but the row can change by another
    # accepted path: simulate with a re-use by the operator itself, then a waste hand-over.
    handover_withdraw(user=users.manufacturer, handover=to_repurposer)
    stale = Handover.objects.create(
        battery=battery, kind="repurpose", status=BatteryStatus.REPURPOSED,
        from_operator=organisations.pro, to_operator=organisations.repurposer, reason="forged",
        offered_by=users.pro, offered_at=battery.created_at,
    )
    with pytest.raises(TransitionRefused) as refused:
        handover_accept(user=users.repurposer, handover=stale)
    assert "lapsed" in refused.value.reason


def test_the_hand_over_api_offer_accept_and_privacy(api_as, users, organisations, battery) -> None:
    offer = api_as(users.manufacturer).post("/api/v1/handovers/", {
        "battery": battery.identifier, "status": "waste", "operator": organisations.recycler.pk,
        "reason": "collected"}, format="json")
    assert offer.status_code == 201, offer.json()
    url = f"/api/v1/handovers/{offer.json()['id']}/"
    assert api_as(users.repairer).get(url).status_code == 404
    assert api_as(users.manufacturer).post(url + "accept/").status_code == 403
    assert api_as(users.recycler).get("/api/v1/handovers/?state=offered").json()["count"] == 1
    accepted = api_as(users.recycler).post(url + "accept/")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["state"] == "accepted"
    assert accepted.json()["passport"]["state"] == "active"
    status = api_as(users.manufacturer).post(f"/api/v1/batteries/{battery.identifier}/status/", {
        "status": "re-used", "reason": "no longer mine"}, format="json")
    assert status.status_code == 403


def test_the_status_endpoint_refuses_a_foreign_operator_with_the_way_to_do_it(api_as, users, organisations, battery) -> None:
    response = api_as(users.manufacturer).post(f"/api/v1/batteries/{battery.identifier}/status/", {
        "status": "waste", "operator": organisations.recycler.pk, "reason": "collected"}, format="json")
    assert response.status_code == 403
    assert "offer the hand-over" in response.json()["errors"][0]["reason"]


# --- 4. an owner's grant gives point 4 only ------------------------------------------------------


def test_a_grant_to_a_manufacturer_gives_point_4_but_not_point_2(api_as, users, organisations, owned_battery, passport) -> None:
    access_grant_create(user=users.owner, battery=owned_battery, organisation=organisations.other_manufacturer)
    body = api_as(users.other_manufacturer).get(f"/api/v1/passports/{passport.passport_id}/",
                                                HTTP_ACCEPT="application/json").json()
    document = body["document"]
    assert "status" in document  # point 4
    for point_2 in ("part_numbers", "dismantling_documents", "cathode_anode_electrolyte_materials",
                    "spare_part_sources", "safety_measures"):
        assert point_2 not in document
    assert "test_reports" not in document
    assert body["view"] == "legitimate"
    again = api_as(users.other_manufacturer).get(f"/api/v1/passports/{passport.passport_id}/?view=legitimate",
                                                 HTTP_ACCEPT="application/json")
    assert again.status_code == 200 and "part_numbers" not in again.json()["document"]


# --- 6. side channels ----------------------------------------------------------------------------


def test_authorities_cannot_filter_by_the_point_4_status(api_as, users, battery) -> None:
    response = api_as(users.authority).get("/api/v1/regulator/batteries/?status=waste")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"
    assert api_as(users.authority).get("/api/v1/regulator/batteries/?status=").status_code == 400


def test_the_public_history_does_not_say_when_hidden_data_changed(anonymous, api_as, users, at_time, battery, passport) -> None:
    later = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    with at_time(later):
        battery_update(user=users.manufacturer, battery=battery, reason="daily telemetry",
                       data=lfp_item_dynamic_data(soh_pct=97, capacity_ah=100, cycles=100, days=150))
    public = anonymous.get(f"/api/v1/passports/{passport.passport_id}/versions/").json()["versions"]
    assert [line["seq"] for line in public] == [1]
    full = api_as(users.manufacturer).get(f"/api/v1/passports/{passport.passport_id}/versions/").json()["versions"]
    assert [line["seq"] for line in full] == [1, 2]
    document = anonymous.get(f"/api/v1/passports/{passport.passport_id}/", HTTP_ACCEPT="application/json").json()["document"]
    assert document["passport_version"] == 1
    assert not document["last_updated"].startswith(later.date().isoformat())
    owner_view = api_as(users.manufacturer).get(f"/api/v1/passports/{passport.passport_id}/",
                                                HTTP_ACCEPT="application/json").json()["document"]
    assert owner_view["passport_version"] == 2
    assert owner_view["last_updated"].startswith(later.date().isoformat())
    element = anonymous.get(f"/api/v1/dpp/{passport.passport_id}/elements/passport_version").json()
    assert element["value"] == 1


def test_the_model_api_declares_gtins_and_shows_them(api_as, users, stationary_model_data) -> None:
    mine = api_as(users.manufacturer).post("/api/v1/models/", {
        "name": "Declared rack", "category": "stationary", "chemistry": "LFP", "data": stationary_model_data,
        "gtins": [demo_gtin("004")]}, format="json")
    assert mine.status_code == 201, mine.json()
    assert mine.json()["gtins"] == [demo_gtin("004")]
    theirs = api_as(users.other_manufacturer).post("/api/v1/models/", {
        "name": "Clone", "category": "stationary", "chemistry": "LFP", "data": stationary_model_data,
        "gtins": [demo_gtin("005")]}, format="json")
    assert theirs.status_code == 403
    assert theirs.json()["errors"][0]["field"] == "gtins.0"
    stolen = api_as(users.other_manufacturer).patch(f"/api/v1/models/{mine.json()['id']}/", {
        "data": {}, "reason": "x", "gtins": [demo_gtin("006")]}, format="json")
    assert stolen.status_code == 403


def test_a_gtin_bound_by_a_racing_registration_of_another_model_is_refused(users, organisations, stationary_model,
                                                                          stationary_model_data) -> None:
    other_model = battery_model_create(
        user=users.manufacturer, manufacturer=organisations.manufacturer, name="HomeRack XL",
        category=Category.STATIONARY, chemistry=Chemistry.LFP, data=stationary_model_data)
    gtins_bind(model=stationary_model, gtins=[DEMO_GTIN])
    gtins_bind(model=stationary_model, gtins=[DEMO_GTIN])  # the same model again: nothing to refuse
    with pytest.raises(NotPermitted):
        gtins_bind(model=other_model, gtins=[DEMO_GTIN])
    assert ModelGtin.objects.get(gtin=DEMO_GTIN).model == stationary_model


def test_checking_the_prefixes_of_many_distinct_identifiers_costs_one_query(users, organisations, stationary_model,
                                                                            django_assert_num_queries) -> None:
    identities = [(index, battery_identifier_parse(f"UN.VOLTARO.HR5-{index:06d}")) for index in range(5000)]
    with django_assert_num_queries(1):  # the ISO 15459 prefixes sharing the identifiers' head
        identifiers_authorise(organisation=organisations.manufacturer, model=stationary_model, identities=identities)
