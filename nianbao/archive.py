"""The archive: one SQLite file (its schema: nianbao/schema.py) and beside it the
content-addressed store of every captured file's bytes.

    archive.db              the tables below (sqlite-utils)
    archive-files/ab/ab…    each file's bytes as served, named by their sha256

Writes are upserts keyed on URLs, so a second crawl of an unchanged portal adds no row
to `reports`, `documents` or `cells`. Old bytes are never overwritten: a changed file
gets a new content address and a new row in `document_versions`.

What the archive guarantees (README, "Operating it"):
- one writer at a time: `Archive` holds an exclusive lock on `archive.db-lock` while it
  is open; a second writer gets `ArchiveBusy`, naming the first;
- one report, one transaction: its documents, versions, report row, cells, checks,
  sections, figures and search row commit together or not at all;
- the database is in WAL mode, so the published site reads committed reports while a
  crawl writes;
- the content store writes a file under a temporary name and renames it into place:
  a file in the store is whole, and it is never written twice.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlite_utils

from parsers.formats import FORMATS

from .bodies import REPORT_COLUMNS as BODY_COLUMNS
from .bodies import body_key
from .bodies import refresh as refresh_bodies
from .figures import HEADLINE, body_of, headline, lateness
from .records import DocumentRecord, ReportRecord  # noqa: F401 (what a writer is given)
from .schema import ensure_schema
from .store import ContentStore, files_dir, store_for
from .search import COLUMNS, FTS_TABLE, index_row

DEFAULT_DB = "archive.db"

# a file's kind (documents.kind) -> the media types servers announce it with; the first is
# the one the published archive serves it with (parsers/formats: one entry per format)
MEDIA_TYPES = {fmt.kind: fmt.media_types for fmt in FORMATS if fmt.media_types}

# report columns -> their names in `figures`
_FIGURES_REGION = {"province": "省", "city": "市", "county": "县", "region_code": "区划代码"}


def figures_row(report: dict, cells: list) -> dict:
    """A stored report's row of `figures`: who, when, where, and its headline figures."""
    return {
        "年报": report["url"], "标题": report.get("title"), "年度": report.get("year"),
        "模板": report.get("template"),
        "发布机构": body_of(report.get("publisher"), report.get("title")),
        "发布时间": report.get("published"),
        **dict(zip(("逾期天数", "发布日期存疑"), _late_and_doubtful(report))),
        **{name: report.get(column) for column, name in _FIGURES_REGION.items()},
        **headline(cells),
        "勾稽关系成立": YES_NO.get(report.get("checks_ok")), "不成立条数": report.get("checks_failed"),
    }


# answers by which a portal says a file is gone for good
GONE_STATUSES = (404, 410)


def _body_of(report: dict) -> str | None:
    """The body (bodies.编号) of a report row: its publisher in its region."""
    return body_key(report.get("publisher"), *(report.get(c) for c in _FIGURES_REGION))


def _file_name(doc: DocumentRecord) -> str:
    return doc.filename or doc.url.rsplit("/", 1)[-1] or doc.url


def _number(value) -> str:
    return "空" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


# what a reader (and Excel) sees for a yes-or-no figure
YES_NO = {1: "是", 0: "否", True: "是", False: "否"}


def _late_and_doubtful(report: dict) -> tuple:
    days, doubtful = lateness(report.get("year"), report.get("published"))
    return days, YES_NO.get(doubtful)


def now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


BEIJING = timezone(timedelta(hours=8))


