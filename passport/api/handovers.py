"""Hand-over offers between economic operators: offer, list, read, accept, decline, withdraw.
The rules are in passport.services.handovers; these views only check the envelope."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from passport import selectors
from passport.api import serializers as s
from passport.api.permissions import ActsForOrganisation
from passport.api.views import error_responses
from passport.models import BatteryModel, Handover, Organisation
from passport.services import handover_accept, handover_decline, handover_offer, handover_withdraw
from passport.services.permissions import organisation_of
from passport.vocabulary import BatteryStatus, HandoverKind, HandoverState


class AuthorisationSerializer(serializers.Serializer):
    document = serializers.CharField(max_length=300, help_text="What it is, e.g. 'mandate as authorised representative'.")
    reference = serializers.CharField(max_length=100)
    signed_on = serializers.DateField()
    url = serializers.URLField(required=False, max_length=2000)


class HandoverOfferInputSerializer(serializers.Serializer):
    battery = s.BatteryReferenceField(help_text="Identifier of the battery handed over.")
    operator = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(), help_text="The organisation asked to take over."
    )
    reason = serializers.CharField(max_length=2000)
    status = serializers.ChoiceField(
        choices=BatteryStatus.choices, required=False,
        help_text="repurposed, remanufactured, re-used (from waste: preparation for re-use) or waste.",
    )
    kind = serializers.ChoiceField(
        choices=[HandoverKind.IMPORTER, HandoverKind.AUTHORISED_REPRESENTATIVE, HandoverKind.TAKEOVER],
        required=False, help_text="Without `status`: the kind of change of operator.",
    )
    authorisation = AuthorisationSerializer(required=False, help_text="Required without `status`.")
    predecessors = serializers.ListField(child=s.BatteryReferenceField(), required=False, default=list, max_length=1000)
    new_identifier = serializers.CharField(required=False, allow_blank=False, max_length=100)
    model = serializers.PrimaryKeyRelatedField(queryset=BatteryModel.objects.all(), required=False)

    def to_internal_value(self, data: Any) -> dict:
        values = super().to_internal_value(data)
        if "authorisation" in values:
            values["authorisation"] = {
                key: value.isoformat() if key == "signed_on" else value
                for key, value in values["authorisation"].items()
            }
        return values


class HandoverOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    battery_identifier = serializers.CharField(source="battery.identifier")
    kind = serializers.ChoiceField(choices=HandoverKind.choices)
    status = serializers.CharField(help_text="The status on acceptance; empty for a change of operator.")
    from_operator = s.OrganisationRefSerializer()
    to_operator = s.OrganisationRefSerializer()
    state = serializers.ChoiceField(choices=HandoverState.choices)
    reason = serializers.CharField()
    new_identifier = serializers.CharField()
    model = serializers.IntegerField(source="model_id", allow_null=True)
    authorisation = serializers.DictField()
    offered_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    passport = s.PassportRefSerializer(allow_null=True, help_text="The battery's passport after acceptance.")
    passport_battery_identifier = serializers.CharField(
        source="passport.battery.identifier", allow_null=True,
        help_text="The battery carrying that passport: a new one when built under a new identifier.",
    )


class HandoverFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=HandoverState.choices, required=False)


class HandoverListCreateView(GenericAPIView):
    permission_classes = (ActsForOrganisation,)

    @extend_schema(
        operation_id="handovers_list",
        tags=["handovers"],
        parameters=[HandoverFilterSerializer],
        responses={200: HandoverOutputSerializer(many=True), **error_responses(400, 401, 403)},
        summary="Hand-overs your organisation offered or was offered",
    )
    def get(self, request: Request) -> Response:
        query = HandoverFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        handovers = selectors.handover_list(
            organisation=organisation_of(request.user), state=query.validated_data.get("state")
        )
        page = self.paginate_queryset(handovers)
        return self.get_paginated_response(HandoverOutputSerializer(page, many=True).data)

    @extend_schema(
        tags=["handovers"],
        request=HandoverOfferInputSerializer,
        responses={201: HandoverOutputSerializer, **error_responses(400, 401, 403, 409)},
        summary="Offer a battery to another operator",
        description="Repurposing, remanufacturing, preparation for re-use, waste to a collector, "
        "or (without `status`) a change of operator by an importer, authorised representative or "
        "takeover, with its written `authorisation`. Nothing changes until the receiving "
        "organisation accepts.",
    )
    def post(self, request: Request) -> Response:
        given = HandoverOfferInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        handover = handover_offer(user=request.user, **given.validated_data)
        return Response(HandoverOutputSerializer(handover).data, status=status.HTTP_201_CREATED)


def _handover_of(request: Request, handover_id: int) -> Handover:
    return selectors.handover_get(handover_id=handover_id, organisation=organisation_of(request.user))


class HandoverDetailView(APIView):
    permission_classes = (ActsForOrganisation,)

    @extend_schema(
        tags=["handovers"],
        responses={200: HandoverOutputSerializer, **error_responses(401, 403, 404)},
        summary="Read a hand-over (its two organisations only)",
    )
    def get(self, request: Request, handover_id: int) -> Response:
        return Response(HandoverOutputSerializer(_handover_of(request, handover_id)).data)


class HandoverDecisionView(APIView):
    """POST …/accept, …/decline, …/withdraw."""

    permission_classes = (ActsForOrganisation,)
    decision = ""

    @extend_schema(
        tags=["handovers"],
        request=None,
        responses={200: HandoverOutputSerializer, **error_responses(401, 403, 404, 409)},
        summary="Accept (receiver), decline (receiver) or withdraw (giver) an open hand-over",
        description="Accepting applies the change with every rule checked again; a decided "
        "offer, or a battery no longer the giver's, is a 409.",
    )
    def post(self, request: Request, handover_id: int) -> Response:
        handover = _handover_of(request, handover_id)
        if self.decision == "accept":
            handover_accept(user=request.user, handover=handover)
        elif self.decision == "decline":
            handover_decline(user=request.user, handover=handover)
        else:
            handover_withdraw(user=request.user, handover=handover)
        handover.refresh_from_db()
        return Response(HandoverOutputSerializer(handover).data)
