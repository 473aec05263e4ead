"""How values are laid out on the pages: structure, links and escaping."""

from __future__ import annotations

from passport.attributes import BY_KEY, Tier
from passport.presentation import attribute_row, document_sections, hidden_points, value_html


def test_objects_lists_and_links_become_html_structures() -> None:
    html = value_html({"title": "Manual", "url": "https://example.org/m.pdf", "pages": [1, 2.5], "ok": True})
    assert html == (
        '<dl class="facts"><dt>Title</dt><dd>Manual</dd>'
        '<dt>Url</dt><dd><a href="https://example.org/m.pdf" rel="noopener">https://example.org/m.pdf</a></dd>'
        "<dt>Pages</dt><dd><ul><li>1</li><li>2.5</li></ul></dd>"
        "<dt>Ok</dt><dd>yes</dd></dl>"
    )


def test_text_is_escaped_and_only_http_urls_are_links() -> None:
    assert value_html("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert value_html("javascript:alert(1)") == "javascript:alert(1)"
    assert value_html({"<b>": 'https://x.example/"><script>'}) == (
        '<dl class="facts"><dt>&lt;b&gt;</dt><dd><a href="https://x.example/&quot;&gt;&lt;script&gt;" '
        'rel="noopener">https://x.example/&quot;&gt;&lt;script&gt;</a></dd></dl>'
    )


def test_empty_values_say_so() -> None:
    assert value_html([]) == '<span class="muted">none</span>'
    assert value_html(None) == "—"


def test_a_row_carries_unit_and_annex_point() -> None:
    row = attribute_row(BY_KEY["state_of_charge_pct"], 64.0)
    assert (row.name, row.unit, row.point, row.value) == ("State of charge (SoC)", "%", "4", "64")


def test_sections_follow_the_aspects_and_skip_header_keys() -> None:
    sections = document_sections({"passport_identifier": "urn:x", "rated_capacity_ah": 100, "chemistry": "LFP"})
    assert [(s.title, [r.key for r in s.rows]) for s in sections] == [
        ("Material composition", ["chemistry"]),
        ("Performance and durability", ["rated_capacity_ah"]),
    ]


def test_a_sections_rows_are_table_rows_with_name_value_unit_and_point() -> None:
    [section] = document_sections({"rated_capacity_ah": 100, "state_of_charge_pct": "<b>64</b>"})
    capacity, charge = BY_KEY["rated_capacity_ah"].number, BY_KEY["state_of_charge_pct"].number
    assert section.rows_html == (
        f'<tr id="attr-rated_capacity_ah"><th scope="row">Rated capacity <span class="muted">(#{capacity})</span>'
        '</th><td>100</td><td>Ah</td><td title="everybody">1</td></tr>\n'
        '<tr id="attr-state_of_charge_pct"><th scope="row">State of charge (SoC) '
        f'<span class="muted">(#{charge})</span></th><td>&lt;b&gt;64&lt;/b&gt;</td><td>%</td>'
        '<td title="legitimate interest in this battery">4</td></tr>'
    )


def test_hidden_points_name_what_the_viewer_misses() -> None:
    assert hidden_points({Tier.PUBLIC, Tier.RESTRICTED, Tier.AUTHORITIES}) == [
        "point 4 (legitimate interest in this battery)"
    ]


def test_object_fields_follow_the_attribute_table_not_the_storage_order() -> None:
    # PostgreSQL's jsonb hands keys back shortest first; the page shows them as declared.
    stored = {"city": "Dresden", "street": "Industriepark 4", "country": "DE", "postal_code": "01109"}
    row = attribute_row(BY_KEY["manufacturing_place"], stored)
    assert row.value == (
        '<dl class="facts"><dt>Street</dt><dd>Industriepark 4</dd><dt>Postal code</dt><dd>01109</dd>'
        "<dt>City</dt><dd>Dresden</dd><dt>Country</dt><dd>DE</dd></dl>"
    )
