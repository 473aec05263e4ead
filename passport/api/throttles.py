"""Throttles whose rate is read on every request.

DRF's stock throttles copy DEFAULT_THROTTLE_RATES into a class attribute at import time, so a
changed setting (a test override, a reloaded configuration) would be ignored. Reading
`api_settings` per request follows the setting, which DRF reloads on `setting_changed`.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def configured_rate(scope: str | None) -> str | None:
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope or "")
    return str(rate) if rate is not None else None


class AnonymousRateThrottle(AnonRateThrottle):
    """Anonymous callers, keyed by client address; scope `anon`."""

    def get_rate(self) -> str | None:
        return configured_rate(self.scope)


class AuthenticatedRateThrottle(UserRateThrottle):
    """Signed-in callers, keyed by user id; scope `user` (a generous ceiling against runaway scripts)."""

    def get_rate(self) -> str | None:
        return configured_rate(self.scope)
