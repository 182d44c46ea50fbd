"""PDFs with no text layer (scans): each page rendered and read by tesseract `chi_sim`.

Tables are found in the page image itself: the ruling lines give a grid of cells
(merged cells where a line is missing), and each word tesseract reads is placed in the
cell that holds its centre. The interpreter then reads the grid as it reads a DOCX table.
Words outside tables become text lines.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import pymupdf

from ..errors import ReportParseError
from ..limits import MAX_OCR_PAGES, OCR_SECONDS_PER_PAGE
from ..metadata import extract_metadata
from ..rows import Extracted, Row, grid_rows, merge_cell_runs
from ..vocabulary import parse_number

# ruling lines and figures are read at OCR_DPI; running text at TEXT_DPI, where the
# large type of a title is the size tesseract reads best
OCR_DPI = 300
TEXT_DPI = 200
_DARK = bytes(1 if value < 140 else 0 for value in range(256))
# characters tesseract makes of table rules
_RULES = set("|｜_—-=[]丨!")
# how close (pixels at OCR_DPI) two line positions must be to be one line
_SNAP = 6
# white margin around a cell image sent to OCR
_MARGIN = 20


@functools.lru_cache(maxsize=1)
def _tesseract() -> str:
    binary = shutil.which("tesseract")
    if not binary:
        raise ReportParseError("the PDF is a scan with no text layer; reading it needs "
                               "tesseract with the chi_sim language installed", "pdf")
    langs = subprocess.run([binary, "--list-langs"], capture_output=True, text=True).stdout
    if "chi_sim" not in langs.split():
        raise ReportParseError("the PDF is a scan; tesseract lacks the chi_sim language "
                               "(Debian: tesseract-ocr-chi-sim)", "pdf")
    return binary


@dataclass
class _Word:
    text: str
    left: int
    top: int
    right: int
    bottom: int
    line: tuple

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2


def _words(png: bytes, scale: float = 1.0) -> list[_Word]:
    """Words tesseract reads on a page image, boxes multiplied by `scale`."""
    try:
        result = subprocess.run(
            [_tesseract(), "stdin", "stdout", "-l", "chi_sim", "--psm", "11", "tsv"],
            input=png, capture_output=True, timeout=OCR_SECONDS_PER_PAGE)
    except subprocess.TimeoutExpired:
        raise ReportParseError(f"OCR of a page took more than {OCR_SECONDS_PER_PAGE} s", "pdf")
    reader = csv.DictReader(io.StringIO(result.stdout.decode("utf-8", "replace")),
                            delimiter="\t", quoting=csv.QUOTE_NONE)
    words = []
    for item in reader:
        text = (item.get("text") or "").strip()
        if not text or item.get("conf") in (None, "-1") or set(text) <= _RULES:
            continue
        left, top = int(item["left"]), int(item["top"])
        right, bottom = left + int(item["width"]), top + int(item["height"])
        words.append(_Word(text.strip("|｜丨"), round(left * scale), round(top * scale),
                           round(right * scale), round(bottom * scale),
                           (item["block_num"], item["par_num"], item["line_num"])))
    return [w for w in words if w.text]


# --- ruling lines ---------------------------------------------------------------------------


def _runs(line: bytes, minimum: int) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(rb"\x01{%d,}" % minimum, line)]


def _group(segments: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Segments (position, start, end) on neighbouring positions that overlap: one line."""
    lines: list[list[int]] = []
    for position, start, end in sorted(segments):
        for line in lines:
            if position - line[1] <= 2 and start < line[3] and end > line[2]:
                line[1] = position
                line[2], line[3] = min(line[2], start), max(line[3], end)
                break
        else:
            lines.append([position, position, start, end])
    return [((a + b) // 2, s, e) for a, b, s, e in lines]


def _ruling(pixmap) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """Horizontal lines (y, x0, x1) and vertical lines (x, y0, y1) of a page image."""
    width, height, stride = pixmap.width, pixmap.height, pixmap.stride
    dark = pixmap.samples.translate(_DARK)
    horizontal = []
    for y in range(height):
        for start, end in _runs(dark[y * stride:y * stride + width], width // 12):
            horizontal.append((y, start, end))
    horizontal = _group(horizontal)
    vertical = []
    for x in range(width):
        for start, end in _runs(dark[x::stride][:height], OCR_DPI // 8):
            vertical.append((x, start, end))
    vertical = _group(vertical)
    # a stroke of a character is not a rule: a rule meets a horizontal line at both ends
    ys = [y for y, _, _ in horizontal]
    vertical = [(x, y0, y1) for x, y0, y1 in vertical
                if any(abs(y0 - y) <= _SNAP for y in ys) and any(abs(y1 - y) <= _SNAP for y in ys)]
    return horizontal, vertical


def _snap(values: list[int]) -> list[int]:
    result: list[int] = []
    for value in sorted(values):
        if not result or value - result[-1] > _SNAP:
            result.append(value)
    return result


def _tables(horizontal, vertical) -> list[dict]:
    """Tables as (row edges, column edges, and which edges are drawn in which band)."""
    if not vertical:
        return []
    ys = _snap([y for y, _, _ in horizontal])
    bands = []
    for top, bottom in zip(ys, ys[1:]):
        if bottom - top < OCR_DPI // 15:
            continue
        edges = [x for x, y0, y1 in vertical if y0 <= top + _SNAP and y1 >= bottom - _SNAP]
        if len(edges) >= 2:
            bands.append((top, bottom, _snap(edges)))
    tables: list[dict] = []
    for top, bottom, edges in bands:
        if tables and abs(tables[-1]["bands"][-1][1] - top) <= _SNAP:
            tables[-1]["bands"].append((top, bottom, edges))
        else:
            tables.append({"bands": [(top, bottom, edges)]})
    for table in tables:
        table["columns"] = _snap([x for _, _, edges in table["bands"] for x in edges])
    return tables


def _text_lines(words: list[_Word]) -> list[list[_Word]]:
    """Words grouped into lines by their vertical overlap, top to bottom, left to right."""
    lines: list[list[_Word]] = []
    for word in sorted(words, key=lambda w: w.top):
        middle = (word.top + word.bottom) / 2
        for line in lines:
            if line[0].top <= middle <= line[0].bottom:
                line.append(word)
                break
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w.left) for line in lines]


def _cell_text(words: list[_Word]) -> str:
    text = ""
    for line in _text_lines(words):
        for word in line:
            if text and text[-1].isascii() and text[-1].isalnum() and word.text[0].isascii():
                text += " "
            text += word.text
    return text


def _read_figures(page, cells: list[tuple[int, int, int, int]]) -> list[str]:
    """Read table cells (pixel boxes) as figures: one tesseract run over all of them, each a
    single line of digits. The Chinese model drops lone digits; this pass does not."""
    if not cells:
        return []
    scale = 72 / OCR_DPI
    with tempfile.TemporaryDirectory(prefix="nianbao-ocr-") as folder:
        paths = []
        for number, (x0, y0, x1, y1) in enumerate(cells):
            # inside the rules, then on a white margin: tesseract misses a lone digit
            # that touches the image's edge
            clip = pymupdf.Rect((x0 + 5) * scale, (y0 + 5) * scale, (x1 - 5) * scale, (y1 - 5) * scale)
            cell = page.get_pixmap(dpi=OCR_DPI, clip=clip, colorspace="GRAY")
            padded = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(
                0, 0, cell.width + 2 * _MARGIN, cell.height + 2 * _MARGIN), False)
            padded.clear_with(255)
            cell.set_origin(_MARGIN, _MARGIN)
            padded.copy(cell, cell.irect)
            path = f"{folder}/{number:05d}.png"
            padded.save(path)
            paths.append(path)
        listing = f"{folder}/cells.txt"
        with open(listing, "w", encoding="utf-8") as handle:
            handle.write("\n".join(paths) + "\n")
        try:
            result = subprocess.run(
                [_tesseract(), listing, "stdout", "-l", "eng", "--psm", "7",
                 "-c", "tessedit_char_whitelist=0123456789.-%", "tsv"],
                capture_output=True, timeout=OCR_SECONDS_PER_PAGE)
        except subprocess.TimeoutExpired:
            raise ReportParseError(f"OCR of a page took more than {OCR_SECONDS_PER_PAGE} s", "pdf")
    texts = [""] * len(cells)
    reader = csv.DictReader(io.StringIO(result.stdout.decode("utf-8", "replace")),
                            delimiter="\t", quoting=csv.QUOTE_NONE)
    for item in reader:
        text = (item.get("text") or "").strip()
        if text and item.get("page_num", "").isdigit():
            texts[int(item["page_num"]) - 1] += text
    return texts


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def _figure_cells(grid: list[list[list]]) -> set[tuple[int, int]]:
    """Cells to read again as digits: those in a column or a row that the first pass
    found mostly figures in, unless they already read as a label."""
    def is_figure(text):
        return parse_number(text) is not None

    columns, rows = set(), set()
    for column in range(len(grid[0]) if grid else 0):
        texts = [line[column][0] for line in grid if line[column][0] and not line[column][1]]
        figures = sum(1 for text in texts if is_figure(text))
        if figures >= 2 and figures * 2 >= len(texts):
            columns.add(column)
    for number, line in enumerate(grid):
        if sum(1 for text, merged, _ in line if not merged and is_figure(text)) >= 3:
            rows.add(number)
    return {(r, c) for r, line in enumerate(grid) for c, (text, merged, _) in enumerate(line)
            if not merged and (r in rows or c in columns) and not _CJK_RUN.search(text)}


def _page_rows(page, words: list[_Word], tables: list[dict], block_base: int) -> list[Row]:
    placed: list[tuple[float, int, Row]] = []
    used: set[int] = set()
    for number, table in enumerate(tables):
        columns = table["columns"]
        grid: list[list[list]] = []
        boxes: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        for top, bottom, edges in table["bands"]:
            cells: list[list[_Word]] = [[] for _ in columns[:-1]]
            for index, word in enumerate(words):
                x, y = word.centre
                if top <= y <= bottom and columns[0] <= x <= columns[-1]:
                    column = max(i for i, edge in enumerate(columns[:-1]) if edge <= x)
                    # a word in a merged cell belongs to the cell's first column
                    while column > 0 and not any(abs(columns[column] - e) <= _SNAP for e in edges):
                        column -= 1
                    cells[column].append(word)
                    used.add(index)
            line = []
            for column in range(len(columns) - 1):
                drawn = column == 0 or any(abs(columns[column] - e) <= _SNAP for e in edges)
                if drawn:
                    right = next((c for c in range(column + 1, len(columns) - 1)
                                  if any(abs(columns[c] - e) <= _SNAP for e in edges)),
                                 len(columns) - 1)
                    boxes[(len(grid), column)] = (columns[column], top, columns[right], bottom)
                line.append([_cell_text(cells[column]), not drawn, False])
            grid.append(line)
        # second pass: every cell of a figure column that does not read as a label is
        # read again as digits (the Chinese model drops lone digits and reads 11 as 工)
        candidates = _figure_cells(grid)
        targets = [key for key in boxes if key in candidates]
        for (band, column), text in zip(targets, _read_figures(page, [boxes[k] for k in targets])):
            if text:
                grid[band][column][0] = text
        rows = grid_rows([[tuple(cell) for cell in line] for line in grid], block_base + number)
        for index, row in enumerate(rows):
            placed.append((table["bands"][0][0], index, row))
    lines: dict[tuple, list[_Word]] = {}
    for index, word in enumerate(words):
        if index not in used:
            lines.setdefault(word.line, []).append(word)
    for line in lines.values():
        placed.append((min(w.top for w in line), 0, Row([_cell_text(line)])))
    placed.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in placed]


def read_scanned_pdf(document, warnings: list[str]) -> Extracted:
    _tesseract()
    pages = min(document.page_count, MAX_OCR_PAGES)
    if document.page_count > MAX_OCR_PAGES:
        warnings.append(f"only the first {MAX_OCR_PAGES} of {document.page_count} scanned "
                        "pages were read")
    rows: list[Row] = []
    blocks = 0
    for number in range(pages):
        page = document[number]
        pixmap = page.get_pixmap(dpi=OCR_DPI, colorspace="GRAY")
        words = _words(page.get_pixmap(dpi=TEXT_DPI, colorspace="GRAY").tobytes("png"),
                       OCR_DPI / TEXT_DPI)
        tables = _tables(*_ruling(pixmap))
        rows.extend(_page_rows(document[number], words, tables, blocks))
        blocks += len(tables)
    lines = ["\t".join(c for c in row.cells if c) for row in rows]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise ReportParseError("the PDF has no text layer and OCR found no text in it", "pdf")
    warnings.append("the PDF has no text layer: its text was read by OCR")
    return Extracted("pdf", merge_cell_runs(rows), "\n".join(lines),
                     extract_metadata(lines[:40]), [], ocr=True, warnings=warnings)
