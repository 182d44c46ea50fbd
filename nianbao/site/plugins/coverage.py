"""`/coverage`: what the archive covers and what it misses. Which sources the crawl walks
and how they answered (by region and level), which bodies have reports for which years (a
grid, bounded), which bodies reported last year and not yet this year, and which sources
have failed for several runs. Each part is a saved query of datasette.yml, run here with
the page's filters, so that the page and `/archive/<query>` always agree."""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils import tilde_encode

from nianbao.publish import PAGE_LIMIT, PAGE_ROWS

# bodies shown in the grid at most (the saved query `bodies_by_year` lists them all)
GRID_BODIES = 300
# years shown in the grid: the latest ones
GRID_YEARS = 10


async def _saved(datasette, database: str, name: str, arguments: dict, limit: int = PAGE_ROWS):
    query = await datasette.get_canned_query(database, name, None)
    # this page's limit stands for the one a question asks for on its own page (tables.py)
    params = {**{p: arguments.get(p, "") for p in query.get("params", [])}, PAGE_LIMIT: limit}
    rows = await datasette.get_database(database).execute(
        f"select * from ({query['sql']}) limit {int(limit)}", params)
    return [dict(row) for row in rows]


async def coverage(datasette, database: str, request) -> dict:
    db = datasette.get_database(database)
    province = request.args.get("省", "").strip()
    failing = request.args.get("连续失败至少", "").strip() or "3"
    totals = dict((await db.execute(
        """select (select count(*) from reports) as 年报, (select count(distinct 发布机构)
             from figures) as 机关, (select min(年度) from figures) as 最早年度,
           (select max(年度) from figures) as 最近年度,
           (select count(*) from sources where in_registry = 1) as 来源,
           (select count(*) from sources where in_registry = 1 and outcome = 'ok') as 正常来源,
           (select count(*) from sources where in_registry = 1 and outcome != 'ok') as 失败来源,
           (select max(finished) from crawl_runs where status = 'finished') as 最近抓取""")).first())
    years = [row[0] for row in await db.execute(
        "select distinct 年度 from figures where 年度 is not null order by 年度 desc limit ?",
        [GRID_YEARS])][::-1]
    cells = await db.execute(
        f"""select 发布机构, 省, 市, 县, 年度, count(*) as n from figures
            where 发布机构 in (select 发布机构 from figures where 发布机构 is not null
                               and (:省 = '' or 省 like :省 || '%')
                               group by 发布机构 order by min(省), min(市), min(县), 发布机构
                               limit {GRID_BODIES + 1})
            group by 发布机构, 年度""", {"省": province})
    grid: dict[str, dict] = {}
    for row in cells:
        body = grid.setdefault(row["发布机构"], {"region": " ".join(
            x for x in (row["省"], row["市"], row["县"]) if x), "years": {}})
        body["years"][row["年度"]] = row["n"]
    bodies = sorted(grid.items(), key=lambda item: (item[1]["region"], item[0]))
    missing = await _saved(datasette, database, "missing_this_year", {})
    for row in missing:
        row["page"] = datasette.urls.row(database, "reports", tilde_encode(row["去年的年报"]))
    return {
        "coverage_totals": totals,
        "coverage_regions": await _saved(datasette, database, "sources_by_region", {}),
        "coverage_years": years,
        "coverage_grid": bodies[:GRID_BODIES],
        "coverage_grid_more": len(bodies) > GRID_BODIES,
        "coverage_missing": missing,
        "coverage_failing": await _saved(datasette, database, "sources_failing",
                                         {"连续失败至少": failing, "省": province}),
        "coverage_filters": {"省": province, "连续失败至少": failing},
    }


@hookimpl
def extra_template_vars(template, datasette, request):
    async def inner():
        if template != "pages/coverage.html":
            return {}
        names = [name for name, db in datasette.databases.items() if not db.is_memory]
        return await coverage(datasette, names[0], request)

    return inner
