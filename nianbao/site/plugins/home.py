"""The home page's orientation: how many reports, bodies and years the archive holds,
when it was last captured (北京时间), and whether it is the demo's made-up data."""

from __future__ import annotations

from datasette import hookimpl

from nianbao.archive import beijing_time
from nianbao.publish import answer_until_changed

async def overview(db) -> dict:
    """Kept until the archive changes: at 100,000 reports the counts are a scan."""
    async def counted():
        row = (await db.execute("""select count(*) as reports,
            (select count(*) from bodies) as bodies, min(year) as first_year, max(year) as last_year,
            (select max(finished) from crawl_runs where status = 'finished') as last_crawl,
            (select value from archive_info where name = 'sample_data') as sample_data
            from reports""")).first()
        return {**dict(row), "last_crawl": beijing_time(row["last_crawl"])}

    return await answer_until_changed(db, "overview", counted)


@hookimpl
def extra_template_vars(template, datasette):
    async def inner():
        if template != "index.html":
            return {}
        names = [name for name, db in datasette.databases.items() if not db.is_memory]
        if not names or "reports" not in await datasette.databases[names[0]].table_names():
            return {}
        return {"overview": await overview(datasette.databases[names[0]])}

    return inner
