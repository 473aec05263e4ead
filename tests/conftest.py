"""Shared fixtures: organisations of every kind, users acting for them, a complete stationary
LFP battery model and registered batteries — all created through the passport services, so
every fixture has its version history like real data.

Quick map (all function-scoped, database access implied):

    organisations    -> Orgs(manufacturer, other_manufacturer, recycler, repairer, repurposer,
                             remanufacturer, pro, authority); the manufacturer, the other
                             manufacturer, the repurposer and the remanufacturer declare GS1 and
                             ISO/IEC 15459 prefixes (MANUFACTURER_GS1_PREFIXES, UN.VOLTARO,
                             UN.MAKER; 3012345, OTHER; 8712345, UN.SECONDLIFE; 5901234, UN.REMAN)
    users            -> Users(manufacturer, other_manufacturer, recycler, repairer, repurposer,
                              remanufacturer, pro, authority, owner, stranger, staff)
                        each org user is an admin member of the org of the same name; `owner`
                        and `stranger` are private persons (no membership); `staff` is a
                        superuser without membership
    stationary_model_data -> dict: every model attribute of a 48 V 100 Ah LFP rack (complete)
    stationary_model      -> BatteryModel "HomeRack 5.12" of organisations.manufacturer
    register_battery      -> callable(**item overrides) -> RegisteredBattery (unique GTIN serial)
    registered            -> RegisteredBattery (battery, passport, claim_code), status original
    battery / passport    -> shortcuts into `registered`
    owned_battery         -> `battery` claimed by users.owner
    complete_battery      -> `battery` put into service with every item attribute filled in
    hand_over             -> callable(user=, battery=, operator=, status=, reason=, ...): offer
                             the battery to `operator` and accept as its member (a status change
                             that moves responsibility to another organisation)
    at_time               -> context manager freezing django.utils.timezone.now() for history tests
    versions_editable     -> context manager switching the DB trigger that refuses UPDATE of
                             versions off, to tamper "behind the services' back" in tests

Usernames: maker, other-maker, recycler, repairer, repurposer, remanufacturer, pro, inspector
(authority), owner, stranger, staff. Passwords are "pw-<username>" (e.g. "pw-maker"); password
hashing is MD5 in tests (autouse fixture). The model's GTIN is passport.demo.demo_gtin("001");
register_battery's serials are VT260300001, VT260300002, ... and its manufacturing date
2026-03-02.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from passport.demo import (
    DEMO_GTIN_PREFIX,
    demo_gtin,
    lfp_home_battery_model_data,
    lfp_item_dynamic_data,
    manufacturer_fields,
)
from passport.identifiers import lei_with_check_digits
from passport.models import Battery, BatteryModel, Membership, Organisation, Passport
from passport.services import (
    RegisteredBattery,
    battery_claim,
    battery_model_create,
    battery_register,
    battery_update,
    handover_accept,
    handover_offer,
    membership_create,
    organisation_create,
)
from passport.vocabulary import Category, Chemistry, MembershipRole, OrganisationKind

MODEL_GTIN = demo_gtin("001")
# The GS1 company prefixes licensed to the fixture manufacturer (GTIN-13 form): the demo's, and
# those of the GTINs the identifier tests write out in full.
MANUFACTURER_GS1_PREFIXES = [DEMO_GTIN_PREFIX, "4260000", "4006381", "4012345", "0036000", "0000096"]
MANUFACTURING_DATE = "2026-03-02"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """PBKDF2 at production strength costs ~0.3 s per user; tests create a dozen users each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def private_signing_keys(settings, tmp_path_factory) -> None:
    """Exports are signed: each test gets its own development key, never one under var/."""
    settings.PASSPORT_SIGNING_KEY_FILE = ""
    settings.PASSPORT_SIGNING_KEY_DIR = tmp_path_factory.mktemp("signing-keys")
    settings.PASSPORT_SIGNING_RETIRED_KEY_FILES = []


