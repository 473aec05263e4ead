"""The HTML side of negotiated endpoints: a server-rendered template instead of JSON."""

from rest_framework.renderers import TemplateHTMLRenderer


class PageRenderer(TemplateHTMLRenderer):
    """Renders `Response(context, template_name=...)`; errors render `<status>.html` (or
    `api_exception.html`) with the `errors` list of the error body."""

    exception_template_names = ["%(status_code)s.html", "api_exception.html"]
