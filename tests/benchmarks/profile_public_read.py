"""Profile one anonymous passport read: the SQL it sends and where the time goes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bp_bench \\
        .venv/bin/python tests/benchmarks/profile_public_read.py [--repeat 200] [--top 25]

Runs in-process through Django's test client (no server, no network), against the configured
database with demo data loaded (`manage.py demo_data`), DEBUG off. For the JSON read
(`/api/v1/passports/<id>/`) and the HTML page (`/passports/<id>`) of the passport with the most
versions it prints the queries of one warm read (captured with CaptureQueriesContext), the mean
time of `--repeat` reads, and the `--top` functions by cumulative time under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("ANON_THROTTLE_RATE", "100000000/second")
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200, help="timed reads per address")
    parser.add_argument("--top", type=int, default=25, help="functions shown from the profile")
    args = parser.parse_args()
    setup_django()

    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from passport.models import Passport

    passport = Passport.objects.annotate(n=Count("versions")).order_by("-n", "id").first()
    if passport is None:
        raise SystemExit("no passport: run `manage.py demo_data` first")
    passport_id = quote(passport.passport_id, safe=":")
    client = Client()
    for name, path, accept in (
        ("json", f"/api/v1/passports/{passport_id}/", "application/json"),
        ("html", f"/passports/{passport_id}", "text/html"),
    ):
        # Warm: URL resolver, templates, connection, and whatever caches the read fills.
        for _ in range(3):
            assert client.get(path, HTTP_ACCEPT=accept).status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(path, HTTP_ACCEPT=accept)
        print(f"\n== {name} {path}: {len(queries.captured_queries)} queries")
        for number, query in enumerate(queries.captured_queries, 1):
            print(f"  {number}. ({query['time']} s) {query['sql'][:300]}")
        started = time.perf_counter()
        for _ in range(args.repeat):
            client.get(path, HTTP_ACCEPT=accept)
        mean_ms = (time.perf_counter() - started) / args.repeat * 1000
        print(f"  mean {mean_ms:.2f} ms per read over {args.repeat} reads (in-process, one thread)")
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.repeat):
            client.get(path, HTTP_ACCEPT=accept)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
