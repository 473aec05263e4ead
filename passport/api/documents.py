"""API views of the documents package: signed exports (JSON, PDF), import, JWKS, our JSON
Schemas, QR codes and label sheets. Thin: validate the query, call a service, answer bytes.

Every export is read through `passport_read` (the one access filter, with the access log), so a
reader downloads exactly what the passport page shows them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework import status as http_status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passport import selectors
from passport.api.negotiation import ExportNegotiation
from passport.api.permissions import ActsForOrganisation
from passport.api.views import endpoint_of, error_responses
from passport.attributes import View
from passport.documents.exports import SignedDocument, json_signed, passport_export
from passport.documents.imports import passport_import
from passport.documents.labels import (
    battery_qr_url,
    label_sheet_build,
    label_sheet_pdf,
    qr_png,
    qr_svg,
)
from passport.documents.pdf import passport_pdf_cached, passport_pdf_request, pdf_job
from passport.documents.schemas import view_schema
from passport.documents.signing import jwks
from passport.errors import NotFound
from passport.lookups import PassportLookup
from passport.models import Passport
from passport.services import passport_read

SIGNATURE_HEADER = "X-JWS-Signature"
RETRY_AFTER_SECONDS = 2


# An empty query value means "not given", as for the passport's own `?view=` (passport.api.
# serializers.PassportReadQuerySerializer) and the register's filters (passport.register_filters):
# a link or form may send `?view=`. DRF already reads it so; allow_blank makes the OpenAPI schema
# say so (its enum lists "") instead of promising a 400 that never comes. Any other value outside
# the enum is a 400 naming the field.
EXPORT_FORMATS = ("json", "pdf")


class SignatureQuerySerializer(serializers.Serializer):
    view = serializers.ChoiceField(
        choices=[v.value for v in View], required=False, allow_blank=True,
        help_text="Ask for a lower view than your own (never a higher one); empty means your own.",
    )

    def wanted_view(self) -> str | None:
        return self.validated_data.get("view") or None


class ExportQuerySerializer(SignatureQuerySerializer):
    format = serializers.ChoiceField(choices=EXPORT_FORMATS, default=EXPORT_FORMATS[0], allow_blank=True,
                                     help_text="json (the default; also when empty) or pdf.")

    def wanted_format(self) -> str:
        return self.validated_data.get("format") or EXPORT_FORMATS[0]


class ImportOutputSerializer(serializers.Serializer):
    passport_identifier = serializers.CharField()
    battery_identifier = serializers.CharField()


class LabelSheetInputSerializer(serializers.Serializer):
    identifiers = serializers.ListField(child=serializers.CharField(max_length=200), min_length=1,
                                        help_text="Battery identifiers (any accepted form).")


class RenderingSerializer(serializers.Serializer):
    status = serializers.CharField()
    retry_after = serializers.IntegerField()


def jwks_url() -> str:
    return f"{settings.PASSPORT_BASE_URL}/.well-known/jwks.json"


def signed_response(document: SignedDocument, *, disposition: str = "inline") -> HttpResponse:
    """The document's bytes as they were signed, with the detached signature in a header."""
    response = HttpResponse(document.body, content_type=document.media_type)
    response[SIGNATURE_HEADER] = document.signature
    response["Link"] = f'<{jwks_url()}>; rel="jwks"'
    response["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    patch_vary_headers(response, ("Authorization", "Cookie", "Accept"))
    return response


def rendering_response() -> HttpResponse:
    response = JsonResponse({"status": "rendering", "retry_after": RETRY_AFTER_SECONDS},
                            status=http_status.HTTP_202_ACCEPTED)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    patch_vary_headers(response, ("Authorization", "Cookie", "Accept"))
    return response


def pdf_answer(
    *, user: Any, passport: Passport, view: str | None, endpoint: str, at: dt.datetime | None = None
) -> HttpResponse:
    """The reader's PDF report of `passport`: 200 when rendered in time, else 202 + Retry-After.
    A plain Django answer, so that the passport's addresses (API and pages alike) can hand a
    request that asks for `application/pdf` to it. Domain errors propagate to the caller."""
    reading = passport_read(user=user, passport=passport, at=at, view=view, endpoint=endpoint)
    job = pdf_job(passport=passport, document=reading.document, tiers=reading.tiers)
    document = passport_pdf_request(job)
    return signed_response(document) if document is not None else rendering_response()


EXPORT_PARAMETERS = [ExportQuerySerializer]


class PassportPdfView(APIView):
    """The PDF report at a passport's own addresses (`?format=pdf`, `Accept: application/pdf`;
    passport.resolver hands such requests here): the reader's view of the passport the address
    names, authenticated like the API (token or session)."""

    permission_classes = (AllowAny,)
    content_negotiation_class = ExportNegotiation
    lookup: PassportLookup | None = None  # set per address by as_view(lookup=...)

    def get(self, request: Request, **url_arguments: Any) -> HttpResponse:
        query = SignatureQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if self.lookup is None:
            raise TypeError("PassportPdfView.as_view(lookup=...) names how the address finds its passport")
        passport, at = self.lookup(**url_arguments)
        return pdf_answer(user=request.user, passport=passport, view=query.wanted_view(),
                          at=at, endpoint=endpoint_of(request))


class PassportExportView(APIView):
    """A passport as a signed document: Battery Pass v1.2 JSON or the PDF report."""

    permission_classes = (AllowAny,)
    content_negotiation_class = ExportNegotiation

    @extend_schema(
        operation_id="passport_export",
        tags=["documents"],
        parameters=EXPORT_PARAMETERS,
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description=(
                "The export (canonical JSON bytes); schema at /schemas/passport/v1/<view>.json. "
                f"The detached JWS of the bytes is in the `{SIGNATURE_HEADER}` header.")),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF report."),
            (202, "application/json"): OpenApiResponse(RenderingSerializer, description=(
                "The PDF is being rendered; ask again after `Retry-After` seconds.")),
            **error_responses(400, 403, 404, 503),
        },
        summary="Export a passport (signed JSON or PDF)",
        description="What you may read of the passport, in the Battery Pass v1.2 format (seven "
        "aspects in our envelope) or as a PDF report. Both are signed with a detached JWS "
        "(EdDSA); the keys are at /.well-known/jwks.json.",
    )
    def get(self, request: Request, passport_id: str) -> Any:
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        passport = selectors.passport_get(passport_id=passport_id)
        view = query.wanted_view()
        if query.wanted_format() == "pdf":
            return pdf_answer(user=request.user, passport=passport, view=view, endpoint=endpoint_of(request))
        reading = passport_read(user=request.user, passport=passport, view=view, endpoint=endpoint_of(request))
        envelope = passport_export(passport=passport, document=reading.document, view=reading.view)
        return signed_response(json_signed(envelope), disposition="attachment")


