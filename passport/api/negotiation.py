"""Content negotiation: one URL answers HTML to browsers and JSON to programs.

DRF's default negotiation ranks Accept entries by specificity only and ignores their q-values, so
`Accept: application/json, text/html;q=0.1` could get HTML. Here the client's preference (q) comes
first, specificity breaks ties, and the view's first renderer answers `*/*` or a missing header.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.utils.mediatypes import _MediaType

FORMAT_QUERY_PARAM = "format"
MAX_ACCEPT_ENTRIES = 64


@dataclass(frozen=True)
class AcceptEntry:
    media_type: _MediaType
    quality: float
    position: int

    @property
    def sort_key(self) -> tuple[float, int, int]:
        return (-self.quality, -self.media_type.precedence, self.position)


def parse_accept(header: str) -> list[AcceptEntry]:
    """Accept entries, most preferred first; entries with q=0 mean "not this" and are dropped."""
    entries = []
    for position, token in enumerate(header.split(",")[:MAX_ACCEPT_ENTRIES]):
        token = token.strip()
        if not token:
            continue
        media_type = _MediaType(token)
        if not media_type.main_type:
            continue
        try:
            quality = float(media_type.params.get("q", 1))
        except ValueError:
            quality = 1.0
        if quality > 0:
            entries.append(AcceptEntry(media_type, quality, position))
    return sorted(entries, key=lambda entry: entry.sort_key)


def choose_renderer(
    header: str, renderers: list[BaseRenderer]
) -> tuple[BaseRenderer, str] | None:
    entries = parse_accept(header) if header.strip() else []
    if not entries:
        return renderers[0], renderers[0].media_type
    for entry in entries:
        for renderer in renderers:
            if _MediaType(renderer.media_type).match(entry.media_type):
                return renderer, renderer.media_type
    return None


class PreferenceNegotiation(DefaultContentNegotiation):
    """`?format=<html|json>` wins; otherwise the Accept header with its q-values."""

    def select_renderer(self, request: Request, renderers, format_suffix=None):
        requested_format = format_suffix or request.query_params.get(FORMAT_QUERY_PARAM)
        if requested_format:
            renderers = [renderer for renderer in renderers if renderer.format == requested_format]
            if not renderers:
                raise Http404(f"No representation in format {requested_format!r}.")
        choice = choose_renderer(request.META.get("HTTP_ACCEPT", ""), list(renderers))
        if choice is None:
            raise NotAcceptable("None of the accepted media types can be produced here.")
        return choice


class ExportNegotiation(PreferenceNegotiation):
    """For endpoints where `?format=` selects an export (csv, json), not a renderer.

    Such views stream their export themselves; their ordinary answers and errors stay JSON.
    """

    def select_renderer(self, request: Request, renderers, format_suffix=None):
        choice = choose_renderer(request.META.get("HTTP_ACCEPT", ""), list(renderers))
        # An export client may well send `Accept: text/csv`: answer with the view's default.
        return choice or (renderers[0], renderers[0].media_type)
