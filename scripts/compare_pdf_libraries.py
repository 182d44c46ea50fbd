"""The measurement behind the parsers' choice of PDF reader (see the README).

Three ways to get a report's tables out of a PDF, each feeding the same interpreter
(`parsers.report.build`), scored on the corpus PDFs (against their gold) and on the real
PDFs in ../shared/real (against tests/fixtures/real_pdfs.expected.json):

- grid:       PyMuPDF's characters and vector lines, cells rebuilt by `parsers.grid`
- pymupdf:    PyMuPDF's own table finder (`page.find_tables()`)
- pdfplumber: pdfplumber's table finder (`page.find_tables()`)

    .venv/bin/python scripts/compare_pdf_libraries.py
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pdfplumber  # noqa: E402
import pymupdf  # noqa: E402

pymupdf.no_recommend_layout()  # it prints to stdout

import parsers  # noqa: E402
from tools.evaluation import score  # noqa: E402
from parsers.formats.pdf import read_pdf  # noqa: E402
from parsers.report import build  # noqa: E402
from parsers.rows import Extracted, Row, merge_cell_runs  # noqa: E402


def _with_text_lines(rows_by_page, texts) -> Extracted:
    rows = [row for page in rows_by_page for row in page]
    return Extracted("pdf", merge_cell_runs(rows), "\n".join(texts))


def read_with_pymupdf_tables(body: bytes) -> Extracted:
    document = pymupdf.open(stream=body, filetype="pdf")
    pages, texts, block = [], [], 0
    for page in document:
        placed, boxes = [], []
        for table in page.find_tables().tables:
            box = pymupdf.Rect(table.bbox)
            boxes.append(box)
            for index, cells in enumerate(table.extract()):
                merged = frozenset(i for i, c in enumerate(cells) if c is None)
                placed.append((box.y0, index, Row([(c or "").strip() for c in cells], block, merged)))
            block += 1
        for x0, y0, x1, y1, text, _n, kind in page.get_text("blocks"):
            if kind == 0 and not any(pymupdf.Point((x0 + x1) / 2, (y0 + y1) / 2) in b for b in boxes):
                placed += [(y0, i, Row([line.strip()])) for i, line in enumerate(text.splitlines())
                           if line.strip()]
        placed.sort(key=lambda item: (item[0], item[1]))
        pages.append([row for _, _, row in placed])
        texts.append(page.get_text())
    return _with_text_lines(pages, texts)


def read_with_pdfplumber(body: bytes) -> Extracted:
    pages, texts, block = [], [], 0
    with pdfplumber.open(io.BytesIO(body)) as pdf:
        for page in pdf.pages:
            placed, boxes = [], []
            for table in page.find_tables():
                boxes.append(table.bbox)
                for index, cells in enumerate(table.extract()):
                    merged = frozenset(i for i, c in enumerate(cells) if c is None)
                    placed.append((table.bbox[1], index,
                                   Row([(c or "").strip() for c in cells], block, merged)))
                block += 1

            def outside(obj, boxes=boxes):
                x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
                return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

            for line in page.filter(outside).extract_text_lines():
                placed.append((line["top"], 0, Row([line["text"].strip()])))
            placed.sort(key=lambda item: (item[0], item[1]))
            pages.append([row for _, _, row in placed])
            texts.append(page.extract_text() or "")
    return _with_text_lines(pages, texts)


METHODS = {"grid": read_pdf, "pymupdf": read_with_pymupdf_tables, "pdfplumber": read_with_pdfplumber}


def cases():
    for folder in sorted((ROOT / "tests" / "corpus").iterdir()):
        if (folder / "report.pdf").exists():
            gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
            yield f"corpus/{folder.name}", (folder / "report.pdf").read_bytes(), gold
    real = ROOT.parent / "shared" / "real"
    expected = json.loads((ROOT / "tests/fixtures/real_pdfs.expected.json").read_text("utf-8"))
    for name, gold in expected.items():
        if not name.startswith("_") and (real / name).exists():
            yield f"real/{name}", (real / name).read_bytes(), gold


def main() -> None:
    results = {name: {"right": 0, "total": 0, "exact": 0, "ms_per_page": []} for name in METHODS}
    documents = 0
    for label, body, gold in cases():
        documents += 1
        pages = pymupdf.open(stream=body, filetype="pdf").page_count
        for name, method in METHODS.items():
            started = time.perf_counter()
            try:
                report = build(method(body), parsers.PARSER_VERSION)
            except parsers.ReportParseError:
                report = None
            elapsed = time.perf_counter() - started
            result = score(gold, report, label, "pdf")
            figures = results[name]
            figures["right"] += result.cells_right
            figures["total"] += result.cells_total
            figures["exact"] += result.exact
            figures["ms_per_page"].append(elapsed * 1000 / pages)
    print(f"{documents} PDFs (corpus and real), same interpreter for every method")
    print(f"{'method':11} {'cell accuracy':>13} {'exact':>7} {'ms/page':>8}")
    for name, figures in results.items():
        print(f"{name:11} {figures['right'] / figures['total']:13.4f} "
              f"{figures['exact']:4}/{documents:<2} {statistics.median(figures['ms_per_page']):8.1f}")


if __name__ == "__main__":
    main()
