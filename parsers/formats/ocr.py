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
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from ..errors import ReportParseError
from ..grid import Glyph, Segment, Table, fill, find_tables, join_segments
from ..limits import MAX_OCR_PAGES, OCR_SECONDS_PER_PAGE
from ..metadata import extract_metadata
from ..rows import Extracted, Row, merge_cell_runs, page_rows
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
# white margin around a cell image sent to OCR, and how far inside its rules it is cut
# (pixels at OCR_DPI: a coarse picture's rules are blurred wide when drawn at OCR_DPI)
_MARGIN = 20
_INSET = 9


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


def _tesseract_tsv(arguments: list[str], stdin: bytes | None = None) -> list[dict]:
    """Run tesseract (one thread: pages run side by side instead, which is 3x faster on
    two cores than tesseract's own threads) and read its TSV output."""
    try:
        result = subprocess.run([_tesseract(), *arguments, "tsv"], input=stdin,
                                capture_output=True, timeout=OCR_SECONDS_PER_PAGE,
                                env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired:
        raise ReportParseError(f"OCR of a page took more than {OCR_SECONDS_PER_PAGE} s", "pdf")
    return list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8", "replace")),
                               delimiter="\t", quoting=csv.QUOTE_NONE))


def _words(png: bytes, scale: float = 1.0) -> list[Glyph]:
    """Words tesseract reads on a page image, boxes multiplied by `scale`."""
    words = []
    for item in _tesseract_tsv(["stdin", "stdout", "-l", "chi_sim", "--psm", "11"], png):
        text = (item.get("text") or "").strip().strip("|｜丨")
        if not text or item.get("conf") in (None, "-1") or set(text) <= _RULES:
            continue
        left, top = int(item["left"]), int(item["top"])
        right, bottom = left + int(item["width"]), top + int(item["height"])
        words.append(Glyph(text, left * scale, top * scale, right * scale, bottom * scale))
    return words


# --- ruling lines ---------------------------------------------------------------------------


def _runs(line: bytes, minimum: int) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(rb"\x01{%d,}" % minimum, line)]


def _ruling(pixmap) -> tuple[list[Segment], list[Segment]]:
    """Horizontal and vertical rules of a page image: long runs of dark pixels."""
    width, height, stride = pixmap.width, pixmap.height, pixmap.stride
    dark = pixmap.samples.translate(_DARK)
    horizontal = [Segment(y, start, end) for y in range(height)
                  for start, end in _runs(dark[y * stride:y * stride + width], width // 12)]
    vertical = [Segment(x, start, end) for x in range(width)
                for start, end in _runs(dark[x::stride][:height], OCR_DPI // 8)]
    horizontal = join_segments(horizontal, 2)
    # a stroke of a character is not a rule: a rule meets a horizontal line at both ends
    ys = [s.position for s in horizontal]
    vertical = [s for s in join_segments(vertical, 2)
                if any(abs(s.start - y) <= _SNAP for y in ys) and any(abs(s.end - y) <= _SNAP for y in ys)]
    return horizontal, vertical


def _ink_box(pixmap) -> tuple[int, int, int, int] | None:
    """The box (x0, y0, x1, y1) of a grey pixmap's dark pixels; None when it is blank."""
    width, stride = pixmap.width, pixmap.stride
    dark = pixmap.samples.translate(_DARK)
    lines = [dark[y * stride:y * stride + width] for y in range(pixmap.height)]
    inked = [y for y, line in enumerate(lines) if 1 in line]
    if not inked:
        return None
    left = min(line.find(1) for line in lines if 1 in line)
    right = max(line.rfind(1) for line in lines if 1 in line)
    return left, inked[0], right + 1, inked[-1] + 1


def _cell_images(page, cells: list[tuple[float, float, float, float]]) -> list[bytes | None]:
    """PNG images of table cells (pixel boxes at OCR_DPI): inside the rules, cut to their
    ink (a lone figure at the top of a tall cell is not a line of text to tesseract), on a
    white margin (it misses a lone digit that touches the image's edge); None for a cell
    with no ink."""
    scale = 72 / OCR_DPI
    images = []
    for x0, y0, x1, y1 in cells:
        clip = pymupdf.Rect((x0 + _INSET) * scale, (y0 + _INSET) * scale,
                            (x1 - _INSET) * scale, (y1 - _INSET) * scale)
        cell = page.get_pixmap(dpi=OCR_DPI, clip=clip, colorspace="GRAY")
        ink = _ink_box(cell)
        if ink is None:
            images.append(None)
            continue
        if (ink[2] - ink[0], ink[3] - ink[1]) != (cell.width, cell.height):
            cut = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, ink[2] - ink[0], ink[3] - ink[1]), False)
            cell.set_origin(-ink[0], -ink[1])
            cut.copy(cell, cut.irect)
            cell = cut
        padded = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(
            0, 0, cell.width + 2 * _MARGIN, cell.height + 2 * _MARGIN), False)
        padded.clear_with(255)
        cell.set_origin(_MARGIN, _MARGIN)
        padded.copy(cell, cell.irect)
        images.append(padded.tobytes("png"))
    return images


def _read_figures(images: list[bytes | None]) -> list[str]:
    """Each image read as one line of digits, all in one tesseract run (`None`: a blank
    cell, not read). The Chinese model drops lone digits and reads 11 as 工; this pass does
    not. A lone digit the line model misses is read again as a word."""
    texts = [""] * len(images)
    todo = [index for index, image in enumerate(images) if image]
    for mode in ("7", "8"):
        if not todo:
            break
        read = _digits([images[index] for index in todo], mode)
        for index, text in zip(todo, read):
            texts[index] = text
        todo = [index for index in todo if not texts[index]]
    return texts


def _digits(images: list[bytes], page_segmentation: str) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="nianbao-ocr-") as folder:
        paths = []
        for number, image in enumerate(images):
            path = Path(folder) / f"{number:05d}.png"
            path.write_bytes(image)
            paths.append(str(path))
        listing = Path(folder) / "cells.txt"
        listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
        rows = _tesseract_tsv([str(listing), "stdout", "-l", "eng", "--psm", page_segmentation,
                               "-c", "tessedit_char_whitelist=0123456789.-%"])
    texts = [""] * len(images)
    for item in rows:
        text = (item.get("text") or "").strip()
        if text and item.get("page_num", "").isdigit():
            texts[int(item["page_num"]) - 1] += text
    return texts


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def _figure_cells(grid: list[list[tuple]]) -> set[tuple[int, int]]:
    """Cells to read again as digits: those in a column or a row that the first pass
    found mostly figures in, unless they already read as a label, and those it found
    empty (the Chinese model drops a lone 0: a table of zeros reads as empty)."""
    def is_figure(text):
        return parse_number(text) is not None

    columns, rows = set(), set()
    for column in range(len(grid[0]) if grid else 0):
        texts = [line[column][0] for line in grid if line[column][0] and not line[column][1]]
        figures = sum(1 for text in texts if is_figure(text))
        if figures >= 2 and figures * 2 >= len(texts):
            columns.add(column)
    for number, line in enumerate(grid):
        if sum(1 for text, left, up in line if not (left or up) and is_figure(text)) >= 3:
            rows.add(number)
    return {(r, c) for r, line in enumerate(grid) for c, (text, left, up) in enumerate(line)
            if not (left or up) and (r in rows or c in columns or not text)
            and not _CJK_RUN.search(text)}


