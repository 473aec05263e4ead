"""Forms of the HTML pages. They only shape and check input; the services decide."""

from __future__ import annotations

from django import forms

from passport.models import Organisation
from passport.vocabulary import LEGITIMATE_INTEREST_KINDS


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
