"""Report pages whose tables are pictures, as county and town portals publish them: the
report's text as HTML and each table pasted as a screenshot of the Word table.

The screenshots are cut from the sample's PDF (LibreOffice's print of its Word file) at
screen resolution, one per table as it prints, so that a table the print breaks across
two pages comes as two images whose rows continue. Layouts:

    images-tables/   one <img> per table (two where the table runs onto a second page)
    images-tall/     one tall <img> holding every table, where the first table stands

Each folder holds page.html and its images 1.png, 2.png … in page order.
"""

from __future__ import annotations

import html

import pymupdf

from parsers.formats.pdf import _SNAP, _MIN_ROW, _rules
from parsers.grid import find_tables

# a screenshot on a display scaled to 150 % (laptops' default since Windows 10): 10.5 pt
# type is 21 pixels high. At 100 % (96 dpi, 14 pixels) tesseract's Chinese model misreads
# most labels: such pictures are beyond this reader.
SCREEN_DPI = 144
# white around a table's rules, and between tables in a tall image (points)
_MARGIN = 6
_GAP = 24


def table_pieces(pdf_bytes: bytes, dpi: int | None = None) -> list[tuple[int, bytes]]:
    """(rows, PNG) for every table the PDF draws, page by page."""
    document = pymupdf.open(stream=pdf_bytes, filetype="pdf")
    pieces = []
    for page in document:
        for table in find_tables(*_rules(page), snap=_SNAP, min_row_height=_MIN_ROW):
            x0, y0, x1, y1 = table.box
            clip = pymupdf.Rect(x0 - _MARGIN, y0 - _MARGIN, x1 + _MARGIN, y1 + _MARGIN)
            image = page.get_pixmap(dpi=dpi or SCREEN_DPI, clip=clip)
            pieces.append((len(table.rows) - 1, image.tobytes("png")))
    return pieces


def stacked(images: list[bytes], gap: int = _GAP) -> bytes:
    """The images one under the other on white, as one PNG."""
    pixmaps = [pymupdf.Pixmap(image) for image in images]
    width = max(p.width for p in pixmaps)
    height = sum(p.height for p in pixmaps) + gap * (len(pixmaps) - 1)
    tall = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    tall.clear_with(255)
    top = 0
    for pixmap in pixmaps:
        pixmap.set_origin(0, top)
        tall.copy(pixmap, pixmap.irect)
        top += pixmap.height + gap
    return tall.tobytes("png")


def _img(name: str) -> str:
    return f'<p style="text-align:center"><img src="{html.escape(name)}" border="0" /></p>'


def image_pages(sample, pdf_bytes: bytes, page_html, table_rows: dict[str, int]) -> dict:
    """{layout: (page.html bytes, [PNG, …])}. `page_html(sample, tables=…)` draws the page
    with the given HTML in each table's place; `table_rows` is each table's printed row
    count, in page order, which says which pieces make which table."""
    pieces = table_pieces(pdf_bytes)
    by_table: dict[str, list[bytes]] = {}
    remaining = list(pieces)
    for table, rows in table_rows.items():
        taken = 0
        while remaining and taken < rows:
            count, image = remaining.pop(0)
            by_table.setdefault(table, []).append(image)
            taken += count
    if remaining:  # the print does not match the layout: every piece where the first table is
        by_table = {next(iter(table_rows)): [image for _, image in pieces]}
    layouts = {}
    html_of, images = {}, []
    for table in table_rows:
        parts = []
        for image in by_table.get(table, []):
            images.append(image)
            parts.append(_img(f"{len(images)}.png"))
        html_of[table] = "\n".join(parts)
    layouts["images-tables"] = (page_html(sample, tables=html_of), images)
    first = next(iter(table_rows))
    layouts["images-tall"] = (page_html(sample, tables={first: _img("1.png"),
                                                        **{t: "" for t in table_rows if t != first}}),
                              [stacked(images)])
    return layouts
