"""Great Expectations Data Docs that render with no network.

GX's page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and friends from CDNs and
the logo from GX's S3 bucket, so an analyst opening a site offline sees an unstyled page. `localise_site`
runs after GX has built a site: it copies those files, vendored in `data_docs_static/` (from the npm
registry; versions, sources and licences in its README), into `<site>/static/vendor/` and rewrites every
loaded resource in every page and stylesheet of the site to the local file, relative to that page.

Links that only navigate (the GX newsletter, greatexpectations.io, GX's docs) stay links. The rewrite
depends only on a file's bytes and its place in the site, so the same site gives the same bytes, and
running it twice changes nothing the second time.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from settld.core import atomic_write

STATIC_DIR = Path(__file__).resolve().parent / "data_docs_static"
SITE_VENDOR_DIR = "static/vendor"  # in the site, next to the `static/images` GX copies there itself
SITE_IMAGES_DIR = "static/images"

# Every external URL GX 1.x's templates load -> the vendored file (a path under data_docs_static/).
VENDORED: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.0/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.0/bootstrap-table-filter-control.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome-free-6.6.0/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/vega-embed.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark-1.1.0/bootstrap-prefers-dark.css",
}  # fmt: skip

# GX's logo from its S3 bucket (with a `?d=<timestamp>` GX appends) -> the copy GX ships and writes into every
# site's static/images. The dark-mode logo exists only on S3: dark mode shows the same logo.
_GX_ASSETS = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/(?:logo-long|full_logo_dark)\.png"
    r"(?:\?d=[^\"'\s)<>]*)?"
)
# A known URL only where it ends (a quote, space, ")" or ">" follows), longest first.
_KNOWN = re.compile(
    "(?:" + "|".join(re.escape(url) for url in sorted(VENDORED, key=len, reverse=True)) + r")(?=[\"'\s)>])"
)
# GX's own static files, referenced from a page at a depth GX sometimes gets wrong (its validation pages'
# favicon is one "../" short): every such reference is rewritten to the page's real depth.
_GX_STATIC = re.compile(r"""(?<=["'(])(?:\./|(?:\.\./)+)?static/(images|styles|fonts)/""")
# Subresource-integrity and CORS attributes make a browser refuse a file:// script: dropped where the URL is
# local. (The vendored files' hashes equal GX's sha384 values; the tests check it.)
_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.IGNORECASE)
_SRI_ATTRIBUTES = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"', re.IGNORECASE)
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", re.IGNORECASE)
# Attributes through which a page loads something (anchors only navigate).
_LOADED = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}

log = logging.getLogger(__name__)


def localise_site(site: Path) -> list[str]:
    """Make the GX Data Docs site in `site` render offline; returns what still loads from outside (nothing).

    Copies the vendored files to `<site>/static/vendor/` (replacing an earlier copy) and rewrites each
    `.html` and `.css` file of the site. A resource the vendored set does not cover (a newer GX template)
    is left as it is, logged and returned.
    """
    site = Path(site).resolve()
    vendor = site / SITE_VENDOR_DIR
    shutil.rmtree(vendor, ignore_errors=True)
    shutil.copytree(STATIC_DIR, vendor, ignore=shutil.ignore_patterns("__pycache__"))
    leftovers: set[str] = set()
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".css") or vendor in path.parents or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new = localise_text(text, _relative_root(site, path), html=path.suffix == ".html")
        if new != text:
            atomic_write(path, new.encode("utf-8"))
        found = external_resources(new) if path.suffix == ".html" else external_css_urls(new)
        leftovers.update(found)
    if leftovers:
        log.warning("Data Docs in %s still load from the network: %s", site, ", ".join(sorted(leftovers)))
    return sorted(leftovers)


def localise_text(text: str, root: str, *, html: bool = True) -> str:
    """A page or stylesheet with every known external resource pointing into the site at `root`
    (the relative path from the file to the site's root: "" or "../../"); in a page, GX's own static
    files at the page's real depth too."""
    text = _KNOWN.sub(lambda m: f"{root}{SITE_VENDOR_DIR}/{VENDORED[m.group(0)]}", text)
    text = _GX_ASSETS.sub(f"{root}{SITE_IMAGES_DIR}/logo-long.png", text)
    if not html:
        return text
    text = _GX_STATIC.sub(lambda m: f"{root}static/{m.group(1)}/", text)
    return _TAG.sub(_drop_sri_if_local, text)


def _drop_sri_if_local(match: re.Match[str]) -> str:
    tag = match.group(0)
    url = re.search(r'\s(?:src|href)="([^"]*)"', tag)
    if url is None or _EXTERNAL.match(url.group(1)):
        return tag
    return _SRI_ATTRIBUTES.sub("", tag)


def _relative_root(site: Path, path: Path) -> str:
    relative = Path(os.path.relpath(site, path.parent)).as_posix()
    return "" if relative == "." else f"{relative}/"


# ---------------------------------------------------------------------------------------------------------
# What a page loads


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if not value:
                continue
            if name in _LOADED.get(tag, ()):
                self.urls.extend(_split_srcset(value) if name == "srcset" else [value.strip()])
            elif name == "style":
                self.urls.extend(css_urls(value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(css_urls(data))


def _split_srcset(value: str) -> list[str]:
    return [part.split()[0] for part in value.split(",") if part.strip()]


def loaded_resources(html: str) -> list[str]:
    """Every URL a page loads: script, stylesheet, image, frame and media sources, and CSS url() in its
    <style> blocks and style attributes (not what linked stylesheets load in turn)."""
    parser = _Resources()
    parser.feed(html)
    parser.close()
    return [url for url in parser.urls if url and not url.startswith(("data:", "#"))]


def css_urls(css: str) -> list[str]:
    return [m.group(2).strip() for m in _CSS_URL.finditer(css) if not m.group(2).startswith("data:")]


def is_external(url: str) -> bool:
    """An absolute URL (with a scheme or protocol-relative) reaches outside the site."""
    return bool(_EXTERNAL.match(url))


def external_resources(html: str) -> list[str]:
    return sorted({url for url in loaded_resources(html) if is_external(url)})


def external_css_urls(css: str) -> list[str]:
    return sorted({url for url in css_urls(css) if is_external(url)})
