"""A realistic demo dataset: a 48 V (16s) LiFePO4 home battery maker, two rack-module models and a
dozen batteries through every lifecycle state. Used by `manage.py demo_data` and by the tests'
fixtures, so the values are physically consistent, and complete for the stationary category.

Figures follow public datasheets of 48 V 16s LFP rack modules (3.2 V cells, 2.5-3.65 V per cell):
minimum 40.0 V, nominal 51.2 V, maximum 58.4 V; 5.12 kWh per 100 Ah.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

import bms_core
from bms_core.simulate import simulate_history
from passport.identifiers import gs1_check_digit, lei_with_check_digits
from passport.models import Battery, BatteryModel, Membership, Organisation
from passport.services import (
    access_grant_create,
    battery_change_status,
    battery_claim,
    battery_claim_code_reissue,
    battery_model_create,
    battery_register,
    battery_update,
    handover_accept,
    handover_offer,
    organisation_create,
)
from passport.services.health import battery_health_record
from passport.values import NOT_CONTAINED
from passport.vocabulary import BatteryStatus, Category, Chemistry, MembershipRole, OrganisationKind

DEMO_PASSWORD = "demo-passport-2027"
MANUFACTURER_NAME = "Voltaro Energy GmbH"
DEMO_GTIN_PREFIX = "426123456"  # a 9-digit GS1 Germany-style company prefix for demo data
# The repurposer's own (GS1 Netherlands-style) prefix: it places its rebuilt racks on the market
# under its own GTINs, never under the original maker's.
REPURPOSER_GTIN_PREFIX = "871234567"


def demo_gtin(item_reference: str, *, company_prefix: str = DEMO_GTIN_PREFIX) -> str:
    """A valid GTIN-14: indicator 0, a 9-digit company prefix (the demo manufacturer's unless
    told), a 3-digit item reference and the check digit."""
    if len(item_reference) != 3 or not item_reference.isdigit():
        raise ValueError("the item reference has three digits")
    body = f"0{company_prefix}{item_reference}"
    return body + str(gs1_check_digit(body))


def manufacturer_fields() -> dict[str, str]:
    return {
        "lei": lei_with_check_digits("5299000VOLTARO0001"),
        "street": "Energiestraße 12",
        "postal_code": "01067",
        "city": "Dresden",
        "country": "DE",
        "website": "https://voltaro.example",
        "email": "passport@voltaro.example",
        "vat": "DE123456789",
        "eori": "DE1234567890123",
    }


# Full cycles over the service life: 6000 cycles at 90 % depth of discharge.
LIFETIME_FULL_CYCLES = 6000 * 0.9


def lfp_home_battery_model_data(*, capacity_ah: int = 100, mass_kg: float = 45.0) -> dict[str, Any]:
    """Every model-level attribute of a 48 V 16s LFP rack module (also the voluntary ones, so a
    document built from it is complete), plus the model default of the extinguishing agent."""
    energy_kwh = round(51.2 * capacity_ah / 1000, 2)
    footprint_per_capacity_kwh = 86.4 if capacity_ah <= 100 else 82.1
    model_label = f"Voltaro HomeRack {energy_kwh:g}"
    base = "https://voltaro.example/passport/homerack"
    return {
        "manufacturer_information": {
            "name": MANUFACTURER_NAME,
            "trade_name": "Voltaro",
            "identifier": f"LEI {manufacturer_fields()['lei']}",
            "street": "Energiestraße 12",
            "postal_code": "01067",
            "city": "Dresden",
            "country": "DE",
            "website": "https://voltaro.example",
            "email": "passport@voltaro.example",
        },
        "manufacturing_place": {
            "street": "Industriepark 4",
            "postal_code": "01109",
            "city": "Dresden",
            "country": "DE",
        },
        "warranty_period_years": 10,
        "battery_mass_kg": mass_kg,
        "separate_collection_symbol": {
            "shown_on_battery": True,
            "symbol_url": "https://voltaro.example/labels/crossed-out-bin.svg",
        },
        "cadmium_lead_symbols": {"cadmium_symbol": False, "lead_symbol": False},
        "carbon_footprint_label": {
            "shown_on_battery": True,
            "symbol_url": "https://voltaro.example/labels/carbon-class-b.svg",
        },
        "extinguishing_agent": ["water (large quantities, for cooling)", "CO2"],
        "labels_meaning": [
            {"symbol": "crossed-out wheeled bin",
             "meaning": "Collect separately from household waste (Art. 13(4)).",
             "symbol_url": "https://voltaro.example/labels/crossed-out-bin.svg",
             "subject": "SeparateCollection"},
            {"symbol": "carbon footprint class B",
             "meaning": "Carbon footprint performance class B under Art. 7(2).",
             "symbol_url": "https://voltaro.example/labels/carbon-class-b.svg",
             "subject": "CarbonFootPrint"},
            {"symbol": "CE", "meaning": "Conforms to applicable EU legislation."},
        ],
        "declaration_of_conformity": {
            "id": f"DoC-VOLTARO-HR{capacity_ah}-2027-01",
            "url": f"{base}-{capacity_ah}/declaration-of-conformity.pdf",
        },
        "test_reports": [
            {"title": "IEC 62619:2022 safety test report", "url": f"{base}-{capacity_ah}/iec62619.pdf",
             "issued_by": "TÜV Demo Notified Body 0000", "issued_on": "2026-09-15"},
            {"title": "UN 38.3 transport test summary", "url": f"{base}-{capacity_ah}/un38-3.pdf",
             "issued_by": "Demo Test Lab", "issued_on": "2026-08-01"},
        ],
        # Art. 7(1)(d): per kWh of the total energy delivered over the service life, here
        # 6000 cycles at 90 % depth of discharge (86.4 / 82.1 kg CO2e per kWh of capacity).
        "carbon_footprint_kg_co2e_per_kwh": round(footprint_per_capacity_kwh / LIFETIME_FULL_CYCLES, 4),
        "carbon_footprint_raw_material_pct": 61.5,
        "carbon_footprint_production_pct": 31.0,
        "carbon_footprint_distribution_pct": 3.5,
        "carbon_footprint_end_of_life_pct": 4.0,
        "carbon_footprint_performance_class": "B",
        "carbon_footprint_study_url": f"{base}-{capacity_ah}/carbon-footprint-study.pdf",
        "carbon_footprint_declaration_info": {
            "manufacturer": MANUFACTURER_NAME,
            "battery_model": model_label,
            "manufacturing_facility": "Industriepark 4, 01109 Dresden, DE",
        },
        "absolute_carbon_footprint_t_co2e": round(footprint_per_capacity_kwh * energy_kwh / 1000, 3),
        "due_diligence_report_url": "https://voltaro.example/sustainability/due-diligence-2026.pdf",
        "third_party_assurances": [
            {"scheme": "IRMA Standard for Responsible Mining (lithium supplier)",
             "url": "https://voltaro.example/sustainability/irma.pdf"},
        ],
        "supply_chain_indices": [
            {"name": "Share of audited cell suppliers (%)", "value": 100},
        ],
        "critical_raw_materials": [
            {"name": "lithium", "mass_fraction_pct": 1.3},
            {"name": "natural graphite", "mass_fraction_pct": 9.8},
            {"name": "phosphate rock (phosphorus)", "mass_fraction_pct": 6.1},
            {"name": "copper", "mass_fraction_pct": 7.2},
            {"name": "aluminium (bauxite)", "mass_fraction_pct": 12.5},
        ],
        "cathode_anode_electrolyte_materials": {
            "cathode": [
                {"name": "lithium iron phosphate (LiFePO4)", "cas_number": "15365-14-7",
                 "mass_fraction_pct": 28.0, "critical_raw_material": True},
                {"name": "polyvinylidene fluoride binder", "cas_number": "24937-79-9",
                 "mass_fraction_pct": 0.8, "critical_raw_material": False},
                {"name": "aluminium foil", "cas_number": "7429-90-5", "mass_fraction_pct": 3.5,
                 "critical_raw_material": True},
            ],
            "anode": [
                {"name": "graphite", "cas_number": "7782-42-5", "mass_fraction_pct": 14.0,
                 "critical_raw_material": True},
                {"name": "copper foil", "cas_number": "7440-50-8", "mass_fraction_pct": 6.0,
                 "critical_raw_material": True},
            ],
            "electrolyte": [
                {"name": "lithium hexafluorophosphate", "cas_number": "21324-40-3",
                 "mass_fraction_pct": 1.6, "critical_raw_material": True},
                {"name": "ethylene carbonate", "cas_number": "96-49-1", "mass_fraction_pct": 4.2,
                 "critical_raw_material": False},
                {"name": "dimethyl carbonate", "cas_number": "616-38-6", "mass_fraction_pct": 4.4,
                 "critical_raw_material": False},
            ],
        },
        "hazardous_substances": [
            {"name": "lithium hexafluorophosphate", "cas_number": "21324-40-3",
             "concentration_pct": 1.6, "hazard_class": "Acute toxicity (oral), category 3",
             "hazard_class_code": "AcuteToxicity",
             "impacts": ["toxic if swallowed", "forms hydrogen fluoride in contact with water"],
             "location": "electrolyte"},
            # A flammable liquid: a hazard class the consortium's code list does not have.
            {"name": "dimethyl carbonate", "cas_number": "616-38-6", "concentration_pct": 4.4,
             "hazard_class": "Flammable liquid, category 2",
             "impacts": ["highly flammable liquid and vapour"], "location": "electrolyte"},
        ],
        "substance_impact_information": (
            "The electrolyte contains lithium hexafluorophosphate, which forms hydrogen fluoride "
            "in contact with water, and flammable organic carbonates. Do not open the module; "
            "a damaged module may release toxic and flammable gases."
        ),
        "dismantling_documents": [
            {"title": "Removal and disassembly manual", "url": f"{base}/dismantling-manual.pdf",
             "mime": "application/pdf", "document_type": "DismantlingManual"},
            {"title": "Exploded view drawing", "url": f"{base}/exploded-view.pdf",
             "mime": "application/pdf", "document_type": "Drawing"},
        ],
        "part_numbers": [
            {"part_name": "battery management board", "part_number": "VT-BMS-16S-200"},
            {"part_name": "cell module (16 x 3.2 V)", "part_number": f"VT-CM16-{capacity_ah}"},
            {"part_name": "DC breaker", "part_number": "VT-BRK-250A"},
        ],
        "spare_part_sources": [
            {"supplier_name": "Voltaro Service", "url": "https://voltaro.example/service/parts",
             "email": "parts@voltaro.example",
             "address": {"street": "Energiestraße 12", "postal_code": "01067", "city": "Dresden",
                         "country": "DE"},
             "part_numbers": ["VT-BMS-16S-200", f"VT-CM16-{capacity_ah}", "VT-BRK-250A"]},
        ],
        "safety_measures": {
            "instructions": (
                "Install indoors between 0 and 45 °C, away from heat sources. Switch off the DC "
                "breaker before any work. In case of fire, cool with large quantities of water; "
                "ventilate, the gases are toxic."
            ),
            "document_url": f"{base}/safety-instructions.pdf",
        },
        "pre_consumer_recycled_nickel_pct": NOT_CONTAINED,
        "pre_consumer_recycled_cobalt_pct": NOT_CONTAINED,
        "pre_consumer_recycled_lithium_pct": 4.0,
        "pre_consumer_recycled_lead_pct": NOT_CONTAINED,
        "post_consumer_recycled_nickel_pct": NOT_CONTAINED,
        "post_consumer_recycled_cobalt_pct": NOT_CONTAINED,
        "post_consumer_recycled_lithium_pct": 2.5,
        "post_consumer_recycled_lead_pct": NOT_CONTAINED,
        "renewable_content_pct": 1.5,
        "end_user_waste_prevention_info": (
            "Keep the battery within its temperature range and update its firmware; a healthy "
            "battery can be repurposed or re-used before it becomes waste."
        ),
        "end_user_separate_collection_info": (
            "Never put the battery in household waste. Hand it back to the installer, the "
            "distributor or a municipal collection point for industrial batteries, free of charge."
        ),
        "collection_and_treatment_info": (
            "Voltaro takes back modules through its producer responsibility organisation; modules "
            "with at least 70 % state of health are checked for a second life, others go to "
            "hydrometallurgical recycling."
        ),
        "rated_capacity_ah": capacity_ah,
        "capacity_fade_pct": 20,
        "certified_usable_energy_kwh": round(energy_kwh * 0.9, 2),
        "min_voltage_v": 40.0,
        "max_voltage_v": 58.4,
        "nominal_voltage_v": 51.2,
        "original_power_capability_w": {
            "at_soc_80_pct": 51.2 * capacity_ah * 1.0,
            "at_soc_20_pct": 48.0 * capacity_ah * 1.0,
        },
        "power_fade_pct": 15,
        "max_permitted_power_w": 51.2 * capacity_ah * 1.0,
        "power_to_energy_ratio_w_per_wh": 1.0,
        "initial_round_trip_efficiency_pct": 95.0,
        "round_trip_efficiency_at_50pct_cycle_life_pct": 93.0,
        "round_trip_efficiency_fade_pct": 3.0,
        "initial_self_discharge_pct_per_month": 2.0,
        "initial_internal_resistance_ohm": {"cell": 0.00025, "module": 0.006, "pack": 0.008},
        "internal_resistance_increase_pct": 40,
        "expected_lifetime_years": 15,
        "expected_lifetime_cycles": 6000,
        "cycle_life_reference_test": {
            "standard": "IEC 62620:2014 cycle life test, 0.5C charge/discharge",
            "depth_of_discharge_pct": 90,
            "temperature_c": 25,
            "end_of_test_capacity_pct": 80,
            "report_url": f"{base}-{capacity_ah}/cycle-life-report.pdf",
        },
        "cycle_life_test_c_rate": 0.5,
        "capacity_threshold_for_exhaustion_pct": 70,
        "idle_temperature_lower_c": -10,
        "idle_temperature_upper_c": 50,
    }


def lfp_item_dynamic_data(*, soh_pct: float, capacity_ah: int, cycles: int, days: int) -> dict[str, Any]:
    """Plausible use data of a battery `days` after it was put into service."""
    remaining_ah = round(capacity_ah * soh_pct / 100, 1)
    today = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "remaining_capacity_ah": remaining_ah,
        "remaining_usable_energy_kwh": round(remaining_ah * 51.2 / 1000 * 0.9, 2),
        "state_of_certified_energy_pct": soh_pct,
        "state_of_charge_pct": 64.0,
        "remaining_power_capability_w": {
            "at_soc_80_pct": round(51.2 * capacity_ah * (0.9 + soh_pct / 1000), 1),
            "at_soc_20_pct": round(48.0 * capacity_ah * (0.9 + soh_pct / 1000), 1),
        },
        "remaining_round_trip_efficiency_pct": 94.2,
        "current_self_discharge_pct_per_month": 2.3,
        "self_discharge_evolution": [
            {"measured_on": (today - dt.timedelta(days=days)).date().isoformat(), "pct_per_month": 2.0},
            {"measured_on": today.date().isoformat(), "pct_per_month": 2.3},
        ],
        "full_cycles_count": cycles,
        "energy_throughput_kwh": round(cycles * 51.2 * capacity_ah / 1000 * 0.9, 1),
        "capacity_throughput_ah": round(cycles * capacity_ah * 0.9 * 2, 1),
        "temperature_information": [
            {"period_start": (today - dt.timedelta(days=30)).isoformat(),
             "period_end": today.isoformat(), "min_c": 12.5, "max_c": 31.0, "mean_c": 21.4},
        ],
        "time_above_temperature_boundary_minutes": 0,
        "time_below_temperature_boundary_minutes": 35,
        "time_charging_above_temperature_boundary_minutes": 0,
        "time_charging_below_temperature_boundary_minutes": 0,
        "deep_discharge_events_count": 1,
        "overcharge_events_count": 0,
        "accident_information": [],
    }


def demo_bms_report(*, seed: int, capacity_ah: float, days: int) -> dict[str, Any]:
    """The analytics report of a simulated BMS history of the last `days` days: the demo's use
    data comes out of the same analysis the telemetry pipeline runs. 30 s sampling (the
    simulator's coarsest) keeps it to about a second per two weeks of history."""
    start = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= dt.timedelta(days=days)
    columns, _truth = simulate_history(
        days, seed, sample_s=30.0, capacity_ah=capacity_ah,
        start=start.isoformat().replace("+00:00", "Z"),
    )
    return bms_core.analyze(columns, rated_capacity_ah=capacity_ah, series_cells=16)


# --- the demo dataset (manage.py demo_data) ---------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    organisation: str | None
    token: str | None


@dataclass(frozen=True)
class DemoResult:
    created: bool
    users: list[DemoUser]
    batteries: list[Battery]
    # A fresh one-time code for an unclaimed battery, to try the owner's claim.
    claim_identifier: str
    claim_code: str


def _user(username: str, *, staff: bool = False, email: str = ""):
    User = get_user_model()  # noqa: N806 - Django's convention
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email or f"{username}@demo.example"}
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
    user.is_staff = user.is_superuser = staff
    user.save()
    return user


