"""The documents over HTTP: signed JSON exports and PDF reports in the reader's view, our JSON
Schemas, QR codes that decode to the Digital Link, label sheets for the battery's operator only."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time
from unittest import mock

import pytest
import zxingcpp
from django.core.cache import cache
from PIL import Image

from passport.documents import pdf as pdf_module
from passport.documents.signing import verify_detached
from passport.errors import NotPermitted
from passport.identifiers import qr_url
from passport.services import battery_claim, battery_update, passport_read

SIGNATURE = "X-JWS-Signature"



# A PDF request enqueues its rendering with transaction.on_commit: these tests commit, as a
# request outside a test transaction does.
pdf_db = pytest.mark.django_db(transaction=True)


def pdf_tool(tool: str, body: bytes) -> str:
    """The output of a poppler tool on a PDF (pdftotext, pdfinfo, pdffonts)."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    result = subprocess.run([tool, "-", "-"] if tool == "pdftotext" else [tool, "-"], input=body,
                            capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def pdf_text(body: bytes) -> str:
    return pdf_tool("pdftotext", body)


def export_url(passport, **query) -> str:
    params = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/api/v1/passports/{passport.passport_id}/export" + (f"?{params}" if params else "")


def test_json_export_is_the_readers_view_signed_over_its_bytes(owned_battery, passport, anonymous, api_as, users):
    views = {}
    for name, client in (("anonymous", anonymous), ("owner", api_as(users.owner)),
                         ("authority", api_as(users.authority)), ("maker", api_as(users.manufacturer)),
                         ("other maker", api_as(users.other_manufacturer))):
        response = client.get(export_url(passport))
        assert response.status_code == 200, name
        assert response["Content-Type"] == "application/json"
        assert verify_detached(response.content, response[SIGNATURE])
        views[name] = response.json()["view"]
    assert views == {"anonymous": "public", "owner": "legitimate", "authority": "authority", "maker": "full",
                     "other maker": "public"}
    tampered = response.content.replace(b'"view":"public"', b'"view":"full"')
    with pytest.raises(Exception, match="does not match"):
        verify_detached(tampered, response[SIGNATURE])


def test_asking_for_more_than_ones_view_is_refused(passport, anonymous, api_as, users):
    assert anonymous.get(export_url(passport, view="full")).status_code == 403
    assert api_as(users.other_manufacturer).get(export_url(passport, view="authority")).status_code == 403
    assert api_as(users.manufacturer).get(export_url(passport, view="public")).json()["view"] == "public"
    assert anonymous.get(export_url(passport, format="xml")).status_code == 400
    assert anonymous.get("/api/v1/passports/urn:uuid:nobody/export").status_code == 404


def test_an_empty_view_or_format_means_not_given_and_the_schema_says_so(passport, anonymous, api_as, users):
    # Found by schemathesis: `?view=&format=` answered 200 while the schema promised an enum
    # without "" (so a 4xx). Empty means "not given", as for the passport's own `?view=`.
    maker = api_as(users.manufacturer)
    answer = maker.get(export_url(passport, view="", format=""))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert answer.json()["view"] == "full"
    assert maker.get(f"/api/v1/passports/{passport.passport_id}/export/signature?view=").status_code == 404
    refused = anonymous.get(export_url(passport, view=" ", format="pdf "))
    assert refused.status_code == 400
    assert {item["field"] for item in refused.json()["errors"]} == {"view", "format"}
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path, operation, name, allowed in (
        ("/api/v1/passports/{passport_id}/export", "get", "view", {"", "public", "legitimate", "authority", "full"}),
        ("/api/v1/passports/{passport_id}/export", "get", "format", {"", "json", "pdf"}),
        ("/api/v1/passports/{passport_id}/export/signature", "get", "view",
         {"", "public", "legitimate", "authority", "full"}),
    ):
        parameter = next(p for p in schema["paths"][path][operation]["parameters"] if p["name"] == name)
        assert set(parameter["schema"]["enum"]) == allowed, (path, name)
        assert parameter["schema"].get("minLength", 0) == 0, (path, name)
    # An error quoting a NUL of the input shows it escaped (schemathesis: ST108, the schema's
    # text holds no NUL).
    nul = anonymous.get(export_url(passport, view="a%00b"))
    assert nul.status_code == 400 and "\\u0000" not in nul.content.decode()
    assert nul.json()["errors"] == [{"field": "view", "reason": '"a\\x00b" is not a valid choice.'}]
    # A value outside the list is a 400 there too, and documented (schemathesis: ST103).
    assert maker.get(f"/api/v1/passports/{passport.passport_id}/export/signature?view=null").status_code == 400
    assert "400" in schema["paths"]["/api/v1/passports/{passport_id}/export/signature"]["get"]["responses"]


