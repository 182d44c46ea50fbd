"""How the archive's tables read in lists: the columns a table hides in its listing
(`plugins: nianbao: hidden_columns` in datasette.yml; shown on the row page and in every
export), links from a file's digest to its archived copy and from a saved query's report
to its page, the archive's name and its Chinese names for tables and columns for the pages'
templates, the site's menu, and each facet counted and drawn once."""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from markupsafe import Markup, escape

from nianbao.archive import beijing_time
from nianbao.publish import PAGE_LIMIT, PAGE_ROWS, parameter_choices

PLUGIN = "nianbao"
# columns of saved queries that hold a report's URL
REPORT_COLUMNS = {"年报", "上年年报", "去年的年报"}


@hookimpl
def extra_template_vars(template, database, table, request, datasette):
    async def inner():
        names = [name for name, db in datasette.databases.items() if not db.is_memory]
        config = datasette.plugin_config(PLUGIN, database=database, table=table) if table else None
        found = {"archive_database": names[0] if names else None,
                 "hidden_columns": (config or {}).get("hidden_columns", []),
                 "title_column": (config or {}).get("title_column"),
                 "title_links_to": (config or {}).get("title_links_to"),
                 **reader_names(datasette, names[0] if names else None)}
        if template == "query.html" and request is not None:
            archive = database or found["archive_database"]
            sql, saved = await _query_sql(datasette, archive, request)
            asked = set(_PARAMETER.findall(sql))
            found["parameter_choices"] = await parameter_choices(datasette, archive, request, asked)
            found["page_rows"] = PAGE_ROWS
            found["page_cut"] = saved and PAGE_LIMIT in asked
            if found["page_cut"] and await datasette.permission_allowed(
                    request.actor, "execute-sql", archive, default=True):
                # Datasette offers no editor for SQL with a magic parameter: the question's
                # SQL without the page's limit, with the values chosen
                found["edit_sql_url"] = datasette.urls.database(archive) + "?" + urlencode(
                    {"sql": _PAGE_LIMIT_CLAUSE.sub("", sql),
                     **{name: request.args.get(name, "") for name in sorted(asked) if name != PAGE_LIMIT}})
        return found

    return inner


def reader_names(datasette, database: str | None) -> dict:
    """What readers see for the archive's English names (datasette.yml `column_labels`,
    `place_names`): the database and each table by its Chinese title, columns by label."""
    config = datasette.plugin_config(PLUGIN) or {}
    places = dict(config.get("place_names", {}))
    if database:
        places[database] = datasette.metadata("title", database=database) or places.get(database, database)
        for name, table in (datasette.metadata("tables", database=database) or {}).items():
            if table.get("title"):
                places[name] = table["title"]
    return {"column_labels": config.get("column_labels", {}), "place_names": places}


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["beijing"] = beijing_time  # every time a reader sees, in 北京时间
    env.filters["tilde_encode"] = tilde_encode  # a row's key in its page's URL
    env.globals["same_on_every_row"] = same_on_every_row


def same_on_every_row(rows, columns, order, title_column=None) -> list[int]:
    """Positions (among `order`) of the columns that hold one value on every one of a
    page's rows (two at least), a key and the title column apart: said once above the table."""
    if len(rows) < 2:
        return []
    same = []
    for index in order:
        column = columns[index]
        if column["is_pk"] or column["name"] == title_column:
            continue
        first = str(rows[0].cells[index]["raw"])
        if all(str(row.cells[index]["raw"]) == first for row in rows):
            same.append(index)
    return same


