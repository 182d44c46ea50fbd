"""The archive: one SQLite file, its schema defined here and nowhere else, and beside it
the content-addressed store of every captured file's bytes.

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
import hashlib
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from parsers.formats import FORMATS

from .figures import HEADLINE, body_of, headline
from .search import COLUMNS, FTS_TABLE, index_row

DEFAULT_DB = "archive.db"

# a file's kind (documents.kind) -> the media types servers announce it with; the first is
# the one the published archive serves it with (parsers/formats: one entry per format)
MEDIA_TYPES = {fmt.kind: fmt.media_types for fmt in FORMATS if fmt.media_types}

# table -> columns (name: type), primary key, foreign keys, indexes. Column order is
# the order Datasette shows.
SCHEMA: dict[str, dict] = {
    "reports": {
        "columns": {
            "url": str, "title": str, "year": int, "template": str, "status": str,
            "publisher": str, "published": str, "index_no": str, "topic": str, "doc_no": str,
            "province": str, "city": str, "county": str, "source": str,
            "checks_ok": int, "checks_failed": int, "warnings": str,
            "report_document": str, "listing_url": str,
            "first_seen": str, "last_seen": str,
            # the page answered 404/410 or "page not found" since this time (null: served)
            "gone_since": str,
            # `cells` rows written with the report: a report is complete when they are there
            "cell_count": int,
            "content_hash": str, "parser_version": str, "listing_hints": str, "text": str,
        },
        "pk": "url",
        "indexes": [["year"], ["publisher"], ["province", "city", "county"]],
    },
    "documents": {
        "columns": {
            "url": str, "report_url": str, "kind": str, "filename": str, "content_type": str,
            # the bytes kept (the last version fetched fine), when they were fetched, and
            # the server's validators for them (sent back as If-None-Match and
            # If-Modified-Since: an unchanged file then answers 304, with no body)
            "sha256": str, "size": int, "fetched_at": str, "etag": str, "last_modified": str,
            # the last attempt: when, its HTTP status, and why it failed (null: it did not)
            "checked_at": str, "http_status": int, "fetch_error": str,
            "first_seen": str, "parse_error": str,
        },
        "pk": "url",
        "foreign_keys": [("report_url", "reports", "url")],
        "indexes": [["report_url"], ["sha256"]],
    },
    "document_versions": {
        "columns": {"url": str, "sha256": str, "size": int, "content_type": str,
                    "first_seen": str, "last_seen": str},
        "pk": ("url", "sha256"),
        "foreign_keys": [("url", "documents", "url")],
    },
    "cells": {
        # INTEGER affinity keeps 0 as 0 and 7730.28 as a real
        "columns": {"report_url": str, "tbl": str, "row": str, "col": str, "value": int},
        "pk": ("report_url", "tbl", "row", "col"),
        "foreign_keys": [("report_url", "reports", "url")],
        "indexes": [["tbl", "row", "col"]],
    },
    "checks": {
        "columns": {"report_url": str, "rule": str, "tbl": str, "scope": str, "ok": int,
                    "detail": str, "cells": str},
        "pk": ("report_url", "rule", "scope"),
        "foreign_keys": [("report_url", "reports", "url")],
        "indexes": [["ok"]],
    },
    "sections": {
        "columns": {"report_url": str, "number": str, "title": str, "text": str},
        "pk": ("report_url", "number"),
        "foreign_keys": [("report_url", "reports", "url")],
    },
    # one row per report, its headline figures as columns (nianbao/figures.py), Chinese
    # names: the table journalists facet, sort and export
    "figures": {
        "columns": {
            "年报": str, "标题": str, "年度": int, "模板": str, "发布机构": str, "发布时间": str,
            "省": str, "市": str, "县": str,
            **{name: int for name in HEADLINE},
            "勾稽关系成立": int, "不成立条数": int,
        },
        "pk": "年报",
        "foreign_keys": [("年报", "reports", "url")],
        "indexes": [["年度"], ["发布机构"], ["省", "市", "县"]],
    },
    "crawl_runs": {
        "columns": {
            "id": int, "started": str, "finished": str, "status": str, "listings": int,
            "reports_new": int, "reports_changed": int, "reports_unchanged": int,
            # files fetched, and of them those the server said were not modified (304)
            "documents": int, "documents_not_modified": int, "errors": int, "arguments": str,
            # registry entries or listings that failed as a whole: unreachable, blocked,
            # an empty listing (JSON list of "name: reason")
            "sources_failed": str,
        },
        "pk": "id",
    },
    "errors": {
        "columns": {"id": int, "run_id": int, "url": str, "stage": str, "message": str,
                    "time": str},
        "pk": "id",
        "foreign_keys": [("run_id", "crawl_runs", "id")],
        "indexes": [["run_id"], ["stage"]],
    },
}


# report columns -> their names in `figures`
_FIGURES_REGION = {"province": "省", "city": "市", "county": "县"}


def figures_row(report: dict, cells: list) -> dict:
    """A stored report's row of `figures`: who, when, where, and its headline figures."""
    return {
        "年报": report["url"], "标题": report.get("title"), "年度": report.get("year"),
        "模板": report.get("template"),
        "发布机构": body_of(report.get("publisher"), report.get("title")),
        "发布时间": report.get("published"),
        **{name: report.get(column) for column, name in _FIGURES_REGION.items()},
        **headline(cells),
        "勾稽关系成立": report.get("checks_ok"), "不成立条数": report.get("checks_failed"),
    }


