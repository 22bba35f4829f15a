"""``/api/v1/docs``: Swagger UI served from the files of the ``fastapi-swagger`` package (only its
files: a Swagger UI 5 that reads the OpenAPI 3.1 schema FastAPI writes), so the API's interactive
documentation works on a machine without internet.  The page loads no script of a CDN, starts
Swagger UI from a file (no inline script) and turns off its online validator.  No ReDoc."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from .render import CSP, SECURITY_HEADERS, env

SWAGGER_UI = resources.files("fastapi_swagger.resources")

#: Swagger UI sets styles from its scripts; scripts stay 'self' only.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def mount(app: FastAPI, *, api_prefix: str) -> None:
    assets = f"{api_prefix}/docs/assets"
    router = APIRouter(include_in_schema=False)

    @router.get(f"{api_prefix}/docs")
    def swagger_ui(request: Request) -> HTMLResponse:
        html = env.get_template("docs.html").render(request=request, title=f"{app.title} API", assets=assets,
                                                    openapi_url=app.openapi_url)
        return HTMLResponse(html, headers={**SECURITY_HEADERS, "Content-Security-Policy": DOCS_CSP})

    app.include_router(router)
    app.mount(assets, StaticFiles(directory=str(SWAGGER_UI)), name="swagger-ui")
