"""OFD (GB/T 33190): a zip of XML pages whose text and ruling lines are positioned
objects, read straight from the XML into the grid reader PDFs use.

OFD.xml names the document (DocBody/DocRoot); its Document.xml lists the pages
(Pages/Page@BaseLoc) and their size (PhysicalBox, in millimetres). A page's Content.xml
holds layers of `TextObject`s (a box, an optional CTM, a font size, and `TextCode`s whose
characters advance by DeltaX, `g N v` meaning N steps of v) and `PathObject`s (a box, an
optional CTM and `AbbreviatedData`: M/S move, L line, B/Q/A curves, C close). Positions are
turned into points so that the PDF reader's tolerances hold.

No maintained Python OFD library gives text positions without rendering the page (easyofd
draws pages through reportlab and OpenCV); the XML is small and the format is standard.
"""

from __future__ import annotations

import posixpath
import re

from lxml import etree

from ..errors import ReportParseError
from ..grid import Glyph, fill, find_tables, join_text, ruling_segments, text_lines
from ..limits import MAX_PDF_PAGES
from ..metadata import extract_metadata
from ..rows import Extracted, Row, merge_cell_runs, page_rows
from .docx import check_zip
# the PDF reader's tolerances (points): positions are turned into points to share them
from .pdf import _MIN_ROW, _SNAP, _THIN

POINTS_PER_MM = 72 / 25.4
# a page holding more objects than this is not a report page
MAX_PAGE_OBJECTS = 200_000
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_comments=True)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?")


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element, name: str):
    return [child for child in element if _local(child) == name]


def _first(element, *path: str):
    for name in path:
        found = _children(element, name) if element is not None else []
        element = found[0] if found else None
    return element


def _numbers(text: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text or "")]


def _deltas(text: str | None) -> list[float]:
    """DeltaX/DeltaY: numbers, `g N v` standing for N times v."""
    values: list[float] = []
    tokens = (text or "").split()
    index = 0
    while index < len(tokens):
        if tokens[index] == "g" and index + 2 < len(tokens):
            values += [float(tokens[index + 2])] * int(float(tokens[index + 1]))
            index += 3
            continue
        try:
            values.append(float(tokens[index]))
        except ValueError:
            pass
        index += 1
    return values


class _Transform:
    """An object's CTM followed by its Boundary's offset, then millimetres to points."""

    def __init__(self, element):
        box = _numbers(element.get("Boundary")) + [0, 0, 0, 0]
        ctm = _numbers(element.get("CTM"))
        self.a, self.b, self.c, self.d, self.e, self.f = ctm if len(ctm) == 6 else (1, 0, 0, 1, 0, 0)
        self.x, self.y = box[0], box[1]
        self.scale = abs(self.a * self.d - self.b * self.c) ** 0.5 or 1.0

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        return ((self.a * x + self.c * y + self.e + self.x) * POINTS_PER_MM,
                (self.b * x + self.d * y + self.f + self.y) * POINTS_PER_MM)


def _text_glyphs(element) -> list[Glyph]:
    place = _Transform(element)
    size = (float(element.get("Size") or 3.5)) * place.scale * POINTS_PER_MM
    glyphs = []
    x = y = 0.0
    for code in _children(element, "TextCode"):
        x = float(code.get("X", x))
        y = float(code.get("Y", y))
        dx, dy = _deltas(code.get("DeltaX")), _deltas(code.get("DeltaY"))
        for index, char in enumerate(code.text or ""):
            if index:
                x += dx[min(index - 1, len(dx) - 1)] if dx else float(element.get("Size") or 3.5)
                y += dy[index - 1] if index - 1 < len(dy) else 0.0
            if char.isspace():
                continue
            left, baseline = place(x, y)
            glyphs.append(Glyph(char, left, baseline - size * 0.88, left + size, baseline + size * 0.12))
    return glyphs


