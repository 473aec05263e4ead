"""/api/v1/telemetry/ routes: collector devices and the batches they send.

Battery identifiers may contain "/" (ISO/IEC 15459), hence `path:`.
"""

from django.urls import path

from telemetry.api import alerts, views

app_name = "telemetry"

urlpatterns = [
    path("devices/", views.DeviceListCreateView.as_view(), name="devices"),
    path("devices/<int:device_id>/", views.DeviceDetailView.as_view(), name="device-detail"),
    path(
        "devices/<int:device_id>/batteries/",
        views.DeviceBatteriesView.as_view(),
        name="device-batteries",
    ),
    path(
        "devices/<int:device_id>/batteries/<path:identifier>/",
        views.DeviceBatteryView.as_view(),
        name="device-battery",
    ),
    path("devices/<int:device_id>/rotate/", views.DeviceRotateView.as_view(), name="device-rotate"),
    path("devices/<int:device_id>/revoke/", views.DeviceRevokeView.as_view(), name="device-revoke"),
    path("batches/", views.BatchCreateView.as_view(), name="batches"),
    # Health pipeline (tel-pipeline): snapshots and alerts of one battery.
    path(
        "batteries/<path:identifier>/alerts/<int:alert_id>/acknowledge/",
        alerts.AlertAcknowledgeView.as_view(),
        name="battery-alert-acknowledge",
    ),
    path(
        "batteries/<path:identifier>/alerts/<int:alert_id>/resolve/",
        alerts.AlertResolveView.as_view(),
        name="battery-alert-resolve",
    ),
    path("batteries/<path:identifier>/alerts/", alerts.BatteryAlertListView.as_view(), name="battery-alerts"),
    path(
        "batteries/<path:identifier>/health/history/",
        alerts.BatteryHealthHistoryView.as_view(),
        name="battery-health-history",
    ),
    path("batteries/<path:identifier>/health/", alerts.BatteryHealthView.as_view(), name="battery-health"),
]
