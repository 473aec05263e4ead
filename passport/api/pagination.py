"""Page-number pagination with a caller-chosen page size, capped so one page stays cheap."""

from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500
