"""Compliance reports of a battery model or a battery, for its responsible operator and for
authorities. The rules are in passport.services.compliance."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passport import selectors
from passport.api.views import error_responses
from passport.models import Organisation
from passport.services.compliance import (
    ComplianceReport,
    compliance_of_battery,
    compliance_of_model,
    compliance_reader_require,
)


class ComplianceQuerySerializer(serializers.Serializer):
    on = serializers.DateField(
        required=False, help_text="Check as of this date (default today), e.g. 2031-08-18."
    )


class FindingSerializer(serializers.Serializer):
    attribute = serializers.CharField(help_text="Attribute key the finding is about.")
    rule = serializers.CharField()
    severity = serializers.ChoiceField(
        choices=["missing", "below-minimum", "inconsistent", "stale", "upcoming"]
    )
    reason = serializers.CharField()
    source = serializers.CharField(help_text="Article or annex of Regulation (EU) 2023/1542.")


class ComplianceReportSerializer(serializers.Serializer):
    subject = serializers.CharField()
    kind = serializers.ChoiceField(choices=["model", "battery"])
    category = serializers.CharField()
    checked_on = serializers.DateField()
    compliant = serializers.BooleanField(help_text="No finding other than `upcoming`.")
    findings = FindingSerializer(many=True)


def report_response(request: Request, responsible: Organisation, build: Callable[..., ComplianceReport]) -> Response:
    """Check the `on` date and who asks (the responsible organisation, authorities, staff), then
    answer with the report `build(on=…)` makes."""
    query = ComplianceQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    compliance_reader_require(request.user, responsible)
    report = build(on=query.validated_data.get("on"))
    return Response(ComplianceReportSerializer(report.as_dict()).data)


REPORT_RESPONSES = {200: ComplianceReportSerializer, **error_responses(400, 401, 403, 404)}


class ModelComplianceView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["compliance"], parameters=[ComplianceQuerySerializer], responses=REPORT_RESPONSES,
        summary="Compliance of a battery model (its manufacturer, authorities)",
    )
    def get(self, request: Request, model_id: int) -> Response:
        model = selectors.battery_model_get(model_id=model_id)
        return report_response(request, model.manufacturer, partial(compliance_of_model, model=model))


class BatteryComplianceView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["compliance"], parameters=[ComplianceQuerySerializer], responses=REPORT_RESPONSES,
        summary="Compliance of a battery (its responsible operator, authorities)",
    )
    def get(self, request: Request, identifier: str) -> Response:
        battery = selectors.battery_get(identifier=identifier)
        return report_response(request, battery.responsible_operator, partial(compliance_of_battery, battery=battery))
