"""Registering one battery: identifiers, item attributes, model defaults, claim codes."""

from __future__ import annotations

import datetime as dt

import pytest

from passport.demo import demo_gtin
from passport.errors import Conflict, NotPermitted, ValidationFailed
from passport.models import Battery, Passport, Version
from passport.services import battery_model_update, battery_register, passport_document
from passport.services.claims import claim_code_hash

MODEL_GTIN = demo_gtin("001")  # the GTIN the register_battery fixture uses


def fields_of(error: ValidationFailed) -> dict[str, str]:
    return {e.field: e.reason for e in error.errors}


def test_registration_creates_battery_passport_and_first_version(registered, users, organisations):
    battery, passport = registered.battery, registered.passport
    assert battery.identifier == f"(01){MODEL_GTIN}(21)VT260300001"
    assert battery.gtin == MODEL_GTIN and battery.serial == "VT260300001" and battery.batch == "L2603A"
    assert battery.status == "original"
    assert battery.responsible_operator == organisations.manufacturer
    assert battery.manufacturing_date == dt.date(2026, 3, 2)
    assert battery.manufacturing_place == "Industriepark 4, 01109, Dresden, DE"
    assert passport.passport_id.startswith("urn:uuid:") and passport.passport_id != battery.identifier
    assert passport.state == "active"
    [version] = Version.objects.filter(passport=passport)
    assert version.seq == 1 and version.reason == "battery registered" and version.author == users.manufacturer
    assert version.data["battery_identifier"] == battery.identifier
    assert version.data["operator_information"]["name"] == "Voltaro Energy GmbH"


def test_the_claim_code_is_returned_once_and_only_its_hash_is_stored(registered):
    code = registered.claim_code
    assert len(code.replace("-", "")) == 28
    stored = Battery.objects.get(pk=registered.battery.pk)
    assert code not in str(stored.__dict__)
    assert stored.claim_code_hash == claim_code_hash(stored.identifier, code)


def test_claim_codes_differ_between_batteries(register_battery):
    codes = {register_battery().claim_code for _ in range(20)}
    assert len(codes) == 20


def test_short_gtins_are_padded_to_gtin_14(register_battery):
    registered = register_battery(gtin="4006381333931", serial="A1")  # a valid GTIN-13
    assert registered.battery.gtin == "04006381333931"
    assert registered.battery.identifier == "(01)04006381333931(21)A1"


def test_a_wrong_gtin_check_digit_is_explained(register_battery):
    with pytest.raises(ValidationFailed) as caught:
        register_battery(gtin="4006381333932")
    assert fields_of(caught.value) == {
        "gtin": "GTIN 4006381333932 has check digit 2, but its digits give 1"
    }


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"gtin": "12345"}, "gtin"),
        ({"gtin": "40063813339A1"}, "gtin"),
        ({"serial": "has space"}, "serial"),
        ({"serial": "X" * 21}, "serial"),
        ({"serial": None}, "serial"),
        ({"batch": "(bad)"}, "batch"),
        ({"manufacturing_date": "2026-13-01"}, "manufacturing_date"),
        ({"manufacturing_date": "2999-01-01"}, "manufacturing_date"),
        ({"manufacturing_date": None}, "manufacturing_date"),
        ({"put_into_service_on": "2026-01-01"}, "put_into_service_on"),  # before manufacture
        ({"state_of_charge_pct": 101}, "state_of_charge_pct"),
        ({"rated_capacity_ah": 100}, "rated_capacity_ah"),  # model level
        ({"status": "waste"}, "status"),
        ({"passport_identifier": "urn:uuid:x"}, "passport_identifier"),
        ({"remaining_capacity_ah": 200}, "remaining_capacity_ah"),  # > 1.25 x rated
        ({"identifier": "(01)04260000000001(21)OTHER"}, "identifier"),  # contradicts gtin+serial
    ],
)
def test_bad_items_are_refused_field_by_field(register_battery, item, field):
    with pytest.raises(ValidationFailed) as caught:
        register_battery(**item)
    assert field in fields_of(caught.value)
    assert Battery.objects.count() == 0


def test_an_iso_15459_identifier_without_gtin(register_battery):
    registered = register_battery(gtin=None, serial="000123", identifier="un.voltaro.hr5-000123")
    assert registered.battery.identifier == "UN.VOLTARO.HR5-000123"
    assert registered.battery.gtin is None and registered.battery.serial == "000123"


def test_identifier_or_gtin_is_required(register_battery):
    with pytest.raises(ValidationFailed) as caught:
        register_battery(gtin=None)
    assert fields_of(caught.value) == {"identifier": "give the battery identifier, or gtin and serial"}


def test_an_element_string_identifier_fills_gtin_and_serial(register_battery):
    registered = register_battery(gtin=None, serial=None, identifier=f"(01){MODEL_GTIN}(21)XYZ9")
    assert registered.battery.gtin == MODEL_GTIN and registered.battery.serial == "XYZ9"


def test_a_registered_identifier_conflicts(register_battery, battery):
    with pytest.raises(Conflict) as caught:
        register_battery(serial=battery.serial)
    assert caught.value.field == "identifier"
    assert Battery.objects.count() == 1


def test_the_extinguishing_agent_is_inherited_from_the_model_or_given_per_battery(register_battery):
    inherited = register_battery()
    own = register_battery(extinguishing_agent=["Class D powder"])
    assert passport_document(passport=inherited.passport)["extinguishing_agent"] == [
        "water (large quantities, for cooling)", "CO2"
    ]
    assert passport_document(passport=own.passport)["extinguishing_agent"] == ["Class D powder"]


def test_without_model_default_the_extinguishing_agent_is_mandatory(register_battery, stationary_model, users):
    battery_model_update(user=users.manufacturer, model=stationary_model,
                         data={"extinguishing_agent": None}, reason="agent now declared per battery")
    with pytest.raises(ValidationFailed) as caught:
        register_battery()
    assert "declare a default on the battery model" in fields_of(caught.value)["extinguishing_agent"]
    assert register_battery(extinguishing_agent=["water"]).battery.data["extinguishing_agent"] == ["water"]


def test_dynamic_values_may_come_at_registration(register_battery):
    registered = register_battery(state_of_charge_pct=30, put_into_service_on="2026-03-10")
    assert registered.battery.data == {"state_of_charge_pct": 30}
    assert registered.battery.put_into_service_on == dt.date(2026, 3, 10)


def test_only_the_manufacturer_registers_batteries_of_its_models(stationary_model, users):
    item = {"gtin": MODEL_GTIN, "serial": "S1", "manufacturing_date": "2026-03-02"}
    for outsider in (users.other_manufacturer, users.recycler, users.authority, users.owner, users.staff, None):
        with pytest.raises(NotPermitted):
            battery_register(user=outsider, model=stationary_model, item=item)
    assert Passport.objects.count() == 0