def _path_segments(element) -> list[tuple[float, float, float, float]]:
    """Straight pieces of a path (curves only move the pen), in points."""
    place = _Transform(element)
    data = _first(element, "AbbreviatedData")
    tokens = (data.text or "").split() if data is not None else []
    arity = {"M": 2, "S": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
    pieces, start, pen = [], None, None
    index = 0
    while index < len(tokens):
        command = tokens[index]
        count = arity.get(command)
        if count is None:
            index += 1
            continue
        try:
            values = [float(v) for v in tokens[index + 1:index + 1 + count]]
        except ValueError:
            break
        index += 1 + count
        if len(values) < count:
            break
        if command in ("M", "S"):
            pen = start = place(*values)
        elif command == "L" and pen is not None:
            point = place(*values)
            pieces.append((*pen, *point))
            pen = point
        elif command == "C" and pen is not None and start is not None:
            pieces.append((*pen, *start))
            pen = start
        elif command in ("Q", "B", "A"):
            pen = place(*values[-2:])
    return pieces


def _objects(page) -> list:
    """Every text and path object of a page's layers, page blocks opened."""
    content = _first(page, "Content")
    stack = _children(content, "Layer") if content is not None else []
    found = []
    while stack:
        for child in stack.pop(0):
            name = _local(child)
            if name == "PageBlock":
                stack.append(child)
            elif name in ("TextObject", "PathObject"):
                found.append(child)
        if len(found) > MAX_PAGE_OBJECTS:
            raise ReportParseError(f"an OFD page with more than {MAX_PAGE_OBJECTS:,} objects", "ofd")
    return found


def _page_rows(glyphs: list[Glyph], pieces, block_base: int) -> tuple[list[Row], list[str], int]:
    """Rows of one page in reading order (table rows and text lines by their top edge),
    the page's lines of text, and the next block number."""
    tables = find_tables(*ruling_segments(pieces, _THIN), snap=_SNAP, min_row_height=_MIN_ROW)
    grids, used = [], set()
    for table in tables:
        cells, taken, _boxes = fill(table, glyphs)
        grids.append(cells)
        used |= taken
    rows = page_rows(tables, grids, [g for i, g in enumerate(glyphs) if i not in used], block_base)
    return rows, [join_text(line) for line in text_lines(glyphs)], block_base + len(tables)


def _xml(archive, name: str):
    try:
        return etree.fromstring(archive.read(name), _PARSER)
    except KeyError:
        raise ReportParseError(f"the OFD names {name}, which it does not hold", "ofd") from None
    except etree.XMLSyntaxError as error:
        raise ReportParseError(f"the OFD's {name} is not well-formed XML: {error}", "ofd") from None


def _resolve(base: str, location: str) -> str:
    """A location inside the package: absolute from its root, else beside `base`."""
    location = location.strip().replace("\\", "/")
    if location.startswith("/"):
        return posixpath.normpath(location.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), location))


def read_ofd(body: bytes) -> Extracted:
    archive = check_zip(body, "ofd")
    root = _xml(archive, "OFD.xml")
    doc_body = _first(root, "DocBody")
    doc_root = _first(doc_body, "DocRoot") if doc_body is not None else None
    if doc_root is None or not (doc_root.text or "").strip():
        raise ReportParseError("the OFD has no DocBody/DocRoot", "ofd")
    document_path = _resolve("OFD.xml", doc_root.text)
    document = _xml(archive, document_path)
    pages = _children(_first(document, "Pages"), "Page") if _first(document, "Pages") is not None else []
    if not pages:
        raise ReportParseError("the OFD has no pages", "ofd")
    warnings = []
    if len(pages) > MAX_PDF_PAGES:
        warnings.append(f"only the first {MAX_PDF_PAGES} of {len(pages)} pages were read")
    rows: list[Row] = []
    lines: list[str] = []
    blocks = 0
    for page in pages[:MAX_PDF_PAGES]:
        content = _xml(archive, _resolve(document_path, page.get("BaseLoc") or ""))
        glyphs, pieces = [], []
        for element in _objects(content):
            if _local(element) == "TextObject":
                glyphs += _text_glyphs(element)
            else:
                pieces += _path_segments(element)
        page_rows, page_lines, blocks = _page_rows(glyphs, pieces, blocks)
        rows += page_rows
        lines += page_lines
    if not any(line.strip() for line in lines):
        raise ReportParseError("the OFD's pages hold no text (images only?)", "ofd")
    title = _first(doc_body, "DocInfo", "Title")
    hints = [title.text.strip()] if title is not None and (title.text or "").strip() else []
    return Extracted("ofd", merge_cell_runs(rows), "\n".join(lines),
                     extract_metadata(lines[:40]), hints, warnings=warnings)
