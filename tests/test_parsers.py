"""The parsers' contract: the seeds equal their gold, the real PDFs read as printed, bad
input fails in one clear line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import parsers
from tools.samples.render import SEEDS_DIR

from .conftest import FIXTURES, ROOT, shared

SEEDS = sorted(p.name[: -len(".gold.json")] for p in SEEDS_DIR.glob("*.gold.json"))


def run_cli(*arguments, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "parsers", *arguments], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("name", SEEDS)
def test_seed_equals_its_gold(name):
    gold = json.loads((SEEDS_DIR / f"{name}.gold.json").read_text(encoding="utf-8"))
    report = parsers.parse_report((SEEDS_DIR / f"{name}.txt").read_bytes())
    assert report["tables"] == gold["tables"]
    assert (report["title"], report["year"], report["template"]) == (
        gold["title"], gold["year"], gold["template"])
    for key, value in (gold.get("metadata") or {}).items():
        assert report["metadata"][key] == value
    assert all(check["ok"] for check in report["checks"])


def test_the_command_prints_the_report_json():
    result = run_cli(str(SEEDS_DIR / f"{SEEDS[1]}.txt"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"title", "year", "template", "metadata", "tables", "checks",
                           "warnings", "text", "sections", "ocr"}
    assert [s["number"] for s in report["sections"]] == list("一二三四五六")
    assert report["ocr"] is False


def test_the_format_comes_from_the_bytes_not_the_suffix(tmp_path):
    misnamed = tmp_path / "report.doc"
    misnamed.write_bytes((ROOT / "tests/corpus/seed-000/report.pdf").read_bytes())
    wps = tmp_path / "report.wps"  # Kingsoft WPS writes Word 97 files under .wps
    wps.write_bytes((ROOT / "tests/corpus/variant-000/report.doc").read_bytes())
    for path, fmt in ((misnamed, "pdf"), (wps, "wps")):
        result = run_cli(str(path), "--no-text")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["format"] == fmt and report["tables"]["applications"]


def test_a_row_with_16_cells_under_15_headers_is_warned_about():
    report = parsers.parse_report((SEEDS_DIR / f"{SEEDS[2]}.txt").read_bytes())
    assert any("16 cells under 15" in w for w in report["warnings"])


EXPECTED_REAL = json.loads((FIXTURES / "real_pdfs.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", [k for k in EXPECTED_REAL if not k.startswith("_")])
def test_real_published_pdfs_read_to_the_last_cell(name):
    expected = EXPECTED_REAL[name]
    report = parsers.parse_report(shared("real", name).read_bytes())
    assert report["tables"] == expected["tables"]
    assert (report["title"], report["year"], report["template"]) == (
        expected["title"], expected["year"], expected["template"])
    failed = sorted([c["table"], c.get("row") or c.get("column"), c["detail"]]
                    for c in report["checks"] if not c["ok"])
    assert failed == expected["failed_checks"]


def test_a_review_total_that_does_not_add_up_is_kept_as_printed():
    report = parsers.parse_report(shared("real", "hongze_2023_zfxxgk_annual_report.pdf").read_bytes())
    review = report["tables"]["review_litigation"]["行政复议"]
    assert review == {"结果维持": 10, "结果纠正": 1, "其他结果": 0, "尚未审结": 0, "总计": 0}
    (check,) = [c for c in report["checks"] if c.get("row") == "行政复议"]
    assert check["ok"] is False and check["detail"] == "0 ≠ 10+1+0+0=11"


# --- bad input ------------------------------------------------------------------------------


def _encrypted_pdf() -> bytes:
    import pymupdf

    document = pymupdf.open()
    document.new_page().insert_text((72, 72), "secret")
    return document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")


def _long_pdf(pages: int) -> bytes:
    import pymupdf

    document = pymupdf.open()
    for number in range(pages):
        document.new_page().insert_text((72, 72), f"Page {number} of a long minutes document.")
    return document.tobytes()


def _zip_bomb(member_name: str = "word/document.xml") -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(member_name, "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(256):
                member.write(block)
    return buffer.getvalue()


BAD_INPUTS = {
    "empty.pdf": lambda: b"",
    "blank.txt": lambda: b"  \n\n ",
    "truncated.pdf": lambda: (ROOT / "tests/corpus/seed-000/report.pdf").read_bytes()[:3000],
    "encrypted.pdf": _encrypted_pdf,
    "corrupt.docx": lambda: b"PK\x03\x04" + b"\x00garbage" * 50,
    "bomb.docx": _zip_bomb,
    "random.bin": lambda: bytes(range(256)) * 40,
    "notice.html": lambda: "<html><body><h1>关于召开会议的通知</h1><p>各单位：定于周一开会。</p></body></html>".encode(),
    "long.pdf": lambda: _long_pdf(300),
    "archive.zip": lambda: _zip_of({"a.txt": b"hello"}),
    "bomb.xlsx": lambda: _zip_bomb("xl/workbook.xml"),
    "corrupt.xlsx": lambda: _zip_of({"xl/workbook.xml": b"<not a workbook", "[Content_Types].xml": b"<x"}),
    "huge.xlsx": lambda: _huge_sheet(),
    "truncated.xls": lambda: (ROOT / "tests/corpus/seed-000/report.xls").read_bytes()[:4000],
    "bomb.ofd": lambda: _zip_bomb("OFD.xml"),
    "truncated.ofd": lambda: (ROOT / "tests/corpus/seed-000/report.ofd").read_bytes()[:3000],
    "no-root.ofd": lambda: _zip_of({"OFD.xml": b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'}),
    "missing-page.ofd": lambda: _ofd_without("Doc_0/Pages/Page_0/Content.xml"),
    "entities.ofd": lambda: _ofd_replacing("Doc_0/Pages/Page_0/Content.xml", _ENTITY_BOMB),
    "images-only.ofd": lambda: _ofd_replacing(
        "Doc_0/Pages/Page_0/Content.xml",
        b'<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="1">'
        b'<ofd:ImageObject ID="2" Boundary="0 0 210 297" ResourceID="9"/></ofd:Layer></ofd:Content></ofd:Page>',
        keep_pages=1),
}

# billion laughs: entities are never expanded
_ENTITY_BOMB = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
                + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&" + bytes([97 + i]) + b";") * 10)
                           for i in range(8))
                + b']><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="1">'
                  b'<ofd:TextObject ID="2" Boundary="0 0 100 10" Size="3"><ofd:TextCode X="0" Y="3">&i;'
                  b'</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>')


def _ofd_members(keep_pages: int | None = None) -> dict:
    """The members of a corpus OFD, its page list cut to `keep_pages`."""
    import io
    import re
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO((ROOT / "tests/corpus/seed-000/report.ofd").read_bytes()))
    members = {name: archive.read(name) for name in archive.namelist()}
    if keep_pages is not None:
        pages = re.findall(rb"<ofd:Page ID=[^>]*/>", members["Doc_0/Document.xml"])
        for page in pages[keep_pages:]:
            members["Doc_0/Document.xml"] = members["Doc_0/Document.xml"].replace(page, b"")
    return members


def _ofd_without(name: str) -> bytes:
    members = _ofd_members()
    del members[name]
    return _zip_of(members)


def _ofd_replacing(name: str, body: bytes, keep_pages: int | None = None) -> bytes:
    members = _ofd_members(keep_pages)
    members[name] = body
    return _zip_of(members)


def _huge_sheet() -> bytes:
    """A workbook whose used range runs to a million cells (one far-away cell)."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active.cell(1, 1, "某县2022年政府信息公开工作年度报告")
    book.active.cell(50_000, 20, 1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip_of(members: dict) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_fails_in_one_clear_line(name, tmp_path):
    path = tmp_path / name
    path.write_bytes(BAD_INPUTS[name]())
    result = run_cli(str(path), timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(path)), result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(parsers.ReportParseError):
        parsers.parse_report(path.read_bytes())


def test_a_page_without_tables_takes_its_figures_from_a_spreadsheet_attachment():
    from nianbao.archive import DocumentRecord
    from nianbao.assemble import build_report

    page = "<html><head><meta charset='utf-8'><title>某街道2020年政府信息公开工作年度报告</title></head><body>" \
           "<p>某街道2020年政府信息公开工作年度报告</p><p>附件：年报附表.xlsx</p></body></html>"
    sheet = (ROOT / "tests/corpus/seed-000/sheets.xlsx").read_bytes()
    gold = json.loads((ROOT / "tests/corpus/seed-000/gold.json").read_text(encoding="utf-8"))
    files = [(DocumentRecord(url=url, kind=kind, sha256="0" * 64, size=len(body)), body)
             for url, kind, body in (("http://a.gov.cn/t1.html", "html", page.encode()),
                                     ("http://a.gov.cn/P1.xlsx", "xlsx", sheet))]
    record = build_report("http://a.gov.cn/t1.html", files)
    assert record.fields["status"] == "ok"
    assert record.fields["report_document"] == "http://a.gov.cn/P1.xlsx"
    cells = {(t, r, c): v for t, r, c, v in record.cells}
    expected = {(t, r, c): v for t, rows in gold["tables"].items() for r, cols in rows.items()
                for c, v in cols.items()}
    assert cells == expected


def test_a_missing_file_is_one_line_too(tmp_path):
    result = run_cli(str(tmp_path / "nope.pdf"))
    assert result.returncode == 1 and "No such file" in result.stderr


def test_parsers_never_import_scrapy():
    code = ("import sys, parsers; parsers.parse_report(open(sys.argv[1], 'rb').read()); "
            "assert not any(m == 'scrapy' or m.startswith('scrapy.') for m in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(SEEDS_DIR / f"{SEEDS[0]}.txt")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_docx_grid_read_from_the_xml_matches_python_docx_on_every_kind_of_merge():
    """Vertical merges over three rows, horizontal spans, a 2×2 block, a row that starts
    late: the grid read from the XML is python-docx's `row.cells`, cell for cell."""
    import io

    import docx

    from parsers.formats.docx import _table_grid

    document = docx.Document()
    table = document.add_table(rows=5, cols=5)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"{r}{c}"
    table.cell(0, 0).merge(table.cell(2, 0))          # down three rows
    table.cell(0, 1).merge(table.cell(0, 2))          # across two columns
    table.cell(1, 2).merge(table.cell(2, 3))          # a 2×2 block
    table.cell(3, 3).merge(table.cell(4, 4))          # a 2×2 block at the corner
    reference = []
    above: list = []
    for row in table.rows:
        line, tcs = [], []
        for column, cell in enumerate(row.cells):
            line.append((cell.text.strip(), bool(tcs) and cell._tc is tcs[-1],
                         column < len(above) and cell._tc is above[column]))
            tcs.append(cell._tc)
        reference.append(line)
        above = tcs
    buffer = io.BytesIO()
    document.save(buffer)
    reread = docx.Document(io.BytesIO(buffer.getvalue()))
    assert _table_grid(reread.tables[0]._tbl) == reference
