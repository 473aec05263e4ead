"""Who may call an endpoint at all. What a caller may do with one battery or model is decided by
the services (they raise NotPermitted), so these classes only sort callers by position."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from passport.services.permissions import organisation_of


def is_signed_in(request: Request) -> bool:
    return bool(request.user and request.user.is_authenticated)


class ActsForOrganisation(BasePermission):
    """Signed in as a member of an organisation (manufacturers, operators, authorities...)."""

    message = "This endpoint is for members of an organisation; your account acts as a private person."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_signed_in(request) and organisation_of(request.user) is not None


def acts_for_authority(user: Any) -> bool:
    """Market surveillance authorities, notified bodies and the Commission (and staff)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    organisation = organisation_of(user)
    return organisation is not None and organisation.is_authority


class IsAuthority(BasePermission):
    message = "Only members of an authority may search the register."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return acts_for_authority(request.user)
