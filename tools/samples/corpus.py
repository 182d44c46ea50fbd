"""Write the sample reports to disk, in every form: the parser's accuracy corpus
(`tests/corpus/`), from which the demo portal also takes its files.

    python -m tools.samples.corpus tests/corpus

Each sample gets a folder:

    gold.json     what the parser must read from every file below
    report.txt    the seed as it came (seeds only)
    page.html     the detail page, GBK, with the report's tables
    report.docx   python-docx, merged cells as the template prints them
    report.pdf    LibreOffice's PDF of report.docx
    report.doc    LibreOffice's Word 97 file of report.docx
    report.xlsx   the tables on one sheet under the title and headings (openpyxl)
    sheets.xlsx   one sheet per table
    report.xls    LibreOffice's Excel 97 file of report.xlsx
    report.ofd    report.pdf's text runs and ruling lines as an OFD (tools/samples/ofd.py)
    scan.pdf      report.pdf as page images, no text layer (a few samples only)
    images-tables/, images-tall/
                  the page with its tables as screenshots (tools/samples/images.py; a
                  few samples only)
    source.sha256 what the files were made from: a sample whose source did not change is
                  not made again (LibreOffice's output differs at every run)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sys
from pathlib import Path

from .images import image_pages
from .ofd import pdf_to_ofd
from .render import (SEEDS_DIR, page_html, report_doc, report_docx, report_pdf, report_xls,
                     report_xlsx, samples, quirk_samples, scanned_pdf, sample_layout, LAYOUTS,
                     SECTION_TITLES)

# samples also kept as scans (OCR is slow: a few pages each)
SCANNED = ("variant-004",)
# samples also kept as pages whose tables are pictures (OCR: both templates, a seed of each)
PICTURED = ("seed-001", "seed-004", "variant-004")
# bump when the rendering changes, to make every sample again
RENDERING = "1"


def source_digest(sample) -> str:
    fields = dataclasses.asdict(sample)
    if not fields["labels"]:  # samples made before printed labels existed keep their digest
        del fields["labels"]
    source = json.dumps([RENDERING, fields, sample.name in SCANNED],
                        ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(source.encode()).hexdigest()


def write_image_pages(sample, folder: Path) -> None:
    # the tables in the order the page prints them
    rows = {LAYOUTS[number]: len(sample_layout(sample, LAYOUTS[number]))
            for number in SECTION_TITLES if number in LAYOUTS}
    for layout, (page, images) in image_pages(sample, (folder / "report.pdf").read_bytes(),
                                               page_html, rows).items():
        target = folder / layout
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        (target / "page.html").write_bytes(page)
        for number, image in enumerate(images, 1):
            (target / f"{number}.png").write_bytes(image)


def build_corpus(out: Path, log=print) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    folders = []
    for sample in samples() + quirk_samples():
        folder = out / sample.name
        folder.mkdir(exist_ok=True)
        digest = source_digest(sample)
        stamp = folder / "source.sha256"
        unchanged = stamp.exists() and stamp.read_text().strip() == digest
        for name, one_sheet in (("report.xlsx", True), ("sheets.xlsx", False)):
            if not unchanged or not (folder / name).exists():
                (folder / name).write_bytes(report_xlsx(sample, one_sheet=one_sheet))
        if not unchanged or not (folder / "report.xls").exists():
            (folder / "report.xls").write_bytes(report_xls((folder / "report.xlsx").read_bytes()))
        if sample.name in PICTURED and unchanged and not (folder / "images-tall").exists():
            write_image_pages(sample, folder)
        if (not unchanged or not (folder / "report.ofd").exists()) and (folder / "report.pdf").exists():
            (folder / "report.ofd").write_bytes(pdf_to_ofd((folder / "report.pdf").read_bytes(), sample.title))
        if unchanged:
            folders.append(folder)
            continue
        (folder / "gold.json").write_text(
            json.dumps(sample.gold(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if sample.name.startswith("seed-"):
            seed = next(SEEDS_DIR.glob(f"{sample.name[5:]}_*.txt"))
            shutil.copyfile(seed, folder / "report.txt")
        (folder / "page.html").write_bytes(page_html(sample))
        docx_bytes = report_docx(sample)
        (folder / "report.docx").write_bytes(docx_bytes)
        pdf = report_pdf(docx_bytes)
        (folder / "report.pdf").write_bytes(pdf)
        (folder / "report.doc").write_bytes(report_doc(docx_bytes))
        (folder / "report.ofd").write_bytes(pdf_to_ofd(pdf, sample.title))
        if sample.name in SCANNED:
            (folder / "scan.pdf").write_bytes(scanned_pdf(pdf))
        if sample.name in PICTURED:
            write_image_pages(sample, folder)
        stamp.write_text(digest + "\n")
        log(f"{folder}: {', '.join(sorted(p.name for p in folder.iterdir()))}")
        folders.append(folder)
    return folders


if __name__ == "__main__":
    build_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/corpus"))