class PassportPdfSignatureView(APIView):
    """The detached signature of the PDF report the caller would download."""

    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="passport_pdf_signature",
        tags=["documents"],
        parameters=[SignatureQuerySerializer],
        responses={
            (200, "application/jose"): OpenApiResponse(OpenApiTypes.STR, description="Detached JWS."),
            **error_responses(400, 403, 404),
        },
        summary="Detached signature of a passport's PDF report",
        description="404 until the report has been rendered (ask for the PDF first).",
    )
    def get(self, request: Request, passport_id: str) -> HttpResponse:
        query = SignatureQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        passport = selectors.passport_get(passport_id=passport_id)
        reading = passport_read(user=request.user, passport=passport, view=query.wanted_view(),
                                endpoint=endpoint_of(request))
        document = passport_pdf_cached(pdf_job(passport=passport, document=reading.document, tiers=reading.tiers))
        if document is None:
            raise NotFound(f"rendered PDF report of passport {passport.passport_id}")
        response = HttpResponse(document.signature, content_type="application/jose")
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return response


class PassportImportView(APIView):
    permission_classes = (ActsForOrganisation,)

    @extend_schema(
        operation_id="passport_import",
        tags=["documents"],
        request=OpenApiTypes.OBJECT,
        responses={201: ImportOutputSerializer, **error_responses(400, 401, 403, 409)},
        summary="Import a passport (full view of our export format)",
        description="Registers the battery (and its model, unless one of the same name has the "
        "same data) for your organisation. Every refused value is named by its JSON path; "
        "nothing is stored unless everything is valid.",
    )
    def post(self, request: Request) -> Response:
        passport = passport_import(user=request.user, document=request.data)
        output = {"passport_identifier": passport.passport_id, "battery_identifier": passport.battery.identifier}
        return Response(ImportOutputSerializer(output).data, status=http_status.HTTP_201_CREATED)


class BatteryQrView(APIView):
    """The battery's QR code (its GS1 Digital Link URL), as printed on it: public."""

    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="battery_qr",
        tags=["documents"],
        parameters=[OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["svg", "png"])],
        responses={(200, "image/svg+xml"): OpenApiTypes.STR, (200, "image/png"): OpenApiTypes.BINARY,
                   **error_responses(404)},
        summary="QR code of a battery's Digital Link (SVG or PNG)",
    )
    def get(self, request: Request, identifier: str, kind: str) -> HttpResponse:
        url = battery_qr_url(selectors.battery_get(identifier=identifier))
        if kind == "svg":
            body = '<?xml version="1.0" encoding="utf-8"?>\n' + qr_svg(url, scale=8)
            return HttpResponse(body, content_type="image/svg+xml")
        return HttpResponse(qr_png(url), content_type="image/png")


class LabelSheetView(APIView):
    permission_classes = (ActsForOrganisation,)

    @extend_schema(
        operation_id="label_sheet",
        tags=["documents"],
        request=LabelSheetInputSerializer,
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **error_responses(400, 401, 403)},
        summary="Printable label sheet (QR, identifier, claim code) for a batch of your batteries",
        description="Issues fresh one-time claim codes for the batteries nobody has claimed yet "
        "(the previous unused codes stop working); owned batteries get no code.",
    )
    def post(self, request: Request) -> HttpResponse:
        given = LabelSheetInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        labels = label_sheet_build(user=request.user, identifiers=given.validated_data["identifiers"])
        response = HttpResponse(label_sheet_pdf(labels), content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="battery-labels.pdf"'
        response["Cache-Control"] = "no-store"
        return response


def jwks_document(request: Any) -> JsonResponse:
    """/.well-known/jwks.json: every public key an export's signature may name."""
    response = JsonResponse(jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


def passport_schema_document(request: Any, view: str) -> JsonResponse:
    """/schemas/passport/v1/<view>.json: our JSON Schema of the export in that view."""
    try:
        wanted = View(view)
    except ValueError as error:
        raise NotFound(f"schema {view}") from error
    response = JsonResponse(view_schema(wanted), json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/schema+json"
    response["Cache-Control"] = "public, max-age=3600"
    return response
