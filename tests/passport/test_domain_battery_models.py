"""Battery models: creation with every mandatory attribute of the category, cross-attribute rules,
who may write, partial updates with versions."""

from __future__ import annotations

import pytest

from passport.attributes import Level, mandatory
from passport.errors import Conflict, NotPermitted, ValidationFailed
from passport.models import Version
from passport.services import battery_model_create, battery_model_update
from passport.vocabulary import Category, Chemistry

MAKER = object()


def create(users, organisations, data, *, category=Category.STATIONARY, name="Model X", user=MAKER,
           manufacturer=None):
    return battery_model_create(
        user=users.manufacturer if user is MAKER else user,
        manufacturer=manufacturer or organisations.manufacturer,
        name=name,
        category=category,
        chemistry=Chemistry.LFP,
        data=data,
    )


def fields_of(error: ValidationFailed) -> dict[str, str]:
    return {e.field: e.reason for e in error.errors}


def test_a_complete_model_is_created_with_its_first_version(stationary_model, users):
    [version] = Version.objects.filter(model=stationary_model)
    assert version.seq == 1 and version.prev_hash == "" and len(version.hash) == 64
    assert version.author == users.manufacturer
    assert version.data["rated_capacity_ah"] == 100
    assert version.data["category"] == "stationary" and version.data["chemistry"] == "LFP"
    assert version.changes["nominal_voltage_v"] == {"old": None, "new": 51.2}


def test_every_mandatory_static_model_attribute_is_required(users, organisations):
    with pytest.raises(ValidationFailed) as caught:
        create(users, organisations, {"manufacturer_information": {
            "name": "X", "street": "s", "postal_code": "1", "city": "c", "country": "DE",
            "website": "https://x.example", "email": "a@x.example"}})
    expected = {a.key for a in mandatory(Category.STATIONARY, Level.MODEL, at_creation=True)}
    expected.discard("manufacturer_information")
    missing = {field for field, reason in fields_of(caught.value).items() if reason.startswith("is mandatory")}
    assert missing == expected
    assert fields_of(caught.value)["rated_capacity_ah"] == (
        "is mandatory for stationary battery energy storage system batteries "
        "(Annex XIII (1g); Annex IV Part A (1))"
    )


def test_the_category_decides_what_is_mandatory(users, organisations, stationary_model_data):
    data = dict(stationary_model_data)
    del data["certified_usable_energy_kwh"]
    del data["capacity_threshold_for_exhaustion_pct"]
    create(users, organisations, data, name="Stationary without EV-only values")
    with pytest.raises(ValidationFailed) as caught:
        create(users, organisations, data, category=Category.EV, name="EV")
    # Certified usable energy is voluntary for EV batteries in the consortium's list.
    assert set(fields_of(caught.value)) == {"capacity_threshold_for_exhaustion_pct"}


@pytest.mark.parametrize(
    ("changes", "field", "reason_part"),
    [
        ({"battery_mass_kg": -45}, "battery_mass_kg", "greater than 0 kg"),
        ({"battery_mass_kg": 1_200_000}, "battery_mass_kg", "at most 1e+06 kg"),
        ({"rated_capacity_ah": 250_000}, "rated_capacity_ah", "at most 100000 Ah"),
        ({"nominal_voltage_v": 60}, "nominal_voltage_v", "strictly between"),
        ({"min_voltage_v": 59, "max_voltage_v": 58.4}, "max_voltage_v", "above the minimum"),
        ({"carbon_footprint_distribution_pct": 9.0}, "carbon_footprint_raw_material_pct", "sum to 105.5 %"),
        ({"idle_temperature_lower_c": 60}, "idle_temperature_upper_c", "above the lower one"),
        ({"round_trip_efficiency_at_50pct_cycle_life_pct": 96}, "round_trip_efficiency_at_50pct_cycle_life_pct",
         "cannot exceed"),
        ({"pre_consumer_recycled_lithium_pct": 60, "post_consumer_recycled_lithium_pct": 50},
         "post_consumer_recycled_lithium_pct", "exceed 100 %"),
        ({"carbon_footprint_performance_class": "F"}, "carbon_footprint_performance_class", "one of A, B, C, D, E"),
        ({"due_diligence_report_url": "due diligence.pdf"}, "due_diligence_report_url", "absolute http(s) URL"),
        ({"declaration_of_conformity": {"id": "D-1"}}, "declaration_of_conformity.url", "is required"),
        ({"hazardous_substances": [{"name": "LiPF6", "cas_number": "21324-40-0", "concentration_pct": 1}]},
         "hazardous_substances.0.cas_number", "wrong check digit"),
        ({"state_of_charge_pct": 50}, "state_of_charge_pct", "per-battery attribute"),
        ({"status": "waste"}, "status", "status change"),
        ({"chemistry": "NMC"}, "chemistry", "fixed when the battery model is created"),
        ({"colour": "blue"}, "colour", "not a battery passport attribute"),
    ],
)
def test_bad_values_are_refused_with_field_and_reason(users, organisations, stationary_model_data,
                                                      changes, field, reason_part):
    with pytest.raises(ValidationFailed) as caught:
        create(users, organisations, {**stationary_model_data, **changes})
    reasons = fields_of(caught.value)
    assert field in reasons, reasons
    assert reason_part in reasons[field]


