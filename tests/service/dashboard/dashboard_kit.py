"""Helpers and fixtures of the dashboard's tests (imported by them; no conftest.py): logging in over
HTTP, and a real browser (Playwright driving Debian's Chromium).

* ``login(service, token) -> httpx.Client`` — a client holding a dashboard session cookie.
* ``browser`` — Chromium, headless, with no network but the loopback (every other request fails
  the test that made it, see ``offline_page``).  Missing Chromium is a failure in CI (``CI=true``)
  and a skip elsewhere.
* ``offline_page`` — a new page whose requests to anything but the service are recorded and aborted.
"""

from __future__ import annotations

import os
import pathlib
import re
from urllib.parse import urlsplit

import httpx
import pytest

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = pathlib.Path(__file__).resolve().parents[3] / "docs" / "screenshots"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
LOGIN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(base: str, token: str) -> httpx.Client:
    """An HTTP client logged in to the dashboard with ``token`` (the login form, as a browser sends it)."""
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/dashboard/login")
    csrf = LOGIN_CSRF.search(form.text).group(1)
    done = client.post("/dashboard/login", data={"token": token, "csrf_token": csrf})
    assert done.status_code == 303, done.text
    return client


def page_csrf(html: str) -> str:
    return CSRF_META.search(html).group(1)


@pytest.fixture(scope="session")
def playwright_instance():
    missing = None if CHROMIUM.exists() else f"{CHROMIUM} is missing: apt-get install -y chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        missing = f"playwright is not installed ({exc}): pip install -e '.[test]'"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield b
    b.close()


class OfflinePage:
    """A browser page that may reach only ``base``; anything else is aborted and remembered."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        origin = urlsplit(base).netloc
        self.context.route("**/*", self._route(origin))
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, origin: str):
        def handle(route):
            url = route.request.url
            if urlsplit(url).netloc == origin or url.startswith(("data:", "blob:", "about:")):
                route.continue_()
            else:
                self.outside.append(url)
                route.abort()
        return handle

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def login(self, token: str) -> None:
        self.page.goto(self.base + "/dashboard/login")
        self.page.fill("#token", token)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_url(self.base + "/dashboard/")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def offline_page(browser, service):
    pages: list[OfflinePage] = []

    def make() -> OfflinePage:
        pages.append(OfflinePage(browser, service.base))
        return pages[-1]

    yield make
    for p in pages:
        p.close()
