"""The archive: one SQLite file, its schema defined here and nowhere else, and beside it
the content-addressed store of every captured file's bytes.

    archive.db              the tables below (sqlite-utils)
    archive-files/ab/ab…    each file's bytes as served, named by their sha256

Writes are upserts keyed on URLs, so a second crawl of an unchanged portal adds no row
to `reports`, `documents` or `cells`. Old bytes are never overwritten: a changed file
gets a new content address and a new row in `document_versions`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from .figures import HEADLINE, body_of, headline
from .search import COLUMNS, FTS_TABLE, index_row

DEFAULT_DB = "archive.db"

# a file's kind (documents.kind) -> the media types servers announce it with; the first is
# the one the published archive serves it with
MEDIA_TYPES = {
    "pdf": ("application/pdf",),
    "doc": ("application/msword",),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    "wps": ("application/kswps", "application/vnd.ms-works"),
    "xls": ("application/vnd.ms-excel",),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    "zip": ("application/zip",),
    "rar": ("application/vnd.rar", "application/x-rar-compressed"),
    "html": ("text/html", "application/xhtml+xml"),
    "text": ("text/plain",),
    "txt": ("text/plain",),
}

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
            "content_hash": str, "parser_version": str, "listing_hints": str, "text": str,
        },
        "pk": "url",
        "indexes": [["year"], ["publisher"], ["province", "city", "county"]],
    },
    "documents": {
        "columns": {
            "url": str, "report_url": str, "kind": str, "filename": str, "content_type": str,
            "sha256": str, "size": int, "http_status": int, "fetched_at": str,
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
            "documents": int, "errors": int, "arguments": str,
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
    """Read access to the content-addressed bytes (Scrapy's FilesPipeline writes them)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.root / content_path(digest)

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()


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
    """The archive, for writing: its schema brought up to date first."""
    db = sqlite_utils.Database(path)
    ensure_schema(db)
    return db


def read_archive(path: str | Path) -> sqlite_utils.Database:
    """The archive as it is, for reading only (exports, checks): nothing is created."""
    return sqlite_utils.Database(sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True))


@dataclass
class DocumentRecord:
    """One captured file: the detail page itself or one of its attachments."""

    url: str
    kind: str
    sha256: str
    size: int
    content_type: str | None = None
    filename: str | None = None
    http_status: int | None = 200
    fetched_at: str | None = None
    parse_error: str | None = None


@dataclass
class ReportRecord:
    """What the archive keeps of one report (see `assemble`)."""

    url: str
    fields: dict
    cells: list[tuple[str, str, str, int | float]] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)


class Archive:
    """The writes the crawler and `reparse` make, each an upsert."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = open_archive(self.path)
        self.store = ContentStore(files_dir(self.path))

    # --- crawl runs and errors ---------------------------------------------------------

    def start_run(self, arguments: dict) -> int:
        table = self.db.table("crawl_runs")
        table.insert({"started": now(), "status": "running",
                      "arguments": json.dumps(arguments, ensure_ascii=False)})
        return table.last_pk

    def finish_run(self, run_id: int, status: str, counts: dict) -> None:
        self.db.table("crawl_runs").update(run_id, {"finished": now(), "status": status, **counts})

    def record_error(self, run_id: int | None, url: str, stage: str, message: str) -> None:
        self.db.table("errors").insert({"run_id": run_id, "url": url, "stage": stage,
                                        "message": message, "time": now()})

    # --- reports and their documents ----------------------------------------------------

    def report_state(self, url: str) -> dict | None:
        rows = list(self.db.query(
            "select content_hash, parser_version from reports where url = ?", [url]))
        return rows[0] if rows else None

    def save_documents(self, report_url: str, documents: list[DocumentRecord],
                       keep_parse_errors: bool = False) -> None:
        """Upsert the files of a report; `keep_parse_errors` when they were not parsed."""
        seen = now()
        for doc in documents:
            existing = self._get("documents", doc.url)
            row = {
                "url": doc.url, "report_url": report_url, "kind": doc.kind,
                "filename": doc.filename, "content_type": doc.content_type,
                "sha256": doc.sha256, "size": doc.size, "http_status": doc.http_status,
                "fetched_at": doc.fetched_at or seen,
                "parse_error": existing["parse_error"] if existing and keep_parse_errors
                else doc.parse_error,
                "first_seen": existing["first_seen"] if existing else seen,
            }
            self.db.table("documents").upsert(row, pk="url")
            versions = self.db.table("document_versions")
            key = (doc.url, doc.sha256)
            if self._get("document_versions", key):
                versions.update(key, {"last_seen": seen})
            else:
                versions.insert({"url": doc.url, "sha256": doc.sha256, "size": doc.size,
                                 "content_type": doc.content_type, "first_seen": seen,
                                 "last_seen": seen})

    def save_parse_results(self, documents: list[DocumentRecord]) -> None:
        """What a re-parse learnt about each file: its kind and why it failed, if it did."""
        for doc in documents:
            self.db.table("documents").update(doc.url, {"kind": doc.kind,
                                                         "parse_error": doc.parse_error})

    def touch_report(self, url: str, fields: dict) -> None:
        """An unchanged report seen again: only its sighting, listing and source details
        move (a region corrected in the registry reaches `figures` too)."""
        with self.db.conn:
            self.db.table("reports").update(url, {"last_seen": now(), **fields})
            region = {name: fields[column] for column, name in _FIGURES_REGION.items()
                      if column in fields}
            if region and self._get("figures", url):
                self.db.table("figures").update(url, region)

    def save_report(self, record: ReportRecord, seen: bool = True) -> None:
        """Upsert the report row and replace its cells, checks and sections. `seen`: the
        report was just fetched (a re-parse leaves its sighting times alone)."""
        stamp = now()
        with self.db.conn:
            reports = self.db.table("reports")
            existing = self._get("reports", record.url)
            row = {"url": record.url, **record.fields,
                   "first_seen": existing["first_seen"] if existing else stamp,
                   "last_seen": stamp if seen or not existing else existing["last_seen"]}
            reports.upsert(row, pk="url")
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

    def _index_for_search(self, record: ReportRecord) -> None:
        """Replace the report's row of the full-text index (keyed by its rowid in reports)."""
        rowid = self.db.execute("select rowid from reports where url = ?",
                                [record.url]).fetchone()[0]
        self.db.execute(f"delete from [{FTS_TABLE}] where rowid = ?", [rowid])
        columns = index_row(record.fields.get("title"), record.fields.get("text"))
        self.db.execute(f"insert into [{FTS_TABLE}] (rowid, {', '.join(columns)}) values "
                        f"(?, {', '.join('?' * len(columns))})", [rowid, *columns.values()])

    def documents_of(self, report_url: str) -> list[dict]:
        return list(self.db.query(
            "select * from documents where report_url = ? order by rowid", [report_url]))

    def _get(self, table: str, key) -> dict | None:
        try:
            return self.db.table(table).get(key)
        except sqlite_utils.db.NotFoundError:
            return None
