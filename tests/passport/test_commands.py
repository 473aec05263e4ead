"""The management commands as an operator runs them."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from passport.attributes import TIER_OF, Tier, View
from passport.demo import DEMO_PASSWORD
from passport.models import AccessGrant, Battery, BatteryModel, Organisation, Passport, Version
from passport.services import version_chain_verify


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (Organisation, BatteryModel, Battery, Passport, Version, AccessGrant)}


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_data_builds_every_lifecycle_state_and_is_idempotent(django_user_model):
    out, _ = run("demo_data")
    assert "Demo data created." in out and DEMO_PASSWORD in out
    assert out.count("API token:") == 2
    first = counts()
    assert set(Battery.objects.values_list("status", flat=True)) == {
        "original", "re-used", "repurposed", "waste", "recycled"
    }
    assert Battery.objects.get(status="waste").responsible_operator.name == "ReCell Recycling GmbH"
    assert Passport.objects.filter(state="ceased").exists()
    assert Passport.objects.filter(state="superseded").count() == 3
    repurposed_new = Passport.objects.filter(predecessors__isnull=False).distinct()
    assert repurposed_new.count() == 2
    assert max(p.predecessors.count() for p in repurposed_new) == 2
    assert Battery.objects.filter(owner__username="owner").count() == 1
    assert AccessGrant.objects.count() == 1
    assert {"admin", "manufacturer", "authority", "recycler", "repairer", "repurposer", "owner"} <= set(
        django_user_model.objects.values_list("username", flat=True))
    assert django_user_model.objects.get(username="admin").is_superuser
    assert all(report.ok for report in version_chain_verify())

    tokens = [line.split()[-1] for line in out.splitlines() if "API token:" in line]
    again, _ = run("demo_data")
    assert "already present" in again
    assert counts() == first
    assert [line.split()[-1] for line in again.splitlines() if "API token:" in line] == tokens
    assert django_user_model.objects.get(username="manufacturer").check_password(DEMO_PASSWORD)


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_models_are_complete_and_realistic():
    call_command("demo_data", stdout=StringIO())
    model = BatteryModel.objects.get(name__startswith="HomeRack 10.24")
    data = model.data
    assert (data["min_voltage_v"], data["nominal_voltage_v"], data["max_voltage_v"]) == (40, 51.2, 58.4)
    assert data["rated_capacity_ah"] == 200
    # Art. 7(1)(d): per kWh delivered over the service life (82.1 kg CO2e per kWh of capacity
    # over 6000 cycles at 90 %), so about 0.84 t CO2e for an 88 kg pack.
    assert data["carbon_footprint_kg_co2e_per_kwh"] == pytest.approx(82.1 / 5400, abs=1e-4)
    assert data["absolute_carbon_footprint_t_co2e"] == pytest.approx(0.841, abs=0.001)
    assert data["post_consumer_recycled_cobalt_pct"] == "not contained"  # LFP has no cobalt
    shares = sum(data[k] for k in ("carbon_footprint_raw_material_pct", "carbon_footprint_production_pct",
                                   "carbon_footprint_distribution_pct", "carbon_footprint_end_of_life_pct"))
    assert shares == pytest.approx(100)
    assert data["expected_lifetime_cycles"] == 6000 and data["warranty_period_years"] == 10
    assert data["cycle_life_reference_test"]["depth_of_discharge_pct"] == 90
    assert data["cycle_life_test_c_rate"] == 0.5 and data["initial_round_trip_efficiency_pct"] == 95


def test_verify_passports_passes_on_intact_chains(complete_battery):
    out, _ = run("verify_passports")
    assert "all intact" in out and "2 chains" in out


def test_verify_passports_fails_and_names_the_first_broken_link(complete_battery, passport, versions_editable):
    with versions_editable():
        Version.objects.filter(passport=passport, seq=2).update(reason="forged")
    with pytest.raises(CommandError) as caught:
        run("verify_passports")
    assert f"first broken link: passport:{passport.passport_id} version 2: hash mismatch" in str(caught.value)


def test_verify_passports_exits_non_zero_from_the_shell(complete_battery, passport, versions_editable, capsys):
    with versions_editable():
        Version.objects.filter(passport=passport, seq=1).update(reason="forged")
    with pytest.raises(SystemExit) as caught:
        ManagementUtility(["manage.py", "verify_passports"]).execute()
    assert caught.value.code == 1
    assert f"BROKEN passport:{passport.passport_id} at version 1: hash mismatch" in capsys.readouterr().err


def test_verify_one_passport(complete_battery, passport):
    out, _ = run("verify_passports", "--passport", passport.passport_id)
    assert "1 chains" in out
    with pytest.raises(CommandError, match="not found"):
        run("verify_passports", "--passport", "urn:uuid:nope")


@pytest.mark.parametrize("view", [v.value for v in View])
def test_export_passport_filters_through_the_view(complete_battery, passport, view, tmp_path):
    target = tmp_path / "out" / f"{view}.json"
    _, err = run("export_passport", complete_battery.identifier, "--view", view, "--out", str(target))
    assert str(target) in err
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert exported["view"] == view and exported["batteryIdentifier"] == complete_battery.identifier
    allowed = View(view).tiers(interest=True)
    assert {TIER_OF[key] for key in exported["additionalAttributes"]} <= set(allowed)
    shows_use_data = "batteryCondition" in exported["PerformanceAndDurability"]
    assert shows_use_data == (Tier.INDIVIDUAL in allowed)
    # The detached signature beside the file verifies the file as written.
    out, _ = run("verify_document", str(target))
    assert "valid" in out


def test_export_passport_to_stdout_by_any_identifier_form(complete_battery):
    path = f"/01/{complete_battery.gtin}/21/{complete_battery.serial}"
    out, err = run("export_passport", path, "--format", "json")
    document = json.loads(out)
    assert document["batteryIdentifier"] == complete_battery.identifier
    assert "batteryCondition" not in document["PerformanceAndDurability"]  # public by default
    assert "signature (detached JWS)" in err


def test_export_passport_at_a_past_date(complete_battery, passport):
    registered_on = passport.versions.get(seq=1).created_at
    out, _ = run("export_passport", complete_battery.identifier, "--view", "full",
                 "--at", registered_on.isoformat())
    assert json.loads(out)["passportVersion"] == 1
    with pytest.raises(CommandError, match="not an ISO date"):
        run("export_passport", complete_battery.identifier, "--at", "yesterday")


def test_export_passport_pdf_writes_the_report_and_its_signature(complete_battery, tmp_path):
    target = tmp_path / "report.pdf"
    _, err = run("export_passport", complete_battery.identifier, "--format", "pdf", "--view", "full",
                 "--out", str(target))
    assert target.read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "report.pdf.jws").read_text().count(".") == 2
    out, _ = run("verify_document", str(target))
    assert "valid" in out
    with pytest.raises(CommandError, match="needs --out"):
        run("export_passport", complete_battery.identifier, "--format", "pdf")


def test_export_passport_unknown_battery(db):
    with pytest.raises(CommandError, match="not found"):
        run("export_passport", "UN.NOBODY.1")
