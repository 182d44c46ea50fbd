"""CSV for Excel: every CSV export starts with a byte order mark, because Excel in a
zh-CN locale takes UTF-8 without one for GBK and garbles the Chinese; and it downloads in
one click, as a file named after its view (年报数字_年度2021.csv), not shown as text."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote

from datasette import hookimpl

# what a file name may not hold on Windows, macOS or Linux
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


async def file_name(datasette, scope) -> str:
    """年报数字_年度2021.csv: the table's or saved question's Chinese title (without its
    English name in brackets), then each filter, value after name."""
    parts = unquote(scope.get("path", "")).strip("/").removesuffix(".csv").split("/")
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
    return name + ".csv"

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
