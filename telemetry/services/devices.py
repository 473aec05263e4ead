"""Collector devices: who may create them, bind them to batteries, rotate and revoke their keys.

A battery's telemetry is written by the people who answer for it: the members of its
responsible economic operator and its owner. Either may create a device for it and bind it;
the device is then managed by the creator's organisation (or by the private owner who created
it). Either of them may also cut a device off their battery, whoever manages the device: a new
owner must be able to stop the previous owner's collector.

Keys. A key is `<prefix>.<secret>`: the 12-hex-digit prefix is public and finds the device
row; the 256-bit secret is never stored, only an HMAC-SHA256 of the whole key under
SECRET_KEY (as for claim codes, passport/services/claims.py: a random 256-bit key cannot be
guessed, so a fast keyed hash is enough, and a slow password hash would cost every batch a
quarter of a second). Rotating SECRET_KEY therefore invalidates every device key. A key is
shown once, at creation or rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from passport.access import acts_as_operator, organisation_of
from passport.errors import FieldError, NotPermitted, ValidationFailed
from passport.models import Battery
from telemetry.models import Device, DeviceBinding

PREFIX_HEX_DIGITS = 12
SECRET_BYTES = 32
DEVICE_NAME_MAX = 100
# `last_seen_at` feeds the "no data for N hours" alert, for which a minute is precise enough;
# writing it on every batch cost every batch an UPDATE (and the device row a dead tuple).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def device_key_new() -> tuple[str, str]:
    """(public prefix, whole key)."""
    prefix = secrets.token_hex(PREFIX_HEX_DIGITS // 2)
    return prefix, f"{prefix}.{secrets.token_urlsafe(SECRET_BYTES)}"


def device_key_hash(key: str) -> str:
    message = f"telemetry-device-key\x00{key}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def device_authenticate(key: str) -> Device | None:
    """The live device this key belongs to, or None (unknown, wrong or revoked key)."""
    if not isinstance(key, str) or "." not in key or len(key) > 200:
        return None
    prefix = key.split(".", 1)[0]
    device = Device.objects.filter(key_prefix=prefix).first()
    if device is None or device.is_revoked:
        return None
    if not hmac.compare_digest(device_key_hash(key), device.key_hash):
        return None
    return device


def battery_may_feed(user: Any, battery: Battery) -> bool:
    """May `user` bind devices to this battery: its responsible operator's members or its owner."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if battery.owner_id is not None and battery.owner_id == user.pk:
        return True
    return acts_as_operator(organisation_of(user), battery)


def device_manages(user: Any, device: Device) -> bool:
    """The device's organisation's members, or its private owner; and staff, for support."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return True
    if device.owner_id is not None:
        return device.owner_id == user.pk
    organisation = organisation_of(user)
    return organisation is not None and organisation.pk == device.organisation_id


def _require_may_feed(user: Any, battery: Battery) -> None:
    if not battery_may_feed(user, battery):
        raise NotPermitted(
            f"only the owner of battery {battery.identifier} or members of its responsible "
            "operator may connect devices to it"
        )


def device_require_managed(*, user: Any, device: Device) -> None:
    if not device_manages(user, device):
        raise NotPermitted("this device is managed by someone else")


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed([FieldError("name", "give the device a name")])
    if len(name.strip()) > DEVICE_NAME_MAX:
        raise ValidationFailed(
            [FieldError("name", f"at most {DEVICE_NAME_MAX} characters")]
        )
    return name.strip()


def device_create(*, user: Any, name: str, batteries: list[Battery]) -> tuple[Device, str]:
    """A new device bound to `batteries`; returns it with its key (shown once, never again).

    Created by a member of the batteries' responsible operator, it is managed by that
    organisation; created by their owner, by that person.
    """
    clean_name = _clean_name(name)
    if not batteries:
        raise ValidationFailed([FieldError("batteries", "bind the device to at least one battery")])
    for battery in batteries:
        _require_may_feed(user, battery)
    organisation = organisation_of(user)
    managed_by_organisation = organisation is not None and all(
        acts_as_operator(organisation, battery) for battery in batteries
    )
    prefix, key = device_key_new()
    now = timezone.now()
    with transaction.atomic():
        device = Device.objects.create(
            name=clean_name,
            organisation=organisation if managed_by_organisation else None,
            owner=None if managed_by_organisation else user,
            created_by=user,
            key_prefix=prefix,
            key_hash=device_key_hash(key),
            created_at=now,
        )
        DeviceBinding.objects.bulk_create(
            DeviceBinding(device=device, battery=battery, bound_by=user, created_at=now)
            for battery in {battery.pk: battery for battery in batteries}.values()
        )
    return device, key


def device_bind(*, user: Any, device: Device, battery: Battery) -> DeviceBinding:
    """Let the device write this battery's samples (idempotent)."""
    device_require_managed(user=user, device=device)
    _require_may_feed(user, battery)
    if device.is_revoked:
        raise NotPermitted("this device is revoked")
    binding, _ = DeviceBinding.objects.get_or_create(
        device=device,
        battery=battery,
        defaults={"bound_by": user, "created_at": timezone.now()},
    )
    return binding


def device_unbind(*, user: Any, device: Device, battery: Battery) -> None:
    """Stop the device writing this battery (idempotent). The device's manager may, and so may
    whoever answers for the battery."""
    if not (device_manages(user, device) or battery_may_feed(user, battery)):
        raise NotPermitted("this device is managed by someone else")
    DeviceBinding.objects.filter(device=device, battery=battery).delete()


def device_key_rotate(*, user: Any, device: Device) -> str:
    """A new key for the device; the old one stops working at once."""
    device_require_managed(user=user, device=device)
    if device.is_revoked:
        raise NotPermitted("this device is revoked; create a new one")
    prefix, key = device_key_new()
    device.key_prefix = prefix
    device.key_hash = device_key_hash(key)
    device.key_rotated_at = timezone.now()
    device.save(update_fields=["key_prefix", "key_hash", "key_rotated_at"])
    return key


def device_revoke(*, user: Any, device: Device) -> Device:
    """The device's key stops working for good (idempotent); its stored data stays."""
    device_require_managed(user=user, device=device)
    if device.revoked_at is None:
        device.revoked_at = timezone.now()
        device.save(update_fields=["revoked_at"])
    return device


def device_may_write(device: Device, battery: Battery) -> bool:
    """A device writes only the batteries it is bound to."""
    return DeviceBinding.objects.filter(device=device, battery=battery).exists()


def device_may_write_sql(device: Device, battery_id_column: str) -> tuple[str, list[Any]]:
    """device_may_write as an SQL condition on a battery id column, with its parameters, so
    that a collector's batch reads its battery and this permission in one query
    (telemetry.services.ingest)."""
    table = connection.ops.quote_name(DeviceBinding._meta.db_table)
    return (
        f"EXISTS (SELECT 1 FROM {table} WHERE device_id = %s AND battery_id = {battery_id_column})",
        [device.pk],
    )


def device_seen(device: Device, *, now: datetime) -> None:
    """Record that the device was heard at `now`, at most once per LAST_SEEN_RESOLUTION.

    `device` is the row read when the device authenticated, so while its `last_seen_at` is
    recent this costs no query at all. The UPDATE never moves the time backwards (two requests
    of one device may finish out of order)."""
    seen = device.last_seen_at
    if seen is not None and now - seen < LAST_SEEN_RESOLUTION:
        return
    Device.objects.filter(pk=device.pk).filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now)
    ).update(last_seen_at=now)
    device.last_seen_at = now
