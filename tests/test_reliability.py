"""What the archive captured is never lost or hidden: crashes at any point, a JOBDIR
crawl killed and resumed, attachment and page outages, hostile portals, two writers,
and the exit codes cron sees. Every portal is served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import sqlite3
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from nianbao.archive import Archive, writer_of
from nianbao.store import ContentStore, files_dir
from nianbao.cli import main

from .conftest import ROOT, run_scrapy
from .conftest import rows as query
from .portals import ArchivePortal, HostilePortal

KILLER = '{"tests.faults.KillAt": 0}'


@pytest.fixture(scope="module")
def portal():
    portal = ArchivePortal(12).build()
    server = portal.serve()
    yield portal
    server.shutdown()


@pytest.fixture
def fresh_portal():
    portal = ArchivePortal(12).build()
    server = portal.serve()
    yield portal
    server.shutdown()


def crawl_killed_at(db, portal, point: str, *settings: str):
    run = run_scrapy(db, [portal.listing], f"EXTENSIONS={KILLER}", f"NIANBAO_KILL_AT={point}",
                     *settings)
    assert run.returncode == -9, f"the fault at {point} never fired:\n{run.stderr[-2000:]}"
    return run


def assert_whole(db, portal=None):
    """Every invariant of an archive: the file is sound; every report present has all its
    derived rows; nothing points at a missing report, file or row; no run is left
    `running`; every stored file is whole. With `portal`: every report it lists is there."""
    assert query(db, "pragma integrity_check") == [{"integrity_check": "ok"}]
    reports = {r["url"]: r for r in query(db, "select * from reports")}
    if portal is not None:
        assert set(reports) == {portal.url(r["path"]) for r in portal.reports[:portal.listed]}
    for url, report in reports.items():
        cells = query(db, "select count(*) n from cells where report_url = ?", [url])[0]["n"]
        assert cells == report["cell_count"], url
        if portal is not None or report["status"] == "ok":
            assert report["status"] == "ok" and cells > 100, url
            for table in ("checks", "sections"):
                assert query(db, f"select count(*) n from {table} where report_url = ?", [url])[0]["n"], (table, url)
        assert len(query(db, "select 1 from figures where [年报] = ?", [url])) == 1, url
        assert len(query(db, "select 1 from reports_fts where rowid = ?", [report["id"]])) == 1, url
    for table, column in (("cells", "report_url"), ("checks", "report_url"), ("sections", "report_url"),
                          ("documents", "report_url"), ("figures", "[年报]")):
        orphans = query(db, f"select count(*) n from {table} where {column} not in (select url from reports)")
        assert orphans[0]["n"] == 0, table
    assert query(db, "select count(*) n from reports_fts")[0]["n"] == len(reports)
    assert query(db, "select count(*) n from reports_fts where rowid not in "
                     "(select id from reports)")[0]["n"] == 0
    for table in ("report_cells", "report_checks", "report_sections"):
        assert query(db, f"select count(*) n from {table} where report_id not in "
                         "(select id from reports)")[0]["n"] == 0, table
    assert query(db, "select count(*) n from document_versions where url not in "
                     "(select url from documents)")[0]["n"] == 0
    assert query(db, "select id from crawl_runs where status = 'running'") == []
    store = ContentStore(files_dir(db))
    digests = {r["sha256"] for r in query(db, "select sha256 from documents union "
                                              "select sha256 from document_versions")}
    for digest in digests:
        assert hashlib.sha256(store.read(digest)).hexdigest() == digest
    for path in store.root.glob("??/*"):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, "a torn file"
    assert not any((store.root / ContentStore.INCOMING).glob("*"))


# --- crashes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["listing:2", "download:5", "archive:4", "store:6"])
def test_a_crawl_killed_anywhere_leaves_only_whole_reports_and_the_next_completes(portal, tmp_path, point):
    db = tmp_path / "archive.db"
    crawl_killed_at(db, portal, point)
    if db.exists():
        # what the killed crawl committed is whole (its run is still marked running)
        for report in query(db, "select url, cell_count from reports"):
            cells = query(db, "select count(*) n from cells where report_url = ?", [report["url"]])
            assert cells[0]["n"] == report["cell_count"]
            assert query(db, "select 1 from figures where [年报] = ?", [report["url"]])
    again = run_scrapy(db, [portal.listing])
    assert again.returncode == 0, again.stderr[-3000:]
    assert_whole(db, portal)
    runs = query(db, "select status from crawl_runs order by id")
    assert [r["status"] for r in runs] == ["interrupted", "finished"]


def test_a_report_killed_inside_its_transaction_is_absent_not_half_written(portal, tmp_path):
    db = tmp_path / "archive.db"
    crawl_killed_at(db, portal, "archive:3")
    # the third report's rows were all written when the process died: none of it is kept
    assert len(query(db, "select url from reports")) == 2
    assert len(query(db, "select distinct report_url from cells")) == 2
    assert query(db, "select count(*) n from reports_fts")[0]["n"] == 2


def test_a_half_written_report_from_an_older_version_is_repaired(portal, tmp_path):
    db = tmp_path / "archive.db"
    assert run_scrapy(db, [portal.listing]).returncode == 0
    damaged, unindexed = (portal.url(r["path"]) for r in portal.reports[:2])
    connection = sqlite3.connect(db)
    with connection:  # what an older version's interrupted write left
        connection.execute("delete from figures where [年报] = ?", [damaged])
        damaged_id = connection.execute("select id from reports where url = ?", [damaged]).fetchone()[0]
        connection.execute("delete from report_cells where report_id = ? and cell in (select cell "
                           "from report_cells where report_id = ? limit 100)", [damaged_id, damaged_id])
        title, text, report_id = connection.execute("select title, text, id from reports where url = ?",
                                                    [unindexed]).fetchone()
        from nianbao.search import index_row
        connection.execute("insert into reports_fts (reports_fts, rowid, title_chars, title_pairs, "
                           "body_chars, body_pairs) values ('delete', ?, ?, ?, ?, ?)",
                           [report_id, *index_row(title, text).values()])
    connection.close()
    from nianbao.publish import incomplete_reports

    assert incomplete_reports(db) == 2
    again = run_scrapy(db, [portal.listing])
    assert again.returncode == 0
    assert_whole(db, portal)
    assert query(db, "select reports_changed, reports_unchanged from crawl_runs where id = 2") == [
        {"reports_changed": 2, "reports_unchanged": 10}]


def test_a_killed_jobdir_crawl_resumes_and_fetches_only_what_it_had_not_archived(fresh_portal, tmp_path):
    db, jobdir = tmp_path / "archive.db", tmp_path / "job"
    crawl_killed_at(db, fresh_portal, "archive:6", f"JOBDIR={jobdir}")
    archived = [r["url"] for r in query(db, "select url from reports")]
    assert 0 < len(archived) < 12
    resumed = run_scrapy(db, [fresh_portal.listing], f"JOBDIR={jobdir}")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "was killed" in resumed.stderr
    assert_whole(db, fresh_portal)
    for url in archived:  # archived before the kill: not fetched again
        assert fresh_portal.fetches(url[len(fresh_portal.base):]) == 1, url
    # a finished JOBDIR used again (a scheduled crawl) hides nothing as "already seen"
    third = run_scrapy(db, [fresh_portal.listing], f"JOBDIR={jobdir}")
    assert third.returncode == 0
    assert query(db, "select status, reports_unchanged from crawl_runs order by id") == [
        {"status": "interrupted", "reports_unchanged": None},
        {"status": "finished", "reports_unchanged": 0},
        {"status": "finished", "reports_unchanged": 12}]


# --- outages ----------------------------------------------------------------------------------------


def test_figures_survive_outages_and_a_gone_page_is_marked_then_revived(tmp_path):
    portal = ArchivePortal(4).build()
    server = portal.serve()
    try:
        db = tmp_path / "archive.db"
        assert run_scrapy(db, [portal.listing]).returncode == 0
        before = query(db, "select report_url, tbl, row, col, value from cells order by 1, 2, 3, 4")
        figures = query(db, "select * from figures order by [年报]")
        first = {r["url"]: r for r in query(db, "select * from documents")}
        page, pdf_404, shell, pdf_503 = portal.reports
        saved = {path: portal.answers[path] for path in
                 (page["path"], pdf_404["attachments"][0], pdf_503["attachments"][0])}
        portal.add(page["path"], b"<h1>404</h1>", status=404)
        portal.add(pdf_404["attachments"][0], b"<h1>404</h1>", status=404)
        portal.add(pdf_503["attachments"][0], b"busy", status=503)

        outage = run_scrapy(db, [portal.listing], "RETRY_TIMES=0")
        assert outage.returncode == 0, outage.stderr[-3000:]
        assert query(db, "select report_url, tbl, row, col, value from cells order by 1, 2, 3, 4") == before
        assert query(db, "select * from figures order by [年报]") == figures
        assert {r["status"] for r in query(db, "select status from reports")} == {"ok"}
        documents = {r["url"]: r for r in query(db, "select * from documents")}
        for path, status in ((pdf_404["attachments"][0], 404), (pdf_503["attachments"][0], 503),
                             (page["path"], 404)):
            document = documents[portal.url(path)]
            assert (document["http_status"], document["fetch_error"]) == (status, f"HTTP {status}")
            assert document["fetched_at"] == first[portal.url(path)]["fetched_at"]
            assert document["checked_at"] > document["fetched_at"]
            assert document["sha256"] == first[portal.url(path)]["sha256"]
        gone = {r["url"]: r["gone_since"] for r in query(db, "select url, gone_since from reports")}
        assert gone.pop(portal.url(page["path"])) is not None
        assert set(gone.values()) == {None}  # a 503 is an outage, not a disappearance
        run = query(db, "select * from crawl_runs where id = 2")[0]
        assert (run["reports_unchanged"], run["reports_changed"], run["errors"]) == (3, 0, 3)

        portal.answers.update(saved)
        back = run_scrapy(db, [portal.listing])
        assert back.returncode == 0
        assert query(db, "select count(*) n from documents where fetch_error is not null") == [{"n": 0}]
        assert query(db, "select count(*) n from reports where gone_since is not null") == [{"n": 0}]
        assert query(db, "select report_url, tbl, row, col, value from cells order by 1, 2, 3, 4") == before
        assert_whole(db, portal)
    finally:
        server.shutdown()


# --- hostile portals --------------------------------------------------------------------------------


def test_a_hostile_portal_cannot_lead_the_crawl_away_flood_it_or_break_the_archive(tmp_path):
    portal = HostilePortal().build()
    server = portal.serve()
    try:
        db = tmp_path / "archive.db"
        run = run_scrapy(db, [portal.base + "/nb/index.html", portal.base + "/big/index.html"],
                         "NIANBAO_MAX_REPORT_LINKS=50")
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Traceback" not in run.stderr and "OverflowError" not in run.stderr
        reports = {r["url"]: r for r in query(db, "select * from reports")}
        # moved within the site: archived under the URL the listing gave
        assert set(reports) == {portal.base + p for p in ("/nb/moved.html", "/nb/file-away.html",
                                                          "/nb/huge.html")}
        errors = query(db, "select url, stage, message from errors")
        offsite = {e["url"]: e["message"] for e in errors if e["stage"] == "offsite"}
        assert set(offsite) == {portal.base + p for p in ("/nb/away.html", "/nb/alias.html",
                                                          "/nb/files/1.pdf")}
        assert "evil.invalid" in offsite[portal.base + "/nb/away.html"]
        assert "localhost" in offsite[portal.base + "/nb/alias.html"]
        assert not query(db, "select url from documents where url like '%evil%' or url like '%localhost%'")
        # the figure no report can hold is refused with a warning, the rest is archived
        huge = reports[portal.base + "/nb/huge.html"]
        assert huge["status"] == "ok" and "not a figure a report can hold" in huge["warnings"]
        assert query(db, "select max(abs(value)) m from cells")[0]["m"] < 10 ** 12
        # 100,000 links: 50 followed, and the cap is on record
        followed = [path for _, path, _ in portal.requests if path.startswith("/big/") and path != "/big/index.html"]
        assert len(followed) == 50
        assert [e["message"][:30] for e in errors if e["url"].endswith("/big/index.html")] == [
            "stopped after 50 report links "]
        assert_whole(db)
    finally:
        server.shutdown()


# --- one writer ------------------------------------------------------------------------------------


def test_a_second_crawl_into_a_busy_archive_stops_at_once_and_the_first_completes(fresh_portal, tmp_path):
    db = tmp_path / "archive.db"
    # the first crawl cannot finish before the checks below: one page waits for them
    gate = fresh_portal.gates[fresh_portal.reports[-1]["path"]] = threading.Event()
    command = [sys.executable, "-m", "scrapy", "crawl", "annual_reports", "-a",
               f"urls={fresh_portal.listing}", "-s", f"ARCHIVE_DB={db}", "-s", "DOWNLOAD_DELAY=0",
               "-s", "AUTOTHROTTLE_ENABLED=False"]
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log, writing = [], threading.Event()

    def read_log():  # the first crawl says when it holds the archive
        for line in first.stderr:
            log.append(line)
            if "crawl run 1" in line:
                writing.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        assert writing.wait(timeout=60), "".join(log)[-3000:]
        assert writer_of(db).startswith("crawl run 1 since")
        second = run_scrapy(db, [fresh_portal.listing])
        assert "archive busy: crawl run 1 since" in second.stderr
        assert "Traceback" not in second.stderr
        busy = CliRunner().invoke(main, ["crawl", "--db", str(db), "--url", fresh_portal.listing])
        assert busy.exit_code == 3 and busy.output.startswith("Error: archive busy: crawl run 1")
        assert CliRunner().invoke(main, ["reparse", "--db", str(db)]).exit_code == 3
    finally:
        gate.set()
        assert first.wait(timeout=300) == 0, "".join(log)[-3000:]
        reader.join(timeout=10)
    assert query(db, "select id, status from crawl_runs") == [{"id": 1, "status": "finished"}]
    assert_whole(db, fresh_portal)
    assert writer_of(db) is None


def test_the_writer_lock_names_its_holder_and_dies_with_it(tmp_path):
    db = tmp_path / "archive.db"
    with Archive(db, "reparse"):
        assert writer_of(db).startswith("reparse since")
        with pytest.raises(Exception, match="archive busy: reparse since"):
            Archive(db)
    assert writer_of(db) is None
    # a holder killed outright releases it: the kernel drops a dead process's locks
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from nianbao.archive import "
                               f"Archive; a = Archive({str(db)!r}); print('held', flush=True); time.sleep(60)"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert writer_of(db).startswith("writer since")
    holder.kill()
    holder.wait()
    assert writer_of(db) is None


def test_a_failure_inside_a_report_write_is_rolled_back_and_recorded(portal, tmp_path, monkeypatch):
    db = tmp_path / "archive.db"
    assert run_scrapy(db, [portal.listing]).returncode == 0
    before = query(db, "select count(*) n from cells")
    from nianbao import archive as archive_module
    from nianbao.reparse import reparse

    calls = {"n": 0}
    figures_row = archive_module.figures_row

    def fail_on_the_third(*args):  # inside the report's transaction
        calls["n"] += 1
        if calls["n"] == 3:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return figures_row(*args)

    monkeypatch.setattr(archive_module, "figures_row", fail_on_the_third)
    counts = reparse(db, log=lambda line: None)
    assert counts["failed"] == 1 and counts["reparsed"] == 11
    assert query(db, "select count(*) n from cells") == before
    errors = query(db, "select stage, message from errors where run_id is null")
    assert errors == [{"stage": "archive", "message": "reparse: OverflowError: Python int too large "
                                                      "to convert to SQLite INTEGER"}]
    assert_whole(db, portal)


# --- what cron sees -------------------------------------------------------------------------------


@pytest.mark.parametrize("arguments, says", [
    (["--url", "notaurl"], "--url 'notaurl' is not an http(s) URL"),
    (["--source", "不存在"], "--source '不存在': no entry of that name"),
])
def test_bad_crawl_arguments_are_one_error_line_before_scrapy_starts(tmp_path, arguments, says):
    result = CliRunner().invoke(main, ["crawl", "--db", str(tmp_path / "a.db"), *arguments])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {says}"), result.output
    assert not (tmp_path / "a.db").exists()


def test_a_failed_source_makes_the_crawl_exit_non_zero_and_says_which(portal, tmp_path):
    db = tmp_path / "archive.db"
    missing = portal.base + "/gone/index.html"
    result = CliRunner().invoke(main, ["crawl", "--db", str(db), "--url", missing, "--url", portal.listing,
                                       "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == f"Error: 1 source(s) failed: {missing}: HTTP 404"
    assert json.loads(query(db, "select sources_failed from crawl_runs")[0]["sources_failed"]) == [
        f"{missing}: HTTP 404"]
    ok = CliRunner().invoke(main, ["crawl", "--db", str(db), "--url", portal.listing,
                                   "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"])
    assert ok.exit_code == 0, ok.output


# --- incremental re-crawls ------------------------------------------------------------------------


def test_an_unchanged_portal_answers_304_and_nothing_is_downloaded_again(tmp_path):
    portal = ArchivePortal(6).build()
    server = portal.serve()
    try:
        db = tmp_path / "archive.db"
        assert run_scrapy(db, [portal.listing]).returncode == 0
        first = {r["url"]: r for r in query(db, "select * from documents")}
        assert all(r["etag"] and r["last_modified"] for r in first.values())
        portal.answered.clear()
        again = run_scrapy(db, [portal.listing])
        assert again.returncode == 0, again.stderr[-3000:]
        files = {path: (status, size) for path, status, size in portal.answered
                 if not path.startswith("/xxgk/nb/index") and path != "/robots.txt"}
        # every page and attachment asked again, conditionally: 304, no body
        assert set(files) == {r["path"] for r in portal.reports} | {a for r in portal.reports for a in r["attachments"]}
        assert set(files.values()) == {(304, 0)}
        # the listing pages, how new reports are found, are fetched whole
        assert {status for path, status, _ in portal.answered if path.startswith("/xxgk/nb/index")} == {200}
        run = query(db, "select * from crawl_runs where id = 2")[0]
        assert (run["reports_unchanged"], run["documents_not_modified"]) == (6, 9)
        documents = {r["url"]: r for r in query(db, "select * from documents")}
        for url, document in documents.items():
            assert document["http_status"] == 304 and document["fetch_error"] is None
            assert (document["sha256"], document["fetched_at"]) == (first[url]["sha256"], first[url]["fetched_at"])
            assert document["checked_at"] > first[url]["checked_at"]
        assert_whole(db, portal)

        # a file changed behind its old ETag: the server sends new bytes and a new ETag
        pdf = portal.reports[1]["attachments"][0]
        old_bytes = portal.answers[pdf].body
        portal.add(pdf, old_bytes + b"\n%%changed", "application/pdf")
        third = run_scrapy(db, [portal.listing])
        assert third.returncode == 0
        changed = query(db, "select * from documents where url = ?", [portal.url(pdf)])[0]
        assert changed["sha256"] != first[portal.url(pdf)]["sha256"] and changed["http_status"] == 200
        assert len(query(db, "select * from document_versions where url = ?", [portal.url(pdf)])) == 2
        run = query(db, "select * from crawl_runs where id = 3")[0]
        assert (run["reports_changed"], run["reports_unchanged"]) == (1, 5)
        # the old version's bytes stay in the store
        assert ContentStore(files_dir(db)).read(first[portal.url(pdf)]["sha256"]) == old_bytes
    finally:
        server.shutdown()


def test_a_parser_process_that_dies_is_a_parse_error_and_the_crawl_goes_on(portal, tmp_path):
    db = tmp_path / "archive.db"
    doomed = portal.reports[2]["path"]
    run = run_scrapy(db, [portal.listing], f"EXTENSIONS={KILLER}", f"NIANBAO_KILL_AT=parse:{doomed}")
    assert run.returncode == 0, run.stderr[-3000:]
    archived = {r["url"] for r in query(db, "select url from reports")}
    assert archived == {portal.url(r["path"]) for r in portal.reports} - {portal.url(doomed)}
    assert query(db, "select url, stage, message from errors") == [
        {"url": portal.url(doomed), "stage": "parse",
         "message": "the parser's worker process died while reading it"}]
    assert query(db, "select status, reports_new, errors from crawl_runs") == [
        {"status": "finished", "reports_new": 11, "errors": 1}]
    assert_whole(db)
    # the next crawl, without the fault, parses it
    assert run_scrapy(db, [portal.listing]).returncode == 0
    assert_whole(db, portal)


def test_reports_waiting_for_their_parse_are_bounded_and_the_crawl_completes(portal, tmp_path):
    db = tmp_path / "archive.db"
    run = run_scrapy(db, [portal.listing], "NIANBAO_REPORTS_IN_FLIGHT=1",
                     "CONCURRENT_REQUESTS=1")
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(query(db, "select url from reports")) == len(portal.reports)
    # at most the bound, and what the downloader held when the crawl paused (one request)
    most = re.search(r"'nianbao/reports_in_flight_max': (\d+)", run.stderr)
    assert most and int(most.group(1)) <= 2, run.stderr[-3000:]


def test_the_in_flight_bound_pauses_the_engine_and_resumes_it_as_reports_are_archived():
    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from crawler.items import ReportPage
    from crawler.middlewares import ReportsInFlightMiddleware

    crawler = get_crawler(settings_dict={"NIANBAO_REPORTS_IN_FLIGHT": 3})
    crawler.engine = type("Engine", (), {"paused": False, "pause": lambda self: setattr(self, "paused", True),
                                         "unpause": lambda self: setattr(self, "paused", False)})()
    middleware = ReportsInFlightMiddleware.from_crawler(crawler)
    pages = [ReportPage(url=f"http://a.gov.cn/{n}.html", body=b"", content_type="text/html",
                        http_status=200, fetched_at="") for n in range(4)]
    passed = list(middleware.process_spider_output(None, pages[:2] + ["a request"]))
    assert len(passed) == 3 and not crawler.engine.paused
    list(middleware.process_spider_output(None, pages[2:]))
    assert crawler.engine.paused and middleware.in_flight == 4
    crawler.signals.send_catch_log(signals.item_scraped, item=pages[0], response=None, spider=None)
    assert crawler.engine.paused  # 3 still in flight
    crawler.signals.send_catch_log(signals.item_dropped, item=pages[1], response=None,
                                   exception=None, spider=None)
    assert not crawler.engine.paused and middleware.in_flight == 2


def test_the_files_pipeline_keeps_only_its_latest_results(tmp_path):
    """Scrapy would keep every file's result for the whole run (memory growing with the
    crawl); the pipeline keeps the latest RESULTS_KEPT."""
    from scrapy.utils.test import get_crawler

    from crawler.pipelines import ReportFilesPipeline

    crawler = get_crawler(settings_dict={"ARCHIVE_DB": str(tmp_path / "archive.db"),
                                         "FILES_STORE": str(tmp_path / "files")})
    crawler.spider = object()
    pipeline = ReportFilesPipeline.from_crawler(crawler)
    pipeline.open_spider()
    kept = ReportFilesPipeline.RESULTS_KEPT
    for n in range(kept + 5):
        pipeline.spiderinfo.downloaded[b"%d" % n] = {"checksum": str(n)}
    assert len(pipeline.spiderinfo.downloaded) == kept
    assert b"4" not in pipeline.spiderinfo.downloaded and b"5" in pipeline.spiderinfo.downloaded


def test_the_parse_pool_blames_only_the_report_that_kills_its_worker(monkeypatch):
    from nianbao.parsing import ParsePool, WorkerDied
    from tests.faults import parse_or_die

    monkeypatch.setenv("NIANBAO_KILL_PARSE_OF", "/doomed")
    monkeypatch.setattr(ParsePool, "function", staticmethod(parse_or_die))
    from nianbao.archive import DocumentRecord

    from .portals import corpus_file

    body = corpus_file("seed-000", "page.html")
    files = [(DocumentRecord(url="http://a.gov.cn/x", kind="html", sha256="0" * 64, size=len(body)), body)]
    jobs = [(name, f"http://a.gov.cn/{name}", files, {}) for name in ("one", "doomed", "two", "three")]
    with ParsePool(2) as pool:
        outcomes = dict(pool.build_all(jobs))
    assert isinstance(outcomes.pop("doomed"), WorkerDied)
    assert {name: record.fields["status"] for name, record in outcomes.items()} == {
        "one": "ok", "two": "ok", "three": "ok"}


def test_the_parse_pool_replaces_its_workers_and_never_runs_out_of_them(monkeypatch):
    from nianbao import parsing
    from nianbao.archive import DocumentRecord

    from .portals import corpus_file

    monkeypatch.setattr(parsing, "TASKS_PER_WORKER", 2)
    body = corpus_file("seed-000", "page.html")
    files = [(DocumentRecord(url="http://a.gov.cn/x", kind="html", sha256="0" * 64, size=len(body)), body)]
    jobs = [(n, f"http://a.gov.cn/{n}", files, {}) for n in range(9)]
    with parsing.ParsePool(2) as pool:
        first = pool._pool()
        outcomes = dict(pool.build_all(jobs))
        assert sorted(outcomes) == list(range(9))
        assert all(record.fields["status"] == "ok" for record in outcomes.values())
        assert first in pool._retired and len(pool._retired) >= 2  # new workers every 4 reports
        # and one at a time, as the crawl asks
        assert asyncio.run(pool.build("http://a.gov.cn/last", files)).fields["status"] == "ok"


# --- where the files are kept -----------------------------------------------------------------


def test_files_kept_where_files_store_says_are_read_back_by_reparse_the_site_and_backup(portal, tmp_path):
    db, elsewhere = tmp_path / "archive.db", tmp_path / "elsewhere"
    run = run_scrapy(db, [portal.listing], f"FILES_STORE={elsewhere}")
    assert run.returncode == 0, run.stderr[-3000:]
    assert not files_dir(db).exists() or not any(files_dir(db).glob("??/*"))
    digests = {r["sha256"] for r in query(db, "select sha256 from documents")}
    assert {path.name for path in elsewhere.glob("??/*")} == digests
    assert query(db, "select value from archive_info where name = 'files_store'") == [{"value": str(elsewhere)}]
    from nianbao.reparse import reparse

    assert reparse(db, workers=1, log=lambda line: None)["reparsed"] == 12
    import asyncio

    from nianbao.publish import datasette_app

    digest = sorted(digests)[0]
    answer = asyncio.run(datasette_app(db).client.get(f"/-/archive/{digest}"))
    assert answer.status_code == 200 and hashlib.sha256(answer.content).hexdigest() == digest
    from nianbao.archive import backup

    counts = backup(db, tmp_path / "backup")
    assert counts == {"files_copied": len(digests), "files_present": 0}
    copy = tmp_path / "backup" / "archive.db"
    assert {path.name for path in files_dir(copy).glob("??/*")} == digests  # beside the copy
    assert query(copy, "select * from archive_info") == []
    # a second crawl answers 304s from the bytes kept there
    assert run_scrapy(db, [portal.listing], f"FILES_STORE={elsewhere}").returncode == 0
    assert query(db, "select count(*) n from documents where http_status = 304") == \
        query(db, "select count(*) n from documents")


def test_an_s3_store_reads_and_writes_through_the_bucket():
    from botocore.stub import Stubber

    from nianbao.store import S3ContentStore, content_path, sha256

    store = S3ContentStore("s3://archive/nianbao/", region_name="cn-north-1", aws_access_key_id="k",
                           aws_secret_access_key="s")
    body = b"%PDF-1.7 a report"
    key = "nianbao/" + content_path(sha256(body))
    with Stubber(store.client) as stub:
        stub.add_client_error("head_object", "404", expected_params={"Bucket": "archive", "Key": key})
        stub.add_response("put_object", {}, {"Bucket": "archive", "Key": key, "Body": body})
        assert store.put(body) == sha256(body)
        stub.add_response("head_object", {}, {"Bucket": "archive", "Key": key})  # stored already
        assert store.put(body) == sha256(body)
        stub.add_response("get_object", {"Body": io.BytesIO(body)},
                          {"Bucket": "archive", "Key": key})
        assert store.read(sha256(body)) == body
        stub.assert_no_pending_responses()


def test_the_crawl_as_warc_beside_the_store_with_revisits_for_304s(tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    from crawler.warc import warc_digest

    portal = ArchivePortal(4).build()
    server = portal.serve()
    try:
        db, warcs = tmp_path / "archive.db", tmp_path / "warc"
        for _ in range(2):
            assert run_scrapy(db, [portal.listing], f"NIANBAO_WARC={warcs}").returncode == 0
        first, second = sorted(warcs.glob("*.warc.gz"))
        store = ContentStore(files_dir(db))
        documents = {r["url"]: r["sha256"] for r in query(db, "select url, sha256 from documents")}

        def records(path):
            with open(path, "rb") as stream:
                return [(r.rec_type, r.rec_headers, r.content_stream().read()) for r in ArchiveIterator(stream)]

        captured = records(first)
        responses = {h.get_header("WARC-Target-URI"): (h, body) for kind, h, body in captured if kind == "response"}
        assert set(documents) <= set(responses)  # every page and file, as served
        for url, digest in documents.items():
            headers, body = responses[url]
            assert hashlib.sha256(body).hexdigest() == digest and store.read(digest) == body
            assert headers.get_header("WARC-Payload-Digest") == warc_digest(digest)
        assert sum(kind == "request" for kind, _, _ in captured) == \
            sum(kind in ("response", "revisit") for kind, _, _ in captured)
        # the unchanged crawl: a revisit for every 304, naming the bytes the store holds
        revisits = {h.get_header("WARC-Target-URI"): h for kind, h, _ in records(second) if kind == "revisit"}
        assert set(revisits) == set(documents)
        for url, headers in revisits.items():
            assert headers.get_header("WARC-Payload-Digest") == warc_digest(documents[url])
            assert headers.get_header("WARC-Profile").endswith("revisit/server-not-modified")
    finally:
        server.shutdown()


# --- old reports are not failures ---------------------------------------------------------------

OLD_REPORT = """<html><head><meta charset="utf-8"><title>某县人民政府{year}年政府信息公开工作年度报告</title></head>
<body><div class="TRS_Editor"><p>某县人民政府{year}年政府信息公开工作年度报告</p>
<p>一、概述</p><p>{year}年，我县认真贯彻落实《中华人民共和国政府信息公开条例》，全年主动公开政府信息1234条。</p>
<table><tr><td>指标名称</td><td>单位</td><td>数量</td></tr>
<tr><td>主动公开政府信息数</td><td>条</td><td>1234</td></tr></table></div></body></html>"""


def test_a_report_from_before_the_national_tables_is_archived_searchable_and_no_failure(tmp_path):
    from .portals import Portal

    portal = Portal()
    for year in (2016, 2022):  # 2022: a report that should have the tables and has none
        portal.add(f"/nb/t{year + 1}0115_{year}.html", OLD_REPORT.format(year=year))
    portal.add("/nb/index.html", "<html><body><ul>" + "".join(
        f"<li><a href='/nb/t{y + 1}0115_{y}.html'>某县人民政府{y}年政府信息公开工作年度报告</a></li>"
        for y in (2016, 2022)) + "</ul></body></html>")
    server = portal.serve()
    db = tmp_path / "archive.db"
    try:
        run = run_scrapy(db, [portal.base + "/nb/index.html"])
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr[-2000:]
    assert query(db, "select year, template, status from reports order by year") == [
        {"year": 2016, "template": "pre2019", "status": "pre2019"},
        {"year": 2022, "template": None, "status": "no_tables"}]
    # only the 2022 report is a failure to read
    assert [(e["url"].rsplit("/", 1)[1], e["stage"]) for e in query(db, "select url, stage from errors")] == [
        ("t20230115_2022.html", "parse")]
    assert query(db, "select 模板 from figures where 年度 = 2016") == [{"模板": "pre2019"}]
    # the site's search finds it
    from nianbao.search import match_expression, reports_matching

    found = query(db, f"select year from reports where id in ({reports_matching('q')})",
                  {"q": match_expression("主动公开 2016")})
    assert found == [{"year": 2016}]
    # and its page says why it has no tables
    from datasette.utils import tilde_encode

    from nianbao.publish import datasette_app

    url = query(db, "select url from reports where year = 2016")[0]["url"]
    page = asyncio.run(datasette_app(db).client.get(f"/archive/reports/{tilde_encode(url)}")).text
    assert "2019 年以前的报告：没有全国统一表格" in page and "没有读出表格数字" not in page
