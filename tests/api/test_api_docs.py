"""/docs and /redoc work with no network: the pages name no external host, every file they load is served
by the app with its content type (api/static/, versions and licences in its README.md), their
Content-Security-Policy allows this origin only, and in a browser that can reach no other host they render
(the session's `browser` fixture: Debian's chromium through Playwright, devtools/browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.core.migrate import migrate_database
from devtools.browser import block_other_hosts

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")
EXPECTED = {
    "/docs": {
        "/static/swagger-ui/swagger-ui-bundle.js": "text/javascript",
        "/static/swagger-ui/swagger-ui.css": "text/css",
        "/static/swagger-ui/favicon-32x32.png": "image/png",
        "/openapi.json": "application/json",
    },
    "/redoc": {
        "/static/redoc/redoc.standalone.js": "text/javascript",
        "/static/swagger-ui/favicon-32x32.png": "image/png",
        "/openapi.json": "application/json",
    },
}


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """The pages do not depend on the database: SQLite only."""
    url = f"sqlite:///{tmp_path / 'settld-api.sqlite3'}"
    migrate_database(url)
    yield url


def references(html: str) -> set[str]:
    """Every URL the page loads: src and href attributes, Swagger UI's `url`, ReDoc's spec-url."""
    found = {first or second for first, second in REFERENCE.findall(html)}
    return found | set(re.findall(r'spec-url="([^"]+)"', html))


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_the_docs_pages_load_only_files_the_app_serves(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), "an external host"
    assert references(html) == set(EXPECTED[page])
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy and "http" not in policy
    for url, content_type in EXPECTED[page].items():
        served = client.get(url)
        assert served.status_code == 200, url
        assert served.headers["content-type"].split(";")[0] == content_type, url
        if url.startswith("/static/"):
            assert served.content == (STATIC / url.removeprefix("/static/")).read_bytes()


def test_the_validator_badge_and_the_fonts_stay_off(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text  # Swagger UI would call validator.swagger.io
    assert "fonts.googleapis.com" not in client.get("/redoc").text


def test_the_vendored_files_carry_their_versions_and_licences() -> None:
    readme = (STATIC / "README.md").read_text()
    assert "swagger-ui-dist" in readme and "5.36.0" in readme and "Apache-2.0" in readme
    assert "`redoc`" in readme and "2.5.4" in readme and "MIT" in readme
    assert "Apache License" in (STATIC / "swagger-ui" / "LICENSE").read_text()
    assert "MIT License" in (STATIC / "redoc" / "LICENSE").read_text()
    # The versions the README names are the files' own.
    assert 'Version: "2.5.4"' in (STATIC / "redoc" / "redoc.standalone.js.LICENSE.txt").read_text()
    assert 'PACKAGE_VERSION:"5.36.0"' in (STATIC / "swagger-ui" / "swagger-ui-bundle.js").read_text()
    assert "swagger-ui" in (STATIC / "swagger-ui" / "NOTICE").read_text()
    assert not (STATIC / "__init__.py").exists()  # not a domain package: api/main.py finds no router there


@pytest.mark.slow
@pytest.mark.parametrize(("page", "rendered"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_the_pages_render_when_no_other_host_is_reachable(
    live_server: str, browser, page: str, rendered: str
) -> None:
    tab = browser.new_page()
    try:
        elsewhere = block_other_hosts(tab, live_server)
        tab.goto(live_server + page)
        tab.wait_for_selector(rendered, timeout=30_000)
        assert "Settld operator API" in tab.inner_text(rendered)
        assert tab.locator("[id^='operations-'], li[data-item-id]").count() >= 10  # the routes are listed
    finally:
        tab.close()
    assert elsewhere == []  # the Content-Security-Policy stops ReDoc's logo before it is even requested
