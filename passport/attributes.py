"""THE table of the 93 battery passport attributes (Battery Pass longlist v1.2, Annex XIII).

Every attribute is declared once, with who may read it (its Tier, Art. 77(2)), its level (model
or item), whether it is static or dynamic, how it enters the passport, the categories for which
it is mandatory, its unit and its value kind. Everything else (validation, access filtering,
the document, exports) is driven by this table.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from passport.values import (
    Boolean,
    CasNumber,
    Choice,
    Count,
    CountryCode,
    Date,
    DateTime,
    Email,
    Field,
    Kind,
    ListOf,
    Number,
    Object,
    OrNotContained,
    Percent,
    Text,
    Url,
)
from passport.vocabulary import (
    BatteryStatus,
    Category,
    Chemistry,
    DocumentType,
    HazardClass,
    LabelSubject,
    PerformanceClass,
)


class Tier(enum.StrEnum):
    """Who may read an attribute (Art. 77(2), Annex XIII). The tiers are NOT nested."""

    PUBLIC = "public"  # Annex XIII point 1: everybody
    RESTRICTED = "restricted"  # point 2: legitimate interest + authorities
    AUTHORITIES = "authorities"  # point 3: notified bodies, market surveillance, Commission only
    INDIVIDUAL = "individual"  # point 4: legitimate interest only, for batteries of interest


class View(enum.StrEnum):
    """The audiences a passport is rendered for."""

    PUBLIC = "public"
    LEGITIMATE = "legitimate"
    AUTHORITY = "authority"
    FULL = "full"

    def tiers(self, *, interest: bool = True) -> frozenset[Tier]:
        """The tiers this view shows. A legitimate-interest reader sees point 4 (INDIVIDUAL) only
        for batteries it has an interest in; pass interest=False otherwise."""
        if self is View.PUBLIC:
            return frozenset({Tier.PUBLIC})
        if self is View.LEGITIMATE:
            individual = {Tier.INDIVIDUAL} if interest else set()
            return frozenset({Tier.PUBLIC, Tier.RESTRICTED, *individual})
        if self is View.AUTHORITY:
            return frozenset({Tier.PUBLIC, Tier.RESTRICTED, Tier.AUTHORITIES})
        return frozenset(Tier)


class Level(enum.StrEnum):
    MODEL = "model"  # shared by every battery of a model
    ITEM = "item"  # per battery


class Entry(enum.StrEnum):
    """How a value enters the passport."""

    # Given by the operator at model creation / battery registration (required there if mandatory).
    INPUT = "input"
    # Given after registration, by the operator or by telemetry; never required at registration.
    LATER = "later"
    # Set by the services themselves (identifiers, status, operator); refused as input.
    SYSTEM = "system"


ALL_CATEGORIES: frozenset[Category] = frozenset(Category)
NONE: frozenset[Category] = frozenset()
# The category columns follow the Battery Pass consortium's longlist v1.2 (reproduced in
# /work/shared/reference/attribute-categories.md; a test compares every cell). Where the
# regulation says "where possible" or the list marks an attribute voluntary for a category, it is
# not mandatory here.
EV_ONLY: frozenset[Category] = frozenset({Category.EV})
STATIONARY_ONLY: frozenset[Category] = frozenset({Category.STATIONARY})
# Annex VII (Art. 14(1)): state-of-health and lifetime parameters of stationary battery energy
# storage systems and LMT batteries.
ANNEX_VII: frozenset[Category] = frozenset({Category.STATIONARY, Category.LMT})
# Harmful temperature events (Annex VII Part B (4)): every category but EV batteries.
NOT_EV: frozenset[Category] = frozenset({Category.LMT, Category.INDUSTRIAL, Category.STATIONARY})


@dataclass(frozen=True)
class Attribute:
    number: int
    key: str
    name: str
    tier: Tier
    level: Level
    mandatory_for: frozenset[Category]
    unit: str | None
    kind: Kind
    dynamic: bool = False
    entry: Entry = Entry.INPUT
    aspect: str = ""
    regulation: str = ""
    # An item attribute whose default may be declared on the battery model under the same key.
    model_default: bool = False

    def is_mandatory(self, category: str) -> bool:
        return category in self.mandatory_for

    @property
    def required_at_creation(self) -> bool:
        """Must be present when the model is created / the battery registered (if mandatory)."""
        return self.entry is Entry.INPUT and not self.dynamic


# --- structured value kinds shared by several attributes ----------------------------------------

# A postal address as the Battery Pass data model needs one (street and postal code included).
_ADDRESS = Object(
    {
        "street": Field(Text(200)),
        "postal_code": Field(Text(20)),
        "city": Field(Text(100)),
        "country": Field(CountryCode()),
    }
)


def _contact(*, identifier_required: bool) -> Object:
    return Object(
        {
            "name": Field(Text(200)),
            "trade_name": Field(Text(200), required=False),
            # A unique operator identifier (LEI, GLN, EORI...), as the Battery Pass model asks.
            "identifier": Field(Text(100), required=identifier_required),
            "street": Field(Text(200)),
            "postal_code": Field(Text(20)),
            "city": Field(Text(100)),
            "country": Field(CountryCode()),
            "website": Field(Url()),
            "email": Field(Email()),
        }
    )


# The operator's information is built by the service from its organisation (which may have no
# identifier on record); the manufacturer's is given, with its identifier.
_CONTACT = _contact(identifier_required=False)
_MANUFACTURER_CONTACT = _contact(identifier_required=True)

_DOCUMENT = Object(
    {
        "title": Field(Text(300)),
        "url": Field(Url()),
        "mime": Field(Text(100)),
        "document_type": Field(Choice(tuple(DocumentType.values)), required=False),
    }
)

_LABEL = Object(
    {
        "shown_on_battery": Field(Boolean()),
        "symbol_url": Field(Url(), required=False),
    }
)

_MATERIAL = Object(
    {
        "name": Field(Text(200)),
        "cas_number": Field(CasNumber(), required=False),
        "mass_fraction_pct": Field(Percent(), required=False),
        "critical_raw_material": Field(Boolean(), required=False),
    }
)

_POWER_AT_SOC = Object(
    {
        # Annex IV Part B(4): power is measured at 80 % and at 20 % state of charge.
        "at_soc_80_pct": Field(Number(0, 100_000_000, exclusive_minimum=True, unit="W")),
        "at_soc_20_pct": Field(Number(0, 100_000_000, exclusive_minimum=True, unit="W")),
    }
)

_RESISTANCE = Number(0, 100, exclusive_minimum=True, unit="ohm")
_CELSIUS = Number(-100, 200, unit="°C")
_MINUTES = Count()


def _a(
    number: int,
    key: str,
    name: str,
    tier: Tier,
    level: Level,
    mandatory_for: frozenset[Category],
    unit: str | None,
    kind: Kind,
    aspect: str,
    regulation: str,
    *,
    dynamic: bool = False,
    entry: Entry = Entry.INPUT,
    model_default: bool = False,
) -> Attribute:
    return Attribute(
        number=number,
        key=key,
        name=name,
        tier=tier,
        level=level,
        mandatory_for=mandatory_for,
        unit=unit,
        kind=kind,
        dynamic=dynamic,
        entry=Entry.LATER if dynamic and entry is Entry.INPUT else entry,
        aspect=aspect,
        regulation=regulation,
        model_default=model_default,
    )


P, R, A, I = Tier.PUBLIC, Tier.RESTRICTED, Tier.AUTHORITIES, Tier.INDIVIDUAL  # noqa: E741
M, IT = Level.MODEL, Level.ITEM
GPI, LAB, CF, SCDD, MC, CIRC, PAD = (
    "GeneralProductInformation",
    "Labels",
    "CarbonFootprint",
    "SupplyChainDueDiligence",
    "MaterialComposition",
    "Circularity",
    "PerformanceAndDurability",
)
ALL = ALL_CATEGORIES
PCT = "%"

ATTRIBUTES: tuple[Attribute, ...] = (
    # --- General product information ----------------------------------------------------------
    _a(1, "passport_identifier", "Battery passport identifier", P, IT, ALL, None,
       Text(100), GPI, "Art. 77(3); Art. 3(66); Art. 38(6)", entry=Entry.SYSTEM),
    _a(2, "battery_identifier", "Battery identifier", P, IT, ALL, None,
       Text(100), GPI, "Annex XIII (1a); Annex VI Part A; Art. 38(6)", entry=Entry.SYSTEM),
    _a(3, "operator_information", "Operator identifier and information", P, IT, NONE, None,
       _CONTACT, GPI, "ESPR Annex III(h)", entry=Entry.SYSTEM),
    _a(4, "manufacturer_information", "Manufacturer identifier and information", P, M, ALL, None,
       _MANUFACTURER_CONTACT, GPI, "Annex VI Part A (1); Art. 3(33); Art. 38(7)"),
    _a(5, "manufacturing_place", "Manufacturing place", P, M, ALL, None,
       _ADDRESS, GPI, "Annex XIII (1a); Annex VI Part A (3)"),
    _a(6, "manufacturing_date", "Manufacturing date", P, IT, ALL, None,
       Date(), GPI, "Annex XIII (1a); Annex VI Part A (4); Annex VII Part B (1)"),
    # Static, but only known once the battery is put into service, after registration.
    _a(7, "put_into_service_on", "Date of putting the battery into service", I, IT, ANNEX_VII, None,
       Date(), GPI, "Annex VII Part B (1)", entry=Entry.LATER),
    _a(8, "warranty_period_years", "Warranty period of the battery", P, M, ALL, "years",
       Number(0, 50, exclusive_minimum=True, unit="years"), GPI, "Annex XIII (1m)"),
    _a(9, "category", "Battery category", P, M, ALL, None,
       Choice(tuple(Category.values)), GPI, "Annex XIII (1a); Annex VI Part A (2)",
       entry=Entry.SYSTEM),
    _a(10, "battery_mass_kg", "Battery mass", P, M, ALL, "kg",
       # Containerised storage systems weigh tens of tonnes; 1,000 t bounds typing errors only.
       Number(0, 1_000_000, exclusive_minimum=True, unit="kg"), GPI,
       "Annex XIII (1a); Annex VI Part A (5)"),
    _a(11, "status", "Battery status", I, IT, ALL, None,
       Choice(tuple(BatteryStatus.values)), GPI, "Annex XIII 4(c)", dynamic=True,
       entry=Entry.SYSTEM),
    # --- Labels -------------------------------------------------------------------------------
    _a(12, "separate_collection_symbol", "Separate collection symbol", P, M, ALL, None,
       _LABEL, LAB, "Annex XIII (1s); Art. 13(4); Annex VI Part B"),
    _a(13, "cadmium_lead_symbols", "Symbols for cadmium and lead", P, M, ALL, None,
       Object({"cadmium_symbol": Field(Boolean()), "lead_symbol": Field(Boolean())}),
       LAB, "Annex XIII (1s); Art. 13(5)"),
    _a(14, "carbon_footprint_label", "Carbon footprint label", P, M, NONE, None,
       _LABEL, LAB, "Art. 7(2) via Annex XIII (1c)"),
    _a(15, "extinguishing_agent", "Extinguishing agent", P, IT, ALL, None,
       ListOf(Text(200), min_items=1, max_items=10), LAB, "Annex VI Part A (9)",
       model_default=True),
    _a(16, "labels_meaning", "Meaning of labels and symbols", P, M, ALL, None,
       ListOf(Object({"symbol": Field(Text(100)), "meaning": Field(Text(1000)),
                      "symbol_url": Field(Url(), required=False),
                      "subject": Field(Choice(tuple(LabelSubject.values)), required=False)}),
              min_items=1),
       LAB, "Annex XIII (1s); Art. 74(1)(e)"),
    _a(17, "declaration_of_conformity", "EU declaration of conformity", P, M, ALL, None,
       Object({"id": Field(Text(100)), "url": Field(Url())}), LAB,
       "Annex XIII (1r); Art. 18; Annex IX"),
    _a(18, "test_reports", "Results of test reports proving compliance", A, M, ALL, None,
       ListOf(Object({"title": Field(Text(300)), "url": Field(Url()),
                      "issued_by": Field(Text(200), required=False),
                      "issued_on": Field(Date(), required=False)}), min_items=1),
       LAB, "Annex XIII (3); Annex VIII Part A 2(h)"),
    # --- Carbon footprint (Art. 7) ------------------------------------------------------------
    _a(19, "carbon_footprint_kg_co2e_per_kwh", "Battery carbon footprint per functional unit",
       P, M, ALL, "kgCO2e/kWh", Number(0, 2_000, exclusive_minimum=True, unit="kgCO2e/kWh"),
       CF, "Annex XIII (1c); Art. 7"),
    _a(20, "carbon_footprint_raw_material_pct",
       "Contribution of raw material acquisition and pre-processing lifecycle stage",
       P, M, ALL, PCT, Percent(), CF, "Annex XIII (1c); Art. 7"),
    _a(21, "carbon_footprint_production_pct",
       "Contribution of main product production/manufacturing lifecycle stage",
       P, M, ALL, PCT, Percent(), CF, "Annex XIII (1c); Art. 7"),
    _a(22, "carbon_footprint_distribution_pct", "Contribution of distribution lifecycle stage",
       P, M, ALL, PCT, Percent(), CF, "Annex XIII (1c); Art. 7"),
    # End of life may be a net credit (negative) under the Circular Footprint Formula.
    _a(23, "carbon_footprint_end_of_life_pct",
       "Contribution of end of life and recycling lifecycle stage",
       P, M, ALL, PCT, Percent(-100, 100), CF, "Annex XIII (1c); Art. 7"),
    _a(24, "carbon_footprint_performance_class", "Carbon footprint performance class",
       P, M, ALL, None, Choice(tuple(PerformanceClass.values)), CF, "Annex XIII (1c); Art. 7(2)"),
    _a(25, "carbon_footprint_study_url", "Web link to public carbon footprint study",
       P, M, ALL, None, Url(), CF, "Annex XIII (1c); Art. 7(1)(g)"),
    _a(26, "carbon_footprint_declaration_info", "General battery and manufacturer information",
       P, M, ALL, None,
       Object({"manufacturer": Field(Text(200)), "battery_model": Field(Text(200)),
               "manufacturing_facility": Field(Text(300))}),
       CF, "Annex XIII; Art. 7(1)(a)-(c)"),
    _a(27, "absolute_carbon_footprint_t_co2e", "Absolute battery carbon footprint",
       P, M, NONE, "tCO2e", Number(0, 1_000_000, exclusive_minimum=True, unit="tCO2e"), CF, ""),
    # --- Supply chain due diligence (Art. 47-52) ----------------------------------------------
    _a(28, "due_diligence_report_url", "Information of due diligence report", P, M, ALL, None,
       Url(), SCDD, "Art. 52(3)"),
    _a(29, "third_party_assurances", "Third party assurances of recognised schemes",
       P, M, NONE, None,
       ListOf(Object({"scheme": Field(Text(200)), "url": Field(Url())})), SCDD, "Art. 49(d)"),
    _a(30, "supply_chain_indices", "Supply chain indices", P, M, NONE, None,
       ListOf(Object({"name": Field(Text(200)), "value": Field(Number(-1e9, 1e9)),
                      "url": Field(Url(), required=False)})), SCDD, ""),
    # --- Material composition -----------------------------------------------------------------
    _a(31, "chemistry", "Battery chemistry", P, M, ALL, None,
       Choice(tuple(Chemistry.values)), MC, "Annex XIII (1b); Annex VI Part A (7)",
       entry=Entry.SYSTEM),
    _a(32, "critical_raw_materials", "Critical raw materials", P, M, ALL, None,
       ListOf(Object({"name": Field(Text(100)),
                      "mass_fraction_pct": Field(OrNotContained(Percent()), required=False)})),
       MC, "Annex XIII (1b); Annex VI Part A (10)"),
    _a(33, "cathode_anode_electrolyte_materials", "Materials used in cathode, anode and electrolyte",
       R, M, ALL, None,
       Object({"cathode": Field(ListOf(_MATERIAL, min_items=1)),
               "anode": Field(ListOf(_MATERIAL, min_items=1)),
               "electrolyte": Field(ListOf(_MATERIAL, min_items=1))}),
       MC, "Annex XIII (2a)"),
    _a(34, "hazardous_substances", "Hazardous substances", P, M, ALL, None,
       ListOf(Object({"name": Field(Text(200)), "cas_number": Field(CasNumber()),
                      "concentration_pct": Field(Percent()),
                      "hazard_class": Field(Text(200), required=False),
                      "hazard_class_code": Field(Choice(tuple(HazardClass.values)),
                                                 required=False),
                      "impacts": Field(ListOf(Text(1000), max_items=20), required=False),
                      "location": Field(Text(200))})),
       MC, "Annex XIII (1b); Annex VI Part A (8)"),
    _a(35, "substance_impact_information",
       "Impact of substances on environment, human health, safety, persons",
       P, M, ALL, None, Text(5000), MC, "Annex XIII (1s); Art. 74(1)(f)"),
    # --- Circularity --------------------------------------------------------------------------
    _a(36, "dismantling_documents",
       "Dismantling information: manuals for the removal and the disassembly of the battery pack",
       R, M, ALL, None, ListOf(_DOCUMENT, min_items=1), CIRC, "Annex XIII (2c)"),
    _a(37, "part_numbers", "Part numbers for components", R, M, ALL, None,
       ListOf(Object({"part_name": Field(Text(200)), "part_number": Field(Text(100))}),
              min_items=1),
       CIRC, "Annex XIII (2b)"),
    _a(38, "spare_part_sources", "Information on sources of spare parts", R, M, ALL, None,
       ListOf(Object({"supplier_name": Field(Text(200)), "url": Field(Url()),
                      "email": Field(Email()),
                      "address": Field(_ADDRESS),
                      "part_numbers": Field(ListOf(Text(100)), required=False)}),
              min_items=1),
       CIRC, "Annex XIII (2b)"),
    _a(39, "safety_measures", "Safety measures", R, M, ALL, None,
       Object({"instructions": Field(Text(5000)),
               "document_url": Field(Url(), required=False)}),
       CIRC, "Annex XIII (2d); Art. 74(2)"),
    _a(40, "pre_consumer_recycled_nickel_pct", "Pre-consumer recycled nickel share",
       P, M, ALL, PCT, OrNotContained(Percent()), CIRC, "Annex XIII (1e); Art. 8(1)"),
    _a(41, "pre_consumer_recycled_cobalt_pct", "Pre-consumer recycled cobalt share",
       P, M, ALL, PCT, OrNotContained(Percent()), CIRC, "Annex XIII (1e); Art. 8(1)"),
    _a(42, "pre_consumer_recycled_lithium_pct", "Pre-consumer recycled lithium share",
       P, M, ALL, PCT, OrNotContained(Percent()), CIRC, "Annex XIII (1e); Art. 8(1)"),
    _a(43, "pre_consumer_recycled_lead_pct", "Pre-consumer recycled lead share",
       P, M, ALL, PCT, OrNotContained(Percent()), CIRC, "Annex XIII (1e); Art. 8(1)"),
    _a(44, "post_consumer_recycled_nickel_pct", "Post-consumer recycled nickel share",
       P, M, ALL, PCT, OrNotContained(Percent()), CIRC, "Annex XIII (1e); Art. 8(1)"),
    _a(45, "post_consumer_recycled_cobalt_pct", "Post-consumer recycled cobalt share",
       P, M, ALL, PCT, OrNotContained(Percent()), CIRC, "Annex XIII (1e); Art. 8(1)"),
    _a(46, "post_consumer_recycled_lithium_pct", "Post-consumer recycled lithium share",
       P, M, ALL, PCT, OrNotContained(Percent()), CIRC, "Annex XIII (1e); Art. 8(1)"),
    _a(47, "post_consumer_recycled_lead_pct", "Post-consumer recycled lead share",
       P, M, ALL, PCT, OrNotContained(Percent()), CIRC, "Annex XIII (1e); Art. 8(1)"),
    _a(48, "renewable_content_pct", "Renewable content share", P, M, ALL, PCT,
       Percent(), CIRC, "Annex XIII (1f)"),
    _a(49, "end_user_waste_prevention_info",
       "Information on the role of end-users in contributing to waste prevention",
       P, M, ALL, None, Text(5000), CIRC, "Art. 74(1)(a)"),
    _a(50, "end_user_separate_collection_info",
       "Information on the role of end-users in contributing to the separate collection of "
       "waste batteries",
       P, M, ALL, None, Text(5000), CIRC, "Art. 74(1)(b)"),
    _a(51, "collection_and_treatment_info",
       "Information on battery collection, preparation for second life and on treatment at end "
       "of life",
       P, M, ALL, None, Text(5000), CIRC, "Art. 74(1)(c)"),
    # --- Performance and durability (Art. 10, Annex IV; Art. 14, Annex VII) -------------------
    _a(52, "rated_capacity_ah", "Rated capacity", P, M, ALL, "Ah",
       Number(0, 100_000, exclusive_minimum=True, unit="Ah"), PAD,
       "Annex XIII (1g); Annex IV Part A (1)"),
    _a(53, "remaining_capacity_ah", "Remaining capacity", I, IT, ANNEX_VII, "Ah",
       Number(0, 100_000, unit="Ah"), PAD, "Annex VII Part A (1)", dynamic=True),
    _a(54, "capacity_fade_pct", "Capacity fade", I, M, ALL, PCT, Percent(), PAD,
       "Annex IV Part A (2)"),
    _a(55, "certified_usable_energy_kwh", "Certified usable battery energy", P, M, NONE, "kWh",
       Number(0, 10_000, exclusive_minimum=True, unit="kWh"), PAD, ""),
    _a(56, "remaining_usable_energy_kwh", "Remaining usable battery energy", I, IT, NONE, "kWh",
       Number(0, 10_000, unit="kWh"), PAD, "", dynamic=True),
    _a(57, "state_of_certified_energy_pct", "State of certified energy (SOCE)", I, IT, EV_ONLY,
       PCT, Percent(), PAD, "Annex VII Part A (EV)", dynamic=True),
    _a(58, "state_of_charge_pct", "State of charge (SoC)", I, IT, ALL, PCT, Percent(), PAD,
       "Annex XIII (4d); Art. 3(1)(27)", dynamic=True),
    _a(59, "min_voltage_v", "Minimum voltage", P, M, ALL, "V",
       Number(0, 2_000, exclusive_minimum=True, unit="V"), PAD, "Annex XIII (1h)"),
    _a(60, "max_voltage_v", "Maximum voltage", P, M, ALL, "V",
       Number(0, 2_000, exclusive_minimum=True, unit="V"), PAD, "Annex XIII (1h)"),
    _a(61, "nominal_voltage_v", "Nominal voltage", P, M, ALL, "V",
       Number(0, 2_000, exclusive_minimum=True, unit="V"), PAD, "Annex XIII (1h)"),
    _a(62, "original_power_capability_w", "Original power capability", P, M, ALL, "W",
       _POWER_AT_SOC, PAD, "Annex XIII (1i); Art. 10; Annex IV Part B (4)"),
    _a(63, "remaining_power_capability_w", "Remaining power capability", I, IT, ANNEX_VII, "W",
       _POWER_AT_SOC, PAD, "Annex VII Part A (2); Annex IV Part B (4)", dynamic=True),
    _a(64, "power_fade_pct", "Power fade", I, M, ALL, PCT, Percent(), PAD,
       "Annex IV Part A (4); Annex IV Part B (4)"),
    _a(65, "max_permitted_power_w", "Maximum permitted battery power", P, M, ALL, "W",
       Number(0, 100_000_000, exclusive_minimum=True, unit="W"), PAD, "Annex XIII (1i)"),
    _a(66, "power_to_energy_ratio_w_per_wh",
       "Ratio between nominal battery power and battery energy", P, M, NONE, "W/Wh",
       Number(0, 1_000, exclusive_minimum=True, unit="W/Wh"), PAD, "Annex IV Part B (2)"),
    _a(67, "initial_round_trip_efficiency_pct", "Initial round trip energy efficiency",
       P, M, ALL, PCT, Percent(), PAD, "Annex XIII (1n); Annex IV Part A (4)"),
    _a(68, "round_trip_efficiency_at_50pct_cycle_life_pct",
       "Round trip energy efficiency at 50% of cycle life", P, M, ALL, PCT, Percent(), PAD,
       "Annex XIII (1n); Annex IV (6)"),
    _a(69, "remaining_round_trip_efficiency_pct", "Remaining round trip energy efficiency",
       I, IT, ANNEX_VII, PCT, Percent(), PAD, "Annex VII Part A (3)", dynamic=True),
    _a(70, "round_trip_efficiency_fade_pct", "Energy round trip efficiency fade",
       I, M, ALL, PCT, Percent(), PAD, "Annex IV Part A (4)"),
    _a(71, "initial_self_discharge_pct_per_month", "Initial self-discharge rate",
       I, M, NONE, "%/month", Percent(), PAD, ""),
    _a(72, "current_self_discharge_pct_per_month", "Current self-discharge rate",
       I, IT, NONE, "%/month", Percent(), PAD, "", dynamic=True),
    _a(73, "self_discharge_evolution", "Evolution of self-discharge rates",
       I, IT, STATIONARY_ONLY, "%/month",
       ListOf(Object({"measured_on": Field(Date()),
                      "pct_per_month": Field(Percent())}), max_items=10_000),
       PAD, "Art. 14; Annex VII Part A (4)", dynamic=True),
    _a(74, "initial_internal_resistance_ohm",
       "Initial internal resistance of battery cell and pack (module recommended)",
       P, M, ALL, "ohm",
       Object({"cell": Field(_RESISTANCE), "module": Field(_RESISTANCE, required=False),
               "pack": Field(_RESISTANCE)}),
       PAD, "Annex XIII (1o); Annex IV Part A (3)"),
    # An increase is relative to the initial value and may exceed 100 % (a doubling is +100 %).
    _a(75, "internal_resistance_increase_pct",
       "Internal resistance increase of pack (cell and module recommended)",
       I, M, ALL, PCT, Percent(0, 1_000), PAD, "Annex IV Part A (3)"),
    _a(76, "expected_lifetime_years", "Expected lifetime in calendar years", I, M, ALL, "years",
       Number(0, 100, exclusive_minimum=True, unit="years"), PAD,
       "Annex IV Part A (5); Annex XIII (1), (4a)"),
    _a(77, "expected_lifetime_cycles", "Expected lifetime: number of charge-discharge cycles",
       P, M, ALL, None, Number(0, 1_000_000, exclusive_minimum=True, integer=True), PAD,
       "Annex IV Part A (5) (M/579 standardisation)"),
    _a(78, "full_cycles_count", "Number of full charging and discharging cycles",
       I, IT, ALL, None, Count(), PAD, "Annex XIII (4d); Annex VII Part B (5)", dynamic=True),
    _a(79, "cycle_life_reference_test", "Cycle-life reference test", P, M, ALL, None,
       Object({"standard": Field(Text(300)),
               "depth_of_discharge_pct": Field(Percent(0.1, 100)),
               "temperature_c": Field(_CELSIUS, required=False),
               "end_of_test_capacity_pct": Field(Percent(), required=False),
               "report_url": Field(Url(), required=False)}),
       PAD, "Annex XIII (1j)"),
    _a(80, "cycle_life_test_c_rate", "C-rate of relevant cycle-life test", P, M, ALL, "A/Ah",
       Number(0, 100, exclusive_minimum=True, unit="A/Ah"), PAD, "Annex XIII (1p)"),
    _a(81, "energy_throughput_kwh", "Energy throughput", I, IT, ANNEX_VII, "kWh",
       Number(0, 1e12, unit="kWh"), PAD, "Annex VII Part B (2)", dynamic=True),
    _a(82, "capacity_throughput_ah", "Capacity throughput", I, IT, ANNEX_VII, "Ah",
       Number(0, 1e12, unit="Ah"), PAD, "Annex VII Part B (3)", dynamic=True),
    _a(83, "capacity_threshold_for_exhaustion_pct", "Capacity threshold for exhaustion",
       P, M, EV_ONLY, PCT, Percent(), PAD, "Annex XIII (1k)"),
    _a(84, "temperature_information", "Temperature information", I, IT, ALL, "°C",
       ListOf(Object({"period_start": Field(DateTime()), "period_end": Field(DateTime()),
                      "min_c": Field(_CELSIUS), "max_c": Field(_CELSIUS),
                      "mean_c": Field(_CELSIUS, required=False)}), max_items=10_000),
       PAD, "Annex XIII (4d)", dynamic=True),
    _a(85, "idle_temperature_lower_c", "Temperature range idle state, lower boundary",
       P, M, ALL, "°C", _CELSIUS, PAD, "Annex XIII (1l)"),
    _a(86, "idle_temperature_upper_c", "Temperature range idle state, upper boundary",
       P, M, ALL, "°C", _CELSIUS, PAD, "Annex XIII (1l)"),
    _a(87, "time_above_temperature_boundary_minutes",
       "Time spent in extreme temperatures above boundary", I, IT, NOT_EV, "minutes",
       _MINUTES, PAD, "Annex VII Part B (4)", dynamic=True),
    _a(88, "time_below_temperature_boundary_minutes",
       "Time spent in extreme temperatures below boundary", I, IT, NOT_EV, "minutes",
       _MINUTES, PAD, "Annex VII Part B (4)", dynamic=True),
    _a(89, "time_charging_above_temperature_boundary_minutes",
       "Time spent charging during extreme temperatures above boundary", I, IT, NOT_EV, "minutes",
       _MINUTES, PAD, "Annex VII Part B (4)", dynamic=True),
    _a(90, "time_charging_below_temperature_boundary_minutes",
       "Time spent charging during extreme temperatures below boundary", I, IT, NOT_EV, "minutes",
       _MINUTES, PAD, "Annex VII Part B (4)", dynamic=True),
    _a(91, "deep_discharge_events_count", "Number of deep discharge events", I, IT, ANNEX_VII, None,
       Count(), PAD, "Annex VII Part B (4)", dynamic=True),
    _a(92, "overcharge_events_count", "Number of overcharge events", I, IT, NONE, None,
       Count(), PAD, "", dynamic=True),
    _a(93, "accident_information", "Information on accidents", I, IT, ALL, None,
       ListOf(Object({"occurred_on": Field(Date()), "description": Field(Text(2000)),
                      "severity": Field(Choice(("minor", "major", "critical")),
                                        required=False)}), max_items=10_000),
       PAD, "Annex XIII (4d)", dynamic=True),
)

BY_KEY: dict[str, Attribute] = {attribute.key: attribute for attribute in ATTRIBUTES}
BY_NUMBER: dict[int, Attribute] = {attribute.number: attribute for attribute in ATTRIBUTES}
MODEL_ATTRIBUTES: tuple[Attribute, ...] = tuple(a for a in ATTRIBUTES if a.level is Level.MODEL)
ITEM_ATTRIBUTES: tuple[Attribute, ...] = tuple(a for a in ATTRIBUTES if a.level is Level.ITEM)


@dataclass(frozen=True)
class DocumentField:
    """A key of the passport document that is not one of the 93 attributes (identity, links,
    versioning); it has a tier like an attribute so that filtering stays in one place."""

    key: str
    name: str
    tier: Tier


DOCUMENT_FIELDS: tuple[DocumentField, ...] = (
    DocumentField("model_name", "Battery model", Tier.PUBLIC),
    DocumentField("gtin", "GTIN of the battery model (GS1)", Tier.PUBLIC),
    DocumentField("serial_number", "Serial number", Tier.PUBLIC),
    DocumentField("batch", "Batch / lot", Tier.PUBLIC),
    DocumentField("state", "Passport state (active, superseded, ceased)", Tier.PUBLIC),
    DocumentField("predecessors", "Passports of the original batteries", Tier.PUBLIC),
    DocumentField("successors", "Passports that replaced this one", Tier.PUBLIC),
    DocumentField("model_version", "Version number of the model data", Tier.PUBLIC),
    DocumentField("passport_version", "Version number of the battery data", Tier.PUBLIC),
    DocumentField("last_updated", "Time of the latest change", Tier.PUBLIC),
    # Annex XIII 4(a): point 4, like the values it records.
    DocumentField("performance_history",
                  "Performance values at each status change (Annex XIII 4(a))", Tier.INDIVIDUAL),
    # Point 4 data about point 4 values, so it is read by those who read them.
    DocumentField(
        "dynamic_values_provenance",
        "When each dynamic value was last updated, by whom, and how it was determined",
        Tier.INDIVIDUAL,
    ),
)
# Where a battery keeps the provenance of its dynamic values (passport.services.batteries).
PROVENANCE_KEY = "dynamic_values_provenance"

TIER_OF: dict[str, Tier] = {
    **{f.key: f.tier for f in DOCUMENT_FIELDS},
    **{a.key: a.tier for a in ATTRIBUTES},
}


@functools.cache
def mandatory(
    category: str, level: Level, *, at_creation: bool = False
) -> tuple[Attribute, ...]:
    """The attributes of `level` mandatory for `category`; with at_creation, only those that must
    be given when the model is created / the battery registered."""
    return tuple(
        a
        for a in ATTRIBUTES
        if a.level is level
        and a.is_mandatory(category)
        and (a.required_at_creation or not at_creation)
    )


def keys_of_tiers(tiers: Iterable[Tier]) -> frozenset[str]:
    wanted = set(tiers)
    return frozenset(key for key, tier in TIER_OF.items() if tier in wanted)


# The one-letter aliases only make the table readable; they are not part of the module's API.
del P, R, A, I, M, IT, GPI, LAB, CF, SCDD, MC, CIRC, PAD, ALL, PCT
