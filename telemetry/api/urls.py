"""/api/v1/telemetry/ routes: collector devices and the batches they send.

Battery identifiers may contain "/" (ISO/IEC 15459), hence `path:`.
"""

from django.urls import path

from telemetry.api import views

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
]
