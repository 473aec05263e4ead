"""How a filtered passport document is laid out for people: sections per BatteryPass aspect,
each row with its Annex XIII point, unit and a value shaped for templates.

Only reads the attribute table; what a viewer may see was decided before (access filtering), so
a key missing from the document is simply not shown.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from passport.access import filter_document
from passport.attributes import ATTRIBUTES, DOCUMENT_FIELDS, Attribute, Tier
from passport.documents.labels import qr_code
from passport.values import Kind, ListOf, Object

ASPECT_TITLES: dict[str, str] = {
    "GeneralProductInformation": "General product information",
    "Labels": "Labels and conformity",
    "CarbonFootprint": "Carbon footprint",
    "SupplyChainDueDiligence": "Supply chain due diligence",
    "MaterialComposition": "Material composition",
    "Circularity": "Circularity and end of life",
    "PerformanceAndDurability": "Performance and durability",
}

ANNEX_XIII_POINT: dict[Tier, str] = {
    Tier.PUBLIC: "1",
    Tier.RESTRICTED: "2",
    Tier.AUTHORITIES: "3",
    Tier.INDIVIDUAL: "4",
}

TIER_AUDIENCE: dict[Tier, str] = {
    Tier.PUBLIC: "everybody",
    Tier.RESTRICTED: "legitimate interest and authorities",
    Tier.AUTHORITIES: "authorities only",
    Tier.INDIVIDUAL: "legitimate interest in this battery",
}

# Shown in the page header rather than in the attribute sections.
HEADER_KEYS = frozenset({"passport_identifier", "battery_identifier"}) | {
    field.key for field in DOCUMENT_FIELDS
}


@dataclass(frozen=True)
class Row:
    number: int
    key: str
    name: str
    unit: str
    point: str
    audience: str
    value: SafeString


# One attribute's table row. Written here rather than looped over in the template: a page has
# some sixty rows of seven values, and each template variable costs a lookup on every view.
ROW_HTML = (
    '<tr id="attr-{}"><th scope="row">{} <span class="muted">(#{})</span></th>'
    '<td>{}</td><td>{}</td><td title="{}">{}</td></tr>'
)


@dataclass(frozen=True)
class Section:
    aspect: str
    title: str
    rows: tuple[Row, ...]

    @property
    def rows_html(self) -> SafeString:
        return format_html_join(
            "\n",
            ROW_HTML,
            ((row.key, row.name, row.number, row.value, row.unit, row.audience, row.point) for row in self.rows),
        )


def value_html(value: Any, kind: Kind | None = None) -> SafeString:
    """A value as HTML: objects as definition lists (fields in the order the attribute table
    declares them; PostgreSQL's jsonb does not keep the order given), lists as lists, URLs as
    links, everything escaped. Plain Python rather than a recursive template include, which
    costs a template lookup per nested value on every page view."""
    if isinstance(value, dict):
        if not value:
            return mark_safe('<span class="muted">none</span>')
        declared = kind.fields if isinstance(kind, Object) else {}
        keys = [key for key in declared if key in value] + [key for key in value if key not in declared]
        pairs = ((humanise(key), value_html(value[key], getattr(declared.get(key), "kind", None))) for key in keys)
        return format_html('<dl class="facts">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", pairs))
    if isinstance(value, list):
        if not value:
            return mark_safe('<span class="muted">none</span>')
        item_kind = kind.item if isinstance(kind, ListOf) else None
        items = ((value_html(item, item_kind),) for item in value)
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", items))
    if isinstance(value, bool):
        return mark_safe("yes" if value else "no")
    if value is None:
        return mark_safe("—")
    text = f"{value:g}" if isinstance(value, float) else str(value)
    if text.startswith(("https://", "http://")):
        return format_html('<a href="{}" rel="noopener">{}</a>', text, text)
    return escape(text)


def humanise(key: str) -> str:
    text = key.replace("_pct", " (%)").replace("_", " ")
    return text[:1].upper() + text[1:]


def attribute_row(attribute: Attribute, value: Any) -> Row:
    return Row(
        number=attribute.number,
        key=attribute.key,
        name=attribute.name,
        unit=attribute.unit or "",
        point=ANNEX_XIII_POINT[attribute.tier],
        audience=TIER_AUDIENCE[attribute.tier],
        value=value_html(value, attribute.kind),
    )


def document_sections(document: dict[str, Any]) -> list[Section]:
    """The attributes present in `document`, grouped by aspect in the table's order."""
    rows_by_aspect: dict[str, list[Row]] = {aspect: [] for aspect in ASPECT_TITLES}
    for attribute in ATTRIBUTES:
        if attribute.key in HEADER_KEYS or attribute.key not in document:
            continue
        rows_by_aspect.setdefault(attribute.aspect, []).append(
            attribute_row(attribute, document[attribute.key])
        )
    return [
        Section(aspect=aspect, title=ASPECT_TITLES.get(aspect, aspect), rows=tuple(rows))
        for aspect, rows in rows_by_aspect.items()
        if rows
    ]


def hidden_points(tiers: set[Tier] | frozenset[Tier]) -> list[str]:
    """The Annex XIII points this viewer does not see, to say so on the page."""
    return [
        f"point {ANNEX_XIII_POINT[tier]} ({TIER_AUDIENCE[tier]})"
        for tier in (Tier.RESTRICTED, Tier.AUTHORITIES, Tier.INDIVIDUAL)
        if tier not in tiers
    ]


# --- the passport page --------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionLine:
    seq: int
    created_at: Any
    reason: str | None
    changed_keys: tuple[str, ...]
    hash: str
    prev_hash: str

    @property
    def changed_names(self) -> tuple[str, ...]:
        return tuple(NAMES.get(key, humanise(key)) for key in self.changed_keys)


def version_history(versions: Iterable[Any], tiers: frozenset[Tier]) -> list[VersionLine]:
    """The history a reader of `tiers` may see: the versions that changed something it may
    read. A version that changed only hidden data is left out entirely, so its time does not
    say when hidden data (say, point-4 use data) changed; what remains visible is that numbers
    are missing between two listed versions."""
    everything = frozenset(tiers) >= frozenset(Tier)
    lines = [version_line(version, tiers) for version in versions]
    return [line for line in lines if everything or line.changed_keys]


def version_line(version: Any, tiers: frozenset[Tier]) -> VersionLine:
    """A history entry that names only the attributes the viewer may read, and gives the
    free-text reason only to those who read everything (it may mention point 2-4 facts)."""
    return VersionLine(
        seq=version.seq,
        created_at=version.created_at,
        reason=version.reason if frozenset(tiers) >= frozenset(Tier) else None,
        changed_keys=tuple(filter_document(version.changes or {}, tiers)),
        hash=version.hash,
        prev_hash=version.prev_hash,
    )


NAMES: dict[str, str] = {
    **{field.key: field.name for field in DOCUMENT_FIELDS},
    **{attribute.key: attribute.name for attribute in ATTRIBUTES},
}


@functools.lru_cache(maxsize=4096)
def qr_svg(url: str) -> SafeString:
    """An inline SVG QR code (ISO/IEC 18004, error correction M) of `url`. Safe to embed: segno
    writes only path data and the fixed title below, never the URL text itself. Cached: the
    encoding costs milliseconds and a battery's address never changes."""
    svg = qr_code(url).svg_inline(
        scale=4, title="QR code of this battery's passport address", omitsize=True
    )
    return mark_safe(svg)  # noqa: S308 - generated markup, see docstring


PAGE_HISTORY_LENGTH = 15


def passport_page_context(
    *,
    passport: Any,
    document: dict[str, Any],
    tiers: frozenset[Tier],
    view: str,
    versions: list[Any],
    at: Any,
    qr_target: str,
) -> dict[str, Any]:
    """Everything the passport page template shows, from an already filtered document."""
    lines = version_history(versions, tiers)
    return {
        "passport": passport,
        "document": document,
        "view": view,
        "at": at,
        "sections": document_sections({k: v for k, v in document.items() if v is not None}),
        "hidden_points": hidden_points(tiers),
        "status": document.get("status"),
        "state": document.get("state"),
        "predecessors": document.get("predecessors") or [],
        "successors": document.get("successors") or [],
        "history": list(reversed(lines))[:PAGE_HISTORY_LENGTH],
        "history_total": len(lines),
        "qr_svg": qr_svg(qr_target),
        "qr_target": qr_target,
    }
