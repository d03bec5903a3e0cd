"""HTML → PDF with WeasyPrint, fetching nothing but JOF's own packaged static files.

WeasyPrint would fetch any URL in the HTML it renders (an HTML-injection-to-SSRF path),
so every render gets a fetcher that serves files under ``jof/static`` by the
``jof-static:`` scheme and refuses everything else. No Flask imports: the billing batch
jobs call this outside a request.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_ROOT = (Path(__file__).resolve().parent.parent / "static").resolve()
SCHEME = "jof-static:"


class RefusedURL(ValueError):
    pass


class StaticOnlyFetcher(URLFetcher):
    """Serves ``jof-static:css/print.css`` from the package; refuses every other URL."""

    def __init__(self):
        super().__init__(fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if not url.startswith(SCHEME):
            self.refused.append(url)
            raise RefusedURL(f"refused to fetch {url!r}: only packaged static files are served")
        relative = url[len(SCHEME):].lstrip("/").split("?")[0].split("#")[0]
        path = (STATIC_ROOT / relative).resolve()
        if STATIC_ROOT not in path.parents or not path.is_file():
            self.refused.append(url)
            raise RefusedURL(f"no packaged static file {relative!r}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})


def render_pdf(html: str) -> bytes:
    """Render our own (autoescaped) template output to PDF bytes."""
    fetcher = StaticOnlyFetcher()
    return HTML(string=html, base_url=SCHEME + "/", url_fetcher=fetcher).write_pdf()
