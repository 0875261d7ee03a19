"""The great-expectations Data Docs render with no network (issue 31).

A small site is built through the real code path (`write_data_docs` on a warehouse loaded from generated
data); no page loads anything from another host, everything a page loads is in the site, the vendored
files are the npm files GX names, and Chromium with every non-file request aborted shows Bootstrap's styles.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from base64 import b64encode
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import great_expectations
import pytest

from devtools.browser import block_other_hosts
from devtools.sample_data import generate_landing_zone
from ingestion.loader import load_landing_zone
from quality.data_docs_offline import STATIC_DIR, VENDORED, localise_site
from quality.raw_suites import write_data_docs
from settld.settings import warehouse_target
from settld.warehouse import connect as connect_warehouse

TENANT = "tnt_acme"
GX_TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
LOADED = {"script": ("src",), "link": ("href",), "img": ("src",)}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data_docs_offline")
    generate_landing_zone(root / "landing", seed=5, tenants=1, periods=("2026-09",))
    load_landing_zone(root / "warehouse.duckdb", root / "landing")
    with connect_warehouse(warehouse_target(str(root / "warehouse.duckdb")), read_only=True) as db:
        index = write_data_docs(root / "docs", warehouse=db, period="2026-09", tenant_id=TENANT)
    return index.parent


class _Loaded(HTMLParser):
    """What a page loads: script src, link href, img src, and url() in its <style> blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.style = tag == "style"
        self.urls += [value for name, value in attrs if name in LOADED.get(tag, ()) and value]
        self.urls += [u for name, value in attrs if name == "style" and value for u in CSS_URL.findall(value)]

    def handle_data(self, data: str) -> None:
        if self.style:
            self.urls += CSS_URL.findall(data)

    def handle_endtag(self, tag: str) -> None:
        self.style = False


def loaded(page: Path) -> list[str]:
    parser = _Loaded()
    parser.feed(page.read_text(encoding="utf-8"))
    return [url for url in parser.urls if not url.startswith("data:")]


def local_file(base: Path, url: str) -> Path:
    return (base.parent / unquote(urlsplit(url).path)).resolve()


def test_no_page_loads_anything_from_another_host(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 9  # the index, four suites, four validations
    external = {(p.relative_to(site).as_posix(), u) for p in pages for u in loaded(p) if urlsplit(u).netloc}
    assert external == set()
    for css in site.rglob("*.css"):  # GX's own stylesheets and the vendored ones
        assert [u for u in CSS_URL.findall(css.read_text()) if urlsplit(u).netloc] == [], css
    # The scripts lost their integrity/crossorigin attributes: with them a file:// page refuses the script.
    index = (site / "index.html").read_text()
    assert "integrity=" not in index and 'crossorigin="anonymous"' not in index
    assert "?d=" not in index  # GX's timestamped logo URL is gone: same site, same bytes


def test_everything_a_page_loads_is_in_the_site(site: Path) -> None:
    stylesheets: set[Path] = set()
    for page in sorted(site.rglob("*.html")):
        urls = loaded(page)
        assert any("static/vendor/bootstrap-4.3.1/bootstrap.min.css" in u for u in urls), page
        for url in urls:
            target = local_file(page, url)
            assert target.is_file(), f"{page.relative_to(site)} loads {url}: missing"
            assert site in target.parents, f"{page.relative_to(site)} loads {url}: outside the site"
            if target.suffix == ".css":
                stylesheets.add(target)
    fonts = set()
    for css in stylesheets:  # Font Awesome's webfonts
        for url in CSS_URL.findall(css.read_text()):
            if not url.startswith("data:"):
                assert local_file(css, url).is_file(), f"{css.relative_to(site)} loads {url}: missing"
                fonts.add(local_file(css, url).name)
    assert {"fa-solid-900.woff2", "fa-brands-400.ttf"} <= fonts


def test_localising_again_changes_no_byte(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    before = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert localise_site(copy) == []
    after = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert after == before
    vendored = {p.relative_to(STATIC_DIR): p.read_bytes() for p in STATIC_DIR.rglob("*") if p.is_file()}
    assert {p: b for p, b in after.items() if p.parts[:2] == ("static", "vendor")} == {
        Path("static", "vendor", p): b for p, b in vendored.items()
    }


def test_the_vendored_files_are_the_ones_gx_names() -> None:
    sums = dict(
        reversed(line.split(maxsplit=1)) for line in (STATIC_DIR / "SHA256SUMS").read_text().splitlines()
    )
    files = {p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*") if p.is_file()}
    assert files - set(sums) == {"README.md", "SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest() == digest, name
    assert set(VENDORED.values()) <= set(sums)
    for folder in {name.split("/")[0] for name in sums}:  # every package has its licence next to it
        assert any(n.startswith(f"{folder}/LICENSE") for n in sums), folder
    readme = (STATIC_DIR / "README.md").read_text()
    assert all(f"`{folder}/`" in readme for folder in {n.split("/")[0] for n in sums})
    # Every resource GX's templates load from a CDN is vendored, and GX's SRI hashes match the copies.
    templates = "\n".join(p.read_text() for p in GX_TEMPLATES.glob("*.j2"))
    named = set(re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="(https://[^"]+)"', templates))
    assert named and named <= set(VENDORED), named - set(VENDORED)
    for url, integrity in re.findall(r'src="(https://[^"]+)" integrity="(sha384-[^"]+)"', templates):
        digest = hashlib.sha384((STATIC_DIR / VENDORED[url]).read_bytes()).digest()
        assert f"sha384-{b64encode(digest).decode()}" == integrity, url


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_pages_render_styled_in_chromium_with_no_network(site: Path, scheme: str, browser) -> None:
    pages = [site / "index.html", *sorted(site.glob("validations/**/*.html"))[:1]]
    failed: list[str] = []
    tab = browser.new_page(color_scheme=scheme)
    try:
        elsewhere = block_other_hosts(tab, "file:")
        tab.on("requestfailed", lambda request: failed.append(request.url))
        for page in pages:
            tab.goto(page.as_uri(), wait_until="load")
            state = tab.evaluate("""() => ({
                navbar: getComputedStyle(document.querySelector('.navbar')).display,
                font: getComputedStyle(document.body).fontFamily,
                scripts: [typeof jQuery, typeof vega, typeof vegaEmbed,
                          !!(window.jQuery && jQuery.fn.bootstrapTable), !!(window.jQuery && jQuery.fn.tooltip)],
                logo: document.querySelector('.navbar-brand img').naturalWidth,
            })""")  # fmt: skip
            assert state["navbar"] == "flex", page  # bootstrap.min.css: .navbar { display: flex }
            assert state["font"].startswith("-apple-system"), page  # Bootstrap's font stack
            assert state["scripts"] == ["function", "object", "function", True, True], page
            assert state["logo"] > 0, page
        tab.goto(pages[0].as_uri(), wait_until="load")
        assert tab.locator(".bootstrap-table").count() >= 1  # bootstrap-table built the index's tables
        assert tab.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
    finally:
        tab.close()
    assert elsewhere == [] and failed == []
