"""The site and a crawl on one archive: the README's cron recipe serves the archive that
the scheduled crawl writes into. Every answer must be right while the crawl runs, and its
reports must be on the site when it ends, without a restart."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
import uvicorn

from nianbao.publish import datasette_app

from .conftest import ROOT, free_port, run_scrapy
from .portals import ArchivePortal

PAGES = ["/", "/archive", "/archive/reports", "/archive/figures.json?_shape=array",
         "/archive/reports.json?_search=" + quote("申请"), "/archive/checks_failed",
         "/archive/by_year.json", "/charts", "/archive.json?sql=" + quote("select count(*) from cells")]


@pytest.fixture
def site_and_portal(tmp_path):
    portal = ArchivePortal(16).build()
    portal.listed = 4
    portal_server = portal.serve()
    db = tmp_path / "archive.db"
    assert run_scrapy(db, [portal.listing]).returncode == 0
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(datasette_app(db).app(), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "Datasette did not start"
        time.sleep(0.05)
    yield db, portal, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    portal_server.shutdown()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def report_count(base: str) -> int:
    status, body = fetch(base + "/archive.json?sql=" + quote("select count(*) n from reports")
                         + "&_shape=array")
    assert status == 200
    return json.loads(body)[0]["n"]


def test_the_site_answers_right_while_a_crawl_writes_and_shows_its_reports_without_restart(site_and_portal):
    db, portal, base = site_and_portal
    assert report_count(base) == 4
    portal.listed = 16
    # the crawl's last report waits until the site has been read while the crawl wrote
    gate = portal.gates[portal.reports[-1]["path"]] = threading.Event()
    crawl = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "annual_reports", "-a", f"urls={portal.listing}",
         "-s", f"ARCHIVE_DB={db}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    answers, counts = [], []
    while crawl.poll() is None:  # read the site for as long as the crawl writes
        for page in PAGES:
            status, body = fetch(base + page)
            answers.append((page, status, body[:300]))
        counts.append(report_count(base))
        if counts[-1] > 4 and len(counts) >= 3:
            gate.set()  # new reports were seen mid-crawl: let it finish
    assert crawl.returncode == 0, crawl.stderr.read()[-3000:]
    failed = [answer for answer in answers if answer[1] != 200]
    assert not failed, failed[:5]
    assert len(answers) >= len(PAGES)
    assert counts == sorted(counts)  # reports appear as they are committed, never vanish
    assert report_count(base) == 16  # the same server, not restarted
    status, body = fetch(base + "/archive/figures.json?_shape=array&_size=max")
    assert status == 200 and len(json.loads(body)) == 16
