"""Forms of the HTML pages. They only shape and check input; the services decide."""

from __future__ import annotations

from django import forms

from passport.models import Organisation
from passport.register import MAX_ID, search_range_errors
from passport.vocabulary import LEGITIMATE_INTEREST_KINDS, Category, Chemistry


class LookupForm(forms.Form):
    q = forms.CharField(
        label="Battery identifier, passport identifier or Digital Link",
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "(01)04261234560015(21)VT2501000001 or urn:uuid:…"}),
    )


class ClaimForm(forms.Form):
    identifier = forms.CharField(label="Battery identifier", max_length=200)
    claim_code = forms.CharField(
        label="Claim code", max_length=100, help_text="Printed beside the QR code, e.g. ABCD-EFGH-…"
    )


class GrantForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.filter(kind__in=LEGITIMATE_INTEREST_KINDS).order_by("name"),
        help_text="A repairer, recycler or other service provider acting for you.",
    )


def _blank_choices(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "any"), *choices]


class RegulatorSearchForm(forms.Form):
    """The register search for people: the API's filters (RegulatorFilterSerializer) with widgets;
    the rules they share (id bounds, date ranges) live in passport.register."""

    manufacturer = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(battery_models__isnull=False).distinct().order_by("name"),
        required=False,
        empty_label="any",
    )
    model = forms.IntegerField(label="Model id", required=False, min_value=1, max_value=MAX_ID)
    chemistry = forms.ChoiceField(choices=_blank_choices(Chemistry.choices), required=False)
    category = forms.ChoiceField(choices=_blank_choices(Category.choices), required=False)
    manufactured_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    manufactured_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    registered_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    registered_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        for error in search_range_errors(cleaned):
            self.add_error(error.field, error.reason)
        return cleaned

    def search_filters(self) -> dict:
        """The cleaned filters in the shape of selectors.battery_search (empty ones left out)."""
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}
