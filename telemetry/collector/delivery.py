"""Posting one batch to the service, what its answer means, and how long to wait before a retry.

What an answer means (the telemetry HTTP contract, docs/collector.md):

    2xx                     delivered: stored by the service (201), or stored before (200)
    408, 429, 5xx,
    no answer at all        the service is busy, restarting or unreachable: retry later
    413                     too large: split in two and send the halves
    other 4xx, 3xx          refused for good (bad data, wrong or revoked key, battery not bound to
                            this device, unknown battery, a redirect): dead-lettered with the reason,
                            never retried by itself

Retries back off exponentially with jitter ("equal jitter", AWS Architecture Blog, *Exponential
Backoff and Jitter*, 2015): attempt n waits a uniform random time in [c/2, c] with
c = min(max_s, base_s * 2**(n-1)). The random half spreads a fleet of collectors that lost the
service at the same moment, so they do not all come back in the same second; the fixed half keeps
the wait growing. A `Retry-After` in seconds from the service is a lower bound.

HTTP is the standard library's `urllib.request`: nothing to install on the device. Redirects are
not followed: urllib would repeat a POST as a GET without its body.
"""

from __future__ import annotations

import http.client
import random
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import Enum

BATCHES_PATH = "/api/v1/telemetry/batches/"
USER_AGENT = "battery-passport-collector/0.1"
MAX_REASON_CHARS = 2000
MAX_RETRY_AFTER_S = 3600.0


class Verdict(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    TOO_LARGE = "too_large"
    REFUSED = "refused"


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    status: int | None
    reason: str
    retry_after_s: float | None = None


@dataclass(frozen=True)
class Backoff:
    base_s: float = 2.0
    max_s: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.base_s <= self.max_s:
            raise ValueError(f"need 0 < base_s <= max_s, got {self.base_s} and {self.max_s}")

    def delay_s(self, attempt: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1 for the first retry)."""
        ceiling = min(self.max_s, self.base_s * 2.0 ** min(max(attempt, 1) - 1, 60))
        delay = rng.uniform(ceiling / 2, ceiling)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
        return delay


def batches_url(service_url: str) -> str:
    """The batches endpoint under the service's base URL (a full endpoint URL is kept)."""
    base = service_url.rstrip("/")
    if base.endswith(BATCHES_PATH.rstrip("/")):
        return base + "/"
    return base + BATCHES_PATH


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the backoff decides


def _classify(status: int, reason: str, retry_after: str | None) -> Answer:
    if 200 <= status < 300:
        return Answer(Verdict.DELIVERED, status, reason)
    if status in (408, 429) or status >= 500:
        return Answer(Verdict.RETRY, status, reason, _retry_after(retry_after))
    if status == 413:
        return Answer(Verdict.TOO_LARGE, status, reason)
    return Answer(Verdict.REFUSED, status, reason)


def batch_post(url: str, key: str, body: bytes, *, timeout_s: float) -> Answer:
    """POST one gzip JSON batch body; never raises for network or HTTP trouble."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Device {key}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        },
    )
    try:
        with _opener.open(request, timeout=timeout_s) as response:
            text = response.read(MAX_REASON_CHARS).decode("utf-8", "replace")
            return _classify(response.status, text, response.headers.get("Retry-After"))
    except urllib.error.HTTPError as error:
        try:
            text = error.read(MAX_REASON_CHARS).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            text = ""
        if 300 <= error.code < 400:
            text = f"redirected to {error.headers.get('Location')}: use that URL. {text}"
        return _classify(error.code, text or str(error.reason), error.headers.get("Retry-After"))
    except (OSError, http.client.HTTPException) as error:
        # URLError (refused, DNS), timeouts, a connection reset mid-answer: the batch may or may
        # not be stored; resending it under the same id is safe either way.
        return Answer(Verdict.RETRY, None, f"{type(error).__name__}: {error}")
