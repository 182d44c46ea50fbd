"""The archive's schema, defined here and nowhere else: its tables, the views readers
query, the full-text index, and how an archive made by an older version is brought up
to date.

What readers see keeps the names and columns the README gives (`reports`, `documents`,
`document_versions`, `cells`, `checks`, `sections`, `figures`, `crawl_runs`, `errors`).
Where the storage is compact, the name is a view:

    cells     over report_cells (report id, cell id, value) and cell_keys (tbl, row, col)
    checks    over report_checks (keyed by report id)
    sections  over report_sections (where a section sits in the report's text)

so that a report's two hundred figures do not each repeat its URL, and the full-text
index (`reports_fts`, keyed by `reports.id`) keeps its terms without storing them twice.
"""

from __future__ import annotations

import sqlite_utils

from .bodies import COLUMNS as BODY_COLUMNS
from .bodies import backfill as backfill_bodies
from .figures import HEADLINE
from .search import COLUMNS, FTS_TABLE, index_row

_TYPES = {str: "TEXT", int: "INTEGER", float: "FLOAT"}

# table -> columns (name: type), primary key, foreign keys, indexes, unique indexes,
# without_rowid. Column order is the order Datasette shows.
SCHEMA: dict[str, dict] = {
    "reports": {
        "columns": {
            "url": str, "title": str, "year": int, "template": str, "status": str,
            "publisher": str, "published": str, "index_no": str, "topic": str, "doc_no": str,
            # 页面: the publisher the page (or its listing) printed; 标题: read from the title
            "publisher_from": str,
            "province": str, "city": str, "county": str,
            # the registry entry the report was found through (sources.id), and the GB/T
            # 2260 code of its region
            "source": str, "source_id": str, "region_code": str,
            "checks_ok": int, "checks_failed": int, "warnings": str,
            "report_document": str, "listing_url": str,
            # 1: the figures were read by OCR (a scan, or tables pasted as pictures)
            "ocr": int,
            # the body that published it (bodies.编号: region and core name, nianbao/bodies.py)
            "body": str,
            "first_seen": str, "last_seen": str,
            # the page answered 404/410 or "page not found" since this time (null: served)
            "gone_since": str,
            # `cells` rows written with the report: a report is complete when they are there
            "cell_count": int,
            "content_hash": str, "parser_version": str, "listing_hints": str, "text": str,
            # a stable number for the report, given when it is first archived: the key of
            # its cells, checks, sections and search row
            "id": int,
        },
        "pk": "url",
        "unique": [["id"]],
        # (url, id): a figures row's report id without reading the report's long row;
        # (id, year, province, publisher): the facets of a search's few hits, and (year, id),
        # (publisher, id), (province, …, id) those of a search that misses few reports (it
        # filters by the ids it misses: nianbao/site/plugins/search.py), from the index alone
        # (`id` comes after the long `text` in the report's row)
        "indexes": [["year", "id"], ["publisher", "id"], ["province", "city", "county", "id"],
                    ["source_id"], ["region_code"], ["body"], ["url", "id"],
                    ["id", "year", "province", "publisher"]],
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
    # a table cell of the template, numbered: (applications, 三.三.1, 总计) -> 17
    "cell_keys": {
        "columns": {"id": int, "tbl": str, "row": str, "col": str},
        "pk": "id",
        "unique": [["tbl", "row", "col"]],
    },
    "report_cells": {
        # INTEGER affinity keeps 0 as 0 and 7730.28 as a real
        "columns": {"report_id": int, "cell": int, "value": int},
        "pk": ("report_id", "cell"),
        "without_rowid": True,
        "foreign_keys": [("report_id", "reports", "id"), ("cell", "cell_keys", "id")],
        # the reports where a cell is above 0 (三.三.1, 国家秘密: a few among many). Only
        # those: an index of every cell touches some 200 of its pages per report written,
        # the larger part of a crawl's archive writes
        "partial_indexes": [(["cell", "value"], "value > 0")],
    },
    "report_checks": {
        # `cells`: the cells the check counts, as a JSON list of cell_keys ids
        "columns": {"report_id": int, "rule": str, "tbl": str, "scope": str, "ok": int,
                    "detail": str, "cells": str},
        "pk": ("report_id", "rule", "scope"),
        "without_rowid": True,
        "foreign_keys": [("report_id", "reports", "id")],
        # the checks that fail, few among many: the only ones looked up by `ok`
        "partial_indexes": [(["ok"], "ok = 0")],
    },
    "report_sections": {
        # the section's text is the report's text from `start`, `length` characters long;
        # `text` holds it only where it is not found there as such
        "columns": {"report_id": int, "position": int, "number": str, "title": str,
                    "start": int, "length": int, "text": str},
        "pk": ("report_id", "position"),
        "without_rowid": True,
        "foreign_keys": [("report_id", "reports", "id")],
    },
    # one row per report, its headline figures as columns (nianbao/figures.py), Chinese
    # names: the table journalists facet, sort and export
    "figures": {
        "columns": {
            "年报": str, "标题": str, "年度": int, "模板": str, "发布机构": str, "发布时间": str,
            # days after 31 January of the next year it was published (第五十条), and 1 when
            # its date cannot be right (before the year it reports on ended)
            "逾期天数": int, "发布日期存疑": str,
            "省": str, "市": str, "县": str, "区划代码": str,
            **{name: int for name in HEADLINE},
            # 是 / 否, as a reader and a spreadsheet read them
            "勾稽关系成立": str, "不成立条数": int,
        },
        "pk": "年报",
        "foreign_keys": [("年报", "reports", "url")],
        # what the site's facets and saved questions sort, group and join by (the table's
        # order, a year's ranking, a body's years, a region's reports)
        "indexes": [["新收申请"], ["年度", "新收申请"], ["年度", "不予公开"], ["年度", "省", "市", "县", "发布机构"],
                    ["发布机构", "年度"], ["省", "市", "县"],
                    ["模板"], ["市"], ["县"], ["区划代码"], ["逾期天数"]],
    },
    # one row per body that publishes reports: its names over the years, region, the years
    # it reported and missed, its latest headline figures (nianbao/bodies.py), made again
    # with each of its reports
    "bodies": {
        "columns": BODY_COLUMNS,
        "pk": "编号",
        "indexes": [["名称"], ["省", "市", "县"]],
    },
    # what changed, one row per event per crawl: 新增 a report appeared, 更新 its files
    # changed (`figures`: the headline figures that changed, {name: [old, new]}), 消失 its
    # page or an attachment is no longer served, 恢复 it is served again
    "changes": {
        "columns": {"id": int, "run_id": int, "time": str, "report_url": str, "kind": str,
                    "title": str, "publisher": str, "year": int, "what": str, "figures": str},
        "pk": "id",
        "indexes": [["report_url"], ["kind"], ["time"]],
    },
    # facts about the archive itself: `files_store`, where its files are kept when not beside it
    "archive_info": {
        "columns": {"name": str, "value": str},
        "pk": "name",
    },
    # one row per registry entry, kept by every crawl of the registry: what the entry is,
    # and how it answered (its health); keyed by the entry's stable id, so that a body
    # renamed in the registry keeps its history, and an entry taken out keeps its row
    "sources": {
        "columns": {
            "id": str, "name": str, "level": str, "province": str, "city": str,
            "county": str, "region_code": str, "start_url": str, "family": str,
            "verified_on": str, "origin": str,
            # 1 while the entry is in the registry
            "in_registry": int,
            # the last crawl run that reached it, and how: ok, unreachable, blocked,
            # empty listing, moved, short (fewer reports than the listing announces)
            "last_run": int, "last_checked": str, "outcome": str, "detail": str,
            # the CMS family its listing was read as
            "family_seen": str,
            "reports_listed": int, "reports_announced": int, "reports_new": int,
            "last_ok": str,
            # the current streak of failures: since when, and how many runs (0: none)
            "failing_since": str, "failing_runs": int,
        },
        "pk": "id",
        "indexes": [["outcome"], ["province", "city", "county"], ["region_code"]],
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

# indexes an older version made that a wider one now serves: dropped when the schema is
# brought up to date
RETIRED_INDEXES = ["idx_report_cells_cell", "idx_figures_年度", "idx_figures_发布机构",
                   "idx_reports_year", "idx_reports_publisher", "idx_reports_province_city_county"]

# what readers query under the names the README gives, over the compact tables
VIEWS: dict[str, str] = {
    "cells": """select r.url as report_url, k.tbl, k.row, k.col, c.value
        from report_cells c join reports r on r.id = c.report_id join cell_keys k on k.id = c.cell""",
    "checks": """select r.url as report_url, c.rule, c.tbl, c.scope, c.ok, c.detail,
          (select json_group_array(json_array(row, col)) from (select k.row, k.col
             from json_each(c.cells) j join cell_keys k on k.id = j.value order by j.key)) as cells
        from report_checks c join reports r on r.id = c.report_id""",
    "sections": """select r.url as report_url, s.number, s.title,
          coalesce(s.text, substr(r.text, s.start + 1, s.length)) as text, s.position
        from report_sections s join reports r on r.id = s.report_id""",
}
# the storage behind each view, for a reader who wants it (and for hiding it on the site)
STORAGE = {"cells": ("report_cells", "cell_keys"), "checks": ("report_checks",),
           "sections": ("report_sections",)}

# the search index: no stored content (`content=''`), rows keyed by reports.id; a row is
# replaced with the 'delete' command and the terms it was indexed with (nianbao/archive.py)
FTS_SQL = (f"create virtual table [{FTS_TABLE}] using fts5({', '.join(COLUMNS)}, content='', "
           "tokenize = 'unicode61 remove_diacritics 0')")


def create_table_sql(name: str, spec: dict) -> str:
    """CREATE TABLE for one entry of SCHEMA (the only place a table's DDL is written)."""
    pk = spec["pk"] if isinstance(spec["pk"], tuple) else (spec["pk"],)
    lines = []
    for column, kind in spec["columns"].items():
        integer_key = pk == (column,) and kind is int
        lines.append(f"[{column}] {_TYPES[kind]}{' PRIMARY KEY' if integer_key else ''}")
    if not (len(pk) == 1 and spec["columns"][pk[0]] is int):
        lines.append(f"PRIMARY KEY ({', '.join(f'[{c}]' for c in pk)})")
    for column, other, other_column in spec.get("foreign_keys", []):
        lines.append(f"FOREIGN KEY ([{column}]) REFERENCES [{other}]([{other_column}])")
    return (f"CREATE TABLE [{name}] (\n   " + ",\n   ".join(lines) + "\n)"
            + (" WITHOUT ROWID" if spec.get("without_rowid") else ""))


def _kind_of(db: sqlite_utils.Database, name: str) -> str | None:
    row = db.execute("select type from sqlite_master where name = ?", [name]).fetchone()
    return row[0] if row else None


def index_name(table: str, columns: list[str], partial: bool = False) -> str:
    """The name of the schema's index on `columns` of `table` (SCHEMA `indexes`, or
    `partial_indexes`)."""
    return f"{'partial' if partial else 'idx'}_{table}_{'_'.join(columns)}"


def index_names(table: str, spec: dict) -> list[str]:
    """The names of every index the schema declares on `table`."""
    return [index_name(table, columns) for columns in spec.get("indexes", [])] + \
        [index_name(table, columns, partial=True) for columns, _ in spec.get("partial_indexes", [])]


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create or bring up to date every table, view and the search index, moving an older
    archive's data into the compact tables. One transaction."""
    with db.atomic():
        for name, spec in SCHEMA.items():
            if _kind_of(db, name) is None:
                db.execute(create_table_sql(name, spec))
            else:
                present = {row[1] for row in db.execute(f"pragma table_info([{name}])")}
                for column, kind in spec["columns"].items():
                    if column not in present:
                        db.execute(f"alter table [{name}] add column [{column}] {_TYPES[kind]}")
            for columns in spec.get("indexes", []):
                db.execute(f"create index if not exists [{index_name(name, columns)}] "
                           f"on [{name}] ({', '.join(f'[{c}]' for c in columns)})")
            for columns, where in spec.get("partial_indexes", []):
                db.execute(f"create index if not exists [{index_name(name, columns, partial=True)}] "
                           f"on [{name}] ({', '.join(f'[{c}]' for c in columns)}) where {where}")
        for index in RETIRED_INDEXES:
            db.execute(f"drop index if exists [{index}]")
        # reports archived before ids existed: their rowid becomes their lasting id
        db.execute("update reports set id = rowid where id is null")
        backfill_bodies(db)
        for name, spec in SCHEMA.items():
            for columns in spec.get("unique", []):
                db.execute(f"create unique index if not exists [unique_{name}_{'_'.join(columns)}] "
                           f"on [{name}] ({', '.join(f'[{c}]' for c in columns)})")
        for view in VIEWS:
            if _kind_of(db, view) == "table":
                _move_into_storage(db, view)
            db.execute(f"drop view if exists [{view}]")
            db.execute(f"create view [{view}] as {VIEWS[view]}")
        fts = db.execute("select sql from sqlite_master where name = ?", [FTS_TABLE]).fetchone()
        if fts is None or "content=''" not in fts[0]:
            if fts is not None:  # an older version's index, holding its terms twice
                db.execute(f"drop table [{FTS_TABLE}]")
            db.execute(FTS_SQL)
            reindex(db)


def _move_into_storage(db: sqlite_utils.Database, name: str) -> None:
    """An older archive's `cells`, `checks` or `sections` table, moved into the compact
    storage behind the view of the same name."""
    if name == "cells":
        db.execute("insert or ignore into cell_keys (tbl, row, col) "
                   "select distinct tbl, row, col from cells")
        db.execute("""insert or replace into report_cells (report_id, cell, value)
            select r.id, k.id, c.value from cells c join reports r on r.url = c.report_url
            join cell_keys k on k.tbl = c.tbl and k.row = c.row and k.col = c.col""")
    elif name == "checks":
        # the cells a check counts, [row, column] labels, become cell numbers
        db.execute("""insert or ignore into cell_keys (tbl, row, col)
            select distinct c.tbl, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')
            from checks c, json_each(c.cells) j""")
        db.execute("""insert or replace into report_checks
            select r.id, c.rule, c.tbl, c.scope, c.ok, c.detail,
              (select json_group_array(id) from (select k.id from json_each(c.cells) j
                 join cell_keys k on k.tbl = c.tbl and k.row = json_extract(j.value, '$[0]')
                   and k.col = json_extract(j.value, '$[1]') order by j.key))
            from checks c join reports r on r.url = c.report_url""")
    else:
        db.execute("""insert or replace into report_sections
            select r.id, row_number() over (partition by s.report_url order by s.rowid) - 1,
              s.number, s.title, nullif(instr(r.text, s.text), 0) - 1, length(s.text),
              case when instr(r.text, s.text) > 0 then null else s.text end
            from sections s join reports r on r.url = s.report_url""")
    db.execute(f"drop table [{name}]")


def reindex(db: sqlite_utils.Database) -> None:
    """Index every report's title and text afresh (after the index was made anew)."""
    db.execute(f"insert into [{FTS_TABLE}] ([{FTS_TABLE}]) values ('delete-all')")
    insert = (f"insert into [{FTS_TABLE}] (rowid, {', '.join(COLUMNS)}) "
              f"values (?, {', '.join('?' * len(COLUMNS))})")
    for report_id, title, text in db.execute("select id, title, text from reports").fetchall():
        db.execute(insert, [report_id, *index_row(title, text).values()])