def test_schemas_are_served_at_stable_urls(client):
    response = client.get("/schemas/passport/v1/public.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    assert response.json()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert client.get("/schemas/passport/v1/secret.json").status_code == 404


@pdf_db
@pytest.mark.usefixtures("tasks_in_process")
def test_pdf_report_is_the_readers_view_with_selectable_identifiers(complete_battery, passport, anonymous, api_as,
                                                                    users):
    # A second health figure: a chart needs two points (passport.charts.health_chart_svgs).
    battery_update(user=users.manufacturer, battery=complete_battery, reason="telemetry",
                   data={"remaining_capacity_ah": 97.0, "full_cycles_count": 130})
    response = api_as(users.manufacturer).get(export_url(passport, format="pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = response.content
    kid = verify_detached(body, response[SIGNATURE])
    text = pdf_text(body)
    flat = "".join(text.split())
    assert passport.passport_id in flat and complete_battery.identifier in flat
    assert passport.versions.order_by("-seq").first().hash in flat
    assert kid in flat
    assert "State of health" in text and "Capacity retention" in text and "Accident 2026-06-01" in text
    assert "Minimum 2031" in text
    assert pdf_tool("pdfinfo", body).count("A4") == 1
    fonts = pdf_tool("pdffonts", body).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # every font embedded
    public = anonymous.get(export_url(passport, format="pdf"))
    public_text = pdf_text(public.content)
    assert complete_battery.identifier in "".join(public_text.split())
    for hidden in ("State of health", "Remaining capacity", "Accident", "Safety measures", "Put into service"):
        assert hidden not in public_text, hidden
    assert "Extinguishing agent" in public_text
    # The detached signature is also served beside the PDF.
    signature = anonymous.get(f"/api/v1/passports/{passport.passport_id}/export/signature")
    assert signature.status_code == 200 and signature.content.decode() == public[SIGNATURE]


@pdf_db
def test_a_report_whose_rendering_was_stopped_is_a_503_at_once_on_every_address(settings, passport, anonymous):
    # The stop itself (a worker's soft time limit) is test_documents_worker's; here: what every
    # address of the report answers while it is remembered, without waiting for a rendering.
    settings.PASSPORT_PDF_WAIT_SECONDS = 30
    reading = passport_read(user=None, passport=passport, endpoint="test")
    job = pdf_module.pdf_job(passport=passport, document=reading.document, tiers=reading.tiers)
    cache.set(job.stopped_key, 60.0, pdf_module.STOPPED_MEMORY_SECONDS)
    for url in (export_url(passport, format="pdf"), f"/passports/{passport.passport_id}?format=pdf"):
        started = time.monotonic()
        answer = anonymous.get(url)
        assert answer.status_code == 503, (url, answer.content[:200])
        assert time.monotonic() - started < 5
        assert answer["Retry-After"] == str(pdf_module.STOPPED_MEMORY_SECONDS)
        assert "longer than its limit of 60 s" in answer.json()["errors"][0]["reason"]


def test_pdf_signature_before_any_rendering_is_a_404(passport, anonymous):
    assert anonymous.get(f"/api/v1/passports/{passport.passport_id}/export/signature").status_code == 404


@pdf_db
@pytest.mark.usefixtures("tasks_in_process")
def test_pdf_is_rendered_once_per_version_and_view(complete_battery, passport, api_as, users):
    client = api_as(users.authority)
    with mock.patch.object(pdf_module, "report_render", wraps=pdf_module.report_render) as render:
        first = api_as(users.manufacturer).get(export_url(passport, format="pdf"))
        again = api_as(users.manufacturer).get(export_url(passport, format="pdf"))
        assert render.call_count == 1 and first.content == again.content
        client.get(export_url(passport, format="pdf"))  # another view: another report
        assert render.call_count == 2
        battery_update(user=users.manufacturer, battery=complete_battery, reason="telemetry",
                       data={"state_of_charge_pct": 41.0})
        api_as(users.manufacturer).get(export_url(passport, format="pdf"))
        assert render.call_count == 3


@pdf_db
def test_pdf_request_while_rendering_answers_202_with_retry_after(passport, anonymous, settings):
    settings.PASSPORT_PDF_WAIT_SECONDS = 0.2
    from passport.documents import tasks

    with mock.patch.object(tasks.passport_pdf_render_task, "apply_async") as enqueue:
        response = anonymous.get(export_url(passport, format="pdf"))
        assert response.status_code == 202
        assert response["Retry-After"] == "2"
        assert response.json() == {"status": "rendering", "retry_after": 2}
        anonymous.get(export_url(passport, format="pdf"))
        assert enqueue.call_count == 1  # one rendering for both requests
        args = enqueue.call_args.args[0]
        # The time limits travel with the message (settings of the enqueuing process).
        assert enqueue.call_args.kwargs == {"soft_time_limit": settings.PASSPORT_PDF_TIME_LIMIT_SECONDS,
                                            "time_limit": settings.PASSPORT_PDF_TIME_LIMIT_SECONDS
                                            + settings.PASSPORT_PDF_KILL_GRACE_SECONDS}
    tasks.passport_pdf_render_task(*args)  # the worker's part
    response = anonymous.get(export_url(passport, format="pdf"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


def decode_qr(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    return results[0].text


def test_qr_codes_decode_to_the_digital_link(battery, passport, anonymous, tmp_path):
    expected = qr_url(passport)
    png = anonymous.get(f"/api/v1/batteries/{battery.identifier}/qr.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert decode_qr(Image.open(io.BytesIO(png.content))) == expected
    svg = anonymous.get(f"/api/v1/batteries/{battery.identifier}/qr.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: cannot rasterise the SVG code")
    from weasyprint import HTML

    # Rasterise the SVG through the same engine as the reports: SVG -> PDF -> PNG (poppler).
    (tmp_path / "qr.svg").write_bytes(svg.content)
    HTML(string='<img src="qr.svg" style="width:60mm">', base_url=str(tmp_path)).write_pdf(tmp_path / "qr.pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(tmp_path / "qr.pdf"), str(tmp_path / "qr")],
                   check=True)
    assert decode_qr(Image.open(tmp_path / "qr.png")) == expected
    assert anonymous.get("/api/v1/batteries/UN.NOBODY.1/qr.png").status_code == 404


def test_label_sheet_for_the_operators_batteries_only(register_battery, api_as, anonymous, users, tmp_path):
    mine = [register_battery().battery for _ in range(3)]
    body = {"identifiers": [battery.identifier for battery in mine]}
    assert anonymous.post("/api/v1/labels/", body, format="json").status_code == 401
    assert api_as(users.owner).post("/api/v1/labels/", body, format="json").status_code == 403
    response = api_as(users.other_manufacturer).post("/api/v1/labels/", body, format="json")
    assert response.status_code == 403
    unknown = api_as(users.manufacturer).post("/api/v1/labels/", {"identifiers": [mine[0].identifier, "UN.NOBODY.1"]},
                                              format="json")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["index"] == 1
    response = api_as(users.manufacturer).post("/api/v1/labels/", body, format="json")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    flat = "".join(text.split())
    codes = re.findall(r"Claimcode:((?:[0-9A-Z]{4}-?){7})", flat)
    assert len(codes) == 3
    for battery in mine:
        assert battery.identifier in flat
    # One of the printed codes is now the first battery's claim code.
    claimed = 0
    for code in codes:
        try:
            battery_claim(user=users.owner, identifier=mine[0].identifier, claim_code=code)
            claimed += 1
        except NotPermitted:
            pass
    assert claimed == 1
    mine[0].refresh_from_db()
    assert mine[0].owner_id == users.owner.pk
    again = pdf_text(api_as(users.manufacturer).post("/api/v1/labels/", body, format="json").content)
    assert again.count("Claim code:") == 2 and "Already claimed" in again


@pdf_db
@pytest.mark.usefixtures("tasks_in_process")
def test_the_passport_addresses_answer_a_pdf_in_the_readers_view(owned_battery, passport, anonymous, api_as,
                                                                 users, client):
    digital_link = f"/01/{owned_battery.gtin}/21/{owned_battery.serial}"
    addresses = [f"/passports/{passport.passport_id}", digital_link,
                 f"/api/v1/passports/{passport.passport_id}/", f"/api/v1/batteries/{owned_battery.identifier}/"]
    for address in addresses:
        by_format = anonymous.get(f"{address}?format=pdf")
        by_accept = anonymous.get(address, HTTP_ACCEPT="application/pdf")
        for response in (by_format, by_accept):
            assert response.status_code == 200, address
            assert response["Content-Type"] == "application/pdf"
            assert "Accept" in response["Vary"] and verify_detached(response.content, response[SIGNATURE])
        assert by_format.content == by_accept.content  # one rendering, cached
    public_text = " ".join(pdf_text(by_format.content).split())
    assert "Public view" in public_text and "Original" not in public_text  # the status is point 4
    owner = api_as(users.owner).get(f"{digital_link}?format=pdf")  # a program, with its token
    owner_text = " ".join(pdf_text(owner.content).split())
    assert "legitimate interest" in owner_text and "Status Original" in owner_text
    # A browser still gets the page (which links to the downloads), a program the JSON.
    page = client.get(digital_link)
    assert page.templates and b"?format=pdf" in page.content and b"/export" in page.content
    assert anonymous.get(f"/api/v1/passports/{passport.passport_id}/").json()["view"] == "public"
    refused = anonymous.get(f"/passports/{passport.passport_id}?format=pdf&view=full")
    assert refused.status_code == 403 and refused.json()["errors"]
    assert anonymous.get("/passports/urn:uuid:nobody?format=pdf").status_code == 404
    at = anonymous.get(f"/api/v1/dpp/product/{owned_battery.identifier}/at/2026-12-31?format=pdf")
    assert at.status_code == 200 and at.content.startswith(b"%PDF-")
