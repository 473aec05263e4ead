"""/healthz for load balancers and the compose health check.

A middleware rather than a view: it answers before host validation and the HTTPS redirect, so a
probe from inside the container (plain HTTP, Host 127.0.0.1) gets a real answer.
"""

from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

HEALTH_PATH = "/healthz"


def health_status() -> dict[str, str]:
    status = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; say which
        status["database"] = f"error: {exc.__class__.__name__}"
    try:
        cache.set("healthz", "1", timeout=5)
        status["cache"] = "ok" if cache.get("healthz") == "1" else "error: read back failed"
    except Exception as exc:  # noqa: BLE001
        status["cache"] = f"error: {exc.__class__.__name__}"
    return status


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != HEALTH_PATH:
            return self.get_response(request)
        status = health_status()
        healthy = all(value == "ok" for value in status.values())
        return JsonResponse(status, status=200 if healthy else 503)