def beijing_time(stamp: str | None) -> str | None:
    """An archive time (ISO 8601 with its offset) as readers in China read it, in 北京时间:
    2026-11-24 22:05."""
    if not stamp:
        return stamp
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is None:  # written without an offset: UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def open_archive(path: str | Path) -> sqlite_utils.Database:
    """The archive, for writing: in WAL mode (readers see committed transactions while
    a writer works), its schema brought up to date first."""
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    # WAL with NORMAL sync cannot corrupt the file; a power cut may lose the last
    # commits, which the next crawl fetches again
    db.execute("PRAGMA synchronous = NORMAL")
    # the log is copied into the file after 10,000 pages (40 MB), not SQLite's 1,000: a
    # page a crawl writes again and again (an index's busiest, the search index's newest)
    # is copied once per 40 MB of writes instead of once per 4 MB
    db.execute("PRAGMA wal_autocheckpoint = 10000")
    ensure_schema(db)
    return db


def read_archive(path: str | Path) -> sqlite_utils.Database:
    """The archive as it is, for reading only (exports, checks): nothing is created."""
    return sqlite_utils.Database(sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True))


def reports_seen_since(path: str | Path, since: str) -> set[str]:
    """URLs of the reports a crawl fetched (new, changed or unchanged) since `since`."""
    if not Path(path).exists():
        return set()
    archive = read_archive(path)
    try:
        if "reports" not in archive.table_names():
            return set()
        return {row["url"] for row in archive.query(
            "select url from reports where last_seen >= ?", [since])}
    finally:
        archive.close()


