"""The report page (the row page of `reports`): the report's metadata, its original and
archived files, and its three tables laid out as the national template prints them
(parsers/template.py), the cells of failed 勾稽关系 checks marked."""

from __future__ import annotations

import json

from datasette import hookimpl
from datasette.utils import tilde_decode

from parsers.template import layout, section_titles, table_sections


def _layout(report: dict, cells: list[dict], failed: set) -> list[dict]:
    """The three tables as the template prints them, each cell marked when a failed
    check counts it."""
    tables: dict = {}
    for cell in cells:
        tables.setdefault(cell["tbl"], {}).setdefault(cell["row"], {})[cell["col"]] = cell["value"]
    titles = section_titles()
    layouts = []
    for name, section in table_sections().items():
        if not tables.get(name):
            continue
        rows = [[{"text": c.text, "rowspan": c.rowspan, "colspan": c.colspan,
                  "figure": c.key is not None, "failed": c.key in failed} for c in row]
                for row in layout(name, tables, report["template"])]
        layouts.append({"name": name, "title": titles[section], "rows": rows})
    return layouts


async def report_page(datasette, database: str, url: str) -> dict | None:
    db = datasette.get_database(database)
    report = (await db.execute("select * from reports where url = ?", [url])).first()
    if report is None:
        return None
    report = dict(report)
    documents = [dict(d) for d in await db.execute(
        "select url, kind, filename, sha256, size, fetched_at, first_seen, checked_at, http_status, "
        "fetch_error, parse_error from documents where report_url = ? order by rowid", [url])]
    # every failed fetch of the report's page and files, newest first
    failures = [dict(e) for e in await db.execute(
        "select time, stage, message, url from errors where url = ? or url in "
        "(select url from documents where report_url = ?) order by id desc limit 50", [url, url])]
    cells = [dict(c) for c in await db.execute(
        "select tbl, row, col, value from cells where report_url = ?", [url])]
    checks = [dict(c) for c in await db.execute(
        "select rule, tbl, scope, ok, detail, cells from checks where report_url = ? and ok = 0", [url])]
    failed = {(check["tbl"], row, column) for check in checks
              for row, column in json.loads(check["cells"] or "[]")}
    sections = [dict(s) for s in await db.execute(
        "select number, title from sections where report_url = ? order by position", [url])]
    return {"report": report, "documents": documents, "failed_checks": checks,
            "layouts": _layout(report, cells, failed), "sections": sections,
            "warnings": json.loads(report.get("warnings") or "[]"), "failures": failures}


@hookimpl
def extra_template_vars(database, table, view_name, request, datasette):
    async def inner():
        if view_name == "row" and table == "reports" and request is not None:
            url = tilde_decode(request.url_vars.get("pks", ""))
            return {"report_page": await report_page(datasette, database, url)}
        return {}

    return inner
