"""Health data and alerts of one battery: `/api/v1/telemetry/batteries/<identifier>/...`.

Read by the battery's owner, its responsible operator and the organisations the owner granted
access (the readers of its point 4 data); alerts acknowledged and resolved by the owner and the
operator. Views validate, call a selector or service, and render; every refusal comes from the
services (passport.api.exceptions maps it to its status).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passport import selectors as passport_selectors
from passport.api.pagination import PagePagination
from passport.api.views import error_responses
from telemetry import health_selectors
from telemetry.api import health_serializers as s
from telemetry.services.alerts import alert_acknowledge, alert_resolve


class BatteryAlertListView(GenericAPIView):
    permission_classes = (IsAuthenticated,)
    pagination_class = PagePagination
    serializer_class = s.AlertOutputSerializer

    @extend_schema(
        tags=["telemetry"],
        operation_id="telemetry_battery_alerts_list",
        parameters=[s.AlertFilterSerializer],
        responses={200: s.AlertOutputSerializer(many=True), **error_responses(400, 401, 403, 404)},
        summary="The battery's alerts, newest first",
    )
    def get(self, request: Request, identifier: str) -> Response:
        query = s.AlertFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        battery = passport_selectors.battery_get(identifier=identifier)
        alerts = health_selectors.battery_alert_list(
            user=request.user, battery=battery, status=query.validated_data.get("status")
        )
        page = self.paginate_queryset(alerts)
        return self.get_paginated_response(s.AlertOutputSerializer(page, many=True).data)


class AlertAcknowledgeView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["telemetry"],
        request=None,
        responses={200: s.AlertOutputSerializer, **error_responses(401, 403, 404, 409)},
        summary="Acknowledge an open alert (the owner or the responsible operator)",
    )
    def post(self, request: Request, identifier: str, alert_id: int) -> Response:
        battery = passport_selectors.battery_get(identifier=identifier)
        alert = health_selectors.battery_alert_get(user=request.user, battery=battery, alert_id=alert_id)
        return Response(s.AlertOutputSerializer(alert_acknowledge(user=request.user, alert=alert)).data)


class AlertResolveView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["telemetry"],
        request=s.AlertResolveInputSerializer,
        responses={200: s.AlertOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Resolve an alert (the owner or the responsible operator)",
    )
    def post(self, request: Request, identifier: str, alert_id: int) -> Response:
        given = s.AlertResolveInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        battery = passport_selectors.battery_get(identifier=identifier)
        alert = health_selectors.battery_alert_get(user=request.user, battery=battery, alert_id=alert_id)
        resolved = alert_resolve(
            user=request.user, alert=alert, resolution=given.validated_data["resolution"]
        )
        return Response(s.AlertOutputSerializer(resolved).data)


class BatteryHealthView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["telemetry"],
        responses={200: s.HealthSnapshotOutputSerializer, **error_responses(401, 403, 404)},
        summary="The battery's latest health snapshot (the full bms_core report)",
    )
    def get(self, request: Request, identifier: str) -> Response:
        battery = passport_selectors.battery_get(identifier=identifier)
        snapshot = health_selectors.battery_health_get(user=request.user, battery=battery)
        return Response(s.HealthSnapshotOutputSerializer(snapshot).data)


class BatteryHealthHistoryView(GenericAPIView):
    permission_classes = (IsAuthenticated,)
    pagination_class = PagePagination
    serializer_class = s.HealthHistoryEntrySerializer

    @extend_schema(
        tags=["telemetry"],
        operation_id="telemetry_battery_health_history",
        responses={200: s.HealthHistoryEntrySerializer(many=True), **error_responses(401, 403, 404)},
        summary="The battery's health history: one entry per analysis run, newest first",
    )
    def get(self, request: Request, identifier: str) -> Response:
        battery = passport_selectors.battery_get(identifier=identifier)
        snapshots = health_selectors.battery_snapshot_list(user=request.user, battery=battery)
        page = self.paginate_queryset(snapshots)
        return self.get_paginated_response(s.HealthHistoryEntrySerializer(page, many=True).data)
