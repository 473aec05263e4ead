"""Benchmark: per passport, the Battery Pass JSON export (envelope, aspects, validation against our
view schema, canonical bytes, Ed25519 signature) and the PDF report render (WeasyPrint, signed).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bp_bench \\
        .venv/bin/python tests/benchmarks/bench_documents.py --out var/bench/documents.json

Needs a migrated database with the demo data (`manage.py demo_data`). Every passport of the demo
is exported in the full and the public view; the PDF is rendered for the full view (the largest
report). The first PDF of the process is reported apart: it loads WeasyPrint, Pango and the
fonts once. Target: a PDF in at most 1 s per passport (TARGET_PDF_SECONDS). Wall time and the
process's CPU time are both reported: on a shared machine the wall time includes waiting for a
core, the CPU time is what a rendering costs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from passport.attributes import View  # noqa: E402
from passport.documents.exports import json_signed, passport_export  # noqa: E402
from passport.documents.pdf import pdf_job, report_render  # noqa: E402
from passport.models import Passport  # noqa: E402
from passport.services.documents import passport_document_for  # noqa: E402

TARGET_PDF_SECONDS = 1.0


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "documents.json")
    parser.add_argument("--rounds", type=int, default=3, help="exports and renders per passport")
    args = parser.parse_args()

    passports = list(Passport.objects.select_related("battery").order_by("id"))
    if not passports:
        sys.exit("no passports: run `manage.py demo_data` first")
    json_seconds: list[float] = []
    pdf_seconds: list[float] = []
    pdf_cpu_seconds: list[float] = []
    first_pdf_s = None
    sizes: list[int] = []
    for passport in passports:
        for view in (View.FULL, View.PUBLIC):
            tiers = view.tiers(interest=True)
            for _ in range(args.rounds):
                started = time.perf_counter()
                document = passport_document_for(passport=passport, tiers=tiers)
                signed = json_signed(passport_export(passport=passport, document=document, view=view))
                json_seconds.append(time.perf_counter() - started)
        tiers = View.FULL.tiers()
        document = passport_document_for(passport=passport, tiers=tiers)
        job = pdf_job(passport=passport, document=document, tiers=tiers)
        for _ in range(args.rounds):
            started, started_cpu = time.perf_counter(), time.process_time()
            rendered = report_render(passport=passport, document=document, tiers=tiers,
                                     passport_hash=job.passport_hash, model_hash=job.model_hash)
            elapsed = time.perf_counter() - started
            if first_pdf_s is None:
                first_pdf_s = elapsed
            else:
                pdf_seconds.append(elapsed)
                pdf_cpu_seconds.append(time.process_time() - started_cpu)
            sizes.append(len(rendered.body))
    pdf = summary(pdf_seconds)
    pdf_cpu = summary(pdf_cpu_seconds)
    figures = {
        "passports": len(passports),
        "json_export_validate_sign": summary(json_seconds),
        "json_bytes_last": len(signed.body),
        "pdf_render_full_view_wall": pdf,
        "pdf_render_full_view_cpu": pdf_cpu,
        "pdf_first_render_in_process_ms": round(first_pdf_s * 1000, 1),
        "pdf_kib_median": round(statistics.median(sizes) / 1024, 1),
        "pdf_target_s": TARGET_PDF_SECONDS,
        "pdf_target_met_wall_p95": pdf["p95_ms"] <= TARGET_PDF_SECONDS * 1000,
        "pdf_target_met_cpu_max": pdf_cpu["max_ms"] <= TARGET_PDF_SECONDS * 1000,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
