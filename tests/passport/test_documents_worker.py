"""The PDF report through a real Celery worker and Redis: the request enqueues the rendering,
the worker renders it, the request that waits gets the PDF."""

from __future__ import annotations

import pytest

from passport.documents.signing import verify_detached

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_worker(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: without it tasks run in the requesting process, there is no worker")
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    assert not app.conf.task_always_eager
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      queues=[settings.CELERY_TASK_DEFAULT_QUEUE]):
        yield



def test_a_pdf_request_is_rendered_by_the_worker(real_worker, complete_battery, passport, api_as, users) -> None:
    response = api_as(users.manufacturer).get(f"/api/v1/passports/{passport.passport_id}/export?format=pdf")
    assert response.status_code == 200, response.content[:200]
    assert response.content.startswith(b"%PDF-")
    assert verify_detached(response.content, response["X-JWS-Signature"])
