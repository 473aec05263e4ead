"""Benchmark: register 10,000 batteries in one bulk call on the configured database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bp_bench \\
        .venv/bin/python tests/benchmarks/bench_bulk_register.py --out var/bench/bulk_register.json

The database must be migrated. The script creates its own manufacturer, user and battery model
(names carry the run's timestamp, so runs never collide), times battery_register_bulk (validation,
duplicate checks, the three bulk inserts and the commit), then one edit of the model, which
versions every one of those active passports, then checks what was stored: counts and a sample
of version chains. The rows are deleted afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from passport.demo import demo_gtin, lfp_home_battery_model_data  # noqa: E402
from passport.models import (  # noqa: E402
    Battery,
    BatteryModel,
    IdentifierPrefix,
    Membership,
    ModelGtin,
    Organisation,
    Passport,
    Version,
)
from passport.services import (  # noqa: E402
    battery_model_create,
    battery_model_update,
    battery_register_bulk,
    membership_create,
    organisation_create,
    version_chain_verify,
)
from passport.vocabulary import Category, Chemistry, OrganisationKind  # noqa: E402

TARGET_SECONDS = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "bulk_register.json")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the registered batteries")
    args = parser.parse_args()

    run = time.strftime("%Y%m%d%H%M%S")
    # Its own GS1 company prefix (registrations are checked against it), unique per run.
    prefix = "99" + run[-7:]
    manufacturer = organisation_create(kind=OrganisationKind.MANUFACTURER, name=f"Bench Manufacturer {run}",
                                       city="Dresden", country="DE", gs1_prefixes=[prefix])
    user = get_user_model().objects.create_user(username=f"bench-{run}")
    membership_create(user=user, organisation=manufacturer)
    model = battery_model_create(
        user=user, manufacturer=manufacturer, name=f"Bench HomeRack {run}",
        category=Category.STATIONARY, chemistry=Chemistry.LFP,
        data=lfp_home_battery_model_data(capacity_ah=100),
    )
    gtin = demo_gtin("777", company_prefix=prefix)
    items = [
        {"gtin": gtin, "serial": f"B{run[2:]}{number:06d}", "batch": f"L{run[2:8]}",
         "manufacturing_date": "2026-10-01"}
        for number in range(args.count)
    ]

    started = time.perf_counter()
    registered = battery_register_bulk(user=user, model=model, items=items)
    elapsed = time.perf_counter() - started

    # A model edit reaches every active passport through a version of its own
    # (passport_versions_follow_model): the cost of one edit over the whole batch.
    started = time.perf_counter()
    battery_model_update(user=user, model=model, data={"warranty_period_years": 12}, reason="bench")
    model_update_seconds = time.perf_counter() - started

    stored = Battery.objects.filter(model=model).count()
    passports = Passport.objects.filter(battery__model=model).count()
    versions = Version.objects.filter(passport__battery__model=model).count() - args.count
    sample = [r.passport for r in registered[:: max(1, args.count // 20)]]
    chains_ok = all(version_chain_verify(subject=p)[0].ok for p in sample)

    figures = {
        "benchmark": "bulk_register",
        "database": connection.vendor,
        "count": args.count,
        "seconds": round(elapsed, 3),
        "batteries_per_second": round(args.count / elapsed),
        "model_update_seconds": round(model_update_seconds, 3),
        "target_seconds": TARGET_SECONDS,
        "within_target": elapsed < TARGET_SECONDS,
        "stored": {"batteries": stored, "passports": passports, "versions": versions},
        "sampled_chains_ok": chains_ok,
        "python": platform.python_version(),
    }
    if not args.keep:
        Version.objects.filter(passport__battery__model=model).delete()
        Passport.objects.filter(battery__model=model).delete()
        Battery.objects.filter(model=model).delete()
        Version.objects.filter(model=model).delete()
        ModelGtin.objects.filter(model=model).delete()
        BatteryModel.objects.filter(pk=model.pk).delete()
        IdentifierPrefix.objects.filter(organisation=manufacturer).delete()
        Membership.objects.filter(user=user).delete()
        user.delete()
        Organisation.objects.filter(pk=manufacturer.pk).delete()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    if stored != args.count or passports != args.count or versions != args.count or not chains_ok:
        sys.exit("bulk registration stored something other than what was asked")


if __name__ == "__main__":
    main()
