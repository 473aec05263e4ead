"""Content negotiation: one URL answers HTML to browsers and JSON to programs.

DRF's default negotiation ranks Accept entries by specificity only and ignores their q-values, so
`Accept: application/json, text/html;q=0.1` could get HTML. Here each renderer gets the quality of
the most specific Accept entry that matches it (q=0 excludes), the best quality wins, and the
view's first renderer answers `*/*` or a missing header.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """Accept entries, most preferred first. Entries with q=0 ("anything but this") are kept:
    they exclude what they match."""
    entries = []
    for position, token in enumerate(header.split(",")[:MAX_ACCEPT_ENTRIES]):
        token = token.strip()
        if not token:
            continue
        media_type = _MediaType(token)
        if not media_type.main_type:
            continue
        try:
            quality = min(max(float(media_type.params.get("q", 1)), 0.0), 1.0)
        except ValueError:
            quality = 1.0
        entries.append(AcceptEntry(media_type, quality, position))
    return sorted(entries, key=lambda entry: entry.sort_key)


def media_type_rank(offered_type: str, entries: list[AcceptEntry]) -> tuple[float, int, int] | None:
    """(quality, specificity, -position) of the most specific Accept entry matching the
    offered media type (RFC 9110, 12.5.1), or None when no entry matches."""
    offered = _MediaType(offered_type)
    matching = [entry for entry in entries if offered.match(entry.media_type)]
    if not matching:
        return None
    best = max(matching, key=lambda entry: (entry.media_type.precedence, -entry.position))
    return (best.quality, best.media_type.precedence, -best.position)


def choose_media_type(header: str, offered: Sequence[str]) -> str | None:
    """The offered media type the client prefers; on a tie (e.g. `*/*`) or without an Accept
    header the first offered one; None when the client accepts none of them."""
    entries = parse_accept(header) if header.strip() else []
    if not entries:
        return offered[0]
    ranked = []
    for order, media_type in enumerate(offered):
        rank = media_type_rank(media_type, entries)
        if rank is not None and rank[0] > 0:
            ranked.append((rank, -order, media_type))
    if not ranked:
        return None
    _, _, media_type = max(ranked, key=lambda item: (item[0], item[1]))
    return media_type


def choose_renderer(
    header: str, renderers: list[BaseRenderer]
) -> tuple[BaseRenderer, str] | None:
    """The renderer the client prefers; on a tie (e.g. `*/*`) the view's own order decides."""
    media_type = choose_media_type(header, [renderer.media_type for renderer in renderers])
    if media_type is None:
        return None
    renderer = next(renderer for renderer in renderers if renderer.media_type == media_type)
    return renderer, renderer.media_type


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
