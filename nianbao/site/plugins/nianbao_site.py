"""The archive's Datasette plugin: what the published site adds to Datasette.

- `_search` on `reports` through the character/pair index (nianbao/search.py), and the
  SQL functions `nianbao_match(q)` and `nianbao_excerpt(text, q)` for saved queries;
- `/-/archive/<sha256>`: an archived copy, from the content-addressed store;
- the report page: a report's metadata, original and archived files, and its three
  tables laid out as the template prints them, failed checks marked;
- CSV with a byte order mark, so that Excel in a Chinese locale reads it right;
- `archive_database`, the published archive's name, for the pages' templates;
- bounds on what one request may cost: SQLite's length and heap limits, a cap on the
  bytes a query returns, SQL functions linear in capped inputs, and no server paths
  on the info pages.
"""

from __future__ import annotations

import json
import re
import sqlite3
import weakref
from urllib.parse import quote

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import AsgiFileDownload, Response
from markupsafe import Markup, escape

from nianbao.archive import MEDIA_TYPES, ContentStore, files_dir
from nianbao.search import FTS_TABLE, MAX_QUERY_CHARS, match_expression, reports_matching
from parsers.template import layout, section_titles, table_sections

BOM = "\ufeff".encode("utf-8")
_INLINE = {"pdf", "html", "text", "txt"}  # shown in the browser unless ?download=1


# --- bounds -------------------------------------------------------------------------------

# A request's cost must not depend on who sends it. SQLite stops a query after the time
# limit, but only between its own steps, and it cannot see Python's memory: so every
# value is capped in length, SQLite's heap is capped for the process, and the rows one
# query hands to Python are capped in total size.
MAX_VALUE_BYTES = 16 * 1024 * 1024      # any string or blob (a report's text is < 1 MB)
MAX_SQL_BYTES = 100_000                 # the text of one SQL statement
MAX_HEAP_BYTES = 1024 * 1024 * 1024     # SQLite's own memory, the whole process
MAX_RESULT_CHARS = 128 * 1024 * 1024    # text and bytes one query returns to Python
# the SQL functions read no more than this of a text, and of a search term
EXCERPT_TEXT_CHARS = 200_000
EXCERPT_TERM_CHARS = 32


def _bounded_rows(connection: sqlite3.Connection) -> None:
    """Rows as sqlite3.Row, failing the query once its rows exceed MAX_RESULT_CHARS."""
    used: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def row(cursor, values):
        size = used.get(cursor, 0) + sum(len(v) for v in values if isinstance(v, (str, bytes)))
        if size > MAX_RESULT_CHARS:
            raise sqlite3.DataError(f"the result is larger than {MAX_RESULT_CHARS // 2**20} MB: "
                                    "ask for fewer rows or shorter columns")
        used[cursor] = size
        return sqlite3.Row(cursor, values)

    connection.row_factory = row


# --- search ---------------------------------------------------------------------------


def excerpt(text: str | None, query: str | None, width: int = 40) -> str:
    """The text around the first place the query's first term occurs (white space inside
    the term allowed, as the search allows it). Reads at most EXCERPT_TEXT_CHARS of the
    text and EXCERPT_TERM_CHARS of the term, so one call costs at most their product."""
    if not text or not query or not query.split():
        return ""
    text = text[:EXCERPT_TEXT_CHARS]
    term = "".join(query.split()[0].split())[:EXCERPT_TERM_CHARS]
    start = text.find(term)
    if start >= 0:
        end = start + len(term)
    else:
        found = re.search(r"\s*".join(map(re.escape, term)), text)
        if not found:
            return text[:width * 2].replace("\n", " ")
        start, end = found.span()
    start = max(0, start - width)
    return (("…" if start else "") + text[start:end + width] + "…").replace("\n", " ")


