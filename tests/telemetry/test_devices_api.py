"""Collector devices: who may create, bind, rotate and revoke them. Attackers first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from telemetry.models import Device, DeviceBinding
from telemetry.services.devices import device_authenticate
from tests.telemetry.conftest import SAMPLES_START

DEVICES = "/api/v1/telemetry/devices/"
BATCHES = "/api/v1/telemetry/batches/"


def create(client, battery, name="collector"):
    return client.post(DEVICES, {"name": name, "batteries": [battery.identifier]}, format="json")


def one_batch(device_client, key, battery, samples, batch_id="b-1"):
    body = {"battery": battery.identifier, "batch_id": batch_id, "columns": samples(3)}
    return device_client(key).post(BATCHES, body, format="json")


# --- attackers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_manufacturer", "authority", "stranger", "repairer"])
def test_nobody_else_may_create_a_device_for_a_battery(api_as, users, battery, who) -> None:
    response = create(api_as(getattr(users, who)), battery)
    assert response.status_code == 403, response.json()
    assert "owner" in response.json()["errors"][0]["reason"]
    assert not Device.objects.exists()


def test_anonymous_may_not_create_a_device(battery) -> None:
    from rest_framework.test import APIClient

    assert create(APIClient(), battery).status_code == 401


def test_owner_of_another_battery_may_not_bind_it(api_as, users, owned_battery, register_battery) -> None:
    others = register_battery().battery
    response = create(api_as(users.owner), others)
    assert response.status_code == 403
    # Nor add it to a device the owner manages for their own battery.
    device_id = create(api_as(users.owner), owned_battery).json()["id"]
    response = api_as(users.owner).post(
        f"{DEVICES}{device_id}/batteries/", {"battery": others.identifier}, format="json"
    )
    assert response.status_code == 403
    assert list(DeviceBinding.objects.filter(device_id=device_id).values_list("battery", flat=True)) == [
        owned_battery.pk
    ]


@pytest.mark.parametrize("who", ["other_manufacturer", "authority", "stranger", "owner"])
def test_nobody_else_may_rotate_revoke_or_see_a_device(api_as, users, device, who) -> None:
    client = api_as(getattr(users, who))
    device_id = device.device.pk
    for path in (f"{DEVICES}{device_id}/rotate/", f"{DEVICES}{device_id}/revoke/"):
        assert client.post(path).status_code == 403
    assert client.get(f"{DEVICES}{device_id}/").status_code == 403
    assert client.get(DEVICES).json() == []
    device.device.refresh_from_db()
    assert device.device.revoked_at is None
    assert device_authenticate(device.key) == device.device


def test_a_device_writes_only_to_its_own_batteries(device_client, device, register_battery, samples) -> None:
    others = register_battery().battery
    response = one_batch(device_client, device.key, others, samples)
    assert response.status_code == 403
    assert "not bound" in response.json()["errors"][0]["reason"]


def test_a_batch_id_answers_only_for_the_device_that_sent_it(
    device_client, device, battery, users, samples
) -> None:
    """Another collector of the same battery reusing a batch id is not told the first one's
    answer (nor refused as a resend): batch ids are the sending device's own."""
    from telemetry.services.devices import device_create

    first = one_batch(device_client, device.key, battery, samples, batch_id="shared-id")
    assert first.status_code == 201
    _other, other_key = device_create(user=users.manufacturer, name="rack 2 collector", batteries=[battery])
    later = {"battery": battery.identifier, "batch_id": "shared-id",
             "columns": samples(3, start=SAMPLES_START + timedelta(hours=1))}
    second = device_client(other_key).post(BATCHES, later, format="json")
    assert second.status_code == 201, second.json()
    assert second.json()["inserted"] == 3


@pytest.mark.parametrize(
    "header",
    ["", "Device", "Device nonsense", "Device 0123456789ab.wrong", "Token abc", "Device a b"],
)
def test_missing_or_wrong_key_is_401(anonymous_client, battery, samples, header) -> None:
    if header:
        anonymous_client.credentials(HTTP_AUTHORIZATION=header)
    body = {"battery": battery.identifier, "batch_id": "x", "columns": samples(2)}
    response = anonymous_client.post(BATCHES, body, format="json")
    assert response.status_code == 401, response.content
    assert response.json()["errors"][0]["reason"]


