"""Shared fixtures: the demo portal served on 127.0.0.1, a crawl of it, paths to data.

No test reaches beyond 127.0.0.1: portals are served from this process, recorded
responses are files in tests/fixtures/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from nianbao.demo import LISTING_PATH, PORTAL_DIR, manifest
from nianbao.demo.server import serve_portal

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT / "tests" / "corpus"
# the shared data beside the project (real PDFs, saved pages): read in place, never copied
SHARED = Path(os.environ.get("NIANBAO_SHARED", ROOT.parent / "shared"))
ARTIFACTS = ROOT / "tests" / "artifacts"
# CI sets NIANBAO_STRICT=1: a test that cannot run for want of ../shared or a browser fails
# there instead of being skipped, so that a green CI run has run everything
STRICT = os.environ.get("NIANBAO_STRICT") == "1"


def unavailable(reason: str):
    """Skip a test for want of something the machine lacks; fail it under CI."""
    if STRICT:
        pytest.fail(f"{reason} (CI runs every test: NIANBAO_STRICT=1)")
    pytest.skip(reason)


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        unavailable(f"shared test data not found: {path} (set NIANBAO_SHARED)")
    return path


def rows(db, sql: str, params=()) -> list[dict]:
    """The rows a query returns from an archive file, as dicts."""
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql, params)]
    finally:
        connection.close()


def run_scrapy(db: Path, urls: list[str] = (), *settings: str,
               home: str | None = None) -> subprocess.CompletedProcess:
    """`scrapy crawl annual_reports` in a child process, as a user or cron runs it."""
    arguments = ["-a", "urls=" + ",".join(urls)] if urls else ["-a", f"home={home}"]
    command = [sys.executable, "-m", "scrapy", "crawl", "annual_reports", *arguments,
               "-s", f"ARCHIVE_DB={db}",
               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
               "-s", "LOG_LEVEL=INFO"]
    for setting in settings:
        command += ["-s", setting]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(command: list, port: int, cwd: Path | None = None):
    """A web server started by `command` on 127.0.0.1:`port`, once it answers; its base
    URL. Stopped on leaving."""
    import time
    import urllib.request

    server = subprocess.Popen([str(part) for part in command], cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # a server says nothing when it is ready: ask it until it answers
            try:
                urllib.request.urlopen(base + "/", timeout=5)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def table_counts(db: Path) -> dict:
    with sqlite3.connect(db) as connection:
        return {name: connection.execute(f"select count(*) from [{name}]").fetchone()[0]
                for name in ("reports", "documents", "document_versions", "cells", "checks",
                             "sections", "crawl_runs", "errors")}


@pytest.fixture(scope="session")
def demo_portal():
    """The demo portal the package ships, served as `nianbao demo` serves it."""
    server, base = serve_portal(PORTAL_DIR)
    yield SimpleNamespace(root=PORTAL_DIR, base=base, listing=base + LISTING_PATH, manifest=manifest())
    server.shutdown()


@pytest.fixture(scope="session")
def crawled_demo(demo_portal, tmp_path_factory):
    """The demo portal crawled twice into a fresh archive."""
    db = tmp_path_factory.mktemp("archive") / "archive.db"
    first = run_scrapy(db, [demo_portal.listing])
    after_first = table_counts(db) if db.exists() else {}
    second = run_scrapy(db, [demo_portal.listing])
    return SimpleNamespace(db=db, first=first, second=second, after_first=after_first,
                           after_second=table_counts(db) if db.exists() else {})


@pytest.fixture
def archive_copy(crawled_demo, tmp_path):
    """A private copy of the crawled archive and its files, for tests that write."""
    from nianbao.store import files_dir

    db = tmp_path / "archive.db"
    with sqlite3.connect(crawled_demo.db) as source, sqlite3.connect(db) as copy:
        source.backup(copy)  # the WAL's committed pages included
    shutil.copytree(files_dir(crawled_demo.db), files_dir(db))
    return db


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory):
    """The archive the README's main job makes: `nianbao demo`, without serving it."""
    from click.testing import CliRunner

    from nianbao.cli import main

    db = tmp_path_factory.mktemp("demo") / "archive.db"
    result = CliRunner().invoke(main, ["demo", "--db", str(db), "--no-serve", "--portal-port", "0"])
    assert result.exit_code == 0, result.output
    return db


@contextlib.contextmanager
def publishing(db: Path):
    """An archive published by Datasette on 127.0.0.1 (a real server, for a browser)."""
    import threading
    import time

    import uvicorn

    from nianbao.publish import datasette_app

    port = free_port()
    app = datasette_app(db)
    server = uvicorn.Server(uvicorn.Config(app.app(), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="datasette", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "Datasette did not start"
        time.sleep(0.05)
    try:
        yield SimpleNamespace(base=f"http://127.0.0.1:{port}", db=db)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def published(demo_archive):
    """The demo archive, published."""
    with publishing(demo_archive) as site:
        yield site


@pytest.fixture(scope="session")
def crawled_thrice(tmp_path_factory):
    """Six reports; then one report's PDF replaced by another report's figures and one
    page gone (404); then the page back. `after_second` is the archive as the second
    crawl left it."""
    from tests.portals import PDF, ArchivePortal, corpus_file

    portal = ArchivePortal(6).build()
    server = portal.serve()
    folder = tmp_path_factory.mktemp("changes")
    db, after_second = folder / "archive.db", folder / "after-second.db"
    try:
        assert run_scrapy(db, [portal.listing]).returncode == 0
        shell, vanished = portal.reports[1], portal.reports[2]
        portal.add(shell["attachments"][0], corpus_file("variant-004", "report.pdf"), PDF)
        saved = portal.answers[vanished["path"]]
        portal.add(vanished["path"], b"<h1>404</h1>", status=404)
        assert run_scrapy(db, [portal.listing], "RETRY_TIMES=0").returncode == 0
        with sqlite3.connect(db) as source, sqlite3.connect(after_second) as copy:
            source.backup(copy)
        portal.answers[vanished["path"]] = saved
        assert run_scrapy(db, [portal.listing]).returncode == 0
        yield SimpleNamespace(db=db, after_second=after_second, portal=portal, shell=shell,
                              vanished=vanished)
    finally:
        server.shutdown()
