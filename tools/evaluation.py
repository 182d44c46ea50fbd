"""Score the parsers on the corpus: cell accuracy, field accuracy, exact documents, by
format. The accuracy gate (tests/test_accuracy.py) and the benchmark (scripts/) use it.

    python -m tools.evaluation [tests/corpus]
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import parsers
from parsers.formats import by_suffix

# corpus file name -> the format it stands for
# the corpus's files and the format each is scored as: its kind (parsers/formats), a scan
# apart from a PDF with a text layer
FORMATS = {name: "scan" if name.startswith("scan.") else by_suffix(name.rsplit(".", 1)[1]).kind
           for name in ("report.txt", "page.html", "report.docx", "report.pdf", "report.doc", "scan.pdf",
                        "report.xlsx", "sheets.xlsx", "report.xls", "report.ofd")}


@dataclass
class DocumentScore:
    sample: str
    format: str
    cells_right: int = 0
    cells_total: int = 0
    extra_cells: int = 0
    fields_right: int = 0
    fields_total: int = 0
    seconds: float = 0.0
    ocr: bool = False
    error: str | None = None
    wrong: list = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return (self.error is None and self.cells_right == self.cells_total
                and not self.extra_cells and self.fields_right == self.fields_total)


def _cells(report: dict) -> dict:
    return {(table, row, column): value
            for table, rows in (report.get("tables") or {}).items()
            for row, columns in rows.items() for column, value in columns.items()}


def _same(a, b) -> bool:
    try:
        return round(float(a), 4) == round(float(b), 4)
    except (TypeError, ValueError):
        return False


def score(gold: dict, report: dict | None, sample: str, fmt: str) -> DocumentScore:
    """One parse against its gold. Metadata counts for the HTML page, the one form that
    prints a metadata block."""
    result = DocumentScore(sample, fmt)
    report = report or {}
    expected, got = _cells(gold), _cells(report)
    result.cells_total = len(expected)
    result.wrong = [key for key, value in expected.items() if not _same(got.get(key), value)]
    result.cells_right = result.cells_total - len(result.wrong)
    result.extra_cells = sum(1 for key in got if key not in expected)
    fields = [(key, gold[key], report.get(key)) for key in ("title", "year", "template")]
    if fmt == "html":
        fields += [(f"metadata.{k}", v, (report.get("metadata") or {}).get(k))
                   for k, v in (gold.get("metadata") or {}).items()]
    result.fields_total = len(fields)
    result.fields_right = sum(1 for _, want, have in fields if str(want) == str(have))
    result.wrong += [name for name, want, have in fields if str(want) != str(have)]
    return result


def evaluate(corpus: Path, formats: set[str] | None = None) -> list[DocumentScore]:
    scores = []
    for folder in sorted(p for p in Path(corpus).iterdir() if (p / "gold.json").exists()):
        gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
        for name, fmt in FORMATS.items():
            path = folder / name
            if not path.exists() or (formats and fmt not in formats):
                continue
            started = time.perf_counter()
            try:
                report, error = parsers.parse_report(path.read_bytes(), url=path.name), None
            except parsers.ReportParseError as exc:
                report, error = None, str(exc)
            document = score(gold, report, folder.name, fmt)
            document.seconds = time.perf_counter() - started
            document.error = error
            document.ocr = bool(report and report.get("ocr"))
            scores.append(document)
        for pictured in sorted(folder.glob("images-*")) if not formats or "image" in formats else ():
            scores.append(_score_pictured(gold, folder.name, pictured))
    return scores


def pictured_page(folder: Path) -> tuple[bytes, list[bytes]]:
    """A page whose tables are pictures: page.html and its images 1.png, 2.png … in order."""
    images = sorted(folder.glob("*.png"), key=lambda p: int(p.stem))
    return (folder / "page.html").read_bytes(), [p.read_bytes() for p in images]


def _score_pictured(gold: dict, sample: str, folder: Path) -> DocumentScore:
    page, images = pictured_page(folder)
    started = time.perf_counter()
    try:
        report, error = parsers.parse_report(page, url="page.html", images=images), None
    except parsers.ReportParseError as exc:
        report, error = None, str(exc)
    document = score(gold, report, f"{sample}/{folder.name}", "image")
    document.seconds = time.perf_counter() - started
    document.error = error
    document.ocr = bool(report and report.get("ocr"))
    return document


def summarize(scores: list[DocumentScore]) -> dict:
    """{"all": figures, "<format>": figures} with cell_accuracy, field_accuracy,
    exact_documents and documents."""
    groups: dict[str, list[DocumentScore]] = {"all": scores}
    for document in scores:
        groups.setdefault(document.format, []).append(document)
    summary = {}
    for name, group in groups.items():
        cells = sum(d.cells_total for d in group)
        fields = sum(d.fields_total for d in group)
        summary[name] = {
            "cell_accuracy": round(sum(d.cells_right for d in group) / cells, 4) if cells else 1.0,
            "field_accuracy": round(sum(d.fields_right for d in group) / fields, 4) if fields else 1.0,
            "exact_documents": sum(d.exact for d in group),
            "documents": len(group),
        }
    return summary


def main(corpus: str = "tests/corpus") -> None:
    scores = evaluate(Path(corpus))
    for document in scores:
        flag = "exact" if document.exact else f"wrong {document.wrong[:4]}"
        print(f"{document.sample:12} {document.format:5} cells {document.cells_right}/"
              f"{document.cells_total} fields {document.fields_right}/{document.fields_total} "
              f"{document.seconds:6.2f}s {document.error or flag}")
    for name, figures in summarize(scores).items():
        print(f"{name:6} cell accuracy {figures['cell_accuracy']:.4f}, field accuracy "
              f"{figures['field_accuracy']:.4f}, exact {figures['exact_documents']}/"
              f"{figures['documents']}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