def _without_file_paths(action, table, column, database, trigger):
    """SQLite authorizer: `pragma_database_list` answers its `file` column as null, so
    that arbitrary SQL cannot read where the archive lives on the server."""
    if action == sqlite3.SQLITE_READ and table == "pragma_database_list" and column == "file":
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK


@hookimpl
def prepare_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    conn.execute(f"PRAGMA hard_heap_limit = {MAX_HEAP_BYTES}")
    conn.set_authorizer(_without_file_paths)
    _bounded_rows(conn)
    conn.create_function("nianbao_match", 1, lambda q: match_expression(q or ""), deterministic=True)
    conn.create_function("nianbao_excerpt", 2, excerpt, deterministic=True)


@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    """`?_search=` on reports: every term, of one character or many, as a substring."""
    if table != "reports":
        return None

    async def inner():
        db = datasette.get_database(database)
        if FTS_TABLE not in await db.table_names():
            return None
        search = request.args.get("_search", "").strip()[:MAX_QUERY_CHARS]  # as it is read
        context = {"supports_search": True, "search": search}
        if not search:
            return FilterArguments([], extra_context=context)
        return FilterArguments(
            [f"rowid in ({reports_matching('nianbao_search')})"],
            {"nianbao_search": match_expression(search)}, [f'全文包含 "{search}"'], context)

    return inner


# --- archived copies -----------------------------------------------------------------------


def _disposition(kind: str, name: str, digest: str, download: bool) -> str:
    """Content-Disposition with the file's own name (RFC 5987) and an ASCII fallback."""
    extension = kind if kind in MEDIA_TYPES else "bin"
    fallback = f"{digest[:12]}.{extension}"
    mode = "inline" if kind in _INLINE and not download else "attachment"
    return f"{mode}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name or fallback)}"


async def archived_copy(datasette, request):
    digest = request.url_vars["digest"]
    for db in datasette.databases.values():
        if db.is_memory or not db.path or "documents" not in await db.table_names():
            continue
        found = (await db.execute(
            "select kind, content_type, filename, url from documents where sha256 = :d "
            "union all select null, content_type, null, url from document_versions where sha256 = :d "
            "limit 1", {"d": digest})).first()
        path = ContentStore(files_dir(db.path)).path(digest)
        if found and path.exists():
            kind = found["kind"] or "bin"
            content_type = MEDIA_TYPES[kind][0] if kind in MEDIA_TYPES else "application/octet-stream"
            charset = re.search(r"charset=([\w-]+)", found["content_type"] or "")
            if kind == "html" and charset:
                content_type += f"; charset={charset.group(1)}"
            headers = {
                "Content-Disposition": _disposition(kind, found["filename"], digest,
                                                    request.args.get("download") == "1"),
                # an archived page never runs its scripts in the archive's origin
                "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "public, max-age=31536000, immutable",
            }
            # streamed from the store: a large PDF is not read into memory
            return AsgiFileDownload(path, content_type=content_type, headers=headers)
    return Response.text("不在档案中 (not in the archive)", status=404)


async def databases_without_paths(datasette, request):
    """Datasette's /-/databases, without the files' places on the server."""
    return Response.json([
        {"name": name, "route": db.route, "size": db.size, "is_mutable": db.is_mutable,
         "is_memory": db.is_memory, "hash": db.hash}
        for name, db in datasette.databases.items() if name != "_internal"])


@hookimpl
def register_routes():
    return [(r"^/-/archive/(?P<digest>[0-9a-f]{64})$", archived_copy),
            (r"^/-/databases(\.json)?$", databases_without_paths)]


