"""Parser speed, measured in one run: documents per second by format, and for PDFs the
ratio to `pdftotext` on the same files. A script, not a test: it prints, it asserts nothing.

    .venv/bin/python scripts/benchmark.py [--rounds 3] [--scan] [--real ../shared/real]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import parsers  # noqa: E402
from tools.evaluation import FORMATS  # noqa: E402


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


if __name__ == "__main__":
    main()