@dataclass(frozen=True)
class Orgs:
    manufacturer: Organisation
    other_manufacturer: Organisation
    recycler: Organisation
    repairer: Organisation
    repurposer: Organisation
    remanufacturer: Organisation
    pro: Organisation
    authority: Organisation


@dataclass(frozen=True)
class Users:
    manufacturer: Any
    other_manufacturer: Any
    recycler: Any
    repairer: Any
    repurposer: Any
    remanufacturer: Any
    pro: Any
    authority: Any
    owner: Any
    stranger: Any
    staff: Any


@pytest.fixture
def tasks_in_process() -> Iterator[None]:
    """Run Celery tasks in the calling process, as the embedded default does. Celery reads its
    configuration once, so Django's `settings` fixture cannot switch this; with REDIS_URL the
    tests have no worker of their own (the `celery_worker` tests start a real one)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def organisations(db) -> Orgs:
    return Orgs(
        manufacturer=organisation_create(
            kind=OrganisationKind.MANUFACTURER, name="Voltaro Energy GmbH", **manufacturer_fields(),
            gs1_prefixes=MANUFACTURER_GS1_PREFIXES, iso15459_prefixes=["UN.VOLTARO", "UN.MAKER"],
        ),
        other_manufacturer=organisation_create(
            kind=OrganisationKind.MANUFACTURER, name="Other Cells SA", city="Lyon", country="FR",
            lei=lei_with_check_digits("969500OTHERCELLS01"),
            gs1_prefixes=["3012345"], iso15459_prefixes=["OTHER"],
        ),
        recycler=organisation_create(kind=OrganisationKind.RECYCLER, name="ReCell Recycling GmbH",
                                     city="Freiberg", country="DE"),
        repairer=organisation_create(kind=OrganisationKind.REPAIRER, name="SolarFix Service GmbH",
                                     city="Leipzig", country="DE"),
        repurposer=organisation_create(kind=OrganisationKind.REPURPOSER, name="SecondLife Storage BV",
                                       city="Eindhoven", country="NL",
                                       gs1_prefixes=["8712345"], iso15459_prefixes=["UN.SECONDLIFE"]),
        remanufacturer=organisation_create(kind=OrganisationKind.REMANUFACTURER, name="ReMan Packs Sp. z o.o.",
                                           city="Wrocław", country="PL",
                                           gs1_prefixes=["5901234"], iso15459_prefixes=["UN.REMAN"]),
        pro=organisation_create(kind=OrganisationKind.PRO, name="Stiftung Batterie-Rücknahme (PRO)",
                                city="Hamburg", country="DE"),
        authority=organisation_create(kind=OrganisationKind.AUTHORITY, name="Market Surveillance Authority",
                                      city="Berlin", country="DE"),
    )


@pytest.fixture
def users(organisations: Orgs) -> Users:
    User = get_user_model()  # noqa: N806 - Django's convention

    def member(username: str, organisation: Organisation):
        user = User.objects.create_user(username=username, password="pw-" + username)
        membership_create(user=user, organisation=organisation, role=MembershipRole.ADMIN)
        return user

    return Users(
        manufacturer=member("maker", organisations.manufacturer),
        other_manufacturer=member("other-maker", organisations.other_manufacturer),
        recycler=member("recycler", organisations.recycler),
        repairer=member("repairer", organisations.repairer),
        repurposer=member("repurposer", organisations.repurposer),
        remanufacturer=member("remanufacturer", organisations.remanufacturer),
        pro=member("pro", organisations.pro),
        authority=member("inspector", organisations.authority),
        owner=User.objects.create_user(username="owner", password="pw-owner"),
        stranger=User.objects.create_user(username="stranger", password="pw-stranger"),
        staff=User.objects.create_superuser(username="staff", password="pw-staff"),
    )


@pytest.fixture
def stationary_model_data() -> dict:
    """Every model-level attribute of a 48 V 16s 100 Ah (5.12 kWh) LFP rack module."""
    return lfp_home_battery_model_data(capacity_ah=100, mass_kg=45.0)


@pytest.fixture
def stationary_model(organisations: Orgs, users: Users, stationary_model_data: dict) -> BatteryModel:
    return battery_model_create(
        user=users.manufacturer,
        manufacturer=organisations.manufacturer,
        name="HomeRack 5.12 (48 V 100 Ah)",
        category=Category.STATIONARY,
        chemistry=Chemistry.LFP,
        data=stationary_model_data,
    )


@pytest.fixture
def register_battery(stationary_model: BatteryModel, users: Users) -> Callable[..., RegisteredBattery]:
    """Register one more battery of the stationary model; keyword arguments override the item."""
    serials = count(1)

    def register(**overrides: Any) -> RegisteredBattery:
        item = {
            "gtin": MODEL_GTIN,
            "serial": f"VT2603{next(serials):05d}",
            "batch": "L2603A",
            "manufacturing_date": MANUFACTURING_DATE,
            **overrides,
        }
        return battery_register(user=users.manufacturer, model=stationary_model, item=item)

    return register


@pytest.fixture
def registered(register_battery) -> RegisteredBattery:
    return register_battery()


@pytest.fixture
def battery(registered: RegisteredBattery) -> Battery:
    return registered.battery


@pytest.fixture
def passport(registered: RegisteredBattery) -> Passport:
    return registered.passport


@pytest.fixture
def owned_battery(registered: RegisteredBattery, users: Users) -> Battery:
    return battery_claim(user=users.owner, identifier=registered.battery.identifier,
                         claim_code=registered.claim_code)


@pytest.fixture
def complete_battery(battery: Battery, users: Users) -> Battery:
    """The registered battery, put into service and with every item attribute filled in."""
    battery_update(
        user=users.manufacturer,
        battery=battery,
        reason="commissioned and first telemetry",
        data={
            "put_into_service_on": "2026-04-01",
            **lfp_item_dynamic_data(soh_pct=97.5, capacity_ah=100, cycles=120, days=200),
            "accident_information": [
                {"occurred_on": "2026-06-01", "description": "Water ingress after flooding; "
                 "module dried and inspected", "severity": "minor"},
            ],
        },
    )
    battery.refresh_from_db()
    return battery


@pytest.fixture
def hand_over(users: Users) -> Callable[..., Passport]:
    """`hand_over(user=, battery=, operator=, status=, reason=, **more)`: what
    battery_change_status did before hand-overs needed consent: `user` offers the battery to
    `operator` and a member of `operator` accepts. Returns the passport afterwards."""

    def offer_and_accept(*, user: Any, battery: Battery, operator: Organisation, **offer: Any) -> Passport:
        handover = handover_offer(user=user, battery=battery, operator=operator, **offer)
        receiver = Membership.objects.filter(organisation=operator).order_by("pk").first().user
        passport = handover_accept(user=receiver, handover=handover)
        battery.refresh_from_db()
        return passport

    return offer_and_accept


@pytest.fixture
def at_time() -> Callable[[dt.datetime], contextlib.AbstractContextManager]:
    """`with at_time(moment): ...` makes the services stamp records with `moment`."""

    @contextlib.contextmanager
    def freeze(moment: dt.datetime) -> Iterator[None]:
        with mock.patch("django.utils.timezone.now", return_value=moment):
            yield

    return freeze


@pytest.fixture
def versions_editable(db) -> Callable[[], contextlib.AbstractContextManager]:
    """`with versions_editable(): ...` does what a database administrator could: switch off the
    trigger that refuses UPDATE of passport_version rows (the hash chain must still catch it)."""
    migration = importlib.import_module("passport.migrations.0002_version_immutable_trigger")

    @contextlib.contextmanager
    def trigger_off() -> Iterator[None]:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Django's foreign keys are deferred; ALTER TABLE wants no pending checks.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE passport_version DISABLE TRIGGER passport_version_immutable")
            else:
                cursor.execute(migration.SQLITE_DROP)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute("ALTER TABLE passport_version ENABLE TRIGGER passport_version_immutable")
                else:
                    cursor.execute(migration.SQLITE_CREATE)

    return trigger_off