def now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def files_dir(db_path: str | Path) -> Path:
    """Where the bytes of an archive live: `archive.db` -> `archive-files/`."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}-files")


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def content_path(digest: str) -> str:
    """A file's place in the store, relative to its root."""
    return f"{digest[:2]}/{digest}"


class ContentStore:
    """The content-addressed bytes: `root/ab/ab12…`, each file named by its sha256."""

    # files being written; emptied by the next writer (what a crash left is never read)
    INCOMING = ".incoming"

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.root / content_path(digest)

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def put(self, body: bytes) -> str:
        """Store `body` and return its digest. A file already stored is not written again;
        a new one is written under a temporary name, synced, and renamed into place, so
        that a reader (or a crash) never meets half a file."""
        digest = sha256(body)
        target = self.path(digest)
        if target.exists():
            return digest
        incoming = self.root / self.INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=incoming)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(body)
                file.flush()
                os.fsync(file.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def clear_incoming(self) -> None:
        """Remove what an interrupted writer left half-written (only the lock holder may)."""
        incoming = self.root / self.INCOMING
        if incoming.is_dir():
            for leftover in incoming.iterdir():
                leftover.unlink(missing_ok=True)


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create or bring up to date every table of SCHEMA (new columns are added), and the
    full-text index."""
    db.execute(f"create virtual table if not exists [{FTS_TABLE}] using fts5("
               f"{', '.join(COLUMNS)}, tokenize = 'unicode61 remove_diacritics 0')")
    for name, spec in SCHEMA.items():
        table = db.table(name)
        if not table.exists():
            table.create(spec["columns"], pk=spec["pk"],
                         foreign_keys=spec.get("foreign_keys", []))
        else:
            missing = {c: t for c, t in spec["columns"].items() if c not in table.columns_dict}
            for column, kind in missing.items():
                table.add_column(column, kind)
        for columns in spec.get("indexes", []):
            table.create_index(columns, if_not_exists=True)


def open_archive(path: str | Path) -> sqlite_utils.Database:
    """The archive, for writing: in WAL mode (readers see committed transactions while
    a writer works), its schema brought up to date first."""
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    # WAL with NORMAL sync cannot corrupt the file; a power cut may lose the last
    # commits, which the next crawl fetches again
    db.execute("PRAGMA synchronous = NORMAL")
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
    stored, kept = ContentStore(files_dir(source_path)), ContentStore(files_dir(target))
    counts = {"files_copied": 0, "files_present": 0}
    for path in sorted(stored.root.glob("??/*")):
        if kept.path(path.name).exists():
            counts["files_present"] += 1
        else:
            kept.put(path.read_bytes())
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


# --- records ----------------------------------------------------------------------------------


@dataclass
class DocumentRecord:
    """One captured file: the detail page itself or one of its attachments.

    `fresh`: its bytes were fetched by this crawl (else they are the archive's last
    stored version); `fetch_error`: why this crawl's attempt failed."""

    url: str
    kind: str
    sha256: str
    size: int
    content_type: str | None = None
    filename: str | None = None
    http_status: int | None = 200
    fetched_at: str | None = None
    parse_error: str | None = None
    checked_at: str | None = None
    fetch_error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fresh: bool = True
    # the server answered 304: the stored bytes are current (no body came)
    not_modified: bool = False

    FIELDS = ("url", "kind", "sha256", "size", "content_type", "filename", "http_status",
              "fetched_at", "parse_error", "checked_at", "fetch_error", "etag", "last_modified")

    @classmethod
    def stored(cls, row: dict) -> "DocumentRecord":
        """A document as the archive holds it (not fetched by this crawl)."""
        return cls(**{name: row.get(name) for name in cls.FIELDS}, fresh=False)


@dataclass
class ReportRecord:
    """What the archive keeps of one report (see `assemble`)."""

    url: str
    fields: dict
    cells: list[tuple[str, str, str, int | float]] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)
    # the files it was made of, each with what its parse found (kind, parse error)
    documents: list[DocumentRecord] = field(default_factory=list)