def test_carbon_shares_within_half_a_percent_pass(users, organisations, stationary_model_data):
    create(users, organisations, {**stationary_model_data, "carbon_footprint_distribution_pct": 3.9})


def test_end_of_life_share_may_be_a_credit(users, organisations, stationary_model_data):
    create(users, organisations, {**stationary_model_data, "carbon_footprint_end_of_life_pct": -2.0,
                                  "carbon_footprint_production_pct": 37.0})


def test_manufacturer_information_defaults_to_the_organisation(users, organisations, stationary_model_data):
    data = dict(stationary_model_data)
    del data["manufacturer_information"]
    model = create(users, organisations, data)
    assert model.data["manufacturer_information"]["name"] == "Voltaro Energy GmbH"
    assert model.data["manufacturer_information"]["country"] == "DE"


def test_manufacturer_information_from_an_incomplete_organisation_says_so(users, organisations, stationary_model_data):
    data = dict(stationary_model_data)
    del data["manufacturer_information"]
    with pytest.raises(ValidationFailed) as caught:
        create(users, organisations, data, user=users.other_manufacturer,
               manufacturer=organisations.other_manufacturer)
    reasons = fields_of(caught.value)
    assert "taken from the organisation's record" in reasons["manufacturer_information.email"]


def test_only_members_of_the_manufacturer_create_its_models(users, organisations, stationary_model_data):
    for outsider in (users.other_manufacturer, users.authority, users.owner, users.staff, None):
        with pytest.raises(NotPermitted):
            create(users, organisations, stationary_model_data, user=outsider)


def test_a_recycler_does_not_place_models_on_the_market(users, organisations, stationary_model_data):
    with pytest.raises(ValidationFailed) as caught:
        create(users, organisations, stationary_model_data, user=users.recycler, manufacturer=organisations.recycler)
    assert "manufacturer" in fields_of(caught.value)


def test_model_names_are_unique_per_manufacturer(stationary_model, users, organisations, stationary_model_data):
    with pytest.raises(Conflict):
        create(users, organisations, stationary_model_data, name=stationary_model.name)


def test_a_partial_update_records_what_changed(stationary_model, users):
    battery_model_update(user=users.manufacturer, model=stationary_model,
                         data={"battery_mass_kg": 46.5, "warranty_period_years": 12},
                         reason="datasheet revision B")
    latest = Version.objects.filter(model=stationary_model).order_by("-seq").first()
    assert latest.seq == 2
    assert latest.reason == "datasheet revision B"
    assert latest.changes == {
        "battery_mass_kg": {"old": 45, "new": 46.5},
        "warranty_period_years": {"old": 10, "new": 12},
    }
    stationary_model.refresh_from_db()
    assert stationary_model.data["battery_mass_kg"] == 46.5


def test_an_update_that_changes_nothing_records_nothing(stationary_model, users):
    battery_model_update(user=users.manufacturer, model=stationary_model,
                         data={"battery_mass_kg": 45}, reason="same again")
    assert Version.objects.filter(model=stationary_model).count() == 1


def test_updates_keep_the_model_complete_and_consistent(stationary_model, users):
    with pytest.raises(ValidationFailed) as caught:
        battery_model_update(user=users.manufacturer, model=stationary_model,
                             data={"rated_capacity_ah": None, "nominal_voltage_v": 70}, reason="oops")
    assert set(fields_of(caught.value)) == {"rated_capacity_ah", "nominal_voltage_v"}
    battery_model_update(user=users.manufacturer, model=stationary_model,
                         data={"supply_chain_indices": None}, reason="index withdrawn")
    stationary_model.refresh_from_db()
    assert "supply_chain_indices" not in stationary_model.data


def test_updates_need_a_reason_and_the_manufacturer(stationary_model, users):
    with pytest.raises(ValidationFailed) as caught:
        battery_model_update(user=users.manufacturer, model=stationary_model, data={"battery_mass_kg": 47}, reason=" ")
    assert set(fields_of(caught.value)) == {"reason"}
    with pytest.raises(NotPermitted):
        battery_model_update(user=users.other_manufacturer, model=stationary_model,
                             data={"battery_mass_kg": 47}, reason="hostile")
