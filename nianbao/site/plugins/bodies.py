"""A body's page (the row page of `bodies`): its reports year by year with their headline
figures and archived copies, and a small chart; and `/compare?机构=…&机构=…`, two or more
bodies (or regions: `地区=示例区`) side by side on the same figures and years."""

from __future__ import annotations

import json

from datasette import hookimpl
from datasette.utils import tilde_decode

from nianbao.figures import HEADLINE

# the figures a body's page and a comparison show, and the one their chart draws
FIGURES = ("新收申请", "上年结转", "予以公开", "不予公开", "办理总计", "行政复议", "复议纠正",
           "行政诉讼", "诉讼纠正")
CHARTED = "新收申请"
assert set(FIGURES) <= set(HEADLINE)
MAX_COMPARED = 6
# bodies a comparison's lists offer
MAX_OPTIONS = 300


async def body_history(db, key: str) -> list[dict]:
    """A body's reports, oldest first: year, title, dates, lateness, headline figures, and
    the archived copy of its page."""
    columns = ", ".join(f"f.[{name}]" for name in FIGURES)
    return [dict(row) for row in await db.execute(f"""
        select r.url, r.year, r.title, r.published, r.status, f.[逾期天数], {columns},
          (select d.sha256 from documents d where d.url = r.url) as page_copy,
          (select d.sha256 from documents d where d.url = r.report_document and d.url != r.url) as file_copy
        from reports r left join figures f on f.[年报] = r.url
        where r.body = ? order by r.year, r.published""", [key])]


def bars(series: list[dict], years: list[int]) -> dict:
    """A grouped bar chart as numbers for the template's SVG: one group per year, one bar
    per series ({name, values}), heights scaled to the tallest bar."""
    tallest = max((v for s in series for v in s["values"].values() if v), default=0) or 1
    return {"years": years, "series": series, "tallest": tallest,
            "scale": [round(tallest * step / 4) for step in range(5)]}


async def compared(db, request) -> dict:
    """The bodies (`机构`, by number or name) and regions (`地区`) asked for, each with its
    figures by year; regions sum their reports' figures."""
    wanted_bodies = [v for v in request.args.getlist("机构") if v.strip()][:MAX_COMPARED]
    wanted_regions = [v for v in request.args.getlist("地区") if v.strip()][:MAX_COMPARED]
    entries, unknown = [], []
    sums = ", ".join(f"sum(f.[{name}]) as [{name}]" for name in FIGURES)
    for wanted in wanted_bodies:
        body = (await db.execute("select [编号], [名称], [县], [市], [省] from bodies where [编号] = ? "
                                 "or [名称] = ? order by [年报数] desc limit 1", [wanted, wanted])).first()
        if body is None:
            unknown.append(wanted)
            continue
        rows = await body_history(db, body["编号"])
        place = body["县"] or body["市"] or body["省"] or ""
        entries.append({"name": body["名称"], "place": place, "key": body["编号"],
                        "by_year": {r["year"]: r for r in rows if r["year"]}})
    for wanted in wanted_regions:
        rows = [dict(r) for r in await db.execute(f"""select f.[年度] as year, count(*) as reports, {sums}
            from figures f where ? in (f.[省], f.[市], f.[县], f.[区划代码]) and f.[年度] is not null
            group by f.[年度] order by f.[年度]""", [wanted])]
        if not rows:
            unknown.append(wanted)
            continue
        entries.append({"name": wanted, "place": "地区合计", "key": None,
                        "by_year": {r["year"]: r for r in rows}})
    years = sorted({year for entry in entries for year in entry["by_year"]})
    chart = bars([{"name": e["name"], "values": {y: (e["by_year"].get(y) or {}).get(CHARTED)
                                                 for y in years}} for e in entries], years)
    # the bodies to choose from: those beside the chosen ones, else the most reported
    places = [e["key"] for e in entries if e["key"]]
    options = [dict(r) for r in await db.execute(f"""select [编号], [名称], [县] from bodies
        where ? = 0 or [县] in (select [县] from bodies where [编号] in (select value from json_each(?)))
        order by {"[省], [市], [县], [名称]" if places else "[年报数] desc"} limit {MAX_OPTIONS}""",
        [len(places), json.dumps(places, ensure_ascii=False)])]
    return {"entries": entries, "years": years, "unknown": unknown, "figures": FIGURES,
            "charted": CHARTED, "chart": chart, "options": options,
            "chosen": wanted_bodies, "regions": wanted_regions}


def _archive(datasette):
    names = [name for name, db in datasette.databases.items() if not db.is_memory]
    return datasette.get_database(names[0]) if names else None


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    async def inner():
        if view_name == "row" and table == "bodies" and request is not None:
            db = datasette.get_database(database)
            key = tilde_decode(request.url_vars.get("pks", ""))
            rows = await body_history(db, key)
            years = [r["year"] for r in rows if r["year"]]
            body = (await db.execute("select [名称], [省], [市], [县] from bodies where [编号] = ?",
                                     [key])).first()
            # the other bodies of its county (or city, province), for comparing with
            place = {name: body[name] for name in ("省", "市", "县")} if body else {}
            same = " and ".join(f"[{name}] = :{name}" if value is not None else f"[{name}] is null"
                                for name, value in place.items())
            neighbours = [dict(r) for r in await db.execute(
                f"select [编号], [名称] from bodies where {same} and [编号] != :key "
                f"order by [名称] limit {MAX_OPTIONS}",
                {"key": key, **{k: v for k, v in place.items() if v is not None}})] if body else []
            return {"body_page": {
                "key": key, "name": body["名称"] if body else key, "reports": rows,
                "figures": FIGURES, "charted": CHARTED, "neighbours": neighbours,
                "chart": bars([{"name": CHARTED, "values": {r["year"]: r[CHARTED] for r in rows if r["year"]}}],
                              sorted(set(years)))}}
        if template == "pages/compare.html" and request is not None:
            db = _archive(datasette)
            if db is None or "bodies" not in await db.table_names():
                return {"compare": None}
            return {"compare": await compared(db, request)}
        return {}

    return inner