@dataclass
class _Page:
    text_image: bytes
    tables: list[Table]
    words: list[Glyph] = field(default_factory=list)
    grids: list[list[list[tuple]]] = field(default_factory=list)
    targets: list[tuple[int, int, int]] = field(default_factory=list)  # (table, row, column)
    images: list[bytes | None] = field(default_factory=list)
    used: set[int] = field(default_factory=set)


def _prepare_figures(page, scanned: _Page) -> None:
    """Place the words in the tables; pick and cut out the cells to read as digits."""
    for number, table in enumerate(scanned.tables):
        cells, taken, boxes = fill(table, scanned.words)
        scanned.used |= taken
        scanned.grids.append([list(line) for line in cells])
        figure_cells = _figure_cells(cells)
        targets = [key for key in boxes if key in figure_cells]
        scanned.targets += [(number, r, c) for r, c in targets]
        scanned.images += _cell_images(page, [boxes[key] for key in targets])


def _page_rows(scanned: _Page, figures: list[str], block_base: int) -> list[Row]:
    for (table, r, c), text in zip(scanned.targets, figures):
        if text:
            scanned.grids[table][r][c] = (text, False, False)
    rest = [word for index, word in enumerate(scanned.words) if index not in scanned.used]
    return page_rows(scanned.tables, scanned.grids, rest, block_base)


def read_scanned_pdf(document, warnings: list[str]) -> Extracted:
    """OCR in phases: MuPDF's work (rendering, cutting cells out) in this thread, the
    tesseract runs of all pages side by side."""
    _tesseract()
    count = min(document.page_count, MAX_OCR_PAGES)
    if document.page_count > MAX_OCR_PAGES:
        warnings.append(f"only the first {MAX_OCR_PAGES} of {document.page_count} scanned "
                        "pages were read")
    pages = []
    for number in range(count):
        page = document[number]
        rules = _ruling(page.get_pixmap(dpi=OCR_DPI, colorspace="GRAY"))
        pages.append(_Page(page.get_pixmap(dpi=TEXT_DPI, colorspace="GRAY").tobytes("png"),
                           find_tables(*rules, snap=_SNAP, min_row_height=OCR_DPI // 15)))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for scanned, words in zip(pages, pool.map(
                lambda p: _words(p.text_image, OCR_DPI / TEXT_DPI), pages)):
            scanned.words = words
        for number, scanned in enumerate(pages):
            _prepare_figures(document[number], scanned)
        figures = list(pool.map(lambda p: _read_figures(p.images), pages))
    rows: list[Row] = []
    blocks = 0
    for scanned, read in zip(pages, figures):
        rows.extend(_page_rows(scanned, read, blocks))
        blocks += len(scanned.tables)
    lines = ["\t".join(c for c in row.cells if c) for row in rows]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise ReportParseError("the PDF has no text layer and OCR found no text in it", "pdf")
    warnings.append("the PDF has no text layer: its text was read by OCR")
    return Extracted("pdf", merge_cell_runs(rows), "\n".join(lines),
                     extract_metadata(lines[:40]), [], ocr=True, warnings=warnings)