def test_a_user_token_is_not_a_device_key(api_as, users, battery, samples) -> None:
    body = {"battery": battery.identifier, "batch_id": "x", "columns": samples(2)}
    assert api_as(users.manufacturer).post(BATCHES, body, format="json").status_code == 401


def test_revoked_key_is_401_and_rotation_kills_the_old_key(api_as, users, device_client, device, battery, samples) -> None:
    maker = api_as(users.manufacturer)
    rotated = maker.post(f"{DEVICES}{device.device.pk}/rotate/")
    assert rotated.status_code == 200
    new_key = rotated.json()["key"]
    assert new_key != device.key
    assert one_batch(device_client, device.key, battery, samples).status_code == 401
    assert one_batch(device_client, new_key, battery, samples).status_code == 201

    assert maker.post(f"{DEVICES}{device.device.pk}/revoke/").json()["revoked"] is True
    assert one_batch(device_client, new_key, battery, samples, "b-2").status_code == 401
    # A revoked device gets no new key.
    assert maker.post(f"{DEVICES}{device.device.pk}/rotate/").status_code == 403


def test_unbinding_stops_the_device_and_the_new_owner_may_cut_off_the_operators_device(
    api_as, users, device_client, device, owned_battery, samples
) -> None:
    path = f"{DEVICES}{device.device.pk}/batteries/{owned_battery.identifier}/"
    assert api_as(users.stranger).delete(path).status_code == 403
    assert api_as(users.owner).delete(path).status_code == 204
    assert one_batch(device_client, device.key, owned_battery, samples).status_code == 403


# --- the rightful users ------------------------------------------------------------------------


def test_operator_creates_a_device_the_key_is_shown_once_and_stored_hashed(api_as, users, battery) -> None:
    maker = api_as(users.manufacturer)
    response = create(maker, battery, name="rack 7")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "key", "batteries"}
    assert body["batteries"] == [battery.identifier]
    stored = Device.objects.get(pk=body["id"])
    assert body["key"] not in (stored.key_hash, stored.key_prefix)
    assert body["key"].startswith(stored.key_prefix + ".")
    assert stored.organisation_id == users.manufacturer.membership.organisation_id
    # The key is never shown again.
    listed = maker.get(DEVICES).json()
    assert [d["id"] for d in listed] == [body["id"]]
    assert "key" not in listed[0]
    assert "key" not in maker.get(f"{DEVICES}{body['id']}/").json()


def test_owner_creates_and_manages_their_own_device(api_as, users, owned_battery, device_client, samples) -> None:
    response = create(api_as(users.owner), owned_battery)
    assert response.status_code == 201
    device = Device.objects.get(pk=response.json()["id"])
    assert device.owner == users.owner and device.organisation is None
    # The operator does not manage the owner's device.
    assert api_as(users.manufacturer).post(f"{DEVICES}{device.pk}/rotate/").status_code == 403
    assert one_batch(device_client, response.json()["key"], owned_battery, samples).status_code == 201


def test_bad_device_input_is_400_naming_the_field(api_as, users, battery) -> None:
    maker = api_as(users.manufacturer)
    response = maker.post(DEVICES, {"name": "", "batteries": []}, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"name", "batteries"}
    response = maker.post(DEVICES, {"name": "x", "batteries": ["(01)00000000000000(21)NOPE"]}, format="json")
    assert response.status_code == 404
    assert maker.post(f"{DEVICES}999999/rotate/").status_code == 404


def test_staff_revokes_a_device_in_the_admin(client, users, device) -> None:
    client.force_login(users.staff)
    assert client.get(f"/admin/telemetry/device/{device.device.pk}/change/").status_code == 200
    assert client.get("/admin/telemetry/batch/").status_code == 200
    assert client.get("/admin/telemetry/dailyrollup/").status_code == 200
    response = client.post(
        "/admin/telemetry/device/",
        {"action": "revoke", "_selected_action": [device.device.pk]},
    )
    assert response.status_code == 302
    assert device_authenticate(device.key) is None
