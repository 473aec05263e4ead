"""What OPTIONS answers: the endpoint's name, description and media types, and the `Allow`
header. DRF's default also describes each write's serializer fields, which needs a
`serializer_class` these views do not declare (they build explicit input serializers per method)
and failed with a 500; the OpenAPI schema at /api/schema/ describes the bodies instead."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView


class EndpointMetadata(SimpleMetadata):
    def determine_metadata(self, request: Request, view: APIView) -> dict[str, Any]:
        metadata = super().determine_metadata(request, view)
        metadata["schema"] = "/api/schema/"
        return metadata

    def determine_actions(self, request: Request, view: APIView) -> dict[str, Any]:
        return {}
