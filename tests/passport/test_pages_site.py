"""The site's pages besides the passport: home and lookup, login/logout, my batteries (claim,
grants), the repair/recycling lookup, the manufacturer dashboard and the regulator search."""

from __future__ import annotations

import pytest

from passport.models import AccessGrant, AccessLog, Battery

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


# --- home, lookup, login -----------------------------------------------------------------------


def test_home_explains_the_service_and_offers_the_lookup(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = text(response)
    assert "Regulation (EU) 2023/1542" in html
    assert '<form method="get" action="/" role="search">' in html
    assert '<label for="id_q">' in html
    assert 'href="/static/passport/site.css"' in html
    assert "http://" not in html.split("<body>")[0]  # no external stylesheet or script


@pytest.mark.parametrize("query_of", [
    lambda battery, passport: battery.identifier,
    lambda battery, passport: passport.passport_id,
    lambda battery, passport: f"https://passport.example/01/{battery.gtin}/21/{battery.serial}",
])
def test_the_lookup_goes_to_the_passport_page(client, battery, passport, query_of) -> None:
    response = client.get("/", {"q": query_of(battery, passport)})
    assert response.status_code == 302
    assert response["Location"] == f"/passports/{passport.passport_id}"


def test_an_unknown_identifier_says_so(client, battery) -> None:
    response = client.get("/", {"q": "NO.SUCH.BATTERY"})
    assert response.status_code == 404
    assert "No battery or passport has this identifier." in text(response)


def test_login_and_logout(client, users) -> None:
    form = client.get("/login/")
    assert form.status_code == 200 and 'name="password"' in text(form)
    signed_in = client.post("/login/", {"username": "owner", "password": "pw-owner"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    home = text(client.get("/"))
    assert "Log out" in home and "(owner)" in home
    signed_out = client.post("/logout/")
    assert signed_out.status_code == 302
    assert "Log in" in text(client.get("/"))


def test_a_wrong_password_stays_on_the_login_page(client, users) -> None:
    response = client.post("/login/", {"username": "owner", "password": "nope"})
    assert response.status_code == 200
    assert 'class="errorlist"' in text(response)


@pytest.mark.parametrize("url", ["/my/batteries/", "/service/", "/manufacturer/", "/regulator/"])
def test_personal_pages_ask_for_a_login(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


# --- owners ------------------------------------------------------------------------------------


def test_an_owner_claims_a_battery_with_the_form(client, users, registered) -> None:
    client.force_login(users.owner)
    assert "You have not claimed a battery yet." in text(client.get("/my/batteries/"))

    response = client.post(
        "/my/batteries/",
        {"action": "claim", "identifier": registered.battery.identifier, "claim_code": registered.claim_code},
        follow=True,
    )
    html = text(response)
    assert f"Battery {registered.battery.identifier} is now yours." in html
    assert f'href="/passports/{registered.passport.passport_id}"' in html
    assert Battery.objects.get(pk=registered.battery.pk).owner == users.owner


def test_a_wrong_claim_code_is_refused_on_the_form(client, users, registered) -> None:
    client.force_login(users.owner)
    response = client.post(
        "/my/batteries/", {"action": "claim", "identifier": registered.battery.identifier, "claim_code": "WRONG"}
    )
    assert response.status_code == 403
    assert "The identifier or the claim code is not valid" in text(response)
    assert Battery.objects.get(pk=registered.battery.pk).owner is None


def test_an_incomplete_claim_form_is_400(client, users) -> None:
    client.force_login(users.owner)
    response = client.post("/my/batteries/", {"action": "claim", "identifier": "X"})
    assert response.status_code == 400
    assert "This field is required." in text(response)


def test_an_owner_grants_and_withdraws_access_with_the_forms(client, users, organisations, owned_battery) -> None:
    client.force_login(users.owner)
    granted = client.post(
        "/my/batteries/",
        {"action": "grant", "identifier": owned_battery.identifier, "organisation": organisations.repairer.pk},
        follow=True,
    )
    assert f"{organisations.repairer.name} may now read the data of {owned_battery.identifier}." in text(granted)
    assert AccessGrant.objects.filter(battery=owned_battery, organisation=organisations.repairer).exists()
    assert "withdraw" in text(granted)

    client.post(
        "/my/batteries/",
        {"action": "revoke", "identifier": owned_battery.identifier, "organisation": organisations.repairer.pk},
    )
    assert not AccessGrant.objects.exists()


def test_nobody_else_grants_access_to_the_battery(client, users, organisations, owned_battery) -> None:
    client.force_login(users.stranger)
    response = client.post(
        "/my/batteries/",
        {"action": "grant", "identifier": owned_battery.identifier, "organisation": organisations.repairer.pk},
    )
    assert response.status_code == 403
    assert not AccessGrant.objects.exists()


# --- repairers and recyclers -------------------------------------------------------------------

DISMANTLING_MANUAL = "https://voltaro.example/passport/homerack/dismantling-manual.pdf"


def test_a_recycler_finds_dismantling_and_end_of_life_information(client, users, battery) -> None:
    client.force_login(users.recycler)
    response = client.get("/service/", {"q": battery.identifier})
    assert response.status_code == 200
    html = text(response)
    assert f'<a href="{DISMANTLING_MANUAL}" rel="noopener">' in html
    for name in ("Safety measures", "Part numbers for components", "Information on sources of spare parts",
                 "Extinguishing agent", "Hazardous substances"):
        assert name in html
    log = AccessLog.objects.get()
    assert (log.user, log.view) == (users.recycler, "legitimate")


def test_a_private_person_gets_only_the_public_end_of_life_information(client, users, battery) -> None:
    client.force_login(users.stranger)
    html = text(client.get("/service/", {"q": battery.identifier}))
    assert DISMANTLING_MANUAL not in html
    assert "only the public end-of-life information is shown" in html
    assert "Information on battery collection, preparation for second life" in html


def test_the_service_lookup_of_an_unknown_battery_is_404(client, users) -> None:
    client.force_login(users.repairer)
    assert client.get("/service/", {"q": "NO.SUCH"}).status_code == 404


# --- manufacturers -----------------------------------------------------------------------------


def test_the_manufacturer_dashboard_lists_models_and_batteries(client, users, organisations, register_battery, stationary_model) -> None:
    batteries = [register_battery() for _ in range(3)]
    client.force_login(users.manufacturer)
    html = text(client.get("/manufacturer/"))
    assert organisations.manufacturer.name in html
    assert stationary_model.name in html
    assert "Batteries (3)" in html
    for registered in batteries:
        assert registered.battery.identifier in html
        assert f'href="/passports/{registered.passport.passport_id}"' in html


def test_a_battery_handed_to_a_recycler_no_longer_shows_its_status_to_the_manufacturer(client, api_hand_over, users,
                                                                                      organisations, battery) -> None:
    api_hand_over(users.manufacturer, users.recycler, battery.identifier,
                  {"status": "waste", "operator": organisations.recycler.pk, "reason": "x"})
    client.force_login(users.manufacturer)
    html = text(client.get("/manufacturer/"))
    assert battery.identifier in html
    assert "not yours to see" in html
    assert ">waste<" not in html


def test_the_dashboard_is_for_organisation_members(client, users) -> None:
    client.force_login(users.owner)
    response = client.get("/manufacturer/")
    assert response.status_code == 403
    assert "This page is for members of a manufacturer." in text(response)


# --- regulators --------------------------------------------------------------------------------


def test_the_regulator_searches_and_gets_export_links(client, users, api_as, register_battery) -> None:
    kept, later = register_battery(), register_battery(manufacturing_date="2026-04-02")
    client.force_login(users.authority)
    html = text(client.get("/regulator/", {"manufactured_from": "2026-04-01", "chemistry": "LFP"}))
    assert "1 battery found." in html
    assert later.battery.identifier in html and kept.battery.identifier not in html
    # The exports keep the filters.
    assert 'href="/api/v1/regulator/batteries/?manufactured_from=2026-04-01&amp;chemistry=LFP&amp;format=csv"' in html
    assert 'href="/api/v1/regulator/batteries/?manufactured_from=2026-04-01&amp;chemistry=LFP&amp;format=json"' in html
    # The point-4 status is no filter on the page either.
    assert 'name="status"' not in html
    assert "<th scope=\"col\">status</th>" not in html  # neither a filter nor a column

    everything = text(client.get("/regulator/"))
    assert "2 batteries found." in everything

    # The browser's session is enough to download the export.
    export = client.get("/api/v1/regulator/batteries/?manufactured_from=2026-04-01&chemistry=LFP&format=csv")
    assert export.status_code == 200
    assert later.battery.identifier in b"".join(export.streaming_content).decode()


def test_the_regulator_page_reports_invalid_filters(client, users) -> None:
    client.force_login(users.authority)
    response = client.get("/regulator/", {"manufactured_from": "someday"})
    assert response.status_code == 400
    assert "Enter a valid date." in text(response)


def test_the_regulator_page_is_for_authorities(client, users) -> None:
    client.force_login(users.manufacturer)
    response = client.get("/regulator/")
    assert response.status_code == 403
    assert "Only members of an authority may search the register." in text(response)
