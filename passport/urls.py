"""Site routes: the API under /api/v1/, the HTML pages, and the GS1 Digital Link resolver.

A passport's own addresses (/passports/..., /batteries/..., the Digital Link) answer HTML to
browsers and JSON to `Accept: application/json`: passport.resolver hands each request to the page
or to the API view. The Digital Link is also a GS1-Conformant Resolver (`linkType`, linkset).
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from passport import lookups
from passport.pages import home, manufacturer, owners, regulator, service
from passport.pages.common import credentials_guarded
from passport.resolver import HTML, digital_link_address, passport_address, resolver_description

# GS1 Digital Link (GS1 DL 1.2): GTIN-8/12/13/14, optional AI 10 (batch/lot), AI 21 (serial).
# A serial may contain "/" once percent-decoded, so it takes the rest of the path.
GTIN = r"(?P<gtin>(?:\d{8}|\d{12,14}))"
urlpatterns = [
    path("", home.home, name="home"),
    path("api/v1/", include("passport.api.urls")),
    path("login/", credentials_guarded(auth_views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("passports/<str:passport_id>", passport_address(lookups.PASSPORT, default=HTML, documented=False), name="passport-page"),
    path("batteries/<path:identifier>", passport_address(lookups.BATTERY, default=HTML, documented=False), name="battery-page"),
    re_path(
        rf"^01/{GTIN}/10/(?P<lot>[^/]+)/21/(?P<serial>.+)$",
        digital_link_address(lookups.DIGITAL_LINK_WITH_LOT),
        name="digital-link-lot",
    ),
    re_path(
        rf"^01/{GTIN}/21/(?P<serial>.+)$",
        digital_link_address(lookups.DIGITAL_LINK),
        name="digital-link",
    ),
    path(".well-known/gs1resolver", resolver_description, name="gs1-resolver-description"),
    path("my/batteries/", owners.my_batteries, name="my-batteries"),
    path("service/", service.service_lookup, name="service-lookup"),
    path("manufacturer/", manufacturer.manufacturer_dashboard, name="manufacturer-dashboard"),
    path("regulator/", regulator.regulator_search, name="regulator-search"),
]
