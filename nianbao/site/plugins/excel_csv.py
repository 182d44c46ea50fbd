"""Exports for Excel. Every CSV export starts with a byte order mark, because Excel in a
zh-CN locale takes UTF-8 without one for GBK and garbles the Chinese; and it downloads in
one click, as a file named after its view (年报数字_年度2021.csv), not shown as text. Beside
it, `.xlsx`: the same rows as a workbook, under the columns' Chinese names.

datasette-xlsx was tried for the workbook: the one the package index serves writes its
sheet of notes in Swedish and names the file after the table's English name, so the
workbook is written here, with openpyxl, under the CSV's name.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote

from datasette import hookimpl

# what a file name may not hold on Windows, macOS or Linux
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


async def file_name(datasette, scope, suffix: str = ".csv") -> str:
    """年报数字_年度2021.csv: the table's or saved question's Chinese title (without its
    English name in brackets), then each filter, value after name."""
    parts = unquote(scope.get("path", "")).strip("/").removesuffix(suffix).split("/")
    title = parts[-1] if parts else "export"
    if len(parts) == 2:
        database, name = parts
        query = await datasette.get_canned_query(database, name, None)
        title = (query or {}).get("title") or datasette.metadata(
            "title", database=database, table=name) or name
    title = re.sub(r"\s*\([^)]*\)\s*$", "", title)
    filters = [("检索" if key == "_search" else key) + value
               for key, value in parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"))
               if value and (key == "_search" or not key.startswith("_"))]
    name = _UNSAFE.sub("_", "_".join([title, *filters]))[:100].strip("_") or "export"
    return name + suffix

BOM = "\ufeff".encode("utf-8")


@hookimpl
def asgi_wrapper(datasette):
    """Every CSV export starts with a byte order mark: Excel in a zh-CN locale takes
    UTF-8 without one for GBK and garbles the Chinese."""
    def wrap(app):
        async def with_bom(scope, receive, send):
            if scope["type"] != "http" or not scope.get("path", "").endswith(".csv"):
                await app(scope, receive, send)
                return
            state = {"csv": False, "first": True}
            disposition = ("attachment; filename=\"export.csv\"; filename*=UTF-8''"
                           + quote(await file_name(datasette, scope))).encode()

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    headers = dict(message.get("headers", []))
                    state["csv"] = message["status"] == 200 and \
                        headers.get(b"content-type", b"").startswith(b"text/")
                    if state["csv"]:
                        message = {**message, "headers": [
                            (k, str(int(v) + len(BOM)).encode() if k == b"content-length" else v)
                            for k, v in message.get("headers", []) if k != b"content-disposition"]
                            + [(b"content-disposition", disposition)]}
                elif message["type"] == "http.response.body" and state["csv"] and state["first"]:
                    state["first"] = False
                    message = {**message, "body": BOM + message.get("body", b"")}
                await send(message)

            await app(scope, receive, send_with_bom)

        return with_bom

    return wrap


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# a workbook holds at most this many rows (Excel's own limit is 1,048,576)
MAX_XLSX_ROWS = 200_000


@hookimpl
def register_output_renderer(datasette):
    return {"extension": "xlsx", "render": render_xlsx,
            "can_render": lambda view_name: view_name in ("table", "query")}


async def _table_rows(datasette, request, columns):
    """A table's every row under the page's filters (up to MAX_XLSX_ROWS), page after page
    of its JSON; a saved question's rows are all on its page."""
    from urllib.parse import urlencode

    args = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True)
            if k not in ("_next", "_size", "_shape", "_labels")] + [("_size", "max"), ("_shape", "objects")]
    path, count, after = request.path.removesuffix(".xlsx") + ".json", 0, None
    while True:
        page = (await datasette.client.get(f"{path}?{urlencode(args + ([('_next', after)] if after else []))}")).json()
        for row in page.get("rows", []):
            if count == MAX_XLSX_ROWS:
                return
            count += 1
            yield [row.get(c) for c in columns]
        after = page.get("next")
        if not after:
            return


async def render_xlsx(datasette, request, database, table, columns, rows, view_name):
    """The view's rows as a workbook: one sheet, a header of the columns' Chinese names,
    numbers as numbers, text as text (never a formula)."""
    import io

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    labels = (datasette.plugin_config("nianbao") or {}).get("column_labels", {})
    book = Workbook(write_only=True)
    sheet = book.create_sheet((table or "结果")[:31])
    sheet.freeze_panes = "A2"

    def cell(value):
        if value is None or isinstance(value, (int, float)):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("", value if isinstance(value, str) else str(value))[:32_767]
        written = WriteOnlyCell(sheet, value=text)
        written.data_type = "s"  # "=…" stays text
        return written

    sheet.append([labels.get(c, c) for c in columns])
    if view_name == "table":
        async for row in _table_rows(datasette, request, columns):
            sheet.append([cell(v) for v in row])
    else:
        for row in rows:
            sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    name = await file_name(datasette, request.scope, ".xlsx")
    return {"body": out.getvalue(), "content_type": XLSX, "status_code": 200,
            "headers": {"content-disposition": "attachment; filename=\"export.xlsx\"; "
                                               "filename*=UTF-8''" + quote(name)}}