class Archive:
    """The archive opened for writing, by one process at a time (crawl or reparse).

    Every write of a report is one transaction. Open it with `with Archive(path) as
    archive:` or call `close()`: the writer lock is held until then."""

    def __init__(self, path: str | Path, activity: str = "writer"):
        self.path = Path(path)
        self.lock = WriterLock(self.path)
        self.lock.acquire(f"{activity} since {now()}")
        try:
            self.db = open_archive(self.path)
            self.store = ContentStore(files_dir(self.path))
            self.store.clear_incoming()
            self.interrupted_runs = self._close_interrupted_runs()
        except BaseException:
            self.lock.release()
            raise

    def close(self) -> None:
        if self.lock.fd is not None:
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
        table = self.db.table("crawl_runs")
        with self.db.atomic():
            table.insert({"started": now(), "status": "running",
                          "arguments": json.dumps(arguments, ensure_ascii=False)})
        run_id = table.last_pk
        self.lock.describe(f"crawl run {run_id} since {now()}")
        return run_id

    def finish_run(self, run_id: int, status: str, counts: dict) -> None:
        with self.db.atomic():
            self.db.table("crawl_runs").update(run_id, {"finished": now(), "status": status,
                                                        **counts})

    def record_error(self, run_id: int | None, url: str, stage: str, message: str) -> None:
        with self.db.atomic():
            self.db.table("errors").insert({"run_id": run_id, "url": url, "stage": stage,
                                            "message": message, "time": now()})

    # --- reports and their documents ----------------------------------------------------

    def report_state(self, url: str) -> dict | None:
        """The stored report's content hash and parser version, and whether every row
        derived from it is there (its cells, figures and search rows): a report left
        half-written by an older version is not complete, and is parsed again."""
        rows = list(self.db.query(
            f"""select content_hash, parser_version,
                  cell_count is not null
                  and cell_count = (select count(*) from cells where report_url = r.url)
                  and exists (select 1 from figures where [年报] = r.url)
                  and exists (select 1 from [{FTS_TABLE}] where rowid = r.rowid) as complete
                from reports r where url = ?""", [url]))
        return rows[0] if rows else None

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
            self._save_documents(record.url, documents)
            existing = self._get("reports", record.url)
            row = {"url": record.url, **record.fields, "cell_count": len(record.cells),
                   "first_seen": existing["first_seen"] if existing else stamp,
                   "last_seen": stamp if seen or not existing else existing["last_seen"]}
            if seen:
                row["gone_since"] = None
            self.db.table("reports").upsert(row, pk="url")
            for name in ("cells", "checks", "sections"):
                self.db.execute(f"delete from [{name}] where report_url = ?", [record.url])
            self.db.table("cells").insert_all(
                ({"report_url": record.url, "tbl": t, "row": r, "col": c, "value": v}
                 for t, r, c, v in record.cells), pk=SCHEMA["cells"]["pk"])
            self.db.table("checks").insert_all(
                ({"report_url": record.url, **check} for check in record.checks),
                pk=SCHEMA["checks"]["pk"], replace=True)
            self.db.table("sections").insert_all(
                ({"report_url": record.url, **section} for section in record.sections),
                pk=SCHEMA["sections"]["pk"], replace=True)
            self.db.table("figures").upsert(
                figures_row(self._get("reports", record.url), record.cells), pk="年报")
            self._index_for_search(record)

    def save_unchanged(self, url: str, documents: list[DocumentRecord], fields: dict) -> None:
        """A report seen again with the same files: its documents' fetch facts, its
        sighting, listing and source details move, in one transaction (a region
        corrected in the registry reaches `figures` too)."""
        with self.db.atomic():
            self._save_documents(url, documents)
            self.db.table("reports").update(url, {"last_seen": now(), "gone_since": None,
                                                  **fields})
            region = {name: fields[column] for column, name in _FIGURES_REGION.items()
                      if column in fields}
            if region and self._get("figures", url):
                self.db.table("figures").update(url, region)

    def page_failed(self, url: str, message: str, http_status: int | None,
                    gone: bool) -> bool:
        """A report's page could not be fetched this time: everything stays; the failure
        is noted on the page's document, and a page the portal says is gone (404, 410,
        "page not found") marks the report gone from that day. False when the archive
        holds no such report."""
        if not self._get("reports", url):
            return False
        stamp = now()
        with self.db.atomic():
            if self._get("documents", url):
                self.db.table("documents").update(url, {
                    "checked_at": stamp, "http_status": http_status, "fetch_error": message})
            if gone:
                self.db.execute("update reports set gone_since = ? where url = ? "
                                "and gone_since is null", [stamp, url])
        return True

    def _save_documents(self, report_url: str, documents: list[DocumentRecord]) -> None:
        """Upsert a report's files (inside the caller's transaction). A file fetched by
        this crawl moves its version's `last_seen`; one that failed keeps its bytes and
        records the failure."""
        seen = now()
        versions = self.db.table("document_versions")
        for doc in documents:
            existing = self._get("documents", doc.url)
            row = {name: getattr(doc, name) for name in DocumentRecord.FIELDS}
            row.update(report_url=report_url,
                       first_seen=existing["first_seen"] if existing else seen)
            if doc.not_modified:  # confirmed current: the bytes stay those fetched before
                row.update(checked_at=seen, fetch_error=None)
            elif doc.fresh:
                row.update(fetched_at=doc.fetched_at or seen, checked_at=doc.fetched_at or seen,
                           fetch_error=None)
            self.db.table("documents").upsert(row, pk="url")
            if not doc.fresh:
                continue
            key = (doc.url, doc.sha256)
            if self._get("document_versions", key):
                versions.update(key, {"last_seen": seen})
            else:
                versions.insert({"url": doc.url, "sha256": doc.sha256, "size": doc.size,
                                 "content_type": doc.content_type, "first_seen": seen,
                                 "last_seen": seen})

    def _index_for_search(self, record: ReportRecord) -> None:
        """Replace the report's row of the full-text index (keyed by its rowid in reports)."""
        rowid = self.db.execute("select rowid from reports where url = ?",
                                [record.url]).fetchone()[0]
        self.db.execute(f"delete from [{FTS_TABLE}] where rowid = ?", [rowid])
        columns = index_row(record.fields.get("title"), record.fields.get("text"))
        self.db.execute(f"insert into [{FTS_TABLE}] (rowid, {', '.join(columns)}) values "
                        f"(?, {', '.join('?' * len(columns))})", [rowid, *columns.values()])

    def _get(self, table: str, key) -> dict | None:
        try:
            return self.db.table(table).get(key)
        except sqlite_utils.db.NotFoundError:
            return None
