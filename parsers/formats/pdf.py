"""PDF with a text layer, read with PyMuPDF: ruled tables through its table finder, the
rest as text lines, both in reading order; pages without usable text go to OCR."""

from __future__ import annotations

import re

import pymupdf

from ..errors import ReportParseError
from ..limits import MAX_PDF_PAGES
from ..rows import Extracted, Row, merge_cell_runs
from ..metadata import extract_metadata

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)
pymupdf.no_recommend_layout()  # it prints to stdout, where `python -m parsers` writes JSON

_PAGE_NUMBER = re.compile(r"^[\s\-—–－·•]*(?:第\s*)?\d{1,3}(?:\s*页)?(?:\s*/\s*(?:共\s*)?\d{1,3}\s*页?)?[\s\-—–－·•]*$")
# a page whose text is mostly these is unreadable (fonts without a ToUnicode map)
_GARBAGE = re.compile(r"\(cid:\d+\)|\ufffd")
# pages worth the table finder: they print one of these
_TABLE_WORDS = ("信息内容", "第二十条", "申请人", "自然人", "行政复议", "结果维持", "予以公开", "规章")


def open_pdf(body: bytes) -> pymupdf.Document:
    try:
        document = pymupdf.open(stream=body, filetype="pdf")
    except Exception as error:  # MuPDF raises its own error types for broken files
        raise ReportParseError(f"PDF cannot be opened: {error}", "pdf") from None
    if document.needs_pass:
        raise ReportParseError("PDF is encrypted with a password", "pdf")
    if document.page_count == 0:
        raise ReportParseError("PDF has no pages", "pdf")
    return document


def page_text_usable(text: str) -> bool:
    letters = sum(1 for ch in text if not ch.isspace())
    return letters >= 20 and len(_GARBAGE.findall(text)) * 4 < letters


def _page_rows(page, block_base: int) -> tuple[list[Row], int]:
    """Rows of one page in reading order: table rows and text lines, by their top edge."""
    placed: list[tuple[float, float, Row]] = []
    table_boxes = []
    text = page.get_text("text")
    tables = []
    if any(word in text for word in _TABLE_WORDS):
        try:
            tables = page.find_tables().tables
        except Exception:  # the table finder gives up on odd drawings; the text remains
            tables = []
    for number, table in enumerate(tables):
        box = pymupdf.Rect(table.bbox)
        table_boxes.append(box)
        for index, cells in enumerate(table.extract()):
            # None: a position covered by a merged cell
            line = [(c or "").strip() for c in cells]
            merged = frozenset(i for i, c in enumerate(cells) if c is None)
            placed.append((box.y0, index, Row(line, block_base + number, merged)))
    height = page.rect.height
    for x0, y0, x1, y1, block_text, _no, kind in page.get_text("blocks"):
        if kind != 0:
            continue
        centre = pymupdf.Point((x0 + x1) / 2, (y0 + y1) / 2)
        if any(centre in box for box in table_boxes):
            continue
        lines = [line.strip() for line in block_text.splitlines() if line.strip()]
        edge = y1 < height * 0.1 or y0 > height * 0.9
        for index, line in enumerate(lines):
            if edge and _PAGE_NUMBER.match(line):
                continue  # a page number, not a figure
            placed.append((y0, index, Row([line])))
    placed.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in placed], block_base + len(tables)


def read_pdf(body: bytes) -> Extracted:
    document = open_pdf(body)
    warnings = []
    pages = min(document.page_count, MAX_PDF_PAGES)
    if document.page_count > MAX_PDF_PAGES:
        warnings.append(f"only the first {MAX_PDF_PAGES} of {document.page_count} pages were read")
    texts = [document[i].get_text("text") for i in range(pages)]
    usable = [page_text_usable(t) for t in texts]
    if not any(usable):
        from .ocr import read_scanned_pdf  # OCR only when the text layer fails
        return read_scanned_pdf(document, warnings)
    rows: list[Row] = []
    blocks = 0
    for number in range(pages):
        if not usable[number]:
            warnings.append(f"page {number + 1} has no readable text layer")
            continue
        page_rows, blocks = _page_rows(document[number], blocks)
        rows.extend(page_rows)
    text = "\n".join(texts)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    hints = [document.metadata.get("title") or ""]
    return Extracted("pdf", merge_cell_runs(rows), text.strip(),
                     extract_metadata(lines[:40]), [h for h in hints if h], warnings=warnings)
