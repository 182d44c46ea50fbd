"""Publish an archive with Datasette and the project's configuration (`datasette/`).

`datasette_app` is the one place the published site is configured: `nianbao serve` runs
it under uvicorn and the tests drive it through Datasette's test client.

How the site meets a crawl: the archive is an SQLite database in WAL mode, which the
site opens read-only (not immutable). A crawl commits one report at a time; the site
reads the last committed state, so a crawl beside the server causes no error and its
reports appear as they are committed, without a restart.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import yaml

# the Datasette configuration, shipped in the package: metadata, plugins, templates, static
SITE_DIR = Path(__file__).with_name("site")
# a query that runs longer than this is stopped (ms): the published site stays responsive
SQL_TIME_LIMIT_MS = 3000
SETTINGS = {
    "sql_time_limit_ms": SQL_TIME_LIMIT_MS,
    "default_page_size": 50,
    "allow_download": False,   # the whole database file is not a download
    "facet_time_limit_ms": 500,
    # a report's full text stays readable on its own page, not in every table row
    "truncate_cells_html": 160,
}
# the database the configuration describes; any archive file is published under its own
# name (archive.db -> /archive), so the description is moved to that name
CONFIGURED_DATABASE = "archive"


def metadata_for(db: str | Path) -> dict:
    """`datasette/metadata.yml`, describing the database `db` will be published as, with
    what it says of the national template filled in from the template."""
    metadata = yaml.safe_load((SITE_DIR / "metadata.yml").read_text(encoding="utf-8"))
    name = Path(db).stem
    databases = metadata.get("databases", {})
    if name != CONFIGURED_DATABASE and CONFIGURED_DATABASE in databases:
        databases[name] = databases.pop(CONFIGURED_DATABASE)
    for database in databases.values():
        _from_template(database)
    return metadata


def _from_template(database: dict) -> None:
    """The figures table's headline columns are described by the template, and a saved
    query names a template row by its reason's short name: `{row:国家秘密}` is '三.三.1',
    `{reason_columns}` one column per reason."""
    from parsers.template import headline, refusal_reasons, row_by_short_name

    columns = database.get("tables", {}).get("figures", {}).setdefault("columns", {})
    columns.update({figure.name: figure.about for figure in headline()})
    rows = row_by_short_name()
    reason_columns = ",\n  ".join(f"max(case when c.row = '{key}' then c.value end) as {short}"
                                   for key, short in refusal_reasons().items())
    for query in database.get("queries", {}).values():
        sql = query["sql"].replace("{reason_columns}", reason_columns)
        query["sql"] = re.sub(r"\{row:(\w+)\}", lambda found: f"'{rows[found.group(1)]}'", sql)


def out_of_date(db: str | Path) -> list[str]:
    """What the published site needs and the archive lacks (an archive made by an older
    version): tables and columns of the schema, the search index."""
    from .archive import SCHEMA, read_archive
    from .search import FTS_TABLE

    archive = read_archive(db)
    try:
        tables = set(archive.table_names())
        missing = [name for name in [*SCHEMA, FTS_TABLE] if name not in tables]
        for name, spec in SCHEMA.items():
            if name in tables:
                columns = archive.table(name).columns_dict
                missing += [f"{name}.{column}" for column in spec["columns"] if column not in columns]
        return missing
    finally:
        archive.close()


def incomplete_reports(db: str | Path) -> int:
    """Reports whose derived rows are not all there (figures, search row, every cell):
    left by a write that an older version did not make in one transaction."""
    from .archive import read_archive
    from .search import FTS_TABLE

    archive = read_archive(db)
    try:
        return archive.execute(f"""select count(*) from reports r where
            not exists (select 1 from figures where [年报] = r.url)
            or not exists (select 1 from [{FTS_TABLE}] where rowid = r.rowid)
            or r.cell_count is null
            or r.cell_count != (select count(*) from cells where report_url = r.url)""").fetchone()[0]
    finally:
        archive.close()


def ensure_wal(db: str | Path) -> bool:
    """Put an archive written by an older version into WAL mode, so that the site can read
    it while a crawl writes (the mode is kept in the file). True if it was switched."""
    import sqlite3

    connection = sqlite3.connect(db, timeout=30)
    try:
        if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            return False
        connection.execute("PRAGMA journal_mode = WAL")
        return True
    finally:
        connection.close()


def datasette_app(db: str | Path):
    """Datasette publishing `db` read-only, with the project's configuration. The file is
    opened as a mutable database (mode=ro), not immutable: a crawl may be writing it."""
    from datasette.app import Datasette

    folders = {name: SITE_DIR / name for name in ("templates", "plugins", "static")}
    return Datasette(
        files=[str(db)], metadata=metadata_for(db), settings=SETTINGS,
        template_dir=str(folders["templates"]) if folders["templates"].is_dir() else None,
        plugins_dir=str(folders["plugins"]) if folders["plugins"].is_dir() else None,
        static_mounts=[("static", str(folders["static"]))] if folders["static"].is_dir() else None)


def serve(db: str | Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Run the published site until interrupted."""
    import uvicorn

    app = datasette_app(db)
    asyncio.run(app.invoke_startup())
    uvicorn.run(app.app(), host=host, port=port, log_level="warning", lifespan="on")
