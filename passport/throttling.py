"""The budget for trying secrets: passwords (the token endpoint, /login/) and claim codes (the
API's claims, the claim form) share one count per client address.

A guessed password or claim code is worth an attacker's thousands of tries, and the ordinary
anonymous budget (120 requests a minute) let 150 wrong passwords through in 29 s. These four
doors count together, per address, whether or not the caller is signed in (a claim is made
signed in; one attacker may hold many accounts): CREDENTIALS_THROTTLE_RATE, 30 a minute by
default, far above what a person mistyping needs.
"""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class CredentialsRateThrottle(SimpleRateThrottle):
    scope = "credentials"

    def get_rate(self) -> str | None:
        # Read per request, as passport.api.throttles does: a changed setting applies at once.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate is not None else None

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
