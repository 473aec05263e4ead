"""Telemetry API views: devices (for people) and batches (for collector devices).

Views validate the envelope and call the services; domain errors become HTTP answers in
passport.api.exceptions, like everywhere else in the API.
"""

from __future__ import annotations

import logging
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from passport import selectors as passport_selectors
from passport.api.views import error_responses
from passport.errors import FieldError, ValidationFailed
from telemetry import selectors
from telemetry.api import serializers as s
from telemetry.api.authentication import DeviceKeyAuthentication, IsDevice
from telemetry.api.parsers import BatchCSVParser, BatchJSONParser
from telemetry.models import Device
from telemetry.services.devices import (
    device_bind,
    device_create,
    device_key_rotate,
    device_require_managed,
    device_revoke,
    device_unbind,
)
from telemetry.services.ingest import columns_from_rows, device_batch_ingest

logger = logging.getLogger(__name__)

# --- devices -------------------------------------------------------------------------------------


def _key_answer(device: Device, key: str) -> dict[str, Any]:
    return s.DeviceKeyOutputSerializer(
        {
            "id": device.pk,
            "name": device.name,
            "key": key,
            "batteries": [battery.identifier for battery in device.batteries.all()],
        }
    ).data


class DeviceListCreateView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["telemetry"],
        operation_id="telemetry_devices_list",
        responses={200: s.DeviceOutputSerializer(many=True), **error_responses(401)},
        summary="The collector devices you manage",
    )
    def get(self, request: Request) -> Response:
        devices = selectors.device_list_managed(user=request.user)
        return Response(s.DeviceOutputSerializer(devices, many=True).data)

    @extend_schema(
        tags=["telemetry"],
        request=s.DeviceCreateInputSerializer,
        responses={201: s.DeviceKeyOutputSerializer, **error_responses(400, 401, 403, 404)},
        summary="Create a collector device for your batteries (its key is shown once)",
    )
    def post(self, request: Request) -> Response:
        given = s.DeviceCreateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        batteries = [
            passport_selectors.battery_get(identifier=identifier)
            for identifier in given.validated_data["batteries"]
        ]
        device, key = device_create(
            user=request.user, name=given.validated_data["name"], batteries=batteries
        )
        return Response(_key_answer(device, key), status=status.HTTP_201_CREATED)


class DeviceDetailView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["telemetry"],
        responses={200: s.DeviceOutputSerializer, **error_responses(401, 403, 404)},
        summary="One of your collector devices",
    )
    def get(self, request: Request, device_id: int) -> Response:
        device = selectors.device_get(device_id=device_id)
        device_require_managed(user=request.user, device=device)
        return Response(s.DeviceOutputSerializer(device).data)


class DeviceBatteriesView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["telemetry"],
        request=s.DeviceBindInputSerializer,
        responses={200: s.DeviceOutputSerializer, **error_responses(400, 401, 403, 404)},
        summary="Let the device send samples of one more of your batteries",
    )
    def post(self, request: Request, device_id: int) -> Response:
        device = selectors.device_get(device_id=device_id)
        given = s.DeviceBindInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        battery = passport_selectors.battery_get(identifier=given.validated_data["battery"])
        device_bind(user=request.user, device=device, battery=battery)
        return Response(s.DeviceOutputSerializer(device).data)


class DeviceBatteryView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["telemetry"],
        request=None,
        responses={204: None, **error_responses(401, 403, 404)},
        summary="Stop the device sending samples of this battery",
    )
    def delete(self, request: Request, device_id: int, identifier: str) -> Response:
        device = selectors.device_get(device_id=device_id)
        battery = passport_selectors.battery_get(identifier=identifier)
        device_unbind(user=request.user, device=device, battery=battery)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceRotateView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["telemetry"],
        request=None,
        responses={200: s.DeviceKeyOutputSerializer, **error_responses(401, 403, 404)},
        summary="Give the device a new key (shown once); the old key stops working",
    )
    def post(self, request: Request, device_id: int) -> Response:
        device = selectors.device_get(device_id=device_id)
        key = device_key_rotate(user=request.user, device=device)
        return Response(_key_answer(device, key))


