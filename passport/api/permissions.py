"""Who may call an endpoint at all. What a caller may do with one battery or model is decided by
the services (they raise NotPermitted), so these classes only sort callers by position."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from passport.access import acts_for_authority, organisation_of


def is_signed_in(request: Request) -> bool:
    return bool(request.user and request.user.is_authenticated)


class ActsForOrganisation(BasePermission):
    """Signed in as a member of an organisation (manufacturers, operators, authorities...)."""

    message = "This endpoint is for members of an organisation; your account acts as a private person."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_signed_in(request) and organisation_of(request.user) is not None


class IsAuthority(BasePermission):
    message = "Only members of an authority may search the register."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return acts_for_authority(request.user)
