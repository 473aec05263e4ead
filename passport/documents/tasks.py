"""Celery tasks of the documents package: thin, idempotent wrappers around the services."""

from __future__ import annotations

from celery import shared_task

from passport.documents.pdf import PdfJob, passport_pdf_render, pdf_time_limits

# passport_pdf_request sends the limits with each message; these apply to any other sender.
SOFT_LIMIT_S, HARD_LIMIT_S = pdf_time_limits()


@shared_task(
    name="passport.documents.render_pdf",
    soft_time_limit=SOFT_LIMIT_S,
    time_limit=HARD_LIMIT_S,
    ignore_result=True,
)
def passport_pdf_render_task(
    passport_pk: int, passport_hash: str, model_hash: str, tiers: list[str], health_data: str = "-"
) -> None:
    """Render (or find cached) the report of one passport version for one set of tiers."""
    passport_pdf_render(PdfJob(passport_pk, passport_hash, model_hash, tuple(tiers), health_data))
