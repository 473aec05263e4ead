"""The manufacturer console: a model from the browser, batteries from a CSV file through the bulk
service (every bad row named with its line, nothing stored), status changes and a new claim code;
and what nobody else may do there."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from passport.models import Battery, BatteryModel, Handover
from passport.services import battery_claim
from passport.services.handovers import handover_accept
from tests.conftest import MODEL_GTIN

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def csv_file(*rows: str, name: str = "batteries.csv") -> SimpleUploadedFile:
    body = "gtin,serial,batch,manufacturing_date,state_of_charge_pct\n" + "\n".join(rows) + "\n"
    return SimpleUploadedFile(name, body.encode(), content_type="text/csv")


GOOD = [f"{MODEL_GTIN},CSV{n:04d},L1,2026-02-0{n}," for n in (1, 2, 3)]


# --- a model -----------------------------------------------------------------------------------


def test_a_manufacturer_registers_a_model_from_the_browser(client, users, organisations, stationary_model_data):
    client.force_login(users.manufacturer)
    form = client.get("/manufacturer/models/new")
    assert form.status_code == 200 and "Model attributes (JSON)" in text(form)
    response = client.post("/manufacturer/models/new", {
        "name": "HomeRack 10", "category": "stationary", "chemistry": "LFP",
        "data": json.dumps(stationary_model_data),
    }, follow=True)
    model = BatteryModel.objects.get(name="HomeRack 10")
    assert model.manufacturer == organisations.manufacturer
    assert response.redirect_chain[-1][0] == f"/manufacturer/models/{model.pk}"
    assert "Model HomeRack 10 registered" in text(response)


def test_a_bad_model_names_every_attribute_and_stores_nothing(client, users, stationary_model_data):
    client.force_login(users.manufacturer)
    data = {**stationary_model_data, "rated_capacity_ah": -5}
    del data["nominal_voltage_v"]
    response = client.post("/manufacturer/models/new", {
        "name": "Broken", "category": "stationary", "chemistry": "LFP", "data": json.dumps(data),
    })
    assert response.status_code == 400
    html = text(response)
    assert "<code>rated_capacity_ah</code>" in html and "<code>nominal_voltage_v</code>" in html
    assert not BatteryModel.objects.filter(name="Broken").exists()


def test_model_data_that_is_not_json_is_a_form_error(client, users):
    client.force_login(users.manufacturer)
    response = client.post("/manufacturer/models/new", {
        "name": "X", "category": "stationary", "chemistry": "LFP", "data": "{not json",
    })
    assert response.status_code == 400 and "This is not JSON" in text(response)


def test_a_recycler_cannot_register_a_model(client, users, stationary_model_data):
    client.force_login(users.recycler)
    response = client.post("/manufacturer/models/new", {
        "name": "Sneaky", "category": "stationary", "chemistry": "LFP", "data": json.dumps(stationary_model_data),
    })
    assert response.status_code == 400 and "does not place battery models on the market" in text(response)
    assert not BatteryModel.objects.filter(name="Sneaky").exists()


def test_another_manufacturer_cannot_open_a_models_console(client, users, stationary_model):
    client.force_login(users.other_manufacturer)
    assert client.get(f"/manufacturer/models/{stationary_model.pk}").status_code == 403
    client.force_login(users.manufacturer)
    assert client.get(f"/manufacturer/models/{stationary_model.pk}").status_code == 200
    assert client.get("/manufacturer/models/999999").status_code == 404


# --- batteries from a CSV file -----------------------------------------------------------------


def test_a_csv_with_bad_rows_stores_nothing_and_names_each_row_by_its_line(client, users, stationary_model):
    client.force_login(users.manufacturer)
    rows = [GOOD[0], f"{MODEL_GTIN},CSV0002,L1,2026-13-01,", GOOD[2], f"{MODEL_GTIN},CSV0001,L1,2026-02-04,",
            "", f"{MODEL_GTIN},CSV0009,L1,2026-02-04,140"]
    response = client.post("/manufacturer/upload", {"model": stationary_model.pk, "file": csv_file(*rows)})
    assert response.status_code == 400
    html = text(response)
    assert "Nothing was registered" in html
    # Line 3 has an impossible date; line 5 repeats line 2's battery; line 6 is blank; line 7
    # has a charge above 100 %.
    assert '<td class="num">3</td><td><code>manufacturing_date</code></td>' in html
    assert '<td class="num">5</td><td><code>identifier</code></td><td>' in html
    assert "appears twice in this request (first at line 2)" in html
    assert '<td class="num">7</td><td><code>state_of_charge_pct</code></td>' in html
    assert Battery.objects.count() == 0


def test_the_fixed_file_registers_every_battery_and_shows_its_claim_code_once(client, users, stationary_model):
    client.force_login(users.manufacturer)
    response = client.post("/manufacturer/upload", {"model": stationary_model.pk, "file": csv_file(*GOOD, "")})
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    html = text(response)
    assert "3 batteries of HomeRack 5.12 (48 V 100 Ah) registered" in html
    batteries = list(Battery.objects.order_by("serial"))
    assert [battery.serial for battery in batteries] == ["CSV0001", "CSV0002", "CSV0003"]
    first = batteries[0]
    code = html.split(f'{first.identifier}</a></th>')[1].split('<code class="claim-code">')[1].split("<")[0]
    assert battery_claim(user=users.owner, identifier=first.identifier, claim_code=code).owner == users.owner


def test_a_file_that_is_not_csv_text_is_refused_by_name(client, users, stationary_model):
    client.force_login(users.manufacturer)
    blob = SimpleUploadedFile("x.csv", b"\xff\xfe\x00binary", content_type="text/csv")
    response = client.post("/manufacturer/upload", {"model": stationary_model.pk, "file": blob})
    assert response.status_code == 400 and "Is not UTF-8 text" in text(response)


def test_another_manufacturer_cannot_register_batteries_of_our_model(client, users, stationary_model):
    client.force_login(users.other_manufacturer)
    response = client.post("/manufacturer/upload", {"model": stationary_model.pk, "file": csv_file(*GOOD)})
    assert response.status_code == 400  # not one of their models: the form does not offer it
    assert Battery.objects.count() == 0


# --- one battery -------------------------------------------------------------------------------


def console(battery) -> str:
    return f"/manufacturer/batteries/{battery.identifier}"


def test_the_operator_offers_a_battery_to_a_recycler_from_its_page(client, users, organisations, battery):
    client.force_login(users.manufacturer)
    assert client.get(console(battery)).status_code == 200
    response = client.post(console(battery), {"action": "status", "status": "waste", "reason": "collected",
                                              "operator": organisations.recycler.pk}, follow=True)
    assert f"offered to {organisations.recycler.name}" in text(response)
    battery.refresh_from_db()
    # Nothing of the recycler's changes before it accepts.
    assert battery.status == "original" and battery.responsible_operator == organisations.manufacturer
    handover = Handover.objects.get(battery=battery)
    handover_accept(user=users.recycler, handover=handover)
    battery.refresh_from_db()
    assert battery.status == "waste" and battery.responsible_operator == organisations.recycler
    # Handed over: the console is the recycler's now.
    assert client.get(console(battery)).status_code == 403


def test_the_operator_changes_a_status_it_keeps_responsibility_for(client, users, battery):
    client.force_login(users.manufacturer)
    response = client.post(console(battery), {"action": "status", "status": "re-used", "reason": "second owner"},
                           follow=True)
    battery.refresh_from_db()
    assert battery.status == "re-used" and "is now re-used" in text(response)


def test_a_refused_transition_is_409_with_its_reason(client, users, battery):
    client.force_login(users.manufacturer)
    response = client.post(console(battery), {"action": "status", "status": "recycled", "reason": "x"})
    assert response.status_code == 409
    assert "The status did not change" in text(response)
    battery.refresh_from_db()
    assert battery.status == "original"


def test_a_lost_claim_code_is_replaced_by_the_operator(client, users, registered):
    client.force_login(users.manufacturer)
    response = client.post(console(registered.battery), {"action": "claim-code"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    code = text(response).split('id="new-claim-code">')[1].split("<")[0]
    from passport.errors import NotPermitted
    with pytest.raises(NotPermitted):
        battery_claim(user=users.owner, identifier=registered.battery.identifier, claim_code=registered.claim_code)
    assert battery_claim(user=users.owner, identifier=registered.battery.identifier, claim_code=code).owner == users.owner


@pytest.mark.parametrize("who", ["other_manufacturer", "recycler", "authority", "owner", "stranger"])
def test_nobody_else_manages_the_battery(client, users, registered, who):
    client.force_login(getattr(users, who))
    battery = registered.battery
    assert client.get(console(battery)).status_code == 403
    assert client.post(console(battery), {"action": "claim-code"}).status_code == 403
    assert client.post(console(battery), {"action": "status", "status": "re-used", "reason": "x"}).status_code == 403
    battery.refresh_from_db()
    assert battery.status == "original" and battery.claim_code_hash == Battery.objects.get(pk=battery.pk).claim_code_hash
    assert battery_claim(user=users.owner, identifier=battery.identifier, claim_code=registered.claim_code)


@pytest.mark.parametrize("url", ["/manufacturer/models/new", "/manufacturer/upload", "/manufacturer/batteries/X"])
def test_the_console_asks_for_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_unknown_battery_is_404(client, users):
    client.force_login(users.manufacturer)
    assert client.get("/manufacturer/batteries/NO.SUCH.BATTERY").status_code == 404


# --- compliance --------------------------------------------------------------------------------


def compliance_module():
    import importlib

    try:
        return importlib.import_module("passport.services.compliance")
    except ModuleNotFoundError:
        return None


def test_the_console_shows_each_compliance_finding_with_its_rule(client, users, battery, stationary_model):
    compliance = compliance_module()
    client.force_login(users.manufacturer)
    for url, report in (
        (f"/manufacturer/models/{stationary_model.pk}",
         compliance and compliance.compliance_of_model(model=stationary_model)),
        (console(battery), compliance and compliance.compliance_of_battery(battery=battery)),
    ):
        html = text(client.get(url))
        section = html.split('id="compliance-heading"')[1].split("</section>")[0]
        if compliance is None:
            assert "The compliance rules are not part of this build" in section
            continue
        for finding in report.findings:
            assert f"<code>{finding.attribute}</code>" in section and finding.rule in section


def test_an_unknown_action_is_a_400_naming_it(client, users, battery):
    client.force_login(users.manufacturer)
    response = client.post(console(battery), {"action": "explode"})
    assert response.status_code == 400 and "action" in text(response)
