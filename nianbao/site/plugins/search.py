"""Chinese full-text search on the published site, through the archive's character and
pair index (nianbao/search.py): `?_search=` on `reports`, and the SQL functions
`nianbao_match(q)` and `nianbao_excerpt(text, q)` for the saved queries. Both functions
read capped inputs, so that one call costs at most a fixed amount whoever calls them
(`?sql=` included). `nianbao_ids(match, relation)` is the list a table search filters by
(below)."""

from __future__ import annotations

import re
import sqlite3

from datasette import hookimpl
from datasette.filters import FilterArguments

from nianbao.publish import answer_kept, answer_until_changed, archive_version, keep_answer
from nianbao.search import FTS_TABLE, MAX_QUERY_CHARS, match_expression, reports_matching

# the SQL functions read no more than this of a text, and of a search term
EXCERPT_TEXT_CHARS = 200_000
EXCERPT_TERM_CHARS = 32
# A table search filters by a list of ids: those of the reports it finds, or of those it
# misses when they are fewer, as long as that list holds at most MAX_IDS. Datasette counts
# a table search's hits, lists them and facets them three ways: five queries that would
# each run the search again (a phrase's pairs, 30-45 ms at 100,000 reports) and look every
# hit up (300-800 ms in all for a term that every report holds, 复议); from the shorter
# list each query reads an index once. The list is kept until the archive changes, for the
# latest IDS_KEPT searches (at most some 350 KB each), and the SQL reads it through the
# function nianbao_ids(match, relation): it is not a parameter, which Datasette would
# print into the page's links and its JSON.
MAX_IDS = 50_000
IDS_KEPT = 32
_ids_kept: dict = {}
_RELATIONS = ("in", "not in")


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
def prepare_connection(conn, database, datasette):
    conn.create_function("nianbao_match", 1, lambda q: match_expression(q or ""), deterministic=True)
    conn.create_function("nianbao_excerpt", 2, excerpt, deterministic=True)
    path = datasette.get_database(database).path if database in datasette.databases else None
    if path:
        conn.create_function("nianbao_ids", 2, lambda match, relation: _ids_of(path, match, relation))


def _ids_of(path: str, match: str | None, relation: str | None) -> str:
    """The ids (a JSON array) of the reports that `match` finds (`relation` "in") or misses
    ("not in"): the list kept for the table search, or, when the archive has changed since
    (a crawl beside the site, a link followed later), made again through a connection of
    its own, and kept for the page's next queries when it is short enough."""
    if relation not in _RELATIONS:
        raise ValueError("nianbao_ids: the relation is 'in' or 'not in'")
    key = _ids_key(match or "")
    kept = answer_kept(path, key, _ids_kept)
    if kept is not None and kept[0] == relation:
        return kept[1]
    version = archive_version(path)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        ids, count = connection.execute(
            f"select json_group_array(id), count(*) from ({_ids_sql(relation, reports_matching('match'))})",
            {"match": match or ""}).fetchone()
    if count <= MAX_IDS:
        keep_answer(path, key, (relation, ids), version, _ids_kept, IDS_KEPT)
    return ids


def _ids_key(match: str) -> str:
    return f"search ids {match}"


def _ids_sql(relation: str, hits: str) -> str:
    """SQL for the ids of the reports whose id is `relation` ("in", "not in") the ids of `hits`."""
    return f"select id from reports where id {relation} ({hits})"


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
        expression = match_expression(search)
        described = [f'全文包含 "{search}"']
        found = await answer_until_changed(db, _ids_key(expression), lambda: _ids(db, expression),
                                           _ids_kept, IDS_KEPT)
        if found is not None:
            relation = found[0]
            clause = (f"id {relation} (select value from "
                      f"json_each(nianbao_ids(:nianbao_search, '{relation}')))")
        else:
            clause = f"id in ({reports_matching('nianbao_search')})"
        return FilterArguments([clause], {"nianbao_search": expression}, described, context)

    return inner


async def _ids(db, expression: str) -> tuple[str, str] | None:
    """("in", the ids found) or ("not in", the ids missed): the shorter list (a JSON array),
    if it holds at most MAX_IDS; else None (the search is run by every query). The search
    runs once, for the count and the list."""
    by_found, ids = (await db.execute(
        f"""with hits as materialized ({reports_matching('expression')}),
        counted as (select count(*) as found, (select count(*) from reports) - count(*) as missed from hits)
        select found <= missed, case
          when min(found, missed) > {MAX_IDS} then null
          when found <= missed then
            (select json_group_array(id) from ({_ids_sql("in", "select rowid from hits")}))
          else (select json_group_array(id) from ({_ids_sql("not in", "select rowid from hits")}))
        end from counted""", {"expression": expression})).first()
    return None if ids is None else ("in" if by_found else "not in", ids)
