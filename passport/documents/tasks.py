"""Celery tasks of the documents package: thin, idempotent wrappers around the services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from passport.documents.pdf import PdfJob, passport_pdf_render


@shared_task(
    name="passport.documents.render_pdf",
    time_limit=settings.PASSPORT_PDF_TIME_LIMIT_SECONDS,
    soft_time_limit=max(settings.PASSPORT_PDF_TIME_LIMIT_SECONDS - 5, 1),
    ignore_result=True,
)
def passport_pdf_render_task(
    passport_pk: int, passport_hash: str, model_hash: str, tiers: list[str], health_data: str = "-"
) -> None:
    """Render (or find cached) the report of one passport version for one set of tiers."""
    passport_pdf_render(PdfJob(passport_pk, passport_hash, model_hash, tuple(tiers), health_data))
