"""Browser tests: Playwright for Python driving Debian's Chromium, headless, against the live
test server on 127.0.0.1.

No browser is downloaded (`playwright install` is never run): the system's Chromium at
/usr/bin/chromium is launched by path; without it, or without the playwright package, every
browser test is skipped with the reason printed. Screenshots go to var/screenshots/ (or
$SCREENSHOT_DIR), full pages, on a desktop and on a phone viewport.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "var" / "screenshots"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 20_000


def _unavailable() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and shutil.which(CHROMIUM) is None:
        return f"no Chromium at {CHROMIUM} (install Debian's chromium package; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _unavailable()
    if reason is not None:
        print(f"\nbrowser tests skipped: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the live server and the test's
    # own database calls are ordinary synchronous Django, which only sees that loop. Only for
    # this module: other tests in the same worker start subprocesses (`check --deploy` refuses
    # the variable) and must not inherit it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    # Only the test server: a page that asked for anything else would be a bug (no CDN).
    outside: list[str] = []

    def only_loopback(route: Any) -> None:
        url = route.request.url
        if url.startswith(live_server.url) or url.startswith("data:"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", only_loopback)
    tab = context.new_page()
    yield tab
    context.close()
    assert outside == [], f"the pages asked for addresses outside the site: {outside}"


def screenshot(page: Any, name: str, *, phone: bool = False) -> Path:
    """A full-page screenshot, and with `phone` one more at a phone's width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if phone:
        size = page.viewport_size
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
        assert_fits_the_width(page)
        page.set_viewport_size(size)
    return path


# The elements that stick out on the right, outside the tables that scroll on their own.
WIDER_THAN_THE_WINDOW = """() => {
  const width = window.innerWidth, found = [];
  for (const element of document.querySelectorAll("body *")) {
    const right = element.getBoundingClientRect().right;
    if (right > width + 1 && !element.closest(".table-scroll")) found.push(`${element.tagName}.${element.className} ${Math.round(right)}px`);
  }
  return found.slice(0, 10);
}"""


def assert_fits_the_width(page: Any) -> None:
    """Nothing runs off the side: the page is no wider than the window (tables scroll or fold)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the window: {page.evaluate(WIDER_THAN_THE_WINDOW)}"


def sign_in(page: Any, username: str) -> None:
    """Through the login form, as a person does (test passwords are pw-<username>)."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"pw-{username}")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
