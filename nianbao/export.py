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
