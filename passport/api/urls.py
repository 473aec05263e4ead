"""/api/v1/ routes. Battery identifiers may contain "/" (ISO/IEC 15459), hence `path:`.

The passport reads answer JSON; a browser asking one of them for HTML gets the passport page
(passport.resolver), as at the passport's own addresses.
"""

from django.urls import path, re_path

from passport import lookups
from passport.api import compliance, handovers, views
from passport.resolver import JSON, READ_WRITE, passport_address

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
        "batteries/<path:identifier>/grants/<str:organisation_id>/",
        views.GrantRevokeView.as_view(),
        name="battery-grant",
    ),
    path("batteries/<path:identifier>/grants/", views.GrantCreateView.as_view(), name="battery-grants"),
    path(
        "batteries/<path:identifier>/",
        passport_address(lookups.BATTERY, default=JSON, api_view=views.BatteryDetailView, methods=READ_WRITE),
        name="battery-detail",
    ),
    path("passports/<str:passport_id>/versions/", views.PassportVersionsView.as_view(), name="passport-versions"),
    path("passports/<str:passport_id>/verify", views.PassportVerifyView.as_view(), name="passport-verify"),
    path(
        "passports/<str:passport_id>/",
        passport_address(lookups.PASSPORT, default=JSON),
        name="passport-detail",
    ),
    path("claims/", views.ClaimView.as_view(), name="claims"),
    path("handovers/", handovers.HandoverListCreateView.as_view(), name="handovers"),
    path("handovers/<int:handover_id>/", handovers.HandoverDetailView.as_view(), name="handover-detail"),
    *(
        path(f"handovers/<int:handover_id>/{decision}/",
             handovers.HandoverDecisionView.as_view(decision=decision), name=f"handover-{decision}")
        for decision in ("accept", "decline", "withdraw")
    ),
    path("compliance/models/<int:model_id>/", compliance.ModelComplianceView.as_view(), name="compliance-model"),
    path(
        "compliance/batteries/<path:identifier>/",
        compliance.BatteryComplianceView.as_view(),
        name="compliance-battery",
    ),
    path("regulator/batteries/", views.RegulatorBatteryListView.as_view(), name="regulator-batteries"),
    # EN 18222-shaped reads and updates.
    path(
        "dpp/product/<path:identifier>/at/<str:moment>",
        passport_address(lookups.DPP_PRODUCT_AT, default=JSON),
        name="dpp-product-at",
    ),
    path(
        "dpp/product/<path:identifier>",
        passport_address(lookups.DPP_PRODUCT, default=JSON),
        name="dpp-product",
    ),
    path("dpp/<str:passport_id>/elements/<path:path>", views.DppElementView.as_view(), name="dpp-element"),
    path("dpp/<str:passport_id>/versions", views.PassportVersionsView.as_view(), name="dpp-versions"),
    path(
        "dpp/<str:passport_id>",
        passport_address(lookups.DPP_PASSPORT, default=JSON, api_view=views.DppPassportView, methods=READ_WRITE),
        name="dpp-passport",
    ),
    # Last: every other address under /api/v1/ answers the API's JSON 404.
    re_path(r"^(?P<unmatched>[\s\S]*)$", views.no_endpoint),
]
