"""Report pages whose tables are pictures: the crawler fetches the pictures in a page's
body (bounded), keeps them as documents of the report, and the figures come from OCR of
them, marked as such; a page whose HTML holds the tables never has its pictures fetched."""

from __future__ import annotations

import json

import pytest

from nianbao.reparse import reparse
from tools.evaluation import pictured_page

from .conftest import CORPUS, rows, run_scrapy
from .portals import PicturedPortal


@pytest.fixture(scope="module")
def portal():
    portal = PicturedPortal().build()
    server = portal.serve()
    yield portal
    server.shutdown()


@pytest.fixture(scope="module")
def crawled(portal, tmp_path_factory):
    db = tmp_path_factory.mktemp("pictured") / "archive.db"
    run = run_scrapy(db, [portal.listing])
    assert run.returncode == 0, run.stderr[-3000:]
    return db


def _cells(db, url) -> dict:
    return {(r["tbl"], r["row_key"], r["col"]): r["value"] for r in rows(
        db, "select tbl, row as row_key, col, value from cells where report_url = ?", [url])}


def _gold(name: str) -> dict:
    gold = json.loads((CORPUS / name / "gold.json").read_text(encoding="utf-8"))
    return {(t, r, c): v for t, table in gold["tables"].items() for r, cols in table.items()
            for c, v in cols.items()}


def test_a_page_of_pictured_tables_is_read_by_ocr_from_its_pictures(portal, crawled):
    first = portal.base + portal.reports[0]["path"]
    report = rows(crawled, "select status, ocr, template, report_document from reports where url = ?", [first])[0]
    assert report == {"status": "ok", "ocr": 1, "template": "2021", "report_document": first}
    pictures = rows(crawled, "select url, kind from documents where report_url = ? and kind = 'image' "
                             "order by rowid", [first])
    assert [p["url"].rsplit("/", 1)[1] for p in pictures] == \
        [f"{n}.png" for n in range(1, portal.reports[0]["pictures"] + 1)]
    got = _cells(crawled, first)
    gold = _gold("seed-004")
    assert {key: float(value) for key, value in got.items()} == {k: float(v) for k, v in gold.items()}


def test_one_tall_picture_of_every_table_is_read_too(portal, crawled):
    second = portal.base + portal.reports[1]["path"]
    assert rows(crawled, "select status, ocr from reports where url = ?", [second]) == [{"status": "ok", "ocr": 1}]
    got, gold = _cells(crawled, second), _gold("variant-004")
    right = sum(1 for key, value in gold.items() if key in got and float(got[key]) == float(value))
    assert right >= 0.98 * len(gold) and set(got) <= set(gold)


def test_pictures_are_not_fetched_where_the_html_holds_the_tables_nor_from_the_header(portal, crawled):
    third = portal.base + portal.reports[2]["path"]
    assert rows(crawled, "select status, ocr from reports where url = ?", [third]) == [{"status": "ok", "ocr": 0}]
    assert not portal.fetched("/xxgk/nb/3/chart.png")
    assert not portal.fetched("/images/logo.png")
    assert rows(crawled, "select count(*) n from errors") == [{"n": 0}]


def test_reparse_reads_the_stored_pictures_in_page_order(portal, crawled, tmp_path):
    first = portal.base + portal.reports[0]["path"]
    before = _cells(crawled, first)
    reparse(str(crawled), workers=1, log=lambda *a: None)
    assert _cells(crawled, first) == before
    assert rows(crawled, "select ocr from reports where url = ?", [first]) == [{"ocr": 1}]


def test_picture_bounds_count_and_pixels(portal, tmp_path):
    db = tmp_path / "archive.db"
    run = run_scrapy(db, [portal.listing], "NIANBAO_PAGE_IMAGES=1", "NIANBAO_PAGE_IMAGE_MAX_PIXELS=400000")
    assert run.returncode == 0, run.stderr[-3000:]
    first = portal.base + portal.reports[0]["path"]
    # one picture asked per page; the tall one is beyond the pixel bound and not kept
    assert [r["url"].rsplit("/", 1)[1] for r in rows(
        db, "select url from documents where report_url = ? and kind = 'image'", [first])] == ["1.png"]
    refused = rows(db, "select url, stage, message from errors where stage = 'image'")
    assert [r["url"].rsplit("/", 2)[1:] for r in refused] == [["2", "1.png"]]
    assert "pixels (limit 400,000): not kept" in refused[0]["message"]


def test_a_picture_is_never_parsed_alone_and_a_page_parse_takes_its_pictures():
    import parsers

    page, images = pictured_page(CORPUS / "seed-004" / "images-tables")
    with pytest.raises(parsers.ReportParseError, match="picture"):
        parsers.parse_report(images[0])
    alone = parsers.parse_report(page)
    assert not any(alone["tables"].values()) and alone["ocr"] is False
    with_pictures = parsers.parse_report(page, images=images)
    assert with_pictures["ocr"] is True
    assert any("read by OCR from 4 image(s)" in w for w in with_pictures["warnings"])
    # a page whose HTML holds the tables is never OCR'd, whatever pictures come with it
    html = (CORPUS / "seed-004" / "page.html").read_bytes()
    assert parsers.parse_report(html, images=images)["ocr"] is False


def test_the_report_page_says_its_figures_were_read_by_ocr_and_serves_the_pictures(portal, crawled):
    import asyncio

    from datasette.utils import tilde_encode

    from nianbao.publish import datasette_app

    app = datasette_app(crawled)
    first = portal.base + portal.reports[0]["path"]
    third = portal.base + portal.reports[2]["path"]
    page = asyncio.run(app.client.get(f"/archive/reports/{tilde_encode(first)}")).text
    assert "ocr-note" in page and "表格截图" in page
    plain = asyncio.run(app.client.get(f"/archive/reports/{tilde_encode(third)}")).text
    assert "ocr-note" not in plain and "表格截图" not in plain
    digest = rows(crawled, "select sha256 from documents where url = ?", [first.rsplit("/", 1)[0] + "/1.png"])[0]["sha256"]
    picture = asyncio.run(app.client.get(f"/-/archive/{digest}"))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")
