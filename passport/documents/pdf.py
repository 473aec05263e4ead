"""The passport report as PDF (WeasyPrint): rendered by a Celery task with a time limit, cached
per passport version, model version and reader's tiers, signed like every export.

Why a time limit, and what the reader is told: a report that takes longer than
PASSPORT_PDF_TIME_LIMIT_SECONDS (a pathological document, a database that stopped answering)
is stopped by Celery's soft time limit (the worker's process is killed a grace period later if
it does not stop). The rendering records that it was stopped, and for STOPPED_MEMORY_SECONDS
every request for that report gets a 503 saying so with Retry-After, at once: not a 500, not a
202 forever while the same doomed rendering is enqueued again and again. Only a real worker
enforces the limit; the embedded default (no REDIS_URL) renders in the requesting process
without one, as Celery runs every task there.

Why a task: WeasyPrint takes a good part of a second of CPU per report; web workers should not
spend it while holding a connection, and several requests for the same report should cost one
rendering. A request enqueues the rendering once (a cache marker stops duplicates), waits
briefly for it (PASSPORT_PDF_WAIT_SECONDS), and otherwise answers 202 so the client retries.

Why the cache key names the versions and the tiers: a report is a function of what the reader
may see, and a reader's document names the latest passport and model versions that changed
something it may see (passport.services.documents); a write records a new version and the next
request renders anew, so nothing needs invalidating. The task renders the document as it stood
when that passport version was written (the same visible values), never "the latest".

Why the key also names the cell spread's data (`health_data`): that chart is drawn from measured
data outside the passport (passport.health_sources), which may change without a new passport
version (a late day's rollup is recomputed); its digest in the key renders such a report anew.

Fonts: DejaVu (Debian fonts-dejavu-core), embedded by WeasyPrint as subsets; text stays text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from passport.access import view_of_tiers
from passport.attributes import Tier
from passport.documents.exports import SignedDocument, stamp, tiers_key
from passport.documents.labels import qr_svg
from passport.documents.report import health_history, report_build
from passport.documents.signing import sign_detached, signing_key
from passport.errors import Unavailable
from passport.health_sources import CellSpreadPoint, battery_cell_spread, cell_spread_fingerprint
from passport.identifiers import qr_url
from passport.models import Passport, Version
from passport.services.documents import passport_document_for

logger = logging.getLogger(__name__)

PDF_MEDIA_TYPE = "application/pdf"
# How long a stopped rendering is remembered: requests meanwhile get the 503 at once (a report
# that hit the limit will likely hit it again right away); after it, a request tries anew.
STOPPED_MEMORY_SECONDS = 60
REPORT_TEMPLATE = "documents/passport_report.html"
# Part of the cache key: a release that changes the report's template renders anew.
REPORT_SHAPE = hashlib.sha256(REPORT_TEMPLATE.encode() + b"v1").hexdigest()[:8]
VIEW_LABELS = {
    "public": "Public view",
    "legitimate": "View for persons with a legitimate interest",
    "authority": "View for authorities",
    "full": "Full view of the responsible economic operator",
}


@dataclass(frozen=True)
class PdfJob:
    """One report: the passport, the two versions its document is made of, the reader's tiers,
    and the digest of the measured data its cell spread chart draws ("-" for none)."""

    passport_pk: int
    passport_hash: str
    model_hash: str
    tiers: tuple[str, ...]
    health_data: str = "-"

    @property
    def cache_key(self) -> str:
        return (f"passport-pdf:{REPORT_SHAPE}:{self.model_hash}:{self.passport_hash}:{'+'.join(self.tiers)}"
                f":{self.health_data}")

    @property
    def marker_key(self) -> str:
        return f"{self.cache_key}:rendering"

    @property
    def stopped_key(self) -> str:
        return f"{self.cache_key}:stopped"

    def tier_set(self) -> frozenset[Tier]:
        return frozenset(Tier(tier) for tier in self.tiers)


def pdf_job(*, passport: Passport, document: dict, tiers: frozenset[Tier]) -> PdfJob:
    """The job of the report for a reader who was shown `document` (one query: the passport
    version, keyed by its passport, and the model version, keyed by None; one more for the
    cell spread where the reader may see it)."""
    versions: dict[int | None, tuple[str, dt.datetime]] = {
        subject: (hash_, created_at)
        for subject, hash_, created_at in Version.objects.filter(
            Q(passport_id=passport.pk, seq=document["passport_version"])
            | Q(model_id=passport.battery.model_id, seq=document["model_version"])
        ).values_list("passport_id", "hash", "created_at")
    }
    model_hash = versions[None][0]
    passport_hash, written_at = versions[passport.pk]
    spread = report_cell_spread(passport=passport, tiers=tiers, written_at=written_at)
    return PdfJob(passport.pk, passport_hash, model_hash, tuple(tiers_key(tiers).split("+")),
                  cell_spread_fingerprint(spread))


def report_cell_spread(*, passport: Passport, tiers: frozenset[Tier], written_at: dt.datetime) -> list[CellSpreadPoint]:
    """The cell spread the report of the passport version written at `written_at` draws: the
    days up to that version, as the rest of the report stands as of that version."""
    return battery_cell_spread(battery_id=passport.battery_id, tiers=tiers,
                               until=written_at.astimezone(dt.UTC).date())


def report_render(*, passport: Passport, document: dict, tiers: frozenset[Tier], passport_hash: str,
                  model_hash: str) -> SignedDocument:
    """Render and sign the report of an access-filtered `document` (no caching)."""
    from weasyprint import HTML  # imported here: it loads Pango, which the web side rarely needs

    key = signing_key()
    view = view_of_tiers(tiers)
    sees_use_data = Tier.INDIVIDUAL in tiers
    history = health_history(passport=passport, upto_seq=document["passport_version"]) if sees_use_data else {}
    written_at = Version.objects.get(passport_id=passport.pk, hash=passport_hash).created_at
    cell_spread = report_cell_spread(passport=passport, tiers=tiers, written_at=written_at)
    target = qr_url(passport)
    html = render_to_string(REPORT_TEMPLATE, {
        "report": report_build(document=document, history=history, cell_spread=cell_spread),
        "passport_id": passport.passport_id,
        "version_hash": passport_hash,
        "model_hash_short": model_hash[:16],
        "kid": key.kid,
        "view_label": VIEW_LABELS[view.value],
        "generated_at": stamp(timezone.now()),
        "passport_version": document["passport_version"],
        "model_version": document["model_version"],
        "qr_svg": qr_svg(target),
        "qr_target": target,
        "jwks_url": f"{settings.PASSPORT_BASE_URL}/.well-known/jwks.json",
    })
    body = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    filename = f"passport-{passport.passport_id.rsplit(':', 1)[-1]}-{view.value}.pdf"
    return SignedDocument(body, sign_detached(body, key), key.kid, PDF_MEDIA_TYPE, filename)


def _as_cached(document: SignedDocument) -> dict:
    return {"body": document.body, "signature": document.signature, "kid": document.kid,
            "filename": document.filename}


def _from_cached(value: dict | None) -> SignedDocument | None:
    if not value:
        return None
    return SignedDocument(value["body"], value["signature"], value["kid"], PDF_MEDIA_TYPE, value["filename"])


def pdf_time_limits() -> tuple[float, float]:
    """(soft, hard) time limit of a rendering, in seconds, from the settings."""
    soft = settings.PASSPORT_PDF_TIME_LIMIT_SECONDS
    return soft, soft + settings.PASSPORT_PDF_KILL_GRACE_SECONDS


def passport_pdf_render(job: PdfJob) -> SignedDocument:
    """Render the job's report unless it is cached, and cache it (idempotent: what the task
    runs). A rendering stopped by the task's soft time limit is recorded for the readers
    waiting for it (see the module docstring) and the stop propagates."""
    found = _from_cached(cache.get(job.cache_key))
    if found is not None:
        return found
    try:
        passport = Passport.objects.select_related("battery").get(pk=job.passport_pk)
        written_at = Version.objects.get(passport_id=job.passport_pk, hash=job.passport_hash).created_at
        document = passport_document_for(passport=passport, tiers=job.tier_set(), at=written_at)
        rendered = report_render(passport=passport, document=document, tiers=job.tier_set(),
                                 passport_hash=job.passport_hash, model_hash=job.model_hash)
        cache.set(job.cache_key, _as_cached(rendered), settings.PASSPORT_PDF_CACHE_SECONDS)
        return rendered
    except SoftTimeLimitExceeded:
        limit_s, _ = pdf_time_limits()
        logger.warning("PDF report %s stopped after its time limit of %g s", job.cache_key, limit_s)
        cache.set(job.stopped_key, limit_s, STOPPED_MEMORY_SECONDS)
        raise
    finally:
        cache.delete(job.marker_key)


def passport_pdf_cached(job: PdfJob) -> SignedDocument | None:
    return _from_cached(cache.get(job.cache_key))


def _refuse_if_stopped(job: PdfJob) -> None:
    limit_s = cache.get(job.stopped_key)
    if limit_s is not None:
        raise Unavailable(
            f"rendering this PDF report took longer than its limit of {float(limit_s):g} s and was "
            f"stopped; ask again in {STOPPED_MEMORY_SECONDS} s, or download the passport as JSON "
            "(?format=json), which is not rendered",
            retry_after_s=STOPPED_MEMORY_SECONDS,
        )


def passport_pdf_request(job: PdfJob, *, wait_seconds: float | None = None) -> SignedDocument | None:
    """The report if it is ready within `wait_seconds` (settings by default); enqueues the
    rendering once. None means: still rendering, ask again. Raises Unavailable when the
    rendering was stopped by its time limit (meanwhile or lately)."""
    from passport.documents.tasks import passport_pdf_render_task

    found = passport_pdf_cached(job)
    if found is not None:
        return found
    _refuse_if_stopped(job)
    soft_s, hard_s = pdf_time_limits()
    # The marker outlives the longest rendering, so a killed one does not block the report.
    if cache.add(job.marker_key, 1, int(hard_s) + 1):
        arguments = (job.passport_pk, job.passport_hash, job.model_hash, list(job.tiers), job.health_data)
        # The limits go with each message, so the settings of the enqueuing process apply.
        transaction.on_commit(lambda: passport_pdf_render_task.apply_async(
            arguments, soft_time_limit=soft_s, time_limit=hard_s))
    deadline = time.monotonic() + (settings.PASSPORT_PDF_WAIT_SECONDS if wait_seconds is None else wait_seconds)
    pause = 0.05
    while True:
        found = passport_pdf_cached(job)
        if found is not None:
            return found
        _refuse_if_stopped(job)
        if time.monotonic() >= deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
