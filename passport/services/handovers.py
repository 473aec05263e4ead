"""Hand-overs: responsibility for a battery moves to another economic operator only when that
operator accepts.

Art. 77(4) and (7) move the responsibility for a passport with repurposing, remanufacturing,
preparation for re-use or repurposing, and waste collection; Art. 77(4) also lets an importer, an
authorised representative or the buyer of a business take it over without any change of status.
Each of these writes into the receiving organisation's name: its name becomes the passport's
operator, its model may be the new battery's, and it answers for the passport afterwards. So the
giving operator only *offers* (handover_offer); nothing of the receiver's changes until one of
its members accepts (handover_accept), and the offer can be declined by the receiver or
withdrawn by the giver while it is open. One open offer per battery at a time. A change of
operator without a status change records the written authorisation or agreement behind it
(what it is, its reference, its date), on the offer and in the passport version's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from passport.errors import Conflict, FieldError, NotPermitted, TransitionRefused, ValidationFailed
from passport.identifiers import IdentifierError, battery_identifier_parse
from passport.models import Battery, BatteryModel, Handover, Organisation, Passport
from passport.services.batteries import current_passport_for_update, passport_version_record
from passport.services.lifecycle import (
    needs_new_passport,
    operator_errors,
    status_change_apply,
    transition_refusal,
)
from passport.services.permissions import require_member
from passport.services.validation import reason_clean
from passport.values import Date, Field, Object, Text, Url
from passport.vocabulary import BatteryStatus, HandoverKind, HandoverState

S = BatteryStatus

# Hand-overs that change nothing but the responsible operator (Art. 77(4)).
OPERATOR_ONLY_KINDS = frozenset(
    {HandoverKind.IMPORTER, HandoverKind.AUTHORISED_REPRESENTATIVE, HandoverKind.TAKEOVER}
)

# The written authorisation (mandate of an authorised representative, Art. 3(1)(46); import
# agreement; takeover contract): what it is, its reference and date, and where it is kept.
AUTHORISATION = Object(
    {
        "document": Field(Text(300)),
        "reference": Field(Text(100)),
        "signed_on": Field(Date()),
        "url": Field(Url(), required=False),
    }
)


def handover_kind_of(status_from: str, status: str) -> str:
    if status == S.REPURPOSED:
        return HandoverKind.REPURPOSE
    if status == S.REMANUFACTURED:
        return HandoverKind.REMANUFACTURE
    if status == S.REUSED and status_from == S.WASTE:
        return HandoverKind.PREPARE_FOR_REUSE
    if status == S.WASTE:
        return HandoverKind.WASTE
    raise TransitionRefused(f"a battery that becomes {status} does not change operator")


def handover_offer(
    *,
    user: Any,
    battery: Battery,
    operator: Organisation,
    reason: str,
    status: str | None = None,
    kind: str | None = None,
    authorisation: dict | None = None,
    predecessors: Sequence[Battery] = (),
    new_identifier: str | None = None,
    model: BatteryModel | None = None,
) -> Handover:
    """Offer `battery` to `operator`: with `status` (repurposed, remanufactured, re-used from
    waste, waste), or without it as a change of responsible operator of `kind` importer,
    authorised-representative or takeover, which needs `authorisation`. Only members of the
    battery's responsible operator may offer; the checks that can be made now are made now, and
    all of them again on acceptance."""
    # As stored now, not the caller's possibly stale copies.
    fresh = {
        row.pk: row for row in Battery.objects.select_related("model", "responsible_operator").filter(
            pk__in=[battery.pk, *(p.pk for p in predecessors)]
        )
    }
    battery = fresh[battery.pk]
    predecessors = [fresh[p.pk] for p in predecessors]
    require_member(user, battery.responsible_operator, f"hand over {battery.identifier}")
    reason_text, errors = reason_clean(reason)
    clean_authorisation: dict = {}
    if operator.pk == battery.responsible_operator_id:
        errors.append(FieldError("operator", f"{operator.name} is already responsible for this battery"))
    if status is not None:
        if status not in BatteryStatus.values:
            raise ValidationFailed([*errors, FieldError("status", f"must be one of {', '.join(BatteryStatus.values)}")])
        for source in (battery, *predecessors):
            require_member(user, source.responsible_operator, f"hand over {source.identifier}")
            refusal = transition_refusal(source.status, status)
            if refusal is not None:
                raise TransitionRefused(f"{source.identifier}: {source.status} → {status} refused: {refusal}")
        implied = handover_kind_of(battery.status, status)
        if kind is not None and kind != implied:
            errors.append(FieldError("kind", f"a battery that becomes {status} from {battery.status} is a "
                                             f"{implied} hand-over, not {kind}"))
        kind = implied
        errors.extend(operator_errors(battery.status, status, operator, battery.responsible_operator))
        if not needs_new_passport(battery.status, status):
            errors.extend(
                FieldError(name, f"applies only to a change that gives a new passport, not to {status}")
                for name, given in (("predecessors", predecessors), ("new_identifier", new_identifier),
                                    ("model", model)) if given
            )
        if authorisation:
            errors.append(FieldError("authorisation", "belongs to a change of operator without a status change"))
    else:
        if kind not in OPERATOR_ONLY_KINDS:
            errors.append(FieldError(
                "kind", "without a status, the hand-over is one of: "
                        + ", ".join(sorted(OPERATOR_ONLY_KINDS)) + " (or give the status)"))
        if authorisation is None:
            errors.append(FieldError("authorisation", "a change of responsible operator records the written "
                                                      "authorisation or agreement behind it (Art. 77(4))"))
        else:
            clean_authorisation, authorisation_errors = AUTHORISATION.clean(authorisation, "authorisation")
            errors.extend(authorisation_errors)
        errors.extend(
            FieldError(name, "applies only to a status change")
            for name, given in (("predecessors", predecessors), ("new_identifier", new_identifier),
                                ("model", model)) if given
        )
    if model is not None and model.manufacturer_id != operator.pk:
        errors.append(FieldError("model", f"must be a battery model of {operator.name}"))
    if new_identifier:
        try:
            battery_identifier_parse(new_identifier)
        except IdentifierError as error:
            errors.append(FieldError("new_identifier", str(error)))
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            handover = Handover.objects.create(
                battery=battery, kind=kind, status=status or "", from_operator=battery.responsible_operator,
                to_operator=operator, new_identifier=new_identifier or "", model=model, reason=reason_text,
                authorisation=clean_authorisation, offered_by=user, offered_at=timezone.now(),
            )
            handover.predecessors.set(predecessors)
    except IntegrityError as error:
        raise Conflict("battery", f"{battery.identifier} already has an open hand-over offer; withdraw it "
                                  "first") from error
    return handover


def _open_for_update(handover: Handover) -> Handover:
    locked = (
        Handover.objects.select_for_update(of=("self",))
        .select_related("battery", "from_operator", "to_operator", "model")
        .get(pk=handover.pk)
    )
    if locked.state != HandoverState.OFFERED:
        raise TransitionRefused(f"this hand-over was already {locked.state}")
    return locked


def _decide(handover: Handover, *, user: Any, state: str, passport: Passport | None = None) -> None:
    handover.state = state
    handover.decided_by = user
    handover.decided_at = timezone.now()
    handover.passport = passport
    handover.save(update_fields=["state", "decided_by", "decided_at", "passport"])


def handover_accept(*, user: Any, handover: Handover) -> Passport:
    """A member of the receiving organisation accepts: the status change (or the change of
    operator) happens now, with every rule checked again, and the battery's passport afterwards
    is returned. The battery must still be the giving operator's."""
    with transaction.atomic():
        locked = _open_for_update(handover)
        require_member(user, locked.to_operator, "accept hand-overs to it")
        if locked.status:
            passport = status_change_apply(
                user=user, battery=locked.battery, status=locked.status,
                reason=f"{locked.reason} (offered by {locked.from_operator.name}, accepted by "
                       f"{locked.to_operator.name})",
                operator=locked.to_operator, predecessors=list(locked.predecessors.all()),
                new_identifier=locked.new_identifier or None, model=locked.model,
                accepted_from=locked.from_operator,
            )
        else:
            passport = _operator_change(locked, user=user)
        _decide(locked, user=user, state=HandoverState.ACCEPTED, passport=passport)
    handover.refresh_from_db()
    return passport