@hookimpl
def menu_links(datasette, actor, request):
    return [{"href": datasette.urls.path("/about"), "label": "关于年报"},
            {"href": datasette.urls.path("/charts"), "label": "图表"},
            {"href": datasette.urls.path("/compare"), "label": "比较机构"},
            {"href": datasette.urls.path("/coverage"), "label": "覆盖范围"}]


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Archived copies link to the store; a saved query's report and body link to their
    pages; a search result's excerpt shows its search term marked."""
    if column == "摘录" and table is None and isinstance(value, str) and "检索词" in row.keys():
        return highlighted(value, row["检索词"])
    if column == "sha256" and table in ("documents", "document_versions") and value:
        return Markup(f'<a href="{datasette.urls.path("/-/archive/" + value)}">存档副本</a> '
                      f'<span class="sha">{escape(value[:12])}…</span>')
    if column == "编号" and table is None and "机构" in row.keys() and isinstance(value, str) and database:
        page = f"{_table_path(datasette, database, 'bodies')}/{tilde_encode(value)}"
        return Markup(f'<a href="{escape(page)}">机构页面</a>')
    if column in REPORT_COLUMNS and table is None and isinstance(value, str) and database:
        page = f"{_table_path(datasette, database, 'reports')}/{tilde_encode(value)}"
        return Markup(f'<a href="{escape(page)}">年报页面</a> '
                      f'<span class="original">{escape(value)}</span>')
    return None


@functools.lru_cache(maxsize=64)
def _table_path(datasette, database: str, table: str) -> str:
    """A table's path, the start of each of its rows' (a saved question links up to 1,000
    rows to their pages: the table's part is made once)."""
    return datasette.urls.table(database, table)


def highlighted(text: str, query: str | None) -> Markup:
    """The text with each of the query's terms marked (white space inside a term allowed,
    as the search allows it)."""
    terms = [t for t in (query or "").split() if t][:8]
    if not terms:
        return Markup(escape(text))
    pattern = re.compile("|".join(r"\s*".join(map(re.escape, term[:40])) for term in terms))
    out, last = [], 0
    for found in pattern.finditer(text):
        out += [escape(text[last:found.start()]), Markup("<mark>"), escape(found.group()), Markup("</mark>")]
        last = found.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


_PARAMETER = re.compile(r"(?<!:):(\w+)")


async def _query_sql(datasette, database: str | None, request) -> tuple[str, bool]:
    """The query page's SQL (the one typed, or the saved question's) and whether it is saved."""
    sql = request.args.get("sql", "")
    if sql or not database:
        return sql, False
    name = tilde_decode(request.path.rstrip("/").rsplit("/", 1)[-1])
    query = await datasette.get_canned_query(database, name, None)
    return (query["sql"], True) if query else ("", False)


_PAGE_LIMIT_CLAUSE = re.compile(rf"\s*limit :{PAGE_LIMIT}\b")
# Datasette reads a magic parameter `:_page_rows` as prefix "page", key "rows"
_PAGE_LIMIT_PREFIX, _PAGE_LIMIT_KEY = PAGE_LIMIT[1:].split("_", 1)


def page_rows(key: str, request) -> int:
    """`:_page_rows`: the page's rows and one more (to say there are more) on a question's
    page; no limit (-1) in its downloads and JSON, which Datasette still caps at
    max_returned_rows."""
    if key != _PAGE_LIMIT_KEY:
        raise KeyError(key)
    return PAGE_ROWS + 1 if request.url_vars.get("format") is None else -1


@hookimpl
def register_magic_parameters(datasette):
    return [(_PAGE_LIMIT_PREFIX, page_rows)]


@hookimpl
def asgi_wrapper(datasette):
    """A facet asked for with `_facet=` that the table's configuration already shows (a
    shared link, a facet clicked twice) is counted and drawn once: Datasette would run its
    query again and draw it twice."""
    def wrap(app):
        async def facets_once(scope, receive, send):
            if scope["type"] == "http" and b"_facet=" in scope.get("query_string", b""):
                scope = {**scope, "query_string": _facets_once(datasette, scope)}
            await app(scope, receive, send)
        return facets_once
    return wrap


def _facets_once(datasette, scope) -> bytes:
    query = scope["query_string"]
    parts = scope.get("path", "").strip("/").split("/")
    if len(parts) != 2:
        return query
    database, table = parts[0], tilde_decode(parts[1].rsplit(".", 1)[0])  # figures.json: figures
    shown = {facet for facet in datasette.table_metadata(database, table).get("facets", [])
             if isinstance(facet, str)}
    try:
        pairs = parse_qsl(query.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        return query
    kept = []
    for key, value in pairs:
        if key == "_facet":
            if value in shown:
                continue
            shown.add(value)
        kept.append((key, value))
    return query if len(kept) == len(pairs) else urlencode(kept).encode()