class DeviceRevokeView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["telemetry"],
        request=None,
        responses={200: s.DeviceOutputSerializer, **error_responses(401, 403, 404)},
        summary="Revoke the device for good: its key stops working, its data stays",
    )
    def post(self, request: Request, device_id: int) -> Response:
        device = selectors.device_get(device_id=device_id)
        device = device_revoke(user=request.user, device=device)
        return Response(s.DeviceOutputSerializer(device).data)


# --- batches -------------------------------------------------------------------------------------


class DeviceRateThrottle(SimpleRateThrottle):
    """Per device key, not per address: many collectors may sit behind one router."""

    scope = "device"

    def allow_request(self, request: Request, view: APIView) -> bool:
        """Fails open when the cache (Redis) is down: samples a collector sends then are still
        stored (the health pipeline catches up when Redis is back), and a device is bounded by
        its own key anyway."""
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - any cache backend's connection failure
            logger.warning("throttle cache unreachable; batch from device %s let through",
                           getattr(request.auth, "pk", None))
            return True

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.auth, Device):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


COLUMNS_EXAMPLE = {
    "battery": "(01)04012345000016(21)VT260300001",
    "batch_id": "pi-kitchen-2026-03-10T12:00Z",
    "columns": {
        "timestamp": ["2026-03-10T12:00:00Z", "2026-03-10T12:00:10Z"],
        "current_a": [-12.5, -12.4],
        "voltage_v": [52.1, 52.1],
        "temperature_c": [21.0, 21.0],
        "soc_pct": [81, 81],
    },
}


class BatchCreateView(APIView):
    """A collector's batch of samples (the telemetry contract, docs/api.md)."""

    authentication_classes = (DeviceKeyAuthentication,)
    permission_classes = (IsDevice,)
    throttle_classes = (DeviceRateThrottle,)
    parser_classes = (BatchJSONParser, BatchCSVParser)

    @extend_schema(
        tags=["telemetry"],
        request={
            "application/json": OpenApiRequest(s.BatchInputSerializer),
            "text/csv": OpenApiRequest(OpenApiTypes.STR),
        },
        parameters=[
            OpenApiParameter("battery", str, description="CSV bodies: the battery's identifier."),
            OpenApiParameter("batch_id", str, description="CSV bodies: the batch id."),
        ],
        examples=[OpenApiExample("columns", value=COLUMNS_EXAMPLE, request_only=True)],
        responses={
            201: s.BatchAnswerSerializer,
            200: s.BatchAnswerSerializer,
            **error_responses(400, 401, 403, 404, 413),
        },
        summary="Send a batch of BMS samples (201 stored; 200 the same batch id again)",
    )
    def post(self, request: Request) -> Response:
        body = request.data
        device = request.auth
        assert isinstance(device, Device)  # IsDevice let the request in
        columns: Any
        if request.content_type.split(";")[0].strip().lower() == BatchCSVParser.media_type:
            envelope = {key: request.query_params.get(key) for key in ("battery", "batch_id")}
            columns = body
        else:
            envelope, columns = _json_envelope(body)
        given = s.BatchInputSerializer(data={k: v for k, v in envelope.items() if v is not None})
        given.is_valid(raise_exception=True)
        outcome = device_batch_ingest(
            device=device,
            identifier=given.validated_data["battery"],
            batch_id=given.validated_data["batch_id"],
            columns=columns,
        )
        return Response(
            outcome.answer, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        )


def _json_envelope(body: Any) -> tuple[dict[str, Any], Any]:
    """battery and batch_id for the serializer; the samples go to the service unwalked (a
    serializer field would check 100,000 rows one by one in Python)."""
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("body", "a JSON object: battery, batch_id, columns or rows")])
    if ("columns" in body) == ("rows" in body):
        raise ValidationFailed([FieldError("columns", "send either columns or rows (one of them)")])
    envelope = {"battery": body.get("battery"), "batch_id": body.get("batch_id")}
    if "rows" in body:
        return envelope, columns_from_rows(body["rows"])
    return envelope, body["columns"]
