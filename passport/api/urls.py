"""/api/v1/ routes. Battery identifiers may contain "/" (ISO/IEC 15459), hence `path:`."""

from django.urls import path

from passport.api import views
from passport.public_cache import HTML, JSON, by_battery_identifier, by_passport_id, public_cached

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisations"),
    path("models/", views.BatteryModelListCreateView.as_view(), name="models"),
    path("models/<int:model_id>/", views.BatteryModelDetailView.as_view(), name="model-detail"),
    path("batteries/", views.BatteryRegisterView.as_view(), name="batteries"),
    path("batteries/bulk/", views.BatteryBulkRegisterView.as_view(), name="batteries-bulk"),
    path("batteries/<path:identifier>/status/", views.BatteryStatusView.as_view(), name="battery-status"),
    path(
        "batteries/<path:identifier>/grants/<int:organisation_id>/",
        views.GrantRevokeView.as_view(),
        name="battery-grant",
    ),
    path("batteries/<path:identifier>/grants/", views.GrantCreateView.as_view(), name="battery-grants"),
    path(
        "batteries/<path:identifier>/",
        public_cached(views.BatteryDetailView.as_view(), lookup=by_battery_identifier, offers=(JSON, HTML)),
        name="battery-detail",
    ),
    path("passports/<str:passport_id>/versions/", views.PassportVersionsView.as_view(), name="passport-versions"),
    path("passports/<str:passport_id>/verify", views.PassportVerifyView.as_view(), name="passport-verify"),
    path(
        "passports/<str:passport_id>/",
        public_cached(views.PassportDetailView.as_view(), lookup=by_passport_id, offers=(JSON, HTML)),
        name="passport-detail",
    ),
    path("claims/", views.ClaimView.as_view(), name="claims"),
    path("regulator/batteries/", views.RegulatorBatteryListView.as_view(), name="regulator-batteries"),
    # EN 18222-shaped reads and updates.
    path(
        "dpp/product/<path:identifier>/at/<str:moment>",
        views.DppProductAtView.as_view(),
        name="dpp-product-at",
    ),
    path(
        "dpp/product/<path:identifier>",
        public_cached(views.DppProductView.as_view(), lookup=by_battery_identifier, offers=(JSON, HTML)),
        name="dpp-product",
    ),
    path("dpp/<str:passport_id>/elements/<path:path>", views.DppElementView.as_view(), name="dpp-element"),
    path("dpp/<str:passport_id>/versions", views.PassportVersionsView.as_view(), name="dpp-versions"),
    path(
        "dpp/<str:passport_id>",
        public_cached(views.DppPassportView.as_view(), lookup=by_passport_id, offers=(JSON, HTML)),
        name="dpp-passport",
    ),
]
