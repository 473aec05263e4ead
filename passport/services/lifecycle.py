"""The battery lifecycle (Annex XIII 4(c), Art. 77(7)-(8)): status changes, responsibility moves
and new passports.

    original ──► re-used ─────────────┐        (same passport, updates only)
       │  └───► repurposed / remanufactured ◄──┐ (NEW passport linked to the old one(s),
       │              │   ▲                     │  responsibility moves to the new operator)
       └────────► waste ──────────────┘ (same passport, responsibility moves to the producer,
                    │  │                  its PRO or the waste management operator)
                    │  └──► re-used: preparation for re-use (NEW passport, new operator)
                    ▼
                 recycled  (passport ceased: read-only, still readable; nothing follows)

A move of responsibility to ANOTHER organisation is never done by the giving side alone: it is
offered (passport.services.handovers) and happens when the receiving organisation accepts.
Every status change records the battery's performance values at that moment (Annex XIII 4(a)).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from passport.attributes import BY_KEY
from passport.errors import Conflict, FieldError, NotPermitted, TransitionRefused, ValidationFailed
from passport.identifiers import BatteryIdentifier, IdentifierError, battery_identifier_parse
from passport.models import AccessGrant, Battery, BatteryModel, Organisation, Passport
from passport.services.batteries import (
    current_passport_for_update,
    manufacturing_place_text,
    new_passport_id,
    passport_version_record,
)
from passport.services.permissions import require_member
from passport.services.prefixes import gtins_bind, identifiers_authorise
from passport.services.validation import reason_clean
from passport.vocabulary import BatteryStatus, OrganisationKind, PassportState

S = BatteryStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.ORIGINAL: frozenset({S.REUSED, S.REPURPOSED, S.REMANUFACTURED, S.WASTE}),
    S.REUSED: frozenset({S.REPURPOSED, S.REMANUFACTURED, S.WASTE}),
    S.REPURPOSED: frozenset({S.REUSED, S.REPURPOSED, S.REMANUFACTURED, S.WASTE}),
    S.REMANUFACTURED: frozenset({S.REUSED, S.REPURPOSED, S.REMANUFACTURED, S.WASTE}),
    # Waste → re-used is preparation for re-use (Art. 3(1)(64)), with a new passport.
    S.WASTE: frozenset({S.RECYCLED, S.REUSED, S.REPURPOSED, S.REMANUFACTURED}),
    S.RECYCLED: frozenset(),
}

# Art. 77(7): these give the battery a new passport linked to the old one(s); so does
# preparation for re-use, re-use of a battery that was waste (needs_new_passport).
NEW_PASSPORT_STATUSES = frozenset({S.REPURPOSED, S.REMANUFACTURED})

# Who may prepare a waste battery for re-use and place it on the market again (Art. 77(7)):
# the operators that test and repair batteries for a second life, or the waste operator itself.
PREPARE_FOR_REUSE_KINDS = frozenset(
    {
        OrganisationKind.REPAIRER,
        OrganisationKind.REMANUFACTURER,
        OrganisationKind.REPURPOSER,
        OrganisationKind.MANUFACTURER,
        OrganisationKind.RECYCLER,
    }
)

# Annex XIII 4(a) / Art. 14: the performance values recorded with each status change.
PERFORMANCE_KEYS = (
    "remaining_capacity_ah",
    "remaining_usable_energy_kwh",
    "state_of_certified_energy_pct",
    "remaining_power_capability_w",
    "remaining_round_trip_efficiency_pct",
    "current_self_discharge_pct_per_month",
    "state_of_charge_pct",
    "full_cycles_count",
    "energy_throughput_kwh",
    "capacity_throughput_ah",
    "deep_discharge_events_count",
)


def needs_new_passport(current: str, new: str) -> bool:
    """Art. 77(7): repurposing, remanufacturing and preparation for re-use (a waste battery
    becoming re-used) give the battery a new passport."""
    return new in NEW_PASSPORT_STATUSES or (current == S.WASTE and new == S.REUSED)


def operator_kinds_for(current: str, new: str) -> frozenset[str] | None:
    """The organisation kinds that may take over a battery going `current` → `new`, or None when
    responsibility does not move with this change."""
    if current == S.WASTE and new == S.REUSED:
        return PREPARE_FOR_REUSE_KINDS
    return OPERATOR_KINDS.get(new)


def performance_record(battery: Battery, *, status_from: str, status: str, at: dt.datetime) -> dict:
    """The entry of Annex XIII 4(a) for one status change: the performance values the battery's
    passport holds at that moment, and its state of health as remaining capacity over rated
    capacity (Annex VII Part A (1); None when no remaining capacity was recorded: the project
    cannot measure it, only keep what the operator or the BMS reported)."""
    values = {key: battery.data[key] for key in PERFORMANCE_KEYS if battery.data.get(key) is not None}
    rated = battery.model.data.get("rated_capacity_ah")
    remaining = battery.data.get("remaining_capacity_ah")
    state_of_health = round(100 * remaining / rated, 1) if rated and remaining is not None else None
    return {
        "at": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status_from": status_from,
        "status": status,
        "state_of_health_pct": state_of_health,
        "values": values,
    }

# Who may take over responsibility with each status.
OPERATOR_KINDS: dict[str, frozenset[str]] = {
    S.REPURPOSED: frozenset(
        {OrganisationKind.REPURPOSER, OrganisationKind.REMANUFACTURER, OrganisationKind.MANUFACTURER}
    ),
    S.REMANUFACTURED: frozenset({OrganisationKind.REMANUFACTURER, OrganisationKind.MANUFACTURER}),
    # The producer (manufacturer, importer or distributor, Art. 3(47)), its producer
    # responsibility organisation, or the waste management operator (Art. 77(7)).
    S.WASTE: frozenset(
        {
            OrganisationKind.MANUFACTURER,
            OrganisationKind.IMPORTER,
            OrganisationKind.DISTRIBUTOR,
            OrganisationKind.PRO,
            OrganisationKind.RECYCLER,
        }
    ),
}


def transition_refusal(current: str, new: str) -> str | None:
    """Why `current` -> `new` is not allowed, or None when it is."""
    if current == S.RECYCLED:
        return "the battery was recycled: its passport has ceased and its status cannot change"
    if new == S.ORIGINAL:
        return "'original' is only the status of a battery first placed on the market"
    if new == S.RECYCLED and current != S.WASTE:
        return "only a waste battery can be recycled; declare it waste first"
    if current == new == S.REUSED:
        return "the battery is already re-used; record repairs and maintenance as an update"
    if new in TRANSITIONS[current]:
        return None
    if current == new:
        return f"the battery is already {current}"
    return f"a {current} battery cannot become {new}"


def operator_errors(
    status_from: str, status: str, operator: Organisation | None, current: Organisation
) -> list[FieldError]:
    kinds = operator_kinds_for(status_from, status)
    if kinds is not None:
        if operator is None:
            return [FieldError(
                "operator",
                f"a battery that becomes {status} changes responsible economic operator; "
                "name the operator taking over (Art. 77(7))",
            )]
        if operator.kind not in kinds:
            allowed = ", ".join(sorted(OrganisationKind(k).label.lower() for k in kinds))
            return [FieldError(
                "operator",
                f"a {operator.get_kind_display().lower()} cannot take over a {status} battery; "
                f"expected: {allowed}",
            )]
        return []
    if operator is not None and operator.pk != current.pk:
        return [FieldError(
            "operator",
            f"the responsible operator stays {current.name} when the battery becomes {status}",
        )]
    return []


def _taking_over(operator: Organisation | None, status: str) -> Organisation:
    """The operator taking over a battery whose responsibility moves with the change to `status`
    (operator_kinds_for is not None), which operator_errors has already required."""
    if operator is None:
        raise TypeError(f"a battery becoming {status} needs the operator taking over; none given")
    return operator


def battery_change_status(
    *,
    user: Any,
    battery: Battery,
    status: str,
    reason: str,
    operator: Organisation | None = None,
    predecessors: Sequence[Battery] = (),
    new_identifier: str | None = None,
    model: BatteryModel | None = None,
) -> Passport:
    """Move a battery along its lifecycle and return its passport afterwards.

    The responsible operator acts alone only when responsibility stays with it (or moves within
    it); handing the battery to ANOTHER organisation raises NotPermitted here and goes through
    handover_offer / handover_accept instead.

    - re-used: same passport, status updated; from waste (preparation for re-use) a new
      passport as for repurposing, with responsibility to `operator`;
    - waste: same passport, responsibility moves to `operator` (producer, PRO or waste operator);
    - recycled (from waste only): the passport ceases, read-only and still readable;
    - repurposed / remanufactured: a NEW passport linked to the current passports of `battery`
      and of `predecessors` (one new pack may be built from several), which are superseded;
      responsibility moves to `operator`. With `new_identifier` the result is a new battery
      (optionally of `model`, one of the operator's models); without it the battery keeps its
      identifier and gets the new passport.

    Only members of the current responsible operator(s) may do this.
    """
    passport = status_change_apply(
        user=user, battery=battery, status=status, reason=reason, operator=operator,
        predecessors=predecessors, new_identifier=new_identifier, model=model, accepted_from=None,
    )
    battery.refresh_from_db()
    return passport


def status_change_apply(
    *,
    user: Any,
    battery: Battery,
    status: str,
    reason: str,
    operator: Organisation | None,
    predecessors: Sequence[Battery],
    new_identifier: str | None,
    model: BatteryModel | None,
    accepted_from: Organisation | None,
) -> Passport:
    """battery_change_status's work. `accepted_from` is set by handover_accept: `user` then acts
    for the receiving `operator`, and every battery must still be `accepted_from`'s."""
    reason_text, errors = reason_clean(reason)
    if status not in BatteryStatus.values:
        errors.append(FieldError("status", f"must be one of {', '.join(BatteryStatus.values)}"))
        raise ValidationFailed(errors)
    with transaction.atomic():
        sources = _lock_sources(battery, predecessors)
        main = sources[0]
        for source in sources:
            if accepted_from is None:
                require_member(user, source.responsible_operator, f"change the status of {source.identifier}")
            elif source.responsible_operator_id != accepted_from.pk:
                raise TransitionRefused(
                    f"{source.identifier} is no longer {accepted_from.name}'s responsibility; the offer lapsed"
                )
        if accepted_from is not None:
            if operator is None:
                raise TypeError("a hand-over is accepted for the operator it was offered to; none given")
            require_member(user, operator, "accept hand-overs to it")
        old_passports = [current_passport_for_update(source) for source in sources]
        for source in sources:
            refusal = transition_refusal(source.status, status)
            if refusal is not None:
                raise TransitionRefused(f"{source.identifier}: {source.status} → {status} refused: {refusal}")

        errors.extend(operator_errors(main.status, status, operator, main.responsible_operator))
        new_passport = needs_new_passport(main.status, status)
        if not new_passport:
            for name, given in (("predecessors", predecessors), ("new_identifier", new_identifier),
                                ("model", model)):
                if given:
                    errors.append(FieldError(
                        name, "applies only to a change that gives a new passport (repurposing, "
                              f"remanufacturing, preparation for re-use), not to {status}"
                    ))
        parsed_identifier = None
        if model is not None and not new_identifier:
            errors.append(FieldError(
                "new_identifier",
                "a battery of a different model needs a new identifier (the GTIN names the model)",
            ))
        if model is not None and operator is not None and model.manufacturer_id != operator.pk:
            errors.append(FieldError("model", f"must be a battery model of {operator.name}"))
        if new_identifier and new_passport:
            try:
                parsed_identifier = battery_identifier_parse(new_identifier)
            except IdentifierError as error:
                errors.append(FieldError("new_identifier", str(error)))
        if errors:
            raise ValidationFailed(errors)
        if parsed_identifier is not None and Battery.objects.filter(identifier=parsed_identifier.identifier).exists():
            raise Conflict("new_identifier", f"{parsed_identifier.identifier} is already registered")
        if accepted_from is None and operator is not None and operator.pk != main.responsible_operator_id:
            raise NotPermitted(
                f"handing {main.identifier} over to {operator.name} needs {operator.name}'s consent: "
                "offer the hand-over; it takes effect when a member of "
                f"{operator.name} accepts it"
            )
        if parsed_identifier is not None:
            # The new battery is placed on the market by the operator taking over, under its
            # own identifier prefix (as any registration).
            issuer = operator or main.responsible_operator
            identifiers_authorise(organisation=issuer, model=model or main.model,
                                  identities=[(None, parsed_identifier)])

        now = timezone.now()
        author_id = user.pk
        for source in sources:
            source.performance_history = [
                *source.performance_history,
                performance_record(source, status_from=source.status, status=status, at=now),
            ]
        if new_passport:
            return _new_passport(
                sources=sources,
                old_passports=old_passports,
                status=status,
                operator=_taking_over(operator, status),
                parsed_identifier=parsed_identifier,
                model=model,
                author_id=author_id,
                reason=reason_text,
                now=now,
            )
        passport = old_passports[0]
        main.status = status
        if status == S.WASTE:
            main.responsible_operator = _taking_over(operator, status)
            # The owner discarded the battery; their grants end with their ownership.
            main.owner = None
            AccessGrant.objects.filter(battery=main).delete()
        if status == S.RECYCLED:
            passport.state = PassportState.CEASED
            passport.ceased_at = now
            passport.save(update_fields=["state", "ceased_at"])
        main.updated_at = now
        main.save(update_fields=["status", "responsible_operator", "owner", "performance_history", "updated_at"])
        passport_version_record(passport=passport, battery=main, author_id=author_id,
                                reason=reason_text, now=now)
        return passport


def _lock_sources(battery: Battery, predecessors: Sequence[Battery]) -> list[Battery]:
    """Lock the battery and its predecessors (in primary key order, so that two concurrent
    changes cannot deadlock) and return them with the main battery first."""
    wanted = [battery.pk, *(p.pk for p in predecessors)]
    if len(set(wanted)) != len(wanted):
        raise ValidationFailed([FieldError(
            "predecessors", "lists a battery twice, or the battery itself"
        )])
    locked = {
        b.pk: b
        for b in Battery.objects.select_for_update(of=("self",))
        .select_related("model", "responsible_operator")
        .filter(pk__in=wanted)
        .order_by("pk")
    }
    return [locked[pk] for pk in wanted]


def _new_passport(
    *,
    sources: list[Battery],
    old_passports: list[Passport],
    status: str,
    operator: Organisation,
    parsed_identifier: BatteryIdentifier | None,
    model: BatteryModel | None,
    author_id: int,
    reason: str,
    now: dt.datetime,
) -> Passport:
    main = sources[0]
    if parsed_identifier is not None:
        target_model = model or main.model
        # The new pack keeps the static item values of the main original (e.g. extinguishing
        # agent); its use data starts afresh.
        static_values = {
            key: value for key, value in main.data.items()
            if not _is_dynamic(key)
        }
        target = Battery.objects.create(
            identifier=parsed_identifier.identifier,
            gtin=parsed_identifier.gtin,
            serial=parsed_identifier.serial,
            batch=parsed_identifier.batch,
            model=target_model,
            manufacturing_date=now.date(),
            manufacturing_place=manufacturing_place_text(target_model.data),
            status=status,
            responsible_operator=operator,
            data=static_values,
            # What the new battery was built from, at the moment it was built.
            performance_history=[entry for source in sources for entry in source.performance_history[-1:]],
            created_at=now,
            updated_at=now,
        )
        if target.gtin is not None:
            gtins_bind(model=target_model, gtins=[target.gtin])
    else:
        target = main

    # Supersede first: a battery may have only one current passport at a time.
    for source, old in zip(sources, old_passports, strict=True):
        old.state = PassportState.SUPERSEDED
        old.save(update_fields=["state"])
        source.status = status
        source.responsible_operator = operator
        source.owner = None
        source.updated_at = now
        source.save(update_fields=["status", "responsible_operator", "owner", "performance_history", "updated_at"])
        AccessGrant.objects.filter(battery=source).delete()

    passport = Passport.objects.create(
        passport_id=new_passport_id(), battery=target, state=PassportState.ACTIVE, created_at=now
    )
    passport.predecessors.set(old_passports)
    for source, old in zip(sources, old_passports, strict=True):
        passport_version_record(passport=old, battery=source, author_id=author_id,
                                reason=f"superseded by {passport.passport_id}: {reason}", now=now)
    passport_version_record(passport=passport, battery=target, author_id=author_id,
                            reason=reason, now=now)
    return passport


def _is_dynamic(key: str) -> bool:
    attribute = BY_KEY.get(key)
    return attribute is None or attribute.dynamic
