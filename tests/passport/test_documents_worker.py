"""The PDF report through a real Celery worker and Redis: the request enqueues the rendering,
the worker renders it, the request that waits gets the PDF."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.cache import cache
from django.db import connection

from passport.documents.pdf import STOPPED_MEMORY_SECONDS, pdf_job
from passport.documents.signing import verify_detached
from passport.services import passport_read

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


def redis_keys_delete(url: str, pattern: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(pattern):
        client.delete(key)


def test_a_rendering_over_its_time_limit_is_stopped_and_the_reader_told(request, settings, complete_battery,
                                                                          passport, api_as, users) -> None:
    """A database that stops answering holds the rendering up (another session locks the passport
    versions, which the rendering reads); Celery's soft time limit, enforced by a prefork worker,
    stops it, and the reader gets a 503 naming the limit, with Retry-After, at once."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: without it tasks run in the requesting process, where Celery "
                    "enforces no time limit (docs/documents.md says so)")
    if connection.vendor != "postgresql":
        pytest.skip("the rendering is held up by a PostgreSQL table lock")
    import psycopg
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from passport.models import Version

    # The worker's processes are forked: the report, the marker and the stop meet in Redis, as
    # between web and worker processes in production (a prefix of this test's own).
    prefix = f"pdfl-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": settings.REDIS_URL, "KEY_PREFIX": prefix}}
    request.addfinalizer(lambda: redis_keys_delete(settings.REDIS_URL, f"{prefix}:*"))
    settings.PASSPORT_PDF_TIME_LIMIT_SECONDS = 1
    settings.PASSPORT_PDF_KILL_GRACE_SECONDS = 30  # the soft stop is under test, not the kill
    settings.PASSPORT_PDF_WAIT_SECONDS = 0
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
    client = api_as(users.manufacturer)
    url = f"/api/v1/passports/{passport.passport_id}/export?format=pdf"
    reading = passport_read(user=users.manufacturer, passport=passport, endpoint="test")
    job = pdf_job(passport=passport, document=reading.document, tiers=reading.tiers)
    # No worker yet: the rendering waits in the queue.
    assert client.get(url).status_code == 202
    database = connection.settings_dict
    with psycopg.connect(host=database["HOST"], port=database["PORT"] or 5432, user=database["USER"],
                         password=database["PASSWORD"] or None, dbname=database["NAME"]) as blocker:
        blocker.execute(f'LOCK TABLE "{Version._meta.db_table}" IN ACCESS EXCLUSIVE MODE')
        started = time.monotonic()
        with start_worker(app, pool="prefork", concurrency=1, perform_ping_check=False, loglevel="WARNING",
                          queues=[settings.CELERY_TASK_DEFAULT_QUEUE], shutdown_timeout=30):
            while cache.get(job.stopped_key) is None:
                assert time.monotonic() - started < 20, "the rendering was not stopped by its soft time limit"
                time.sleep(0.2)
        blocker.rollback()
    assert cache.get(job.cache_key) is None and cache.get(job.marker_key) is None
    answer = client.get(url)
    assert answer.status_code == 503, answer.content[:300]
    assert answer["Retry-After"] == str(STOPPED_MEMORY_SECONDS)
    [error] = answer.json()["errors"]
    assert error["field"] is None and "longer than its limit of 1 s" in error["reason"]
    # Once the memory of the stop has passed, a request renders anew (here in time).
    cache.delete(job.stopped_key)
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                      queues=[settings.CELERY_TASK_DEFAULT_QUEUE]):
        settings.PASSPORT_PDF_TIME_LIMIT_SECONDS = 60
        settings.PASSPORT_PDF_WAIT_SECONDS = 30
        again = client.get(url)
    assert again.status_code == 200 and again.content.startswith(b"%PDF-")
