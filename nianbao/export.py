"""Filtered CSV out of an archive, without a server: for scheduled jobs and Excel."""

from __future__ import annotations

import csv
import io

from .archive import open_archive

# UTF-8 with a byte order mark: Excel in a zh-CN locale reads the Chinese right
EXCEL_ENCODING = "utf-8-sig"


def export_rows(db, table: str, filters: dict[str, str], search: str | None = None,
                columns: list[str] | None = None, limit: int | None = None):
    """(column names, rows) of `table` where every filter column equals its value and,
    with `search`, the title or text contains it."""
    database = open_archive(db)
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
        searchable = [c for c in ("title", "text") if c in known]
        if not searchable:
            raise ValueError(f"{table} has no title or text to search")
        where.append("(" + " or ".join(f"instr([{c}], :search) > 0" for c in searchable) + ")")
        params["search"] = search
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
