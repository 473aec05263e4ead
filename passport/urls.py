"""Site routes: the API under /api/v1/, the HTML pages, and the GS1 Digital Link resolver.

The passport pages and the Digital Link answer HTML to browsers and JSON to
`Accept: application/json` (passport.api.negotiation).
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from passport import views
from passport.api import views as api_views
from passport.pages import regulator
from passport.public_cache import (
    HTML,
    JSON,
    by_battery_identifier,
    by_digital_link,
    by_passport_id,
    public_cached,
)

# GS1 Digital Link (GS1 DL 1.2): GTIN-8/12/13/14, optional AI 10 (batch/lot), AI 21 (serial).
# A serial may contain "/" once percent-decoded, so it takes the rest of the path.
GTIN = r"(?P<gtin>(?:\d{8}|\d{12,14}))"

urlpatterns = [
    path("", views.home, name="home"),
    path("api/v1/", include("passport.api.urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "passports/<str:passport_id>",
        public_cached(views.PassportPage.as_view(), lookup=by_passport_id, offers=(HTML, JSON)),
        name="passport-page",
    ),
    path(
        "batteries/<path:identifier>",
        public_cached(views.BatteryPage.as_view(), lookup=by_battery_identifier, offers=(HTML, JSON)),
        name="battery-page",
    ),
    re_path(
        rf"^01/{GTIN}/10/(?P<lot>[^/]+)/21/(?P<serial>.+)$",
        public_cached(api_views.DigitalLinkWithLotView.as_view(), lookup=by_digital_link, offers=(HTML, JSON)),
        name="digital-link-lot",
    ),
    re_path(
        rf"^01/{GTIN}/21/(?P<serial>.+)$",
        public_cached(api_views.DigitalLinkView.as_view(), lookup=by_digital_link, offers=(HTML, JSON)),
        name="digital-link",
    ),
    path("my/batteries/", views.my_batteries, name="my-batteries"),
    path("service/", views.service_lookup, name="service-lookup"),
    path("manufacturer/", views.manufacturer_dashboard, name="manufacturer-dashboard"),
    path("regulator/", regulator.regulator_search, name="regulator-search"),
]
