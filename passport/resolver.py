"""One address for people and programs: content negotiation between a page and the API, and
the GS1 Digital Link resolver.

A passport's addresses (its page, its battery's address, the GS1 Digital Link in the QR code,
the API's reads) answer HTML to a browser and JSON to a program. The choice is made here, once,
before either side runs: the page is a plain Django view (passport.pages), the JSON answer the
API view, and neither knows about the other.

`?format=html|json|pdf` wins over the Accept header; Accept q-values are respected
(passport.api.negotiation). `application/pdf` is the passport's PDF report
(passport.api.documents.PassportPdfView), in the same reader's view. Writes (PATCH...) always go to the API view.

The Digital Link in the QR code (`/01/<GTIN>[/10/<lot>]/21/<serial>`) is also a GS1-Conformant
Resolver (GS1-Conformant Resolver Standard 1.2, links as in RFC 9264):

- no `linkType`: the passport itself, page or JSON as above (the default link, `gs1:dpp`);
- `?linkType=linkset` (or `all`), or `Accept: application/linkset+json`: the linkset, every link
  this resolver has for the battery, each relation a GS1 Web Vocabulary link type;
- `?linkType=gs1:dpp`: the passport in place; another link type (`gs1:recyclingInfo`,
  `gs1:instructions`, ... compact or as the full vocabulary URI): a 307 redirect to its target,
  the JSON one when the client prefers JSON and there is one;
- a link type this battery has no link of: 404 naming `linkType`.

Every answer carries `Link: <...?linkType=linkset>; rel="linkset"` so a client can discover the
rest. The targets are this service's own addresses, read through the reader's access rights like
any other read: a link to restricted data (dismantling, safety) leads to a 403 for the public.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.encoding import escape_uri_path

from passport.api.documents import PassportPdfView
from passport.api.negotiation import FORMAT_QUERY_PARAM, choose_media_type
from passport.api.views import PassportReadView
from passport.errors import PassportError
from passport.http_errors import error_item, error_items, status_of
from passport.identifiers import digital_link_path
from passport.lookups import PassportLookup
from passport.models import Passport
from passport.pages.common import throttled
from passport.pages.passport import passport_page

HTML = "text/html"
JSON = "application/json"
PDF = "application/pdf"
LINKSET = "application/linkset+json"
FORMATS = {"html": HTML, "json": JSON, "pdf": PDF}

READ_ONLY = ["get", "head", "options"]
READ_WRITE = [*READ_ONLY, "patch"]

View = Callable[..., HttpResponseBase]


def preferred(request: HttpRequest, *, default: str, offered: list[str]) -> str | None:
    """The media type a GET prefers among `offered` (`default` answers `*/*` and no Accept);
    None for other methods and for a `?format=` none of them has."""
    if request.method not in ("GET", "HEAD"):
        return None
    requested = request.GET.get(FORMAT_QUERY_PARAM)
    if requested:
        # An unknown format is the API's to refuse, in its error body.
        return FORMATS.get(requested)
    others = [media_type for media_type in offered if media_type != default]
    return choose_media_type(request.META.get("HTTP_ACCEPT", ""), [default, *others])


def negotiated(
    *, api: View, page: View, default: str, documented: bool = True, pdf: View | None = None
) -> View:
    """A URL's view that hands each request to `page`, to `api` (an APIView's `as_view()`) or,
    when given and asked for, to `pdf`; with `documented`, the OpenAPI schema describes the
    address by `api`."""

    def choose(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        chosen = preferred(request, default=default, offered=[HTML, JSON, *([PDF] if pdf else [])])
        side = pdf if chosen == PDF and pdf is not None else page if chosen == HTML else api
        response = side(request, *args, **kwargs)
        patch_vary_headers(response, ("Accept",))
        return response

    return address_view(choose, documented_by=api if documented else None)


def address_view(view: View, *, documented_by: View | None) -> View:
    """`view` as a URL's view of a shared address. The API view it hands writes to checks CSRF
    itself for session-authenticated writes (the pages only read), so the address is exempt;
    `documented_by` (an APIView's `as_view()`) is what the OpenAPI schema describes it by
    (drf-spectacular finds API views by their `cls` and `initkwargs`)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    if documented_by is not None:
        view.cls = documented_by.cls  # type: ignore[attr-defined]
        view.initkwargs = documented_by.initkwargs  # type: ignore[attr-defined]
    return view


def passport_address(
    lookup: PassportLookup,
    *,
    default: str,
    api_view: type[PassportReadView] = PassportReadView,
    methods: list[str] = READ_ONLY,
    documented: bool = True,
) -> View:
    """An address of a passport: the passport page and the API's read, both resolving the
    passport with `lookup`; `api_view` is a PassportReadView that also takes a write."""
    return negotiated(
        api=api_view.as_view(lookup=lookup, http_method_names=methods),
        page=partial(passport_page, lookup=lookup),
        pdf=PassportPdfView.as_view(lookup=lookup),
        default=default,
        documented=documented,
    )


# --- the GS1 Digital Link resolver -------------------------------------------------------------

GS1_VOCABULARY = "https://gs1.org/voc/"
LINK_TYPE_PARAM = "linkType"
LINKSET_REQUESTS = frozenset({"linkset", "all"})
PASSPORT_LINK_TYPE = "dpp"
# Every battery's Digital Link has a link of each of these types (battery_links), in this order.
LINK_TYPES = (
    PASSPORT_LINK_TYPE,
    "defaultLink",
    "pip",
    "sustainabilityInfo",
    "recyclingInfo",
    "instructions",
    "safetyInfo",
    "certificationInfo",
)


@dataclass(frozen=True)
class Link:
    """One target of a link type: where, as what media type, and what a person reads as its title."""

    link_type: str  # GS1 Web Vocabulary term, e.g. "recyclingInfo"
    href: str
    media_type: str
    title: str


def absolute(path: str) -> str:
    return f"{settings.PASSPORT_BASE_URL}{path}"


def element_url(passport: Passport, key: str) -> str:
    return absolute(reverse("api:dpp-element", kwargs={"passport_id": passport.passport_id, "path": key}))


def battery_links(passport: Passport) -> Iterator[Link]:
    """Every link of a battery's Digital Link, in linkset order (GS1 Web Vocabulary link types).

    The passport (gs1:dpp, also the default link and the product information page), and the parts
    of it that other link types ask for, as a section of the page and as the API's data element."""
    page = absolute(reverse("passport-page", kwargs={"passport_id": passport.passport_id}))
    document = absolute(reverse("api:passport-detail", kwargs={"passport_id": passport.passport_id}))
    service = absolute(f"{reverse('service-lookup')}?q={quote(passport.battery.identifier, safe='')}")
    for link_type in (PASSPORT_LINK_TYPE, "defaultLink", "pip"):
        yield Link(link_type, page, HTML, "Battery passport")
    yield Link(PASSPORT_LINK_TYPE, document, JSON, "Battery passport (data)")
    yield Link("sustainabilityInfo", f"{page}#aspect-CarbonFootprint", HTML, "Carbon footprint")
    yield Link("sustainabilityInfo", element_url(passport, "carbon_footprint_kg_co2e_per_kwh"), JSON,
               "Carbon footprint per kWh")
    yield Link("recyclingInfo", f"{page}#aspect-Circularity", HTML, "Circularity and end of life")
    yield Link("recyclingInfo", element_url(passport, "collection_and_treatment_info"), JSON,
               "Collection and treatment")
    yield Link("instructions", service, HTML, "Repair and dismantling (sign-in: legitimate interest)")
    yield Link("instructions", element_url(passport, "dismantling_documents"), JSON,
               "Dismantling documents (legitimate interest)")
    yield Link("safetyInfo", element_url(passport, "safety_measures"), JSON,
               "Safety measures (legitimate interest)")
    yield Link("certificationInfo", f"{page}#aspect-Labels", HTML, "Labels and conformity")
    yield Link("certificationInfo", element_url(passport, "declaration_of_conformity"), JSON,
               "EU declaration of conformity")


def linkset(anchor: str, links: list[Link]) -> dict[str, Any]:
    """The RFC 9264 JSON linkset of one anchor, relations as full GS1 vocabulary URIs."""
    context: dict[str, Any] = {"anchor": anchor}
    for link in links:
        context.setdefault(GS1_VOCABULARY + link.link_type, []).append(
            {"href": link.href, "type": link.media_type, "title": link.title}
        )
    return {"linkset": [context]}


def link_type_term(requested: str) -> str:
    """`gs1:recyclingInfo` or `https://gs1.org/voc/recyclingInfo` -> `recyclingInfo`."""
    for prefix in ("gs1:", GS1_VOCABULARY, "https://ref.gs1.org/voc/", "http://gs1.org/voc/"):
        if requested.startswith(prefix):
            return requested[len(prefix):]
    return requested


def wants_linkset(request: HttpRequest) -> bool:
    requested = request.GET.get(LINK_TYPE_PARAM)
    if requested is not None:
        return requested in LINKSET_REQUESTS
    accept = request.META.get("HTTP_ACCEPT", "")
    return bool(accept.strip()) and choose_media_type(accept, [HTML, JSON, LINKSET]) == LINKSET


def digital_link_address(lookup: PassportLookup) -> View:
    """A GS1 Digital Link: the passport (page or JSON) by default, its linkset, or one link type."""
    passport_view = passport_address(lookup, default=HTML)

    @throttled
    def linked(request: HttpRequest, **url_arguments: Any) -> HttpResponseBase:
        try:
            passport, _ = lookup(**url_arguments)
            anchor = absolute(digital_link_path(passport.battery.gtin or url_arguments["gtin"],
                                                passport.battery.serial or url_arguments["serial"]))
            links = list(battery_links(passport))
            if wants_linkset(request):
                response: HttpResponseBase = JsonResponse(linkset(anchor, links), content_type=LINKSET)
            else:
                response = redirect_to_link(request, links)
        except PassportError as error:
            response = JsonResponse({"errors": error_items(error)}, status=status_of(error))
        patch_vary_headers(response, ("Accept",))
        return response

    def resolve(request: HttpRequest, **url_arguments: Any) -> HttpResponseBase:
        requested = request.GET.get(LINK_TYPE_PARAM)
        in_place = requested is None or link_type_term(requested) == PASSPORT_LINK_TYPE
        if in_place and not wants_linkset(request):
            response = passport_view(request, **url_arguments)
        else:
            response = linked(request, **url_arguments)
        # The path as sent on the wire (percent-encoded): a header holds no raw newline or non-Latin-1.
        linkset_url = f"{escape_uri_path(request.path)}?{LINK_TYPE_PARAM}=linkset"
        response["Link"] = f'<{linkset_url}>; rel="linkset"; type="{LINKSET}"'
        return response

    return address_view(resolve, documented_by=passport_view)


def redirect_to_link(request: HttpRequest, links: list[Link]) -> HttpResponse:
    """307 to the target of the requested link type in the media type the client prefers; 404
    when the battery has no link of that type (not a malformed request: the linkset says which
    types there are)."""
    requested = request.GET.get(LINK_TYPE_PARAM, "")
    term = link_type_term(requested)
    targets = [link for link in links if link.link_type == term]
    if not targets:
        reason = f"no link of type {requested!r} for this battery; ?{LINK_TYPE_PARAM}=linkset lists them"
        return JsonResponse({"errors": [error_item(LINK_TYPE_PARAM, reason)]}, status=404)
    offered = list(dict.fromkeys(link.media_type for link in targets))
    chosen = choose_media_type(request.META.get("HTTP_ACCEPT", ""), offered) or offered[0]
    target = next(link for link in targets if link.media_type == chosen)
    response = HttpResponse(status=307)
    response["Location"] = target.href
    return response



def resolver_description(request: HttpRequest) -> JsonResponse:
    """/.well-known/gs1resolver: what this resolver answers (GS1-Conformant Resolver Standard,
    the resolver description file): its root, the primary key it resolves (GTIN, AI 01, with a
    serial), and the link types it knows."""
    description = {
        "name": "EU Battery Passport",
        "resolverRoot": settings.PASSPORT_BASE_URL,
        "supportedPrimaryKeys": ["01"],
        "linkTypeDefaultCanBeLinkset": False,
        "supportedLinkType": [
            {"namespace": GS1_VOCABULARY, "prefix": "gs1:", "profile": f"{GS1_VOCABULARY}?show=linktypes"}
        ],
        "linkTypes": [f"gs1:{link_type}" for link_type in LINK_TYPES],
    }
    return JsonResponse(description)