def _organisation(name: str, kind: str, **fields: Any) -> Organisation:
    existing = Organisation.objects.filter(name=name, kind=kind).first()
    return existing or organisation_create(kind=kind, name=name, **fields)


def _member(user, organisation: Organisation, role: str = MembershipRole.ADMIN) -> None:
    Membership.objects.get_or_create(user=user, defaults={"organisation": organisation, "role": role})


def demo_dataset_build() -> DemoResult:
    """Create the demo dataset unless it exists. Re-running changes nothing but the demo
    passwords (reset to the printed value) and the example claim code (a fresh one)."""
    with transaction.atomic():
        manufacturer = _organisation(
            MANUFACTURER_NAME, OrganisationKind.MANUFACTURER, **manufacturer_fields(),
            gs1_prefixes=[DEMO_GTIN_PREFIX], iso15459_prefixes=["UN.VOLTARO"],
        )
        recycler = _organisation(
            "ReCell Recycling GmbH", OrganisationKind.RECYCLER, city="Freiberg", country="DE",
            street="Hüttenweg 3", postal_code="09599", website="https://recell.example",
            email="info@recell.example", lei=lei_with_check_digits("5299000RECELLREC01"),
        )
        repairer = _organisation(
            "SolarFix Service GmbH", OrganisationKind.REPAIRER, city="Leipzig", country="DE",
            website="https://solarfix.example", email="service@solarfix.example",
        )
        repurposer = _organisation(
            "SecondLife Storage BV", OrganisationKind.REPURPOSER, city="Eindhoven", country="NL",
            street="Strijp-S 7", postal_code="5617", website="https://secondlife.example",
            email="hello@secondlife.example", lei=lei_with_check_digits("7245000SECONDLIFE1"),
            gs1_prefixes=[REPURPOSER_GTIN_PREFIX], iso15459_prefixes=["UN.SECONDLIFE"],
        )
        authority = _organisation(
            "Bundesanstalt für Materialforschung (market surveillance demo)",
            OrganisationKind.AUTHORITY, city="Berlin", country="DE",
        )

        _user("admin", staff=True)
        maker = _user("manufacturer")
        _member(maker, manufacturer)
        recycler_user = _user("recycler")
        _member(recycler_user, recycler)
        repairer_user = _user("repairer")
        _member(repairer_user, repairer)
        repurposer_user = _user("repurposer")
        _member(repurposer_user, repurposer)
        inspector = _user("authority")
        _member(inspector, authority)
        owner = _user("owner")

        # Kept across re-runs, so scripts written against the demo keep working.
        tokens = {user.username: Token.objects.get_or_create(user=user)[0].key for user in (maker, inspector)}

        created = not BatteryModel.objects.filter(manufacturer=manufacturer).exists()
        if created:
            small = battery_model_create(
                user=maker, manufacturer=manufacturer, name="HomeRack 5.12 (48 V 100 Ah)",
                category=Category.STATIONARY, chemistry=Chemistry.LFP,
                data=lfp_home_battery_model_data(capacity_ah=100, mass_kg=45.0),
            )
            large = battery_model_create(
                user=maker, manufacturer=manufacturer, name="HomeRack 10.24 (48 V 200 Ah)",
                category=Category.STATIONARY, chemistry=Chemistry.LFP,
                data=lfp_home_battery_model_data(capacity_ah=200, mass_kg=88.0),
            )
            repurposed_model = battery_model_create(
                user=repurposer_user, manufacturer=repurposer, name="SecondLife Rack 15 (3 x 5.12)",
                category=Category.STATIONARY, chemistry=Chemistry.LFP,
                data={
                    **lfp_home_battery_model_data(capacity_ah=300, mass_kg=140.0),
                    "manufacturer_information": {
                        "name": "SecondLife Storage BV",
                        "identifier": f"LEI {lei_with_check_digits('7245000SECONDLIFE1')}",
                        "street": "Strijp-S 7",
                        "postal_code": "5617", "city": "Eindhoven", "country": "NL",
                        "website": "https://secondlife.example", "email": "hello@secondlife.example",
                    },
                    "warranty_period_years": 5,
                },
            )
            _demo_batteries(
                maker=maker, owner=owner, small=small, large=large,
                recycler=recycler, repairer=repairer, repurposer=repurposer,
                repurposer_user=repurposer_user, recycler_user=recycler_user,
                repurposed_model=repurposed_model,
            )

    users = [
        DemoUser("admin", "staff superuser (Django admin)", None, None),
        DemoUser("manufacturer", "manufacturer member", manufacturer.name, tokens["manufacturer"]),
        DemoUser("authority", "market surveillance authority", authority.name, tokens["authority"]),
        DemoUser("recycler", "recycler / waste operator", recycler.name, None),
        DemoUser("repairer", "repairer (legitimate interest)", repairer.name, None),
        DemoUser("repurposer", "repurposer", repurposer.name, None),
        DemoUser("owner", "private owner of a battery", None, None),
    ]
    batteries = list(
        Battery.objects.filter(model__manufacturer__in=[manufacturer, repurposer])
        .select_related("model", "responsible_operator", "owner")
        .order_by("id")
    )
    unclaimed = next(
        b for b in batteries
        if b.owner_id is None and b.status == BatteryStatus.ORIGINAL and b.responsible_operator_id == manufacturer.pk
    )
    code = battery_claim_code_reissue(user=maker, battery=unclaimed)
    return DemoResult(created=created, users=users, batteries=batteries,
                      claim_identifier=unclaimed.identifier, claim_code=code)


