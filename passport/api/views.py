"""API views: validate the input with a serializer, call a service or selector, render the result
with an output serializer. Domain errors become HTTP answers in passport.api.exceptions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passport import lookups, selectors
from passport.access import access_tiers
from passport.api import serializers as s
from passport.api.negotiation import ExportNegotiation
from passport.api.parsers import BulkJSONParser
from passport.api.permissions import ActsForOrganisation, IsAuthority
from passport.errors import FieldError, ValidationFailed
from passport.http_errors import error_item
from passport.identifiers import qr_url
from passport.lookups import PassportLookup
from passport.models import Passport
from passport.presentation import version_history
from passport.register import export_response, register_rows
from passport.register_filters import REGISTER_FILTERS, FilterKind, register_filters_clean
from passport.services import (
    PassportReading,
    access_grant_create,
    access_grant_revoke,
    battery_change_status,
    battery_claim,
    battery_model_create,
    battery_model_update,
    battery_register,
    battery_register_bulk,
    battery_update,
    passport_element,
    passport_read,
    passport_update,
    version_chain_verify,
)
from passport.services.permissions import organisation_of, require_member
from passport.throttling import CredentialsRateThrottle


@csrf_exempt
def no_endpoint(request: HttpRequest, unmatched: str = "") -> JsonResponse:
    """Under /api/v1/ an address that matches no route answers the API's error body, not the
    site's HTML 404; a missing trailing slash is pointed out instead of redirected (a redirect
    would turn a POST into a GET)."""
    reason = f"There is no API endpoint at {request.path}."
    with_slash = f"{request.path}/"
    try:
        if resolve(with_slash).func is not no_endpoint:
            reason += f" Did you mean {with_slash}?"
    except Resolver404:
        pass
    return JsonResponse({"errors": [error_item(None, reason)]}, status=status.HTTP_404_NOT_FOUND)


def endpoint_of(request: Request) -> str:
    """What the access log records as the place of a read."""
    return f"{request.method} {request.path}"


def error_responses(*codes: int) -> dict[tuple[int, str], OpenApiResponse]:
    """Schema entries for the error statuses an endpoint answers, all with the one error body."""
    descriptions = {
        400: "Invalid input: every problem with its field (and row index for bulk).",
        401: "Not signed in (send `Authorization: Token <token>`).",
        403: "It exists, but it is not yours to see or change.",
        404: "It does not exist (or, for a list, there is no such page).",
        409: "Refused: duplicate identifier or illegal status transition.",
        413: "Too large: send less in one request (the limit is in the reason).",
        429: "Too many tries of a password or claim code from this address; see Retry-After.",
        503: "Not possible now (a PDF report whose rendering hit its time limit); see Retry-After.",
    }
    return {
        (code, "application/json"): OpenApiResponse(s.ErrorsSerializer, description=descriptions[code])
        for code in codes
    }


def passport_links(passport: Passport) -> dict[str, str]:
    passport_id = passport.passport_id
    return {
        "page": reverse("passport-page", kwargs={"passport_id": passport_id}),
        "battery": reverse("battery-page", kwargs={"identifier": passport.battery.identifier}),
        "qr": qr_url(passport),
        "versions": reverse("api:passport-versions", kwargs={"passport_id": passport_id}),
        "verify": reverse("api:passport-verify", kwargs={"passport_id": passport_id}),
    }


# --- authentication ----------------------------------------------------------------------------


class TokenObtainView(APIView):
    """Exchange a username and password for the API token of that account."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), CredentialsRateThrottle()]

    @extend_schema(
        tags=["auth"],
        auth=[],
        request=s.TokenInputSerializer,
        responses={200: s.TokenOutputSerializer, **error_responses(400, 401, 429)},
        summary="Obtain an API token",
        description="400 when a field is missing or malformed; 401 when the username and "
        "password do not sign anybody in (without saying which part was wrong).",
    )
    def post(self, request: Request) -> Response:
        given = s.TokenInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=given.validated_data["username"],
            password=given.validated_data["password"],
        )
        if user is None or not user.is_active:
            # Not a malformed request: the credentials do not authenticate anybody.
            return Response(
                {"errors": [error_item(None, "Unable to sign in with this username and password.")]},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response(s.TokenOutputSerializer({"token": token.key}).data)


# --- organisations -----------------------------------------------------------------------------


class OrganisationListView(GenericAPIView):
    """The organisations known to the register (to name an operator or grant access)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="organisations_list",
        tags=["organisations"],
        parameters=[s.OrganisationFilterSerializer],
        responses={200: s.OrganisationOutputSerializer(many=True), **error_responses(400, 401, 404)},
        summary="List organisations",
    )
    def get(self, request: Request) -> Response:
        query = s.OrganisationFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        organisations = selectors.organisation_list(
            kind=query.validated_data.get("kind"), name_contains=query.validated_data.get("q")
        )
        page = self.paginate_queryset(organisations)
        return self.get_paginated_response(s.OrganisationOutputSerializer(page, many=True).data)


# --- battery models ----------------------------------------------------------------------------


class BatteryModelListCreateView(GenericAPIView):
    permission_classes = (ActsForOrganisation,)

    @extend_schema(
        operation_id="models_list",
        tags=["models"],
        responses={200: s.BatteryModelOutputSerializer(many=True), **error_responses(401, 403, 404)},
        summary="List your organisation's battery models",
    )
    def get(self, request: Request) -> Response:
        models = selectors.battery_model_list(manufacturer=organisation_of(request.user))
        page = self.paginate_queryset(models)
        return self.get_paginated_response(s.BatteryModelOutputSerializer(page, many=True).data)

    @extend_schema(
        tags=["models"],
        request=s.BatteryModelCreateInputSerializer,
        responses={201: s.BatteryModelOutputSerializer, **error_responses(400, 401, 403, 409)},
        summary="Create a battery model",
        description="The model belongs to your organisation; `data` holds every mandatory "
        "model-level attribute of its category. A name already used by your organisation is a 409.",
    )
    def post(self, request: Request) -> Response:
        given = s.BatteryModelCreateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        manufacturer = organisation_of(request.user)
        assert manufacturer is not None  # ActsForOrganisation let the caller in
        model = battery_model_create(user=request.user, manufacturer=manufacturer, **given.validated_data)
        return Response(s.BatteryModelOutputSerializer(model).data, status=status.HTTP_201_CREATED)


class BatteryModelDetailView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["models"],
        responses={200: s.BatteryModelOutputSerializer, **error_responses(401, 403, 404)},
        summary="Read a battery model (members of its manufacturer)",
    )
    def get(self, request: Request, model_id: int) -> Response:
        model = selectors.battery_model_get(model_id=model_id)
        require_member(request.user, model.manufacturer, "read the full data of its battery models")
        return Response(s.BatteryModelOutputSerializer(model).data)

    @extend_schema(
        tags=["models"],
        request=s.BatteryModelUpdateInputSerializer,
        responses={200: s.BatteryModelOutputSerializer, **error_responses(400, 401, 403, 404)},
        summary="Update a battery model (versioned)",
    )
    def patch(self, request: Request, model_id: int) -> Response:
        model = selectors.battery_model_get(model_id=model_id)
        given = s.BatteryModelUpdateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        updated = battery_model_update(user=request.user, model=model, **given.validated_data)
        return Response(s.BatteryModelOutputSerializer(updated).data)


# --- registration ------------------------------------------------------------------------------


class BatteryRegisterView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["batteries"],
        request=s.BatteryRegisterInputSerializer,
        responses={201: s.RegisteredBatteryOutputSerializer, **error_responses(400, 401, 403, 409)},
        summary="Register one battery",
        description="Creates the battery, its passport and version 1. The one-time claim code for "
        "the owner is in this response only.",
    )
    def post(self, request: Request) -> Response:
        given = s.BatteryRegisterInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        registered = battery_register(
            user=request.user, model=given.validated_data["model"], item=given.validated_data["item"]
        )
        return Response(s.RegisteredBatteryOutputSerializer(registered).data, status=status.HTTP_201_CREATED)


class BatteryBulkRegisterView(APIView):
    """Thousands of batteries in one all-or-nothing request. The envelope is checked by a
    serializer; the rows go straight to the service, which validates each one and reports every
    bad row (a serializer per row would cost seconds at 10,000 rows)."""

    permission_classes = (IsAuthenticated,)
    parser_classes = (BulkJSONParser,)

    @extend_schema(
        tags=["batteries"],
        request=s.BatteryBulkRegisterInputSerializer,
        responses={
            201: s.BulkRegisterOutputSerializer,
            **error_responses(400, 401, 403, 404),
            413: OpenApiResponse(s.ErrorsSerializer, description="Body larger than 64 MB."),
        },
        summary="Register many batteries (all or nothing)",
        description="On any bad row nothing is stored and the 400 lists every problem with "
        "`index` (row), `field` and `reason`, including identifiers repeated in the request or "
        "already registered.",
    )
    def post(self, request: Request) -> Response:
        given = s.BatteryBulkRegisterInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        registered = battery_register_bulk(
            user=request.user, model=given.validated_data["model"], items=given.validated_data["items"]
        )
        page_prefix = reverse("passport-page", kwargs={"passport_id": "-"})[:-1]
        # Built directly: the same shape as RegisteredBatteryOutputSerializer, without its
        # per-row overhead on tens of thousands of rows.
        rows = [
            {
                "identifier": item.battery.identifier,
                "passport_identifier": item.passport.passport_id,
                "claim_code": item.claim_code,
                "url": page_prefix + item.passport.passport_id,
            }
            for item in registered
        ]
        return Response({"created": len(rows), "batteries": rows}, status=status.HTTP_201_CREATED)


# --- passport reads ------------------------------------------------------------------------------


def passport_output(*, passport: Passport, reading: PassportReading, at: dt.datetime | None) -> dict[str, Any]:
    output = {
        "passport_identifier": passport.passport_id,
        "battery_identifier": passport.battery.identifier,
        "view": reading.view.value,
        "at": at,
        "document": reading.document,
        "links": passport_links(passport),
    }
    return s.PassportOutputSerializer(output).data


class PassportReadSchema(AutoSchema):
    """Each address of the one read view is documented by its lookup."""

    def _lookup(self) -> PassportLookup:
        return self.view.lookup  # type: ignore[attr-defined]

    def get_tags(self) -> list[str]:
        return [self._lookup().tag] if self.method == "GET" else super().get_tags()

    def get_summary(self) -> str | None:
        return self._lookup().summary if self.method == "GET" else super().get_summary()

    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular's, not DRF's
        return self._lookup().description if self.method == "GET" else super().get_description()

    def get_operation_id(self) -> str:
        if self.method == "GET":
            return f"{self._lookup().name}_retrieve"
        return super().get_operation_id()

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if "{moment}" in self.path:
            parameters.append(MOMENT_PARAMETER)
        if self._is_digital_link():
            parameters.append(LINK_TYPE_PARAMETER)
        return parameters

    def get_response_serializers(self) -> Any:
        if self.method != "GET":
            return super().get_response_serializers()
        if self._is_digital_link():
            return {**READ_RESPONSES, **RESOLVER_RESPONSES}
        return READ_RESPONSES

    def _is_digital_link(self) -> bool:
        return self.method == "GET" and self.path.startswith("/01/")


MOMENT_PARAMETER = OpenApiParameter(
    "moment",
    {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]},
    OpenApiParameter.PATH,
    description="ISO 8601 date (the end of that day, UTC) or date-time (UTC without a zone). "
    "Moments before year 1 or after 9999 in UTC read as the earliest or latest.",
)
LINK_TYPE_PARAMETER = OpenApiParameter(
    "linkType",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="GS1-Conformant Resolver: `linkset` (or `all`) for the linkset of this battery; "
    "a GS1 link type (`gs1:dpp`, `gs1:recyclingInfo`, `gs1:instructions`, ...) for a 307 to its "
    "target; absent or `gs1:dpp` for the passport itself.",
)
LINK_TARGET_SCHEMA = {
    "type": "object",
    "properties": {"href": {"type": "string"}, "type": {"type": "string"}, "title": {"type": "string"}},
    "required": ["href"],
}
LINKSET_SCHEMA = {
    "type": "object",
    "properties": {
        "linkset": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"anchor": {"type": "string"}},
                "additionalProperties": {"type": "array", "items": LINK_TARGET_SCHEMA},
            },
        }
    },
    "required": ["linkset"],
}
PAGE_ERROR = OpenApiResponse(OpenApiTypes.STR, description="The error page, for a browser.")
RESOLVER_RESPONSES = {
    (200, "application/linkset+json"): OpenApiResponse(
        LINKSET_SCHEMA, description="The linkset (RFC 9264) of this battery's Digital Link."
    ),
    (307, "application/json"): OpenApiResponse(description="To the target of the requested `linkType`."),
    # A browser is the Digital Link's default audience: its errors are pages.
    (400, "text/html"): PAGE_ERROR,
    (403, "text/html"): PAGE_ERROR,
    (404, "text/html"): PAGE_ERROR,
}
READ_RESPONSES = {
    (200, "application/json"): s.PassportOutputSerializer,
    (200, "text/html"): OpenApiResponse(
        OpenApiTypes.STR, description="The passport page, for a browser's `Accept: text/html`."
    ),
    **error_responses(400, 403, 404),
}


class PassportReadView(APIView):
    """One passport read through the caller's access rights, as JSON. Every address that reads a
    passport is this view with its lookup (passport.lookups), given in the URL configuration;
    the passport page at the same address is passport.pages.passport, chosen by passport.resolver."""

    permission_classes = (IsAuthenticatedOrReadOnly,)
    schema = PassportReadSchema()
    lookup: PassportLookup = lookups.PASSPORT

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        # What a passport shows depends on who asks: a shared cache must not hand an operator's
        # full view to the next anonymous reader.
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return response

    @extend_schema(parameters=[s.PassportReadQuerySerializer])
    def get(self, request: Request, **url_arguments: Any) -> Response:
        query = s.PassportReadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        passport, at = self.lookup(**url_arguments)
        reading = passport_read(
            user=request.user,
            passport=passport,
            at=at,
            view=query.validated_data.get("view") or None,
            endpoint=endpoint_of(request),
        )
        return Response(passport_output(passport=passport, reading=reading, at=at))


def updated_passport_response(request: Request, passport: Passport) -> Response:
    """After a change, the passport as the caller now reads it."""
    reading = passport_read(user=request.user, passport=passport, endpoint=endpoint_of(request))
    return Response(passport_output(passport=passport, reading=reading, at=None))


class BatteryDetailView(PassportReadView):
    """The read by battery identifier, and the update of the battery's item data."""

    lookup = lookups.BATTERY

    @extend_schema(
        tags=["batteries"],
        request=s.BatteryUpdateInputSerializer,
        responses={200: s.PassportOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Update a battery's item data (versioned)",
        description="Item-level attributes, static corrections and dynamic values (state of "
        "health...). Refused with 409 when the passport has ceased.",
    )
    def patch(self, request: Request, identifier: str) -> Response:
        battery = selectors.battery_get(identifier=identifier)
        given = s.BatteryUpdateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        passport = battery_update(user=request.user, battery=battery, **given.validated_data)
        return updated_passport_response(request, passport)


class DppPassportView(PassportReadView):
    """The EN 18222 read by passport identifier, and the update addressed by passport."""

    lookup = lookups.DPP_PASSPORT

    @extend_schema(
        tags=["dpp (EN 18222)"],
        request=s.BatteryUpdateInputSerializer,
        responses={200: s.PassportOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Update a passport (a new version)",
        description="Changes item-level attributes of the passport's battery and records a "
        "version. Only the current passport can change: a superseded or ceased one is a 409.",
    )
    def patch(self, request: Request, passport_id: str) -> Response:
        passport = selectors.passport_get(passport_id=passport_id)
        given = s.BatteryUpdateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        updated = passport_update(user=request.user, passport=passport, **given.validated_data)
        return updated_passport_response(request, updated)


class DppElementView(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=["dpp (EN 18222)"],
        parameters=[
            OpenApiParameter(
                "path", OpenApiTypes.STR, OpenApiParameter.PATH,
                description="Attribute key, then object keys / list positions separated by `.` "
                "or `/`, e.g. `rated_capacity_ah` or `hazardous_substances/0/cas_number`.",
            )
        ],
        responses={200: s.ElementOutputSerializer, **error_responses(403, 404)},
        summary="Read one data element of a passport by its path",
        description="403 when the element exists but your access rights do not cover it; 404 "
        "when there is no such element (or it has no value).",
    )
    def get(self, request: Request, passport_id: str, path: str) -> Response:
        passport = selectors.passport_get(passport_id=passport_id)
        value = passport_element(user=request.user, passport=passport, path=path, endpoint=endpoint_of(request))
        output = {"passport_identifier": passport.passport_id, "path": path, "value": value}
        return Response(s.ElementOutputSerializer(output).data)


class PassportVersionsView(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=["passports"],
        responses={200: s.VersionListOutputSerializer, **error_responses(404)},
        summary="List a passport's versions",
        description="Oldest first. Only the versions that changed something you may read, naming "
        "only what you may read; the reason only for readers of the full passport.",
    )
    def get(self, request: Request, passport_id: str) -> Response:
        passport = selectors.passport_get(passport_id=passport_id)
        tiers = access_tiers(user=request.user, battery=passport.battery)
        lines = version_history(selectors.version_list(passport=passport), tiers)
        output = {"passport_identifier": passport.passport_id, "versions": lines}
        return Response(s.VersionListOutputSerializer(output).data)


class PassportVerifyView(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=["passports"],
        responses={200: s.VerifyOutputSerializer, **error_responses(404)},
        summary="Verify the version chains of a passport and of its battery model",
        description="Re-computes every hash; a broken chain names its first bad version "
        "(`broken_seq`) and why (hash mismatch, prev_hash mismatch, seq gap, live data edited).",
    )
    def get(self, request: Request, passport_id: str) -> Response:
        passport = selectors.passport_get(passport_id=passport_id)
        reports = [
            *version_chain_verify(subject=passport),
            *version_chain_verify(subject=passport.battery.model),
        ]
        output = {
            "passport_identifier": passport.passport_id,
            "ok": all(report.ok for report in reports),
            "chains": [report.as_dict() for report in reports],
        }
        return Response(s.VerifyOutputSerializer(output).data)


# --- lifecycle ---------------------------------------------------------------------------------


class BatteryStatusView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["batteries"],
        request=s.StatusChangeInputSerializer,
        responses={200: s.StatusChangeOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Change a battery's status (lifecycle)",
        description="re-used (same passport); repurposed / remanufactured (new passport linked to "
        "the old ones, `operator` required, optional `predecessors`, `new_identifier`, `model`); "
        "waste (`operator` required); recycled (from waste; the passport ceases). Illegal "
        "transitions are a 409 with the reason. Handing the battery to another organisation is a "
        "403 here: offer it with POST /api/v1/handovers/.",
    )
    def post(self, request: Request, identifier: str) -> Response:
        battery = selectors.battery_get(identifier=identifier)
        given = s.StatusChangeInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        passport = battery_change_status(user=request.user, battery=battery, **given.validated_data)
        return Response(s.StatusChangeOutputSerializer(passport).data)


# --- owners ------------------------------------------------------------------------------------


class ClaimView(APIView):
    permission_classes = (IsAuthenticated,)

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), CredentialsRateThrottle()]

    @extend_schema(
        tags=["owners"],
        request=s.ClaimInputSerializer,
        responses={200: s.ClaimOutputSerializer, **error_responses(400, 401, 403, 429)},
        summary="Claim a battery with its one-time claim code",
        description="A wrong identifier, a wrong code and a used code all give the same 403.",
    )
    def post(self, request: Request) -> Response:
        given = s.ClaimInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        battery = battery_claim(user=request.user, **given.validated_data)
        return Response(s.ClaimOutputSerializer(battery).data)


class GrantCreateView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["owners"],
        request=s.GrantInputSerializer,
        responses={201: s.GrantOutputSerializer, **error_responses(400, 401, 403, 404)},
        summary="Let an organisation read your battery's individual data (point 4)",
    )
    def post(self, request: Request, identifier: str) -> Response:
        battery = selectors.battery_get(identifier=identifier)
        given = s.GrantInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        grant = access_grant_create(user=request.user, battery=battery, **given.validated_data)
        return Response(s.GrantOutputSerializer(grant).data, status=status.HTTP_201_CREATED)


