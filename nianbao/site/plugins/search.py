"""Chinese full-text search on the published site, through the archive's character and
pair index (nianbao/search.py): `?_search=` on `reports`, and the SQL functions
`nianbao_match(q)` and `nianbao_excerpt(text, q)` for the saved queries. Both functions
read capped inputs, so that one call costs at most a fixed amount whoever calls them
(`?sql=` included)."""

from __future__ import annotations

import re

from datasette import hookimpl
from datasette.filters import FilterArguments

from nianbao.search import FTS_TABLE, MAX_QUERY_CHARS, match_expression, reports_matching

# the SQL functions read no more than this of a text, and of a search term
EXCERPT_TEXT_CHARS = 200_000
EXCERPT_TERM_CHARS = 32


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


@hookimpl
def prepare_connection(conn):
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
            [f"id in ({reports_matching('nianbao_search')})"],
            {"nianbao_search": match_expression(search)}, [f'全文包含 "{search}"'], context)

    return inner
