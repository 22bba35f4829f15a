"""The instructor dashboard: server-rendered pages under ``/dashboard`` (and ``/``), the offline API
docs, and their static files.  :func:`mount` adds all of it to the service's app.

* :mod:`.sessions` — login with an instructor token, the session cookie, CSRF.
* :mod:`.queries` — the aggregations, done by the database.
* :mod:`.charts` — inline SVG charts.
* :mod:`.render` — templates, security headers, highlighted source, diffs.
* :mod:`.pages` — the routes.
* :mod:`.docs` — Swagger UI from local files.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from . import docs
from .pages import LoginRequired, PageError, router
from .render import STATIC, page


def mount(app: FastAPI, *, api_prefix: str) -> None:
    """Serve the dashboard, ``/`` and ``{api_prefix}/docs`` from ``app``."""
    app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=str(STATIC)), name="dashboard-static")
    docs.mount(app, api_prefix=api_prefix)

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, _exc: LoginRequired):
        return RedirectResponse("/dashboard/login", status_code=303)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError):
        return page(request, "message.html", status_code=exc.status, title=exc.title, message=exc.message)
