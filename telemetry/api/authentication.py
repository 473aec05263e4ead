"""`Authorization: Device <key>`: a collector authenticates with its device key, not as a user."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from telemetry.models import Device
from telemetry.services.devices import device_authenticate

KEYWORD = "Device"


class DeviceKeyAuthentication(BaseAuthentication):
    """request.auth is the Device; request.user stays anonymous (a device is nobody's session)."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, Device] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("send `Authorization: Device <key>` with the device's key")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("the device key is not valid") from None
        device = device_authenticate(key)
        if device is None:
            # Unknown, wrong and revoked keys answer alike: a guess learns nothing.
            raise AuthenticationFailed("the device key is not valid, or the device is revoked")
        return AnonymousUser(), device

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when the header is missing.
        return KEYWORD


class IsDevice(BasePermission):
    message = "send `Authorization: Device <key>` with the key of a collector device"

    def has_permission(self, request: Request, view) -> bool:
        return isinstance(request.auth, Device)


class DeviceKeyScheme(OpenApiAuthenticationExtension):
    target_class = DeviceKeyAuthentication
    name = "deviceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <key>`: the key shown once when the device was created.",
        }
