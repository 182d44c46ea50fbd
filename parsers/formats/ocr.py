"""PDFs with no text layer (scans): each page rendered and read by tesseract `chi_sim`.

tesseract's TSV output gives every word with its box; words on one line are joined into
cells where the gap between them is narrow, and split where it is wide (a table column).
"""

from __future__ import annotations

import csv
import functools
import io
import shutil
import statistics
import subprocess

from ..errors import ReportParseError
from ..limits import MAX_OCR_PAGES, OCR_SECONDS_PER_PAGE
from ..rows import Extracted, Row, merge_cell_runs
from ..metadata import extract_metadata

OCR_DPI = 300
# characters tesseract makes of table rules
_RULES = set("|｜_—-一=[]丨")


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


def _words(png: bytes) -> list[dict]:
    try:
        result = subprocess.run(
            [_tesseract(), "stdin", "stdout", "-l", "chi_sim", "--psm", "6", "tsv"],
            input=png, capture_output=True, timeout=OCR_SECONDS_PER_PAGE)
    except subprocess.TimeoutExpired:
        raise ReportParseError(f"OCR of a page took more than {OCR_SECONDS_PER_PAGE} s", "pdf")
    reader = csv.DictReader(io.StringIO(result.stdout.decode("utf-8", "replace")),
                            delimiter="\t", quoting=csv.QUOTE_NONE)
    words = []
    for item in reader:
        text = (item.get("text") or "").strip()
        if text and item.get("conf") not in (None, "-1") and not set(text) <= _RULES:
            words.append({"key": (item["block_num"], item["par_num"], item["line_num"]),
                          "left": int(item["left"]), "top": int(item["top"]),
                          "right": int(item["left"]) + int(item["width"]),
                          "height": int(item["height"]), "text": text})
    return words


def _lines_to_rows(words: list[dict]) -> list[Row]:
    lines: dict[tuple, list[dict]] = {}
    for word in words:
        lines.setdefault(word["key"], []).append(word)
    ordered = sorted(lines.values(), key=lambda ws: min(w["top"] for w in ws))
    rows = []
    for line in ordered:
        line.sort(key=lambda w: w["left"])
        height = statistics.median(w["height"] for w in line) or 1
        cells, current, right = [], "", None
        for word in line:
            if right is not None and word["left"] - right > 1.5 * height:
                cells.append(current)
                current = ""
            current += word["text"]
            right = word["right"]
        cells.append(current)
        rows.append(Row(cells) if len(cells) > 1 else Row([cells[0]]))
    return rows


def read_scanned_pdf(document, warnings: list[str]) -> Extracted:
    _tesseract()
    pages = min(document.page_count, MAX_OCR_PAGES)
    if document.page_count > MAX_OCR_PAGES:
        warnings.append(f"only the first {MAX_OCR_PAGES} of {document.page_count} scanned "
                        "pages were read")
    rows: list[Row] = []
    lines: list[str] = []
    for number in range(pages):
        pixmap = document[number].get_pixmap(dpi=OCR_DPI, colorspace="GRAY")
        page_rows = _lines_to_rows(_words(pixmap.tobytes("png")))
        rows.extend(page_rows)
        lines.extend("\t".join(row.cells) for row in page_rows)
    if not lines:
        raise ReportParseError("the PDF has no text layer and OCR found no text in it", "pdf")
    warnings.append("the PDF has no text layer: its text was read by OCR")
    return Extracted("pdf", merge_cell_runs(rows), "\n".join(lines),
                     extract_metadata(lines[:40]), [], ocr=True, warnings=warnings)
