"""Parser speed, measured in one run: documents per second by format; for PDFs the ratio
to `pdftotext` on the same files; per-page time and peak memory of PDF, OFD and pages
whose tables are pictures (image), and each OFD's time over its own PDF's. A script, not
a test: it prints, it asserts nothing.

    .venv/bin/python scripts/benchmark.py [--rounds 3] [--scan] [--real ../shared/real]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import parsers  # noqa: E402
from tools.evaluation import FORMATS, pictured_page  # noqa: E402


def files(corpus: Path, scan: bool, real: Path | None) -> list[tuple[str, Path]]:
    found = [(FORMATS[p.name], p) for p in sorted(corpus.glob("*/*")) if p.name in FORMATS]
    found = [(fmt, p) for fmt, p in found if scan or fmt != "scan"]
    if real and real.is_dir():
        found += [("real pdf", p) for p in sorted(real.glob("*.pdf"))]
    return found


def timed(function, rounds: int) -> float:
    """The median of `rounds` runs, in seconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _pages(fmt: str, path: Path) -> int:
    """Pages of a document: a PDF's or OFD's pages, a pictured page's pictures."""
    if fmt == "image":
        return len(list(path.glob("*.png")))
    if fmt == "ofd":
        import zipfile
        return sum(1 for name in zipfile.ZipFile(path).namelist() if name.endswith("/Content.xml"))
    import pymupdf
    return pymupdf.open(path).page_count


def _parse(fmt: str, path: Path):
    if fmt == "image":
        page, images = pictured_page(path)
        return lambda: parsers.parse_report(page, url="page.html", images=images)
    body = path.read_bytes()
    return lambda: parsers.parse_report(body, url=path.name)


def _peak_of(fmt: str, paths: list[Path], queue) -> None:
    """In a fresh process: its peak RSS (MB) parsing `paths`, and the largest child's
    (tesseract, LibreOffice)."""
    for path in paths:
        try:
            _parse(fmt, path)()
        except parsers.ReportParseError:
            pass
    queue.put((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))


def peak_memory(fmt: str, paths: list[Path]) -> tuple[float, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=_peak_of, args=(fmt, paths, queue))
    worker.start()
    rise = queue.get()
    worker.join()
    return rise


def fixed_layout_rows(corpus: Path, rounds: int) -> None:
    """ms per page and peak memory for PDF, OFD and pictured pages; OFD over its PDF."""
    groups = {"pdf": sorted(corpus.glob("*/report.pdf")), "ofd": sorted(corpus.glob("*/report.ofd")),
              "image": sorted(p for p in corpus.glob("*/images-*") if p.is_dir())}
    print(f"\n{'format':8} {'docs':>4} {'pages':>5} {'ms/page':>8} {'max s/page':>10} "
          f"{'peak MB':>8} {'child MB':>8}")
    per_doc: dict[tuple[str, str], float] = {}
    for fmt, paths in groups.items():
        if not paths:
            continue
        pages, seconds, worst = 0, 0.0, 0.0
        for path in paths:
            taken = timed(_parse(fmt, path), 1 if fmt == "image" else rounds)
            count = _pages(fmt, path)
            pages, seconds = pages + count, seconds + taken
            worst = max(worst, taken / count)
            per_doc[fmt, path.parent.name] = taken
        peak, child = peak_memory(fmt, paths)
        print(f"{fmt:8} {len(paths):4} {pages:5} {seconds / pages * 1000:8.1f} {worst:10.2f} "
              f"{peak:8.0f} {child:8.0f}")
    ratios = [per_doc["ofd", name] / per_doc["pdf", name] for kind, name in per_doc
              if kind == "ofd" and ("pdf", name) in per_doc]
    if ratios:
        print(f"OFD time over the same report's PDF: median {statistics.median(ratios):.2f}x, "
              f"max {max(ratios):.2f}x ({len(ratios)} reports)")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--corpus", type=Path, default=ROOT / "tests" / "corpus")
    options.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "real")
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--scan", action="store_true", help="include scans (OCR: slow)")
    args = options.parse_args()
    pdftotext = shutil.which("pdftotext")
    by_format: dict[str, list[float]] = {}
    pdf_rows = []
    for fmt, path in files(args.corpus, args.scan, args.real):
        body = path.read_bytes()
        seconds = timed(lambda: parsers.parse_report(body, url=path.name), args.rounds)
        by_format.setdefault(fmt, []).append(seconds)
        if fmt in ("pdf", "real pdf") and pdftotext:
            baseline = timed(lambda: subprocess.run([pdftotext, "-layout", str(path), "-"],
                                                    capture_output=True, check=True), args.rounds)
            import pymupdf
            pages = pymupdf.open(path).page_count
            pdf_rows.append((path, pages, seconds, baseline))
    print(f"{'format':10} {'files':>5} {'median s':>9} {'docs/s':>7}")
    for fmt, times in by_format.items():
        total = sum(times)
        print(f"{fmt:10} {len(times):5} {statistics.median(times):9.3f} {len(times) / total:7.1f}")
    if pdf_rows:
        print(f"\n{'PDF':58} {'pages':>5} {'parse s':>8} {'pdftotext s':>11} {'ratio':>6}")
        for path, pages, seconds, baseline in pdf_rows:
            name = f"{path.parent.name}/{path.name}"
            print(f"{name:58} {pages:5} {seconds:8.3f} {baseline:11.3f} {seconds / baseline:6.1f}")
        ratios = [s / b for _, _, s, b in pdf_rows]
        per_page = [s / p for _, p, s, _ in pdf_rows]
        print(f"median ratio to pdftotext {statistics.median(ratios):.1f}; "
              f"median {statistics.median(per_page) * 1000:.0f} ms per page "
              f"({statistics.median(per_page) * 10:.2f} s for a 10-page report)")
    elif not pdftotext:
        print("pdftotext not found (Debian: poppler-utils): no PDF ratio")
    fixed_layout_rows(args.corpus, args.rounds)


if __name__ == "__main__":
    main()