class GrantRevokeView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["owners"],
        request=None,
        parameters=[OpenApiParameter("organisation_id", int, OpenApiParameter.PATH)],
        responses={204: None, **error_responses(401, 403, 404)},
        summary="Withdraw an organisation's access to your battery's individual data",
    )
    def delete(self, request: Request, identifier: str, organisation_id: str) -> Response:
        # Any text reaches this view (an id that is not a number is no organisation, a 404 here,
        # rather than falling through to the battery's address and its 405).
        battery = selectors.battery_get(identifier=identifier)
        organisation = selectors.organisation_get(organisation_id=organisation_id)  # any text: 404
        access_grant_revoke(user=request.user, battery=battery, organisation=organisation)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- regulators --------------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "json")
EXPORT_PARAMETERS = [
    OpenApiParameter("format", OpenApiTypes.STR, enum=list(EXPORT_FORMATS),
                     description="Export every matching battery (streamed) instead of one page."),
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number (JSON listing)."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="Rows per page, at most 500."),
]
FILTER_TYPES = {FilterKind.TEXT: OpenApiTypes.STR, FilterKind.ID: OpenApiTypes.INT,
                FilterKind.DATE: OpenApiTypes.DATE, FilterKind.CHOICE: OpenApiTypes.STR}


def register_filter_parameters() -> list[OpenApiParameter]:
    """The register's filters (passport.register_filters) as documented query parameters."""
    return [
        OpenApiParameter(
            spec.name, FILTER_TYPES[spec.kind], description=" ".join(filter(None, (spec.label + ".", spec.help))),
            enum=[value for value, _ in spec.choices] or None,
        )
        for spec in REGISTER_FILTERS
        if spec.kind != FilterKind.REFUSED
    ]



