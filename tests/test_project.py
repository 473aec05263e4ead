"""The project foundation: settings from the environment, deploy checks, health endpoint."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_deploy_check_is_clean_with_debug_off() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "passport.example"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_secret_key_is_required_with_debug_off() -> None:
    result = run_manage("check", env={"DEBUG": "0", "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_health_endpoint_reports_database_and_cache() -> None:
    response = Client().get("/healthz", HTTP_HOST="not-an-allowed-host")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}


def test_database_backend_follows_database_url() -> None:
    from django.conf import settings

    expected = "postgresql" if os.getenv("DATABASE_URL", "").startswith("postgres") else "sqlite3"
    assert settings.DATABASES["default"]["ENGINE"].endswith(expected)


def test_celery_runs_in_process_without_redis() -> None:
    from django.conf import settings

    assert settings.CELERY_TASK_ALWAYS_EAGER is (not os.getenv("REDIS_URL"))


def test_the_redis_cache_keeps_one_client_per_pool() -> None:
    """config/cache.py: the same client object for every call, and the cache still works."""
    from django.conf import settings
    from django.core.cache import cache

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: the embedded default caches in process memory")
    key = f"test-cache-client-{secrets.token_hex(4)}"
    assert cache.add(key, 1, timeout=10)
    assert not cache.add(key, 2, timeout=10)
    assert cache.get(key) == 1
    cache.delete(key)
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=True)
