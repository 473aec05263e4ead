"""An owner's dashboard per battery and the access log; a recycler with the owner's grant sees
the state of health on the service page, one without it does not."""

from __future__ import annotations

import pytest

from passport.models import AccessGrant
from passport.services import access_grant_create, battery_update, passport_read
from passport.services.health import HEALTH_REASON

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def dashboard(battery) -> str:
    return f"/my/batteries/{battery.identifier}"


@pytest.fixture
def owned_complete(complete_battery, users, registered):
    from passport.services import battery_claim

    battery_claim(user=users.owner, identifier=complete_battery.identifier, claim_code=registered.claim_code)
    complete_battery.refresh_from_db()
    return complete_battery


def test_the_owner_sees_health_now_and_over_time(client, users, owned_complete):
    battery = owned_complete
    battery_update(user=None, battery=battery, reason=HEALTH_REASON,
                   data={"state_of_certified_energy_pct": 96.0, "remaining_capacity_ah": 96.0, "full_cycles_count": 180,
                         "state_of_charge_pct": 41.0})
    client.force_login(users.owner)
    response = client.get(dashboard(battery))
    assert response.status_code == 200
    html = text(response)
    assert "State of charge" in html and "41" in html
    # Two versions recorded health: registration had none, commissioning 97.5 %, the update 96 %.
    history = html.split('id="history-heading"')[1].split("</section>")[0]
    assert history.count('<th scope="row">') == 2
    assert ">97.5<" in history and ">96<" in history and ">180<" in history
    # Two points: a line each for the capacity retention and the cycles (passport.charts).
    assert history.count("<svg") == 2
    assert "Capacity retention" in history and "Full cycles" in history
    assert 'href="/my/batteries/"' in html


def test_the_dashboard_lists_grants_and_who_read_the_data(client, users, organisations, owned_complete):
    battery = owned_complete
    access_grant_create(user=users.owner, battery=battery, organisation=organisations.repairer)
    passport_read(user=users.repairer, passport=battery.passports.get(), endpoint="GET /test")
    client.force_login(users.owner)
    html = text(client.get(dashboard(battery)))
    assert f"{organisations.repairer.name} (Repairer)" in html
    reads = html.split('id="reads-heading"')[1]
    assert organisations.repairer.name in reads and "legitimate view" in reads


def test_the_owner_grants_and_withdraws_from_the_dashboard(client, users, organisations, owned_complete):
    client.force_login(users.owner)
    response = client.post("/my/batteries/", {"action": "grant", "identifier": owned_complete.identifier,
                                              "organisation": organisations.recycler.pk, "back": "dashboard"})
    assert response.status_code == 302 and response["Location"] == dashboard(owned_complete)
    assert AccessGrant.objects.filter(battery=owned_complete, organisation=organisations.recycler).exists()


@pytest.mark.parametrize("who", ["stranger", "manufacturer", "recycler", "authority", "other_manufacturer"])
def test_the_dashboard_is_the_owners_only(client, users, owned_complete, who):
    client.force_login(getattr(users, who))
    response = client.get(dashboard(owned_complete))
    assert response.status_code == 403
    assert "state_of_charge" not in text(response) and "State of charge" not in text(response)


def test_an_unknown_battery_has_no_dashboard(client, users):
    client.force_login(users.owner)
    assert client.get("/my/batteries/NO.SUCH.BATTERY").status_code == 404


# --- the access log ----------------------------------------------------------------------------


def access_log(battery) -> str:
    return f"/access-log/{battery.identifier}"


@pytest.mark.parametrize("who", ["owner", "authority"])
def test_the_owner_and_authorities_see_who_read_the_battery(client, users, organisations, owned_complete, who):
    access_grant_create(user=users.owner, battery=owned_complete, organisation=organisations.recycler)
    passport_read(user=users.recycler, passport=owned_complete.passports.get(), endpoint="GET /x")
    client.force_login(getattr(users, who))
    response = client.get(access_log(owned_complete))
    assert response.status_code == 200
    assert organisations.recycler.name in text(response)


@pytest.mark.parametrize("who", ["stranger", "manufacturer", "recycler", "repairer"])
def test_nobody_else_sees_the_access_log(client, users, organisations, owned_complete, who):
    passport_read(user=users.repairer, passport=owned_complete.passports.get(), endpoint="GET /x")
    client.force_login(getattr(users, who))
    response = client.get(access_log(owned_complete))
    assert response.status_code == 403
    assert organisations.repairer.name not in text(response).split("<main")[1]


# --- the recycler's state of health ------------------------------------------------------------


def test_a_recycler_with_the_owners_grant_sees_the_state_of_health(client, users, organisations, owned_complete):
    client.force_login(users.recycler)
    before = text(client.get("/service/", {"q": owned_complete.identifier}))
    assert "can let your organisation read it" in before and 'id="attr-state_of_certified_energy_pct"' not in before
    access_grant_create(user=users.owner, battery=owned_complete, organisation=organisations.recycler)
    after = text(client.get("/service/", {"q": owned_complete.identifier}))
    assert 'id="attr-state_of_certified_energy_pct"' in after and "97.5" in after
    assert "Dismantling" in after
