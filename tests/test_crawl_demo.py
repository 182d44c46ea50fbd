"""End to end: serve the demo portal, `scrapy crawl annual_reports` it twice, check the
archive against what the portal serves."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from nianbao.store import ContentStore, files_dir
from tools.samples.render import sample_named

from .conftest import rows


def test_both_crawls_exit_cleanly(crawled_demo):
    for run in (crawled_demo.first, crawled_demo.second):
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Traceback" not in run.stderr, run.stderr[-3000:]


def test_every_listed_report_is_archived(crawled_demo, demo_portal):
    expected = {demo_portal.base + r["path"] for r in demo_portal.manifest["reports"]}
    archived = {r["url"] for r in rows(crawled_demo.db, "select url from reports")}
    assert archived == expected
    assert len(expected) == 11


def test_every_document_is_kept_byte_for_byte(crawled_demo, demo_portal):
    store = ContentStore(files_dir(crawled_demo.db))
    documents = rows(crawled_demo.db, "select url, sha256, size, http_status, kind from documents")
    served = {demo_portal.base + r["path"] for r in demo_portal.manifest["reports"]}
    served |= {demo_portal.base + a["path"] for r in demo_portal.manifest["reports"]
               for a in r["attachments"]}
    assert {d["url"] for d in documents} == served
    for document in documents:
        path = demo_portal.root / document["url"][len(demo_portal.base) + 1:]
        body = path.read_bytes()
        assert document["sha256"] == hashlib.sha256(body).hexdigest(), document["url"]
        assert document["size"] == len(body)
        assert store.read(document["sha256"]) == body
        # the second crawl asked with If-Modified-Since; the demo server answered 304
        assert document["http_status"] == 304


def test_document_kinds_come_from_the_bytes(crawled_demo):
    kinds = {r["url"].rsplit(".", 1)[-1]: r["kind"]
             for r in rows(crawled_demo.db, "select url, kind from documents")}
    assert kinds == {"html": "html", "pdf": "pdf", "docx": "docx", "doc": "doc", "wps": "wps"}


def test_metadata_of_every_report(crawled_demo, demo_portal):
    archived = {r["url"]: r for r in rows(crawled_demo.db, "select * from reports")}
    for report in demo_portal.manifest["reports"]:
        row = archived[demo_portal.base + report["path"]]
        assert row["title"] == report["title"]
        assert row["year"] == report["year"]
        assert row["template"] == report["template"]
        assert row["published"] == report["published"]
        assert row["listing_url"] == demo_portal.listing
        if report["direct"]:
            continue  # a PDF linked straight from the listing: no metadata block
        metadata = report["metadata"]
        assert (row["index_no"], row["publisher"], row["topic"]) == (
            metadata["索引号"], metadata["发布机构"], metadata.get("主题分类") or None)


def test_figures_of_every_report_match_the_samples(crawled_demo, demo_portal):
    for report in demo_portal.manifest["reports"]:
        url = demo_portal.base + report["path"]
        cells = {(r["tbl"], r["row"], r["col"]): r["value"] for r in rows(
            crawled_demo.db, "select tbl, row, col, value from cells where report_url = ?", [url])}
        gold = sample_named(report["name"]).gold()["tables"]
        expected = {(t, r, c): v for t, rows_ in gold.items() for r, cols in rows_.items()
                    for c, v in cols.items()}
        assert cells == pytest.approx(expected), report["name"]


def test_report_text_comes_from_the_attachment_when_the_page_is_a_shell(crawled_demo, demo_portal):
    for report in demo_portal.manifest["reports"]:
        row = rows(crawled_demo.db, "select text, report_document from reports where url = ?",
                   [demo_portal.base + report["path"]])[0]
        assert "收到和处理政府信息公开申请情况" in row["text"]
        if report["shell"]:
            assert row["report_document"] != demo_portal.base + report["path"]


def test_a_printed_total_that_does_not_add_up_is_kept_and_flagged(crawled_demo, demo_portal):
    report = next(r for r in demo_portal.manifest["reports"] if r["name"] == "variant-003")
    url = demo_portal.base + report["path"]
    row = rows(crawled_demo.db, "select checks_ok, checks_failed from reports where url = ?", [url])[0]
    assert (row["checks_ok"], row["checks_failed"]) == (0, 1)
    failed = rows(crawled_demo.db, "select * from checks where report_url = ? and ok = 0", [url])
    assert [(c["tbl"], c["scope"]) for c in failed] == [("review_litigation", "行政复议")]
    printed = sample_named("variant-003").tables["review_litigation"]["行政复议"]["总计"]
    assert rows(crawled_demo.db, "select value from cells where report_url = ? and tbl = "
                "'review_litigation' and row = '行政复议' and col = '总计'", [url])[0]["value"] == printed


def test_a_missing_attachment_is_recorded_and_the_crawl_goes_on(crawled_demo, demo_portal):
    errors = rows(crawled_demo.db, "select run_id, url, stage, message from errors where run_id = 1")
    assert [(e["stage"], e["message"]) for e in errors] == [("attachment", "HTTP 404")]
    assert errors[0]["url"].endswith("9.docx")


def test_second_crawl_adds_nothing(crawled_demo, demo_portal):
    first, second = crawled_demo.after_first, crawled_demo.after_second
    for table in ("reports", "documents", "document_versions", "cells", "checks", "sections"):
        assert second[table] == first[table], table
    reports = demo_portal.manifest["reports"]
    files = len(reports) + sum(len(r["attachments"]) for r in reports)
    runs = rows(crawled_demo.db, "select * from crawl_runs order by id")
    assert [(r["status"], r["reports_new"], r["reports_changed"], r["reports_unchanged"])
            for r in runs] == [("finished", len(reports), 0, 0), ("finished", 0, 0, len(reports))]
    assert all(r["listings"] == 3 and r["documents"] == files and r["errors"] == 1 for r in runs)


def test_listing_hints_are_kept_for_reparse(crawled_demo):
    hints = [json.loads(r["listing_hints"]) for r in rows(crawled_demo.db,
                                                           "select listing_hints from reports")]
    assert all(h.get("标题") and h.get("发布时间") for h in hints)


def test_reparse_rebuilds_the_same_tables_without_crawling(archive_copy):
    from nianbao.reparse import reparse

    before = rows(archive_copy, "select * from cells order by report_url, tbl, row, col")
    figures = rows(archive_copy, "select * from figures order by 年报")
    bodies = rows(archive_copy, "select * from bodies order by 编号")
    with sqlite3.connect(archive_copy) as connection:  # cells and checks are views over these
        connection.execute("delete from report_cells")
        connection.execute("delete from report_checks")
        # figures an older parser read wrong, in the reports' rows and their bodies'
        connection.execute("update figures set 新收申请 = -1")
        connection.execute("update bodies set 新收申请 = -1")
    counts = reparse(archive_copy, log=lambda line: None)
    assert counts == {"reparsed": 11, "skipped": 0, "missing_files": 0, "failed": 0}
    assert rows(archive_copy, "select * from cells order by report_url, tbl, row, col") == before
    assert rows(archive_copy, "select * from figures order by 年报") == figures
    assert rows(archive_copy, "select * from bodies order by 编号") == bodies
    assert rows(archive_copy, "select count(*) n from checks")[0]["n"] > 0