def _operator_change(handover: Handover, *, user: Any) -> Passport:
    battery = (
        Battery.objects.select_for_update(of=("self",))
        .select_related("model", "responsible_operator")
        .get(pk=handover.battery_id)
    )
    if battery.responsible_operator_id != handover.from_operator_id:
        raise TransitionRefused(
            f"{battery.identifier} is no longer {handover.from_operator.name}'s responsibility; the offer lapsed"
        )
    passport = current_passport_for_update(battery)
    now = timezone.now()
    battery.responsible_operator = handover.to_operator
    battery.updated_at = now
    battery.save(update_fields=["responsible_operator", "updated_at"])
    authorisation = handover.authorisation
    passport_version_record(
        passport=passport, battery=battery, author_id=user.pk, now=now,
        reason=(f"{HandoverKind(handover.kind).label}: {handover.from_operator.name} → "
                f"{handover.to_operator.name}; written authorisation: {authorisation['document']}, "
                f"ref. {authorisation['reference']}, signed {authorisation['signed_on']}. {handover.reason}"),
    )
    return passport


def handover_decline(*, user: Any, handover: Handover) -> Handover:
    """The receiving organisation refuses; nothing changes."""
    with transaction.atomic():
        locked = _open_for_update(handover)
        require_member(user, locked.to_operator, "decline hand-overs to it")
        _decide(locked, user=user, state=HandoverState.DECLINED)
    return locked


def handover_withdraw(*, user: Any, handover: Handover) -> Handover:
    """The giving organisation takes its offer back before it is accepted."""
    with transaction.atomic():
        locked = _open_for_update(handover)
        if user is None or not getattr(user, "is_authenticated", False):
            raise NotPermitted(f"sign in as a member of {locked.from_operator.name} to withdraw this offer")
        require_member(user, locked.from_operator, "withdraw its hand-over offers")
        _decide(locked, user=user, state=HandoverState.WITHDRAWN)
    return locked