# --- the report page --------------------------------------------------------------------------


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
        "select url, kind, filename, sha256, size, fetched_at, http_status, parse_error "
        "from documents where report_url = ? order by rowid", [url])]
    cells = [dict(c) for c in await db.execute(
        "select tbl, row, col, value from cells where report_url = ?", [url])]
    checks = [dict(c) for c in await db.execute(
        "select rule, tbl, scope, ok, detail, cells from checks where report_url = ? and ok = 0", [url])]
    failed = {(check["tbl"], row, column) for check in checks
              for row, column in json.loads(check["cells"] or "[]")}
    sections = [dict(s) for s in await db.execute(
        "select number, title from sections where report_url = ? order by rowid", [url])]
    return {"report": report, "documents": documents, "failed_checks": checks,
            "layouts": _layout(report, cells, failed), "sections": sections,
            "warnings": json.loads(report.get("warnings") or "[]")}


CHART_FIGURES = ["新收申请", "予以公开", "部分公开", "不予公开", "无法提供", "不予处理", "其他处理",
                 "行政复议", "复议纠正", "行政诉讼", "诉讼纠正"]
CHART_FILTERS = ["省", "市", "县", "发布机构", "模板"]


async def chart_data(datasette, database: str, request) -> tuple[list[dict], str]:
    """Per-year totals of the figures table, filtered by the page's ?省=…&发布机构=…"""
    chosen = {name: request.args.get(name) for name in CHART_FILTERS if request.args.get(name)}
    where = " and ".join(f"[{name}] = :f{i}" for i, name in enumerate(chosen)) or "1"
    sums = ", ".join(f"sum([{name}]) as [{name}]" for name in CHART_FIGURES)
    rows = await datasette.get_database(database).execute(
        f"select [年度], count(*) as [年报数], {sums} from figures where [年度] is not null and "
        f"{where} group by [年度] order by [年度]", {f"f{i}": v for i, v in enumerate(chosen.values())})
    described = "，".join(f"{k}：{v}" for k, v in chosen.items()) or "全部年报"
    return [dict(row) for row in rows], described


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    async def inner():
        names = [name for name, db in datasette.databases.items() if not db.is_memory]
        variables = {"archive_database": names[0] if names else None}
        if view_name == "row" and table == "reports" and request is not None:
            url = tilde_decode(request.url_vars.get("pks", ""))
            variables["report_page"] = await report_page(datasette, database, url)
        if template == "pages/charts.html" and names:
            data, described = await chart_data(datasette, names[0], request)
            variables.update(chart_data=data, chart_description=described,
                             chart_filters=CHART_FILTERS)
        return variables

    return inner


@hookimpl
def menu_links(datasette, actor, request):
    return [{"href": datasette.urls.path("/about"), "label": "关于年报"},
            {"href": datasette.urls.path("/charts"), "label": "图表"}]


# columns of saved queries that hold a report's URL
REPORT_COLUMNS = {"年报", "上年年报"}


@hookimpl
def render_cell(value, column, table, database, datasette):
    """Archived copies link to the store; a saved query's report links to its page."""
    if column == "sha256" and table in ("documents", "document_versions") and value:
        return Markup(f'<a href="{datasette.urls.path("/-/archive/" + value)}">存档副本</a> '
                      f'<span class="sha">{escape(value[:12])}…</span>')
    if column in REPORT_COLUMNS and table is None and isinstance(value, str) and database:
        page = datasette.urls.row(database, "reports", tilde_encode(value))
        return Markup(f'<a href="{escape(page)}">年报页面</a> '
                      f'<span class="original">{escape(value)}</span>')
    return None


# --- CSV for Excel --------------------------------------------------------------------------


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

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    headers = dict(message.get("headers", []))
                    state["csv"] = message["status"] == 200 and \
                        headers.get(b"content-type", b"").startswith(b"text/")
                    if state["csv"]:
                        message = {**message, "headers": [
                            (k, str(int(v) + len(BOM)).encode() if k == b"content-length" else v)
                            for k, v in message.get("headers", [])]}
                elif message["type"] == "http.response.body" and state["csv"] and state["first"]:
                    state["first"] = False
                    message = {**message, "body": BOM + message.get("body", b"")}
                await send(message)

            await app(scope, receive, send_with_bom)

        return with_bom

    return wrap