def _demo_batteries(*, maker, owner, small, large, recycler, repairer, repurposer, repurposer_user,
                    recycler_user, repurposed_model) -> None:
    small_gtin, large_gtin = demo_gtin("001"), demo_gtin("002")
    today = dt.date.today()
    registered = []
    for number in range(1, 13):
        gtin, model, capacity = (small_gtin, small, 100) if number <= 8 else (large_gtin, large, 200)
        made = today - dt.timedelta(days=400 - number * 7)
        result = battery_register(user=maker, model=model, item={
            "gtin": gtin, "serial": f"VT{made:%y%m}{number:05d}", "batch": f"L{made:%y%m}A",
            "manufacturing_date": made.isoformat(),
        })
        registered.append((result, capacity, made))

    # In service, with use data: batteries 1-8. Batteries 1 and 2 were put into service a few
    # weeks ago and their use data is the analysis of their simulated BMS history since then;
    # simulating the year-old ones would make the demo slow to load.
    sohs = (99, 98, 97, 97, 96, 95, 94, 92)
    for seed, ((result, capacity, made), soh) in enumerate(zip(registered[:8], sohs, strict=True)):
        monitored = seed < 2
        in_service = today - dt.timedelta(days=28 + 14 * seed) if monitored else made + dt.timedelta(days=30)
        battery_update(user=maker, battery=result.battery, reason="installed and commissioned",
                       data={"put_into_service_on": in_service.isoformat()})
        battery_update(user=maker, battery=result.battery, reason="daily BMS telemetry",
                       data=lfp_item_dynamic_data(soh_pct=soh, capacity_ah=capacity,
                                                  cycles=(today - in_service).days // 2,
                                                  days=(today - in_service).days))
        if monitored:
            report = demo_bms_report(seed=seed, capacity_ah=capacity, days=(today - in_service).days)
            battery_health_record(battery=result.battery, report=report)

    # Battery 1 belongs to the demo owner, who lets the repairer read its use data.
    first = registered[0][0]
    battery_claim(user=owner, identifier=first.battery.identifier, claim_code=first.claim_code)
    access_grant_create(user=owner, battery=first.battery, organisation=repairer)

    # Battery 2 was repaired and re-used.
    battery_change_status(user=maker, battery=registered[1][0].battery, status=BatteryStatus.REUSED,
                          reason="cell module replaced under warranty, returned to the owner")

    # Batteries 3, 4, 5 became waste: the manufacturer offered them to the recycler, which
    # accepted (responsibility moves only with the receiver's consent); 5 was then recycled.
    for index in (2, 3, 4):
        _hand_over(giver=maker, receiver=recycler_user, battery=registered[index][0].battery,
                   status=BatteryStatus.WASTE, operator=recycler, reason="collected after storm damage")
    battery_change_status(user=recycler_user, battery=registered[4][0].battery,
                          status=BatteryStatus.RECYCLED, reason="hydrometallurgical recycling completed")

    # Batteries 3 and 4 were repurposed by the repurposer into one new rack with its own
    # identifier (under its own GS1 prefix); the recycler (responsible for the waste) offered
    # them and the repurposer accepted.
    new_identifier = f"(01){demo_gtin('901', company_prefix=REPURPOSER_GTIN_PREFIX)}(21)SL{today:%y%m}0001"
    _hand_over(
        giver=recycler_user, receiver=repurposer_user, battery=registered[2][0].battery,
        predecessors=[registered[3][0].battery],
        status=BatteryStatus.REPURPOSED, operator=repurposer, model=repurposed_model,
        new_identifier=new_identifier,
        reason="modules tested (>= 90 % SoH) and rebuilt into a second-life rack",
    )
    new_battery = Battery.objects.get(identifier=new_identifier)
    battery_claim_code_reissue(user=repurposer_user, battery=new_battery)

    # Battery 7 was damaged and waits at the recycler as waste.
    _hand_over(giver=maker, receiver=recycler_user, battery=registered[6][0].battery,
               status=BatteryStatus.WASTE, operator=recycler, reason="returned after a transport accident")

    # Battery 6 was repurposed in place (same identifier, new passport) by the repurposer.
    _hand_over(giver=maker, receiver=repurposer_user, battery=registered[5][0].battery,
               status=BatteryStatus.REPURPOSED, operator=repurposer,
               reason="bought back and refurbished for a second life")


def _hand_over(*, giver, receiver, battery: Battery, **offer: Any) -> None:
    """Offer `battery` to another operator and accept it as that operator's member."""
    handover = handover_offer(user=giver, battery=battery, **offer)
    handover_accept(user=receiver, handover=handover)
