"""Helpers and fixtures of the dashboard's tests (imported by them; no conftest.py): logging in over
HTTP, a service of a module's own, and a real browser (Playwright driving Debian's Chromium).

* ``login(service, token) -> httpx.Client`` — a client holding a dashboard session cookie.
* ``class_service`` (per module) — ``nngrade serve`` with its workers and sandbox on a fresh database
  of the current backend, so a module's class is the whole gradebook.
* ``browser`` — headless Chromium, one per test session.  Missing Chromium (or Playwright) is a
  failure when ``CI`` is set and a skip elsewhere.
* :class:`OfflinePage` — a browser context whose requests to anything but the service are recorded
  and aborted, with its dialogs, errors and every request recorded too.
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
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


class OfflinePage:
    """A browser page that may reach only ``base``: anything else is aborted and remembered, as are
    every request, dialog, uncaught error and console error (a CSP violation is one)."""

    def __init__(self, browser, base: str, shots: pathlib.Path):
        self.base = base
        self.shots = shots
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.confirms: list[str] = []
        self.errors: list[str] = []
        self._accept_confirm = False
        origin = urlsplit(base).netloc
        self.context.route("**/*", self._route(origin))
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

    def _route(self, origin: str):
        def handle(route):
            url = route.request.url
            self.requests.append(url)
            if urlsplit(url).netloc == origin or url.startswith(("data:", "blob:", "about:")):
                route.continue_()
            else:
                self.outside.append(url)
                route.abort()
        return handle

    def _dialog(self, dialog) -> None:
        if dialog.type == "confirm" and self._accept_confirm:
            self._accept_confirm = False
            self.confirms.append(dialog.message)
            dialog.accept()
            return
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def accept_next_confirm(self) -> None:
        """The page's next ``confirm()`` (a form's "are you sure") is answered yes; any other dialog is
        recorded in :attr:`dialogs` and dismissed."""
        self._accept_confirm = True

    def goto(self, path: str):
        """Open ``path`` of the service; returns Playwright's response (headers, status)."""
        return self.page.goto(self.base + path)

    def login(self, token: str) -> None:
        self.goto("/dashboard/login")
        self.page.fill("#token", token)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_url(self.base + "/dashboard/")

    def screenshot(self, name: str, *, full_page: bool = True) -> pathlib.Path:
        """Save the page as ``<name>.png``, once it is sure not to be wider than the window."""
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{self.page.url} is {overflow} px wider than the window"
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        self.context.close()


def screenshot_dir(tmp_path_factory) -> pathlib.Path:
    """``docs/screenshots`` when ``NNGRADE_SCREENSHOTS`` is set (the README's images), else a temporary folder."""
    return SCREENSHOTS if os.environ.get("NNGRADE_SCREENSHOTS") else tmp_path_factory.mktemp("screenshots")


def _service_conftest(config: pytest.Config):
    """``tests/service/conftest.py`` as pytest loaded it (found by file: its module name, ``conftest``,
    is shared with ``tests/conftest.py``)."""
    path = pathlib.Path(__file__).resolve().parents[1] / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        if pathlib.Path(getattr(plugin, "__file__", None) or "/").resolve() == path:
            return plugin
    raise AssertionError(f"{path} is not loaded")


@pytest.fixture(scope="module")
def class_service(request, backend, tmp_path_factory):
    """A service of its own for one module, on a fresh database of ``backend``: a class whose
    gradebook and mistakes no other test touches."""
    conftest = _service_conftest(request.config)
    url = conftest.new_database(backend, tmp_path_factory, request)
    svc = conftest.Service(tmp_path_factory.mktemp("class-service"), url, rate_limit=0).start()
    yield svc
    svc.stop()
