"""The yardstick of the public-reads benchmark: a plain Django view answering JSON after two
indexed queries (a passport by its unique identifier, then its latest version by the unique
(passport, seq) index). Mounted only when BENCH_BASELINE_VIEW is set, by the benchmark's own
server: it shows what Django, gunicorn and the database cost on this machine for a read that
does almost nothing, so the passport reads are reported as a fraction of it."""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse

from passport.models import Passport, Version

BASELINE_PATH = "bench/baseline/<str:passport_id>"


def baseline_read(request: HttpRequest, passport_id: str) -> JsonResponse:
    passport = Passport.objects.filter(passport_id=passport_id).values("pk", "state").first()
    if passport is None:
        raise Http404("no such passport")
    version = (
        Version.objects.filter(passport_id=passport["pk"]).order_by("-seq").values("seq", "hash").first()
    )
    return JsonResponse({"passport_identifier": passport_id, "state": passport["state"], "version": version})
