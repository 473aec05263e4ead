"""The home page: what the service is, and the lookup by any identifier."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from passport.errors import NotFound
from passport.forms import LookupForm
from passport.pages.common import passport_for_query


def home(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.GET or None)
    if form.is_valid():
        try:
            passport = passport_for_query(form.cleaned_data["q"])
        except NotFound:
            form.add_error("q", "No battery or passport has this identifier.")
            return render(request, "passport/home.html", {"form": form}, status=404)
        return redirect("passport-page", passport_id=passport.passport_id)
    return render(request, "passport/home.html", {"form": form})
