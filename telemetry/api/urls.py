"""/api/v1/telemetry/ routes: collector devices and the batches they send."""

from django.urls import path  # noqa: F401

app_name = "telemetry"

urlpatterns: list = []
