"""Read queries of the passport domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from passport.access import organisation_of
from passport.attributes import PROVENANCE_KEY
from passport.errors import NotFound
from passport.identifiers import IdentifierError, battery_identifier_parse
from passport.models import (
    AccessLog,
    Battery,
    BatteryModel,
    Handover,
    Organisation,
    Passport,
    Version,
)
from passport.vocabulary import PassportState

__all__ = [
    "access_log_list",
    "battery_get",
    "battery_list_owned",
    "battery_model_get",
    "battery_model_list",
    "battery_passport",
    "battery_search",
    "current_passport_of",
    "handover_get",
    "handover_list",
    "manufacturer_choices",
    "organisation_get",
    "organisation_list",
    "organisation_of",
    "passport_get",
    "passport_in_force",
    "passport_of_battery",
    "passport_value_history",
    "passport_value_series",
    "version_list",
    "with_current_passport",
]


def _pk(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


def battery_search(
    *,
    identifier: str | None = None,
    gtin: str | None = None,
    serial: str | None = None,
    manufacturer: Organisation | int | None = None,
    model: BatteryModel | int | None = None,
    chemistry: str | None = None,
    category: str | None = None,
    manufactured_from: dt.date | None = None,
    manufactured_to: dt.date | None = None,
    registered_from: dt.date | None = None,
    registered_to: dt.date | None = None,
) -> QuerySet[Battery]:
    """Batteries matching every given filter (the regulators' search); date bounds inclusive.
    `identifier` is canonical and `gtin` a GTIN-14 (passport.register_filters reads them so)."""
    batteries = Battery.objects.select_related("model", "model__manufacturer", "responsible_operator")
    if identifier:
        batteries = batteries.filter(identifier=identifier)
    if gtin:
        batteries = batteries.filter(gtin=gtin)
    if serial:
        batteries = batteries.filter(serial=serial)
    if manufacturer is not None:
        batteries = batteries.filter(model__manufacturer_id=_pk(manufacturer))
    if model is not None:
        batteries = batteries.filter(model_id=_pk(model))
    if chemistry:
        batteries = batteries.filter(model__chemistry=chemistry)
    if category:
        batteries = batteries.filter(model__category=category)
    if manufactured_from is not None:
        batteries = batteries.filter(manufacturing_date__gte=manufactured_from)
    if manufactured_to is not None:
        batteries = batteries.filter(manufacturing_date__lte=manufactured_to)
    if registered_from is not None:
        batteries = batteries.filter(created_at__date__gte=registered_from)
    if registered_to is not None:
        batteries = batteries.filter(created_at__date__lte=registered_to)
    return batteries.order_by("id")


def battery_get(*, identifier: str) -> Battery:
    """A battery by its identifier in any accepted form (GS1 element string, Digital Link path,
    ISO/IEC 15459 string)."""
    try:
        canonical = battery_identifier_parse(identifier).identifier
    except IdentifierError as error:
        raise NotFound(f"battery {identifier!r}") from error
    try:
        return Battery.objects.select_related("model", "model__manufacturer", "responsible_operator").get(
            identifier=canonical
        )
    except Battery.DoesNotExist as error:
        raise NotFound(f"battery {identifier!r}") from error


def _current_first(passports: QuerySet[Passport]) -> QuerySet[Passport]:
    """The passport that is not superseded first (a battery has at most one: its active one, or
    the ceased one after recycling), then the others newest first: a battery whose passports
    were all superseded became part of a new battery, and its latest passport still answers
    (its successors say where to go)."""
    superseded_last = Case(
        When(state=PassportState.SUPERSEDED, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return passports.order_by(superseded_last, "-id")


def battery_passport(*, battery: Battery) -> Passport:
    """The battery's current passport: its active one, or the ceased one after recycling."""
    # Through the related manager the passport keeps the caller's battery instead of loading it
    # again.
    passport = _current_first(battery.passports.all()).first()
    if passport is None:
        raise NotFound(f"passport of battery {battery.identifier}")
    return passport


def with_current_passport(batteries: QuerySet[Battery]) -> QuerySet[Battery]:
    """`batteries` with their passports, current first (as battery_passport orders them): one
    extra query per chunk of batteries instead of one per battery, for current_passport_of."""
    passports = _current_first(Passport.objects.only("passport_id", "state", "battery_id"))
    return batteries.prefetch_related(Prefetch("passports", queryset=passports, to_attr="passports_current_first"))


def current_passport_of(battery: Battery) -> Passport | None:
    """battery_passport, from the list with_current_passport loaded when it did; None when the
    battery has no passport."""
    passports = getattr(battery, "passports_current_first", None)
    if passports is not None:
        return passports[0] if passports else None
    try:
        return battery_passport(battery=battery)
    except NotFound:
        return None


def passport_of_battery(*, identifier: str) -> Passport:
    """The current passport (as battery_passport) of the battery with this identifier in any
    accepted form, with its battery, in one query: the read behind every QR code."""
    try:
        canonical = battery_identifier_parse(identifier).identifier
    except IdentifierError as error:
        raise NotFound(f"battery {identifier!r}") from error
    passports = Passport.objects.select_related("battery").filter(battery__identifier=canonical)
    passport = _current_first(passports).first()
    if passport is None:
        # The same answers as battery_get and then battery_passport.
        if Battery.objects.filter(identifier=canonical).exists():
            raise NotFound(f"passport of battery {canonical}")
        raise NotFound(f"battery {identifier!r}")
    return passport


def passport_in_force(*, battery: Battery, at: dt.datetime) -> Passport:
    """The passport the battery had at `at`: the latest one created by then (a repurposed
    battery has had several)."""
    passport = battery.passports.filter(created_at__lte=at).order_by("-created_at", "-id").first()
    if passport is None:
        raise NotFound(f"passport of battery {battery.identifier} at {at.isoformat()}")
    return passport


def passport_get(*, passport_id: str) -> Passport:
    """A passport with its battery (not the battery's model or operator: what a passport says
    comes from its versions, and a read loads the battery's rights itself)."""
    try:
        return Passport.objects.select_related("battery").get(passport_id=passport_id)
    except Passport.DoesNotExist as error:
        raise NotFound(f"passport {passport_id!r}") from error


def battery_list_owned(*, user: Any) -> QuerySet[Battery]:
    """The batteries `user` owns (claimed as a private person), by identifier, with their model,
    manufacturer and the organisations they granted access to."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Battery.objects.none()
    return (
        Battery.objects.filter(owner=user)
        .select_related("model", "model__manufacturer")
        .prefetch_related("access_grants__organisation")
        .order_by("identifier")
    )


def organisation_list(*, kind: str | None = None, name_contains: str | None = None) -> QuerySet[Organisation]:
    """Organisations known to the register, by name; optionally of one kind and with a name
    containing `name_contains` (any case)."""
    organisations = Organisation.objects.order_by("name", "id")
    if kind:
        organisations = organisations.filter(kind=kind)
    if name_contains:
        organisations = organisations.filter(name__icontains=name_contains)
    return organisations


def manufacturer_choices() -> list[tuple[int, str]]:
    """(id, name) of the organisations that have battery models, by name."""
    return list(
        Organisation.objects.filter(battery_models__isnull=False).distinct().order_by("name").values_list("pk", "name")
    )


def organisation_get(*, organisation_id: int | str) -> Organisation:
    try:
        return Organisation.objects.get(pk=organisation_id)
    except (Organisation.DoesNotExist, ValueError, TypeError) as error:
        raise NotFound(f"organisation {organisation_id}") from error


def battery_model_get(*, model_id: int) -> BatteryModel:
    try:
        return BatteryModel.objects.select_related("manufacturer").prefetch_related("gtins").get(pk=model_id)
    except (BatteryModel.DoesNotExist, ValueError, TypeError) as error:
        raise NotFound(f"battery model {model_id!r}") from error


def battery_model_list(*, manufacturer: Organisation | int | None = None) -> QuerySet[BatteryModel]:
    models = BatteryModel.objects.select_related("manufacturer").prefetch_related("gtins")
    if manufacturer is not None:
        models = models.filter(manufacturer_id=_pk(manufacturer))
    return models.order_by("manufacturer_id", "name")


def version_list(*, passport: Passport | None = None, model: BatteryModel | None = None) -> QuerySet[Version]:
    """A passport's or a model's versions, oldest first, without their snapshots (`data` is
    loaded only if asked for) and without joining their authors: a history lists what changed,
    so decoding every full snapshot on each page view would be work nobody sees."""
    if (passport is None) == (model is None):
        raise ValueError("give exactly one of passport and model")
    versions = Version.objects.filter(passport=passport) if passport is not None else Version.objects.filter(model=model)
    return versions.defer("data").order_by("seq")


def passport_value_history(*, passport: Passport, keys: tuple[str, ...]) -> list[tuple[dt.datetime, dict]]:
    """(recorded at, {key: value}) of each version of `passport` that changed one of `keys`,
    oldest first: what the passport said of those attributes over time. Unfiltered: pass each
    through the reader's access filter."""
    wanted = set(keys)
    history = []
    for version in Version.objects.filter(passport=passport).only("created_at", "changes", "data").order_by("seq"):
        if wanted.isdisjoint(version.changes or {}):
            continue
        values = {key: version.data.get(key) for key in keys if version.data.get(key) is not None}
        history.append((version.created_at, values))
    return history


def passport_value_series(
    *, passport: Passport, keys: tuple[str, ...], upto_seq: int | None = None
) -> dict[str, list[tuple[dt.datetime, Any]]]:
    """Each of `keys` over the time of its data, for charts: (moment, value) from each version
    (up to `upto_seq`) that changed it, ordered by moment.

    The moment is the value's `as_of` (the end of the measurements it comes from, which the
    telemetry pipeline records in the provenance), else the version's own time: a history
    imported at once is written within seconds but describes months. A value replaces the
    points written before it at or after its moment: when measured history arrives late (a
    collector's backlog, the pipeline's rebuild from all raw data), what earlier versions said
    of those moments was superseded by it. Unfiltered: callers keep only the keys the reader
    may see."""
    versions = Version.objects.filter(passport=passport).only("created_at", "changes", "data").order_by("seq")
    if upto_seq is not None:
        versions = versions.filter(seq__lte=upto_seq)
    series: dict[str, list[tuple[dt.datetime, Any]]] = {key: [] for key in keys}
    for version in versions:
        changed = version.changes or {}
        provenance = version.data.get(PROVENANCE_KEY) or {}
        for key in keys:
            value = version.data.get(key)
            if key not in changed or value is None:
                continue
            moment = _moment_of((provenance.get(key) or {}).get("as_of")) or version.created_at
            # Sorted by construction: everything at or after `moment` goes first.
            series[key] = [point for point in series[key] if point[0] < moment] + [(moment, value)]
    return series


def _moment_of(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def access_log_list(*, battery: Battery | None = None, user: Any = None) -> QuerySet[AccessLog]:
    logs = AccessLog.objects.select_related("user", "organisation", "battery")
    if battery is not None:
        logs = logs.filter(battery=battery)
    if user is not None:
        logs = logs.filter(user=user)
    return logs.order_by("-at")


def handover_list(*, organisation: Organisation | None, state: str | None = None) -> QuerySet[Handover]:
    """The hand-overs `organisation` offered or was offered, newest first (none without one)."""
    if organisation is None:
        return Handover.objects.none()
    handovers = Handover.objects.select_related(
        "battery", "from_operator", "to_operator", "model", "passport"
    ).filter(Q(from_operator=organisation) | Q(to_operator=organisation))
    if state:
        handovers = handovers.filter(state=state)
    return handovers.order_by("-offered_at", "-id")


def handover_get(*, handover_id: int, organisation: Organisation | None) -> Handover:
    """A hand-over seen by one of its two organisations; for anyone else it does not exist
    (an offer says which battery moves where, which is nobody else's business)."""
    if organisation is None:
        raise NotFound(f"hand-over {handover_id}")
    try:
        return handover_list(organisation=organisation).get(pk=handover_id)
    except (Handover.DoesNotExist, ValueError, TypeError) as error:
        raise NotFound(f"hand-over {handover_id}") from error
