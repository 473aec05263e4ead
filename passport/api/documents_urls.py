"""Routes of the documents package: exports, import, QR codes and labels under /api/v1/, the
JWKS under /.well-known/ and our JSON Schemas under /schemas/. Included before passport.urls
so that `batteries/<path:identifier>/qr.<kind>` is not read as part of an identifier."""

from django.http import Http404
from django.urls import path, re_path

from passport.api import documents
from passport.errors import NotFound


def _not_found_as_404(view):
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error)) from error

    return wrapped


urlpatterns = [
    path(".well-known/jwks.json", documents.jwks_document, name="jwks"),
    re_path(r"^schemas/passport/v1/(?P<view>[a-z]+)\.json$",
            _not_found_as_404(documents.passport_schema_document), name="passport-schema"),
    path("api/v1/passports/import", documents.PassportImportView.as_view(), name="passport-import"),
    path("api/v1/passports/<str:passport_id>/export", documents.PassportExportView.as_view(),
         name="passport-export"),
    path("api/v1/passports/<str:passport_id>/export/signature", documents.PassportPdfSignatureView.as_view(),
         name="passport-pdf-signature"),
    re_path(r"^api/v1/batteries/(?P<identifier>.+)/qr\.(?P<kind>svg|png)$", documents.BatteryQrView.as_view(),
            name="battery-qr"),
    path("api/v1/labels/", documents.LabelSheetView.as_view(), name="label-sheet"),
]
