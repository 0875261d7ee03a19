"""`/docs` (Swagger UI) and `/redoc` (ReDoc) from files the app serves itself, so they work with no network.

FastAPI's default pages load both from a CDN, and ReDoc's also loads Google Fonts: on an operator's laptop
offline, or in a network that blocks those hosts, they were blank. The vendored files live in
`api/static/` (versions and licences in its README.md) and are served under `/static`. The pages carry a
Content-Security-Policy that allows this origin only, so nothing in them reaches another host either (the
ReDoc bundle would fetch its "Redocly" logo from cdn.redoc.ly; blocked, the logo hides itself).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_URL = "/static"
SWAGGER_JS = "swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui/swagger-ui.css"
FAVICON = "swagger-ui/favicon-32x32.png"
REDOC_JS = "redoc/redoc.standalone.js"
# Inline script and styles: FastAPI's pages start Swagger UI inline, ReDoc injects its styles; ReDoc's
# search runs in a worker it builds from a blob; the icons are data: URIs.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


def _same_origin_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


def install_offline_docs(app: FastAPI) -> None:
    """Serve `api/static/` and the two documentation pages (the app is built with docs_url=None and
    redoc_url=None, so FastAPI's CDN pages are not registered)."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")

    def prefix(request: Request) -> str:
        return request.scope.get("root_path", "").rstrip("/")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        static = prefix(request) + STATIC_URL
        return _same_origin_only(
            get_swagger_ui_html(
                openapi_url=prefix(request) + str(app.openapi_url),
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{static}/{SWAGGER_JS}",
                swagger_css_url=f"{static}/{SWAGGER_CSS}",
                swagger_favicon_url=f"{static}/{FAVICON}",
                swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        static = prefix(request) + STATIC_URL
        return _same_origin_only(
            get_redoc_html(
                openapi_url=prefix(request) + str(app.openapi_url),
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{static}/{REDOC_JS}",
                redoc_favicon_url=f"{static}/{FAVICON}",
                with_google_fonts=False,
            )
        )
