"""Small factories: build only what a test needs, through the services (so every object has its
version history like real data).

    maker = organisation()                       # a manufacturer (the demo's identifiers)
    user = member_of(maker)                      # acts for it
    model = battery_model(maker, by=user)        # complete stationary LFP model
    registered = registered_battery(model, by=user)
    client = api_client(user)                    # token-authenticated APIClient; api_client() is anonymous

Unlike the fixtures in tests/conftest.py (eight organisations and eleven users for every test),
each call builds one thing; names, usernames and serials are unique per call.
"""

from __future__ import annotations

from itertools import count
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from passport.demo import (
    DEMO_GTIN_PREFIX,
    demo_gtin,
    lfp_home_battery_model_data,
    manufacturer_fields,
)
from passport.models import BatteryModel, Organisation
from passport.services import (
    RegisteredBattery,
    battery_model_create,
    battery_register,
    membership_create,
    organisation_create,
)
from passport.vocabulary import Category, Chemistry, MembershipRole, OrganisationKind

MODEL_GTIN = demo_gtin("001")
_numbers = count(1)


def _next() -> int:
    return next(_numbers)


def organisation(kind: str = OrganisationKind.MANUFACTURER, *, name: str | None = None, **fields: Any) -> Organisation:
    """An organisation of `kind`; a manufacturer gets the demo manufacturer's identifiers and its
    GS1 / ISO 15459 prefixes (426123456, UN.VOLTARO) unless `fields` says otherwise (only one such
    manufacturer per test: the LEI and the prefixes are unique)."""
    defaults: dict[str, Any] = (
        {**manufacturer_fields(), "gs1_prefixes": [DEMO_GTIN_PREFIX], "iso15459_prefixes": ["UN.VOLTARO"]}
        if kind == OrganisationKind.MANUFACTURER else {"country": "DE"}
    )
    return organisation_create(kind=kind, name=name or f"{kind} {_next()}", **{**defaults, **fields})


def person(username: str | None = None, password: str | None = None) -> Any:
    """A private person (no organisation)."""
    name = username or f"person-{_next()}"
    return get_user_model().objects.create_user(username=name, password=password or f"pw-{name}")


def member_of(organisation: Organisation, username: str | None = None, role: str = MembershipRole.ADMIN) -> Any:
    user = person(username or f"member-{_next()}")
    membership_create(user=user, organisation=organisation, role=role)
    return user


def battery_model(manufacturer: Organisation, *, by: Any, name: str | None = None,
                  data: dict[str, Any] | None = None) -> BatteryModel:
    """A complete 48 V 100 Ah stationary LFP model of `manufacturer`, created by member `by`."""
    return battery_model_create(
        user=by,
        manufacturer=manufacturer,
        name=name or f"HomeRack {_next()}",
        category=Category.STATIONARY,
        chemistry=Chemistry.LFP,
        data=data if data is not None else lfp_home_battery_model_data(capacity_ah=100, mass_kg=45.0),
    )


def registered_battery(model: BatteryModel, *, by: Any, **item: Any) -> RegisteredBattery:
    """One battery of `model` registered by member `by`; `item` overrides the item data."""
    values = {
        "gtin": MODEL_GTIN,
        "serial": f"FX{_next():08d}",
        "batch": "L2603A",
        "manufacturing_date": "2026-03-02",
        **item,
    }
    return battery_register(user=by, model=model, item=values)


def api_client(user: Any = None) -> APIClient:
    """A client that authenticates like a program, with `user`'s API token (anonymous without)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
