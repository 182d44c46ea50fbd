"""Filtered CSV out of an archive, without a server: for scheduled jobs and Excel."""

from __future__ import annotations

import csv
import io

from .archive import read_archive
from .search import match_expression, reports_matching

# how a table names the report a row belongs to, for --search
_REPORT_COLUMNS = ("report_url", "年报")

# UTF-8 with a byte order mark: Excel in a zh-CN locale reads the Chinese right
EXCEL_ENCODING = "utf-8-sig"


def export_rows(db, table: str, filters: dict[str, str], search: str | None = None,
                columns: list[str] | None = None, limit: int | None = None):
    """(column names, rows) of `table` where every filter column equals its value and,
    with `search`, its report's title or text holds every term (as the site's search)."""
    database = read_archive(db)
    if not (database.table(table).exists() or table in database.view_names()):
        raise ValueError(f"no table or view named {table!r} (have: "
                         f"{', '.join(database.table_names() + database.view_names())})")
    known = [c.name for c in database[table].columns]
    for column in list(filters) + list(columns or []):
        if column not in known:
            raise ValueError(f"{table} has no column {column!r} (has: {', '.join(known)})")
    selected = columns or [c for c in known if c != "text"]
    where = [f"[{c}] = :f{i}" for i, c in enumerate(filters)]
    params = {f"f{i}": v for i, v in enumerate(filters.values())}
    if search:
        if table == "reports":
            where.append(f"id in ({reports_matching('search')})")
        else:
            column = next((c for c in _REPORT_COLUMNS if c in known), None)
            if column is None:
                raise ValueError(f"{table} rows do not belong to a report: no search")
            where.append(f"[{column}] in (select url from reports where id in "
                         f"({reports_matching('search')}))")
        params["search"] = match_expression(search)
    sql = f"select {', '.join(f'[{c}]' for c in selected)} from [{table}]"
    if where:
        sql += " where " + " and ".join(where)
    if limit:
        sql += f" limit {int(limit)}"
    return selected, database.execute(sql, params).fetchall()


def write_csv(handle: io.TextIOBase, columns: list[str], rows) -> int:
    writer = csv.writer(handle)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


# the tables and views a reader uses (the storage behind the views is left out)
PUBLIC_TABLES = ("reports", "figures", "bodies", "changes", "documents", "document_versions",
                 "cells", "checks", "sections", "sources", "crawl_runs", "errors")


def export_all(db, folder, described_tables: dict, stamp: str, title: str = "", log=print):
    """Every public table as a CSV (UTF-8 with BOM, all columns, the reports' full text
    included) and a README of what each table and column holds, zipped into `folder`.
    `described_tables`: the site's metadata of each table (title, description, columns).
    The zip's path."""
    import zipfile
    from pathlib import Path

    tables = described_tables
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"nianbao-{stamp}.zip"
    readme = [title, f"导出时间：{stamp}", "",
              "每个 CSV 文件是档案中的一个表（UTF-8 带 BOM，Excel 可直接打开）。各表、各列的含义：", ""]
    database = read_archive(db)
    present = set(database.table_names()) | set(database.view_names())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in PUBLIC_TABLES:
            if table not in present:
                continue
            columns = [c.name for c in database[table].columns]
            with archive.open(f"{table}.csv", "w", force_zip64=True) as raw, \
                    io.TextIOWrapper(raw, encoding=EXCEL_ENCODING, newline="") as handle:
                count = write_csv(handle, columns, database.execute(f"select * from [{table}]"))
            described = tables.get(table, {})
            readme += [f"{table}.csv：{described.get('title', table)}（{count} 行）",
                       f"  {described.get('description', '')}"]
            readme += [f"  - {c}：{described.get('columns', {}).get(c, '')}" for c in columns]
            readme.append("")
            log(f"{table}: {count} rows")
        archive.writestr("README.txt", "\n".join(readme).encode("utf-8"))
    return path
