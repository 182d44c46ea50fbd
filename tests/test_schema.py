"""The archive's schema: an archive made by the previous layout (cells, checks and
sections as tables keyed by URL, a search index holding its terms, no report ids) is
brought up to date when a writer opens it, with every row and every search answer kept."""

from __future__ import annotations

import json
import sqlite3

from nianbao.archive import Archive
from nianbao.search import match_expression
from nianbao.schema import SCHEMA, VIEWS, create_table_sql


def _rows(db, sql, params=()):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def _checks(db):
    """The checks, their `cells` read as JSON (the previous version wrote it with spaces)."""
    return [(*row[:-1], json.loads(row[-1])) for row in _rows(db, "select * from checks order by 1, 2, 4")]


def _as_previous_layout(db):
    """Rewrite an archive the way the previous version stored it."""
    with sqlite3.connect(db) as connection:
        for view in VIEWS:
            connection.execute(f"create table old_{view} as select * from {view}")
            connection.execute(f"drop view {view}")
        # the previous version wrote a check's cells as Python's json.dumps did
        for rowid, cells in connection.execute("select rowid, cells from old_checks").fetchall():
            connection.execute("update old_checks set cells = ? where rowid = ?",
                               [json.dumps(json.loads(cells), ensure_ascii=False), rowid])
        connection.execute("alter table old_sections drop column position")
        for view in VIEWS:
            connection.execute(f"alter table old_{view} rename to {view}")
        for table in ("report_cells", "report_checks", "report_sections", "cell_keys"):
            connection.execute(f"drop table {table}")
        for (index,) in connection.execute("select name from sqlite_master where type = 'index' "
                                           "and tbl_name = 'reports' and sql like '%[id]%'").fetchall():
            connection.execute(f"drop index [{index}]")  # the indexes of a later layout
        connection.execute("alter table reports drop column id")
        connection.execute("create index idx_figures_年度 on figures (年度)")  # one a wider index serves
        connection.execute("drop table reports_fts")
        connection.execute("create virtual table reports_fts using fts5(title_chars, title_pairs, "
                           "body_chars, body_pairs, tokenize = 'unicode61 remove_diacritics 0')")
        from nianbao.search import index_row
        for rowid, title, text in connection.execute("select rowid, title, text from reports").fetchall():
            connection.execute("insert into reports_fts (rowid, title_chars, title_pairs, body_chars, "
                               "body_pairs) values (?, ?, ?, ?, ?)", [rowid, *index_row(title, text).values()])


def test_an_archive_of_the_previous_layout_is_brought_up_to_date(archive_copy):
    cells = _rows(archive_copy, "select * from cells order by 1, 2, 3, 4")
    checks = _checks(archive_copy)
    sections = _rows(archive_copy, "select report_url, number, title, text from sections order by 1, 2")
    searched = {term: _rows(archive_copy, "select url from reports where id in (select rowid from "
                            "reports_fts where reports_fts match ?) order by url", [match_expression(term)])
                for term in ("复议", "申请", "国家秘密", "复")}
    _as_previous_layout(archive_copy)
    assert _rows(archive_copy, "select type from sqlite_master where name = 'cells'") == [("table",)]

    with Archive(archive_copy) as archive:
        assert all(archive.report_state(url)["complete"] for (url,) in _rows(
            archive_copy, "select url from reports"))

    assert _rows(archive_copy, "select * from cells order by 1, 2, 3, 4") == cells
    assert _checks(archive_copy) == checks
    assert _rows(archive_copy, "select report_url, number, title, text from sections order by 1, 2") == sections
    for term, found in searched.items():
        assert _rows(archive_copy, "select url from reports where id in (select rowid from reports_fts "
                     "where reports_fts match ?) order by url", [match_expression(term)]) == found, term
    assert "content=''" in _rows(archive_copy, "select sql from sqlite_master where name = 'reports_fts'")[0][0]
    indexes = {name for (name,) in _rows(archive_copy, "select name from sqlite_master where type = 'index'")}
    assert "idx_figures_年度" not in indexes and "idx_figures_年度_新收申请" in indexes


def test_the_compact_tables_are_declared_once(tmp_path):
    """Every table is made from its SCHEMA entry; a report's figures do not repeat its URL."""
    db = tmp_path / "archive.db"
    with Archive(db):
        pass
    declared = {name: sql for name, sql in _rows(db, "select name, sql from sqlite_master where type = 'table'")}
    for name, spec in SCHEMA.items():
        assert declared[name] == create_table_sql(name, spec)
    assert "url" not in [column for _, column, *_ in _rows(db, "pragma table_info(report_cells)")]
