"""The attribute snapshots stored in versions: what a battery model or a passport says at one
moment. A passport document is the model snapshot overlaid with the passport snapshot."""

from __future__ import annotations

from passport.models import Battery, BatteryModel, Organisation, Passport, Version

# Passport snapshot keys that come from other records (the operator organisation, passport
# links, the battery model's version) rather than from the battery row itself; left out when
# comparing with the live row.
DERIVED_PASSPORT_KEYS = frozenset(
    {"operator_information", "predecessors", "successors", "model_version"}
)


def model_version_seq(model_id: int) -> int | None:
    """The number of the model's latest version: what a passport version records as the model
    data it was written against."""
    return (
        Version.objects.filter(model_id=model_id).order_by("-seq").values_list("seq", flat=True).first()
    )


def model_snapshot(model: BatteryModel) -> dict:
    return {
        "model_name": model.name,
        "category": model.category,
        "chemistry": model.chemistry,
        **model.data,
    }


def operator_information(organisation: Organisation) -> dict:
    """Attribute 3: who is responsible for the passport now (Art. 77(4), (7))."""
    identifier = (
        f"LEI {organisation.lei}" if organisation.lei
        else f"GLN {organisation.gln}" if organisation.gln
        else f"EORI {organisation.eori}" if organisation.eori
        else ""
    )
    info = {
        "name": organisation.name,
        "identifier": identifier,
        "street": organisation.street,
        "postal_code": organisation.postal_code,
        "city": organisation.city,
        "country": organisation.country,
        "website": organisation.website,
        "email": organisation.email,
    }
    return {key: value for key, value in info.items() if value}


def battery_part(battery: Battery) -> dict:
    """The values held by the battery row: identity columns and item attribute data."""
    return {
        "battery_identifier": battery.identifier,
        "gtin": battery.gtin,
        "serial_number": battery.serial or None,
        "batch": battery.batch or None,
        "manufacturing_date": _iso(battery.manufacturing_date),
        "put_into_service_on": _iso(battery.put_into_service_on),
        "status": battery.status,
        **battery.data,
        "performance_history": list(battery.performance_history),
    }


def passport_snapshot(
    *,
    passport: Passport,
    battery: Battery,
    operator: Organisation,
    predecessors: list[str],
    successors: list[str],
    model_version: int | None,
) -> dict:
    return {
        "passport_identifier": passport.passport_id,
        "state": passport.state,
        **battery_part(battery),
        "operator_information": operator_information(operator),
        "predecessors": sorted(predecessors),
        "successors": sorted(successors),
        "model_version": model_version,
    }


def passport_snapshot_now(passport: Passport) -> dict:
    """The snapshot of a passport from the current rows (a few queries; not for bulk paths)."""
    battery = passport.battery
    return passport_snapshot(
        passport=passport,
        battery=battery,
        operator=battery.responsible_operator,
        predecessors=list(passport.predecessors.values_list("passport_id", flat=True)),
        successors=list(passport.successors.values_list("passport_id", flat=True)),
        model_version=model_version_seq(battery.model_id),
    )


def live_part_of(snapshot: dict) -> dict:
    return {key: value for key, value in snapshot.items() if key not in DERIVED_PASSPORT_KEYS}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
