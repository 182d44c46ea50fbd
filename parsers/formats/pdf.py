"""PDF with a text layer, read with PyMuPDF: tables rebuilt from their ruling lines and
characters (`grid`), the rest as text lines, in reading order; pages without usable text
go to OCR."""

from __future__ import annotations

import re

import pymupdf

from ..errors import ReportParseError
from ..limits import MAX_PDF_PAGES
from ..grid import Glyph, Segment, fill, find_tables, ruling_segments
from ..rows import Extracted, Row, grid_rows, merge_cell_runs
from ..metadata import extract_metadata

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

_PAGE_NUMBER = re.compile(r"^[\s\-—–－·•]*(?:第\s*)?\d{1,3}(?:\s*页)?(?:\s*/\s*(?:共\s*)?\d{1,3}\s*页?)?[\s\-—–－·•]*$")
# a page whose text is mostly these is unreadable (fonts without a ToUnicode map)
_GARBAGE = re.compile(r"\(cid:\d+\)|\ufffd")
# ruling lines closer than this (points) are one line; rows lower than this are not rows
_SNAP = 2.0
_MIN_ROW = 6.0
# a filled rectangle thinner than this (points) is drawn as a line
_THIN = 2.5


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


def _rules(page) -> tuple[list[Segment], list[Segment]]:
    """The page's ruling lines: drawn lines, thin rectangles, and the edges of stroked
    rectangles (cells drawn one by one)."""
    pieces = []
    for path in page.get_cdrawings():
        stroked = "s" in path.get("type", "")
        for item in path["items"]:
            if item[0] == "l":
                (x0, y0), (x1, y1) = item[1], item[2]
                pieces.append((x0, y0, x1, y1))
            elif item[0] in ("re", "qu"):
                if item[0] == "re":
                    x0, y0, x1, y1 = item[1]
                else:
                    xs = [point[0] for point in item[1]]
                    ys = [point[1] for point in item[1]]
                    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
                if min(x1 - x0, y1 - y0) <= _THIN:
                    pieces.append((x0, y0, x1, y1))
                elif stroked:
                    pieces += [(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)]
    return ruling_segments(pieces, _THIN)


def _glyphs(page, textpage) -> list[Glyph]:
    glyphs = []
    for block in page.get_text("rawdict", textpage=textpage)["blocks"]:
        for line in block.get("lines", []):
            for span in line["spans"]:
                for char in span["chars"]:
                    if not char["c"].isspace():
                        glyphs.append(Glyph(char["c"], *char["bbox"]))
    return glyphs


def _page_rows(page, textpage, block_base: int) -> tuple[list[Row], int]:
    """Rows of one page in reading order: table rows and text lines, by their top edge."""
    placed: list[tuple[float, float, Row]] = []
    tables = find_tables(*_rules(page), snap=_SNAP, min_row_height=_MIN_ROW)
    if tables:
        glyphs = _glyphs(page, textpage)
        for number, table in enumerate(tables):
            cells, _used, _boxes = fill(table, glyphs)
            for index, row in enumerate(grid_rows(cells, block_base + number)):
                placed.append((table.rows[0], index, row))
    height = page.rect.height
    for x0, y0, x1, y1, block_text, _no, kind in page.get_text("blocks", textpage=textpage):
        if kind != 0:
            continue
        if any(table.contains((x0 + x1) / 2, (y0 + y1) / 2) for table in tables):
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
    # each page's text is laid out once and read three ways (its text, its glyphs, its
    # blocks); the page objects are kept, as a text page belongs to the one it was made from
    pages_read = [document[i] for i in range(pages)]
    textpages = [page.get_textpage(flags=pymupdf.TEXTFLAGS_TEXT) for page in pages_read]
    texts = [page.get_text("text", textpage=textpage) for page, textpage in zip(pages_read, textpages)]
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
        page_rows, blocks = _page_rows(pages_read[number], textpages[number], blocks)
        rows.extend(page_rows)
    text = "\n".join(texts)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    hints = [document.metadata.get("title") or ""]
    return Extracted("pdf", merge_cell_runs(rows), text.strip(),
                     extract_metadata(lines[:40]), [h for h in hints if h], warnings=warnings)