def backup(db_path: str | Path, destination: str | Path) -> dict:
    """Copy an archive into `destination` (a folder) consistently, even while a crawl
    writes it: first the database, through SQLite's online backup (the committed state
    of one moment), then the stored files. A file is stored before any row names it and
    never changes, so every file the copied database names is copied. Files the
    destination already holds are skipped: a second backup copies only what is new.
    The copy is an archive itself (`destination/archive.db` + `archive-files/`)."""
    source_path, folder = Path(db_path), Path(destination)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source_path.name
    partial = target.with_name(target.name + "-partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path.resolve()}?mode=ro", uri=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    os.replace(partial, target)
    stored, kept = store_for(source_path), ContentStore(files_dir(target))
    counts = {"files_copied": 0, "files_present": 0}
    if not isinstance(stored, ContentStore):  # a bucket keeps its own copies (versioning)
        counts["files_elsewhere"] = stored.uri
        return counts
    with sqlite3.connect(target) as copy:  # the copy's files are beside it
        copy.execute("delete from archive_info where name = 'files_store'")
    for digest in stored.digests():
        if kept.exists(digest):
            counts["files_present"] += 1
        else:
            kept.put(stored.read(digest))
            counts["files_copied"] += 1
    return counts


class StoredDocuments:
    """What the archive holds of a URL's file (its digest, size, type, validators), read
    through a read-only connection of its own: the crawl's conditional requests ask it
    once per page or file, and nothing is kept in memory between asks."""

    _COLUMNS = ("sha256", "size", "content_type", "kind", "filename", "fetched_at", "etag",
                "last_modified")

    def __init__(self, db_path: str | Path):
        self.path = Path(db_path)
        self.connection: sqlite3.Connection | None = None

    def __call__(self, url: str) -> dict | None:
        if self.connection is None:
            if not self.path.exists():
                return None
            self.connection = sqlite3.connect(f"file:{self.path.resolve()}?mode=ro", uri=True,
                                              check_same_thread=False)
            self.connection.row_factory = sqlite3.Row
        try:
            row = self.connection.execute(
                f"select {', '.join(self._COLUMNS)} from documents where url = ?", [url]).fetchone()
        except sqlite3.OperationalError:  # no documents table yet
            return None
        return dict(row) if row else None

    def close(self, *args, **kwargs) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# --- one writer at a time -------------------------------------------------------------------


class ArchiveBusy(RuntimeError):
    """Another process is writing the archive; the message names it."""


def lock_path(db_path: str | Path) -> Path:
    """The lock file a writer holds: `archive.db` -> `archive.db-lock`."""
    return Path(f"{db_path}-lock")


class WriterLock:
    """An exclusive `flock` on the archive's lock file. The kernel releases it when its
    holder exits, however it exits, so a crashed writer never leaves the archive locked.
    The file says who holds it, for the message a second writer gets."""

    def __init__(self, db_path: str | Path):
        self.path = lock_path(db_path)
        self.fd: int | None = None

    def acquire(self, holder: str) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held_by = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise ArchiveBusy(f"archive busy: {held_by or 'another writer'}") from None
        self.fd = fd
        self.describe(holder)

    def describe(self, holder: str) -> None:
        """Say what the holder is doing (a crawl learns its run number once started)."""
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, f"{holder} (pid {os.getpid()})\n".encode(), 0)

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def writer_of(db_path: str | Path) -> str | None:
    """Who is writing the archive now ("crawl run 12 since … (pid …)"), or None."""
    try:
        fd = os.open(lock_path(db_path), os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another writer"
    finally:
        os.close(fd)
    return None


# archive_info: set by `nianbao demo` on the archive of its made-up reports (the site says so)
SAMPLE_DATA = "sample_data"


class Archive:
    """The archive opened for writing, by one process at a time (crawl or reparse).

    Every write of a report is one transaction. Open it with `with Archive(path) as
    archive:` or call `close()`: the writer lock is held until then."""

    def __init__(self, path: str | Path, activity: str = "writer", files_store: str | None = None,
                 store_options: dict | None = None):
        self.path = Path(path)
        self.lock = WriterLock(self.path)
        self.lock.acquire(f"{activity} since {now()}")
        self._statements: dict = {}
        self._cell_keys: dict = {}
        self.run_id: int | None = None  # the crawl run writing, whose changes are recorded
        try:
            self.db = open_archive(self.path)
            if files_store:  # a crawl given FILES_STORE: the archive remembers where
                self.set_info("files_store", str(files_store))
            self.store = store_for(self.path, **(store_options or {}))
            self.store.clear_incoming()
            self.interrupted_runs = self._close_interrupted_runs()
        except BaseException:
            self.lock.release()
            raise

    def set_info(self, name: str, value: str) -> None:
        """A fact about the whole archive (`archive_info`): where its files are, that it
        holds the demo's synthetic reports."""
        with self.db.atomic():
            self._upsert("archive_info", {"name": name, "value": value}, ("name",))

    def close(self) -> None:
        if self.lock.fd is not None:
            # the committed pages moved from the WAL into archive.db, as far as readers
            # allow: a finished crawl leaves one self-contained file
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self.db.close()
            self.lock.release()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- crawl runs and errors ---------------------------------------------------------

    def _close_interrupted_runs(self) -> list[int]:
        """Runs still marked `running`: their process is gone (we hold the lock)."""
        stale = [row["id"] for row in self.db.query(
            "select id from crawl_runs where status = 'running'")]
        if stale:
            with self.db.atomic():
                self.db.execute("update crawl_runs set status = 'interrupted' "
                                "where status = 'running'")
        return stale

    def start_run(self, arguments: dict) -> int:
        with self.db.atomic():
            run_id = self._execute("insert into crawl_runs (started, status, arguments) values (?, ?, ?)",
                                   now(), "running", json.dumps(arguments, ensure_ascii=False)).lastrowid
        self.lock.describe(f"crawl run {run_id} since {now()}")
        self.run_id = run_id
        return run_id

    def finish_run(self, run_id: int, status: str, counts: dict) -> None:
        with self.db.atomic():
            self._update("crawl_runs", {"finished": now(), "status": status, **counts}, "id", run_id)

    # --- the registry's sources and their health -------------------------------------------

    def sync_sources(self, sources) -> None:
        """Every entry of the registry as a row of `sources` (what it is; its health stays),
        and entries no longer in the registry kept, marked `in_registry = 0`."""
        with self.db.atomic():
            self._execute("update sources set in_registry = 0")
            for source in sources:
                self._upsert("sources", {
                    "id": source.id, "name": source.name, "level": source.level or None,
                    "province": source.province, "city": source.city or None,
                    "county": source.county or None, "region_code": source.code or None,
                    "start_url": source.start_url, "family": source.family,
                    "verified_on": source.verified_on, "origin": source.origin or None,
                    "in_registry": 1}, ("id",))

    def record_source_health(self, run_id: int, health: list[dict]) -> None:
        """How each source answered this run: its outcome (ok, unreachable, blocked, empty
        listing, moved, short), the reports it listed and the new ones, and its current
        streak of failures. Recording the same run again changes nothing."""
        stamp = now()
        with self.db.atomic():
            for entry in health:
                before = self._one("select last_run, outcome, failing_since, failing_runs, last_ok "
                                   "from sources where id = ?", entry["id"]) or {}
                again = before.get("last_run") == run_id
                ok = entry["outcome"] == "ok"
                if ok:
                    streak = {"failing_since": None, "failing_runs": 0, "last_ok": stamp}
                elif again:
                    streak = {k: before[k] for k in ("failing_since", "failing_runs", "last_ok")}
                else:
                    streak = {"failing_since": before.get("failing_since") or stamp,
                              "failing_runs": (before.get("failing_runs") or 0) + 1,
                              "last_ok": before.get("last_ok")}
                self._upsert("sources", {
                    "id": entry["id"], "name": entry.get("name"), "last_run": run_id,
                    "last_checked": stamp, "outcome": entry["outcome"],
                    "detail": entry.get("detail"), "family_seen": entry.get("family"),
                    "reports_listed": entry.get("listed"),
                    "reports_announced": entry.get("announced"),
                    "reports_new": entry.get("new", 0), **streak}, ("id",), keep=("name",))

    def record_error(self, run_id: int | None, url: str, stage: str, message: str) -> None:
        with self.db.atomic():
            self._execute("insert into errors (run_id, url, stage, message, time) values (?, ?, ?, ?, ?)",
                          run_id, url, stage, message, now())

    # --- reports and their documents ----------------------------------------------------

    def report_state(self, url: str) -> dict | None:
        """The stored report's content hash and parser version, and whether every row
        derived from it is there (its cells, figures and search rows): a report left
        half-written by an older version is not complete, and is parsed again."""
        return self._one(
            f"""select content_hash, parser_version,
                  cell_count is not null
                  and cell_count = (select count(*) from report_cells where report_id = r.id)
                  and exists (select 1 from figures where [年报] = r.url)
                  and exists (select 1 from [{FTS_TABLE}] where rowid = r.id) as complete
                from reports r where url = ?""", url)

    def stored_documents(self, report_url: str) -> list[DocumentRecord]:
        """Every file the report has been made of, as last stored, page first."""
        return [DocumentRecord.stored(row) for row in self.db.query(
            "select * from documents where report_url = ? order by url != ?, rowid",
            [report_url, report_url])]

    def save_report(self, record: ReportRecord, documents: list[DocumentRecord],
                    seen: bool = True) -> None:
        """Write a parsed report, in one transaction: its documents and their versions,
        its row, and the rows derived from it (cells, checks, sections, figures, search).
        `seen`: the report was just fetched (a re-parse leaves its sighting times alone)."""
        stamp = now()
        with self.db.atomic():
            # the files as they were, to say which changed
            stored = dict(self.db.execute("select url, sha256 from documents where report_url = ?",
                                          [record.url]).fetchall())
            self._save_documents(record.url, documents)
            existing = self._one("select id, first_seen, last_seen, title, text, content_hash, gone_since, "
                                 f"{', '.join(BODY_COLUMNS)} from reports where url = ?", record.url)
            # what the report was, to say what changed (a re-parse changes nothing of it)
            before = self._one("select * from figures where [年报] = ?", record.url) if existing else None
            report_id = existing["id"] if existing else self._one(
                "select coalesce(max(id), 0) + 1 as id from reports")["id"]
            row = {"url": record.url, **record.fields, "cell_count": len(record.cells),
                   "first_seen": existing["first_seen"] if existing else stamp,
                   "last_seen": stamp if seen or not existing else existing["last_seen"],
                   "id": report_id}
            if seen:
                row["gone_since"] = None
            row["body"] = _body_of(row)
            title, text = record.fields.get("title"), record.fields.get("text")
            # the search row changes only with the title or the text (a re-parse mostly
            # gives them again as they were)
            indexed = existing is not None and (existing["title"], existing["text"]) == (title, text) \
                and self._one(f"select 1 from [{FTS_TABLE}] where rowid = ?", report_id)
            if existing and not indexed:
                self._unindex(report_id, existing["title"], existing["text"])
            self._upsert("reports", row, ("url",), keep=("id",))
            self._replace_rows("report_cells", report_id, existing is not None, [
                (report_id, self._cell_key(t, r, c), v) for t, r, c, v in record.cells])
            self._replace_rows("report_checks", report_id, existing is not None, [
                (report_id, c["rule"], c["tbl"], c["scope"], c["ok"], c["detail"],
                 json.dumps([self._cell_key(c["tbl"], r, k) for r, k in json.loads(c["cells"])]))
                for c in record.checks])
            self._replace_rows("report_sections", report_id, existing is not None, [
                (report_id, position, *_section_place(section, record.fields.get("text") or ""))
                for position, section in enumerate(record.sections)])
            after = figures_row(row, record.cells)
            figures_changed = before is None or any(before.get(k) != v for k, v in after.items())
            if figures_changed:
                self._upsert("figures", after, ("年报",))
            # a re-parse mostly gives a report as it was: its body's row stands then
            if existing is None or figures_changed \
                    or any(existing[k] != row.get(k) for k in BODY_COLUMNS):
                refresh_bodies(self.db, [row["body"], existing and existing["body"]])
            if seen:
                self._record_changes(row, existing, before, after, stored, documents)
            if not indexed:
                self._execute(f"insert into [{FTS_TABLE}] (rowid, {', '.join(COLUMNS)}) values "
                              f"(?, {', '.join('?' * len(COLUMNS))})", report_id,
                              *(record.search or index_row(title, text)).values())

    def _record_changes(self, report: dict, existing: dict | None, before: dict | None,
                        after: dict, stored: dict, documents: list[DocumentRecord]) -> None:
        """The events a fetched report makes (inside the save's transaction): 新增, 更新
        with the files and headline figures that changed, 恢复 after it had gone."""
        if existing is None:
            files = sum(1 for doc in documents if doc.sha256)
            self._change("新增", report, f"新收录，{files} 个文件")
            return
        if existing["gone_since"]:
            self._change("恢复", report, "页面重新可以访问")
        if existing["content_hash"] == report.get("content_hash"):
            return
        replaced = [doc for doc in documents if doc.fresh and doc.url in stored
                    and stored[doc.url] != doc.sha256]
        added = [doc for doc in documents if doc.fresh and doc.url not in stored]
        figures = {name: [before.get(name), after.get(name)] for name in HEADLINE
                   if before and before.get(name) != after.get(name)}
        words = [f"{_file_name(doc)} 换了新内容" for doc in replaced]
        words += [f"新增文件 {_file_name(doc)}" for doc in added]
        words += [f"{name} {_number(old)} → {_number(new)}" for name, (old, new) in figures.items()]
        self._change("更新", report, "；".join(words) or "文件有变化", figures)

    def _attachment_change(self, report_url: str, doc: DocumentRecord, existing: dict) -> None:
        """An attachment the portal says is gone (404, 410), or that is served again."""
        was_gone = bool(existing["fetch_error"]) and existing["http_status"] in GONE_STATUSES
        is_gone = bool(doc.fetch_error) and doc.http_status in GONE_STATUSES
        if is_gone == was_gone or not (is_gone or doc.fresh or doc.not_modified):
            return
        report = self._one("select url, title, publisher, year from reports where url = ?", report_url)
        if report:
            name = _file_name(doc)
            self._change("消失" if is_gone else "恢复", report,
                         f"附件 {name} 不再提供（{doc.fetch_error}）" if is_gone else f"附件 {name} 重新可以下载")

    def _change(self, kind: str, report: dict, what: str, figures: dict | None = None) -> None:
        self._execute("insert into changes (run_id, time, report_url, kind, title, publisher, year, "
                      "what, figures) values (?, ?, ?, ?, ?, ?, ?, ?, ?)", self.run_id, now(),
                      report["url"], kind, report.get("title"), report.get("publisher"),
                      report.get("year"), what,
                      json.dumps(figures, ensure_ascii=False) if figures else None)

    def save_unchanged(self, url: str, documents: list[DocumentRecord], fields: dict) -> None:
        """A report seen again with the same files: its documents' fetch facts, its
        sighting, listing and source details move, in one transaction (a region
        corrected in the registry reaches `figures` too)."""
        with self.db.atomic():
            self._save_documents(url, documents)
            report = self._one("select url, title, publisher, year, gone_since from reports where url = ?", url)
            if report and report["gone_since"]:
                self._change("恢复", report, "页面重新可以访问")
            self._update("reports", {"last_seen": now(), "gone_since": None, **fields}, "url", url)
            region = {name: fields[column] for column, name in _FIGURES_REGION.items()
                      if column in fields}
            if region:
                self._update("figures", region, "年报", url)
                # a region corrected in the registry can make it another body
                report = self._one("select publisher, province, city, county, region_code, body "
                                   "from reports where url = ?", url)
                body = _body_of(report)
                if body != report["body"]:
                    self._update("reports", {"body": body}, "url", url)
                    refresh_bodies(self.db, [body, report["body"]])

    def page_failed(self, url: str, message: str, http_status: int | None,
                    gone: bool) -> bool:
        """A report's page could not be fetched this time: everything stays; the failure
        is noted on the page's document, and a page the portal says is gone (404, 410,
        "page not found") marks the report gone from that day. False when the archive
        holds no such report."""
        if not self._one("select 1 from reports where url = ?", url):
            return False
        stamp = now()
        with self.db.atomic():
            self._update("documents", {"checked_at": stamp, "http_status": http_status,
                                       "fetch_error": message}, "url", url)
            if gone:
                report = self._one("select url, title, publisher, year, gone_since from reports "
                                   "where url = ?", url)
                if not report["gone_since"]:
                    self._change("消失", report, f"页面不再提供（{message}）")
                self._execute("update reports set gone_since = ? where url = ? and gone_since is null",
                              stamp, url)
        return True

    def _save_documents(self, report_url: str, documents: list[DocumentRecord]) -> None:
        """Upsert a report's files (inside the caller's transaction). A file fetched by
        this crawl moves its version's `last_seen`; one that failed keeps its bytes and
        records the failure."""
        seen = now()
        for doc in documents:
            existing = self._one("select first_seen, fetch_error, http_status from documents "
                                 "where url = ?", doc.url)
            if existing and doc.url != report_url and self.run_id is not None:
                self._attachment_change(report_url, doc, existing)
            row = {name: getattr(doc, name) for name in DocumentRecord.FIELDS}
            row.update(report_url=report_url,
                       first_seen=existing["first_seen"] if existing else seen)
            if doc.not_modified:  # confirmed current: the bytes stay those fetched before
                row.update(checked_at=seen, fetch_error=None)
            elif doc.fresh:
                row.update(fetched_at=doc.fetched_at or seen, checked_at=doc.fetched_at or seen,
                           fetch_error=None)
            self._upsert("documents", row, ("url",))
            if doc.fresh:
                self._execute(
                    "insert into document_versions (url, sha256, size, content_type, first_seen, "
                    "last_seen) values (?, ?, ?, ?, ?, ?) on conflict (url, sha256) do update set "
                    "last_seen = excluded.last_seen",
                    doc.url, doc.sha256, doc.size, doc.content_type, seen, seen)

    # --- statements, built once per shape --------------------------------------------

    # a report's rows in the compact tables: their columns, and how a new set is written
    # (a report's cells are unique by cell: a second one is a parser's error and fails)
    _REPORT_ROWS = {
        "report_cells": ("report_id, cell, value", "insert"),
        "report_checks": ("report_id, rule, tbl, scope, ok, detail, cells", "insert or replace"),
        "report_sections": ("report_id, position, number, title, start, length, text", "insert or replace"),
    }

    def _replace_rows(self, table: str, report_id: int, existed: bool, rows: list[tuple]) -> None:
        """A report's rows of `table` made `rows`. A re-parse mostly gives them again as
        they were: those are not written again (each row written touches its indexes)."""
        columns, verb = self._REPORT_ROWS[table]
        if existed:
            held = self.db.conn.execute(f"select {columns} from [{table}] where report_id = ?",
                                        [report_id]).fetchall()
            if len(held) == len(rows) and set(held) == set(rows):
                return
        self._execute(f"delete from [{table}] where report_id = ?", report_id)
        self.db.conn.executemany(f"{verb} into [{table}] ({columns}) values "
                                 f"({', '.join('?' * len(columns.split(', ')))})", rows)

    def _execute(self, sql: str, *parameters):
        return self.db.conn.execute(sql, parameters)

    def _one(self, sql: str, *parameters) -> dict | None:
        cursor = self.db.conn.execute(sql, parameters)
        row = cursor.fetchone()
        return dict(zip((d[0] for d in cursor.description), row)) if row else None

    def _upsert(self, table: str, row: dict, key: tuple, keep: tuple = ()) -> None:
        """Insert `row`, or update every column but the key and `keep` where it exists."""
        shape = (table, tuple(row), key, keep)
        if shape not in self._statements:
            names = ", ".join(f"[{c}]" for c in row)
            updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in row if c not in key + keep)
            self._statements[shape] = (
                f"insert into [{table}] ({names}) values ({', '.join('?' * len(row))}) "
                f"on conflict ({', '.join(f'[{c}]' for c in key)}) do update set {updates}")
        self.db.conn.execute(self._statements[shape], list(row.values()))

    def _update(self, table: str, values: dict, key: str, value) -> None:
        shape = (table, tuple(values), key)
        if shape not in self._statements:
            self._statements[shape] = (f"update [{table}] set "
                                       + ", ".join(f"[{c}] = ?" for c in values) + f" where [{key}] = ?")
        self.db.conn.execute(self._statements[shape], [*values.values(), value])

    def _cell_key(self, table: str, row: str, column: str) -> int:
        """The number of a template cell (cell_keys), given when first met."""
        key = (table, row, column)
        if key not in self._cell_keys:
            self._execute("insert or ignore into cell_keys (tbl, row, col) values (?, ?, ?)", *key)
            self._cell_keys[key] = self._one(
                "select id from cell_keys where tbl = ? and row = ? and col = ?", *key)["id"]
        return self._cell_keys[key]

    def _unindex(self, report_id: int, title: str | None, text: str | None) -> None:
        """Take a report's row out of the search index, which keeps no copy of what it
        indexed: the 'delete' command is given the terms the row was made of."""
        if self._one(f"select 1 from [{FTS_TABLE}] where rowid = ?", report_id):
            self._execute(f"insert into [{FTS_TABLE}] ([{FTS_TABLE}], rowid, {', '.join(COLUMNS)}) "
                          f"values ('delete', ?, {', '.join('?' * len(COLUMNS))})", report_id,
                          *index_row(title, text).values())


def _section_place(section: dict, text: str) -> tuple:
    """(number, title, start, length, text) of a section: where its text sits in the
    report's text, or its text itself where it is not found there as such."""
    found = text.find(section["text"]) if section.get("text") is not None else -1
    if found >= 0:
        return section["number"], section["title"], found, len(section["text"]), None
    return section["number"], section["title"], None, None, section.get("text")
