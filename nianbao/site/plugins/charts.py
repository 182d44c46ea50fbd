"""`/charts`: the per-year totals of the saved query `by_year` (datasette.yml), drawn with
Vega-Lite. The page and the query are one SQL: the page runs the query with its own
filters (?省=…&发布机构=…), so the charts always show what `/archive/by_year` lists."""

from __future__ import annotations

from datasette import hookimpl

from nianbao.publish import answer_until_changed, parameter_choices

CHART_QUERY = "by_year"


async def chart_data(datasette, database: str, request) -> tuple[list[dict], list[str], str]:
    """The query's rows under the page's filters, its filter names, and what was chosen."""
    query = await datasette.get_canned_query(database, CHART_QUERY, None)
    filters = query.get("params", [])
    chosen = {name: request.args.get(name, "") for name in filters}
    db = datasette.get_database(database)

    async def totals():  # a scan of every report's figures: kept until the archive changes
        return [dict(row) for row in await db.execute(query["sql"], chosen)]
    rows = await answer_until_changed(db, f"charts {sorted(chosen.items())}", totals)
    described = "，".join(f"{k}：{v}" for k, v in chosen.items() if v) or "全部年报"
    return rows, filters, described


@hookimpl
def extra_template_vars(template, datasette, request):
    async def inner():
        if template != "pages/charts.html":
            return {}
        names = [name for name, db in datasette.databases.items() if not db.is_memory]
        data, filters, described = await chart_data(datasette, names[0], request)
        return {"chart_data": data, "chart_filters": filters, "chart_description": described,
                "parameter_choices": await parameter_choices(datasette, names[0], request, set(filters))}

    return inner
