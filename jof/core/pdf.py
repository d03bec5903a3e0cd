"""HTML → PDF with WeasyPrint, fetching nothing but JOF's own packaged static files.

WeasyPrint would fetch any URL in the HTML it renders (an HTML-injection-to-SSRF path),
so every render gets a fetcher that serves files under ``jof/static`` by the
``jof-static:`` scheme and refuses everything else. No Flask imports: the billing batch
jobs call this outside a request.
"""

from __future__ import annotations

import mimetypes
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
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


_local = threading.local()


def _font_config() -> FontConfiguration:
    """This thread's font configuration, kept from one render to the next: WeasyPrint
    builds a new one per document otherwise, which re-reads fontconfig's list of fonts
    (about a tenth of an invoice's render here). A forked helper process builds its own."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.font_config, _local.pid = FontConfiguration(), os.getpid()
    return _local.font_config


def render_pdf(html: str) -> bytes:
    """Render our own (autoescaped) template output to PDF bytes."""
    fetcher = StaticOnlyFetcher()
    return HTML(string=html, base_url=SCHEME + "/", url_fetcher=fetcher).write_pdf(font_config=_font_config())


#: Below this many documents a batch renders in this process: starting the helper
#: processes (each imports WeasyPrint, ~1 s) costs more than it saves.
PARALLEL_FROM = 6


def _render_chunk(htmls: list[str]) -> list[bytes]:
    return [render_pdf(h) for h in htmls]


#: How many times a batch reports its progress while it renders (each report is a chunk).
PROGRESS_STEPS = 4


def render_pdfs(htmls: list[str], workers: int | None = None, progress=None) -> list[bytes]:
    """Render a batch, in order, on every core, with one pool of helper processes for the
    whole batch: each helper renders chunk after chunk and keeps WeasyPrint's fonts warm
    from one document to the next. The batch is cut into ``PROGRESS_STEPS`` chunks per
    core, so ``progress(done, total)`` is called as chunks come back, in order. A
    single-threaded caller (the RQ worker, the command line) forks, so the helpers start
    with WeasyPrint loaded; a threaded one (a web process's job thread) spawns fresh
    processes, since forking a threaded process copies locks held by other threads.
    Small batches and one-core machines render here, one by one."""
    total = len(htmls)
    workers = min(workers or os.cpu_count() or 1, total)
    if workers < 2 or total < PARALLEL_FROM:
        out = []
        for h in htmls:
            out.append(render_pdf(h))
            if progress:
                progress(len(out), total)
        return out
    size = max(1, -(-total // (workers * PROGRESS_STEPS)))
    chunks = [htmls[i:i + size] for i in range(0, total, size)]
    method = "fork" if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods() else "spawn"
    out: list[bytes] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        for chunk in pool.map(_render_chunk, chunks):
            out.extend(chunk)
            if progress:
                progress(len(out), total)
    return out
