"""A batch of PDFs renders on every core and gives the same documents, in order."""

from __future__ import annotations

import io

from pypdf import PdfReader

from jof.core import pdf


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_batch_renders_every_document_in_order_on_several_processes():
    htmls = [f"<html><body><h1>Invoice number {i}</h1></body></html>" for i in range(pdf.PARALLEL_FROM + 2)]
    pdfs = pdf.render_pdfs(htmls, workers=2)
    assert len(pdfs) == len(htmls)
    for i, data in enumerate(pdfs):
        assert data.startswith(b"%PDF")
        assert f"Invoice number {i}" in _text(data)


def test_a_small_batch_renders_the_same_as_one_by_one():
    htmls = ["<html><body><p>One</p></body></html>", "<html><body><p>Two</p></body></html>"]
    assert [_text(p) for p in pdf.render_pdfs(htmls)] == [_text(pdf.render_pdf(h)) for h in htmls]


def test_a_batch_reports_its_progress_chunk_by_chunk_up_to_the_whole_batch():
    htmls = [f"<html><body><p>Document {i}</p></body></html>" for i in range(pdf.PARALLEL_FROM + 6)]
    seen: list[tuple[int, int]] = []
    pdfs = pdf.render_pdfs(htmls, workers=2, progress=lambda done, total: seen.append((done, total)))
    assert [f"Document {i}" in _text(p) for i, p in enumerate(pdfs)] == [True] * len(htmls)
    # several reports (one per chunk), rising, the last one the whole batch
    assert len(seen) >= 4 and all(total == len(htmls) for _, total in seen)
    assert [done for done, _ in seen] == sorted({done for done, _ in seen}) and seen[-1][0] == len(htmls)


def test_a_small_batch_reports_each_document():
    seen: list[tuple[int, int]] = []
    pdf.render_pdfs(["<p>One</p>", "<p>Two</p>"], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]
