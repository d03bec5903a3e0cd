"""The PDF fetcher serves packaged static files and nothing else (review 7, item 8)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jof.core import pdf


@pytest.fixture
def local_server():
    """A local HTTP server counting every request it gets."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — the http.server API
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


def test_the_fetcher_refuses_network_files_and_escapes_and_serves_packaged_css(local_server, monkeypatch):
    port, hits = local_server
    fetchers: list[pdf.StaticOnlyFetcher] = []
    real = pdf.StaticOnlyFetcher

    def recording():
        fetcher = real()
        fetchers.append(fetcher)
        return fetcher

    monkeypatch.setattr(pdf, "StaticOnlyFetcher", recording)  # the same fetcher, observed
    base = f"http://127.0.0.1:{port}"
    hostile = [f"{base}/x.png", "ftp://127.0.0.1/y.png", "file:///etc/passwd", "/etc/passwd",
               "jof-static:../../setup.cfg", "jof-static:%2e%2e/%2e%2e/setup.cfg", "jof-static:/../../setup.cfg",
               "jof-static:nothing-here.png"]
    html = (
        "<html><head>"
        '<link rel="stylesheet" href="jof-static:jof.css">'
        f"<style>@import url('{base}/imported.css');"
        f"@font-face {{ font-family: X; src: url('{base}/font.woff'); }}"
        "@font-face { font-family: Y; src: url('file:///etc/passwd'); }"
        f"body {{ background: url('{base}/bg.png'); font-family: X, Y; }}</style></head><body><p>Hello</p>"
        + "".join(f'<img src="{u}">' for u in hostile)
        + "</body></html>")
    data = pdf.render_pdf(html)
    assert data.startswith(b"%PDF-")
    assert hits == []  # the local server never heard from WeasyPrint
    refused = set(fetchers[0].refused)
    expected = {f"{base}/imported.css", f"{base}/font.woff", f"{base}/bg.png", *hostile}
    assert expected <= refused, expected - refused
    assert "jof-static:jof.css" not in refused  # the packaged stylesheet was served


def test_the_fetcher_serves_packaged_static_files_only():
    fetcher = pdf.StaticOnlyFetcher()
    served = fetcher.fetch("jof-static:jof.css")
    assert served.read() == (pdf.STATIC_ROOT / "jof.css").read_bytes()
    for url in ("jof-static:../../setup.cfg", "jof-static:%2e%2e/setup.cfg", "jof-static:/../../../etc/passwd",
                "http://127.0.0.1:1/x.png", "file:///etc/passwd", "/etc/passwd", "data:text/plain,hi"):
        with pytest.raises(pdf.RefusedURL):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 7