class RegulatorBatteryListView(GenericAPIView):
    """The register for market surveillance: every battery, filtered, as the authority tier may
    see it; one page as JSON, or everything streamed as CSV or JSON."""

    permission_classes = (IsAuthority,)
    content_negotiation_class = ExportNegotiation

    @extend_schema(
        operation_id="regulator_batteries_list",
        tags=["regulators"],
        parameters=[*register_filter_parameters(), *EXPORT_PARAMETERS],
        responses={
            (200, "application/json"): PolymorphicProxySerializer(
                component_name="RegisterListing",
                serializers=[s.RegisterPageSerializer, s.RegisterExportSerializer],
                resource_type_field_name=None,
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="With `?format=csv`."),
            **error_responses(400, 401, 403, 404),
        },
        summary="Search all batteries (authorities)",
        description="Paginated JSON by default; `?format=csv` or `?format=json` streams every "
        "match. Rows hold only what the authority tier may read: the status is neither a filter nor "
        "a column (Annex XIII point 4 is for persons with a legitimate interest). A parameter "
        "that is not one of these is a 400 naming it, as is a filter given twice.",
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        params = request.query_params
        filters = register_filters_clean(params, also_allowed=("format", "page", "page_size"))
        export_format = params.get("format") or None
        if export_format is not None and export_format not in EXPORT_FORMATS:
            raise ValidationFailed([FieldError("format", f"must be one of {', '.join(EXPORT_FORMATS)}")])
        batteries = selectors.battery_search(**filters)
        if export_format:
            return export_response(batteries, export_format)
        page = self.paginate_queryset(selectors.with_current_passport(batteries))
        return self.get_paginated_response(register_rows(page or []))
