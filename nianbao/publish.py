"""Publish an archive with Datasette and the project's configuration (`datasette/`).

`datasette_app` is the one place the published site is configured: `nianbao serve` runs
it under uvicorn and the tests drive it through Datasette's test client.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

DATASETTE_DIR = Path(__file__).resolve().parents[1] / "datasette"
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
    """`datasette/metadata.yml`, describing the database `db` will be published as."""
    metadata = yaml.safe_load((DATASETTE_DIR / "metadata.yml").read_text(encoding="utf-8"))
    name = Path(db).stem
    databases = metadata.get("databases", {})
    if name != CONFIGURED_DATABASE and CONFIGURED_DATABASE in databases:
        databases[name] = databases.pop(CONFIGURED_DATABASE)
    return metadata


def out_of_date(db: str | Path) -> list[str]:
    """What the published site needs and the archive lacks (an archive made by an older
    version): tables of the schema, the search index, a figures row per report."""
    from .archive import SCHEMA, read_archive
    from .search import FTS_TABLE

    archive = read_archive(db)
    tables = set(archive.table_names())
    missing = [name for name in [*SCHEMA, FTS_TABLE] if name not in tables]
    if not missing:
        counts = [archive.table(name).count for name in ("reports", "figures", FTS_TABLE)]
        if counts[1] < counts[0] or counts[2] < counts[0]:
            missing.append(f"figures or search rows for {counts[0] - min(counts[1:])} reports")
    archive.close()
    return missing


def datasette_app(db: str | Path):
    """Datasette publishing `db` read-only (immutable), with the project's configuration."""
    from datasette.app import Datasette

    folders = {name: DATASETTE_DIR / name for name in ("templates", "plugins", "static")}
    return Datasette(
        immutables=[str(db)], metadata=metadata_for(db), settings=SETTINGS,
        template_dir=str(folders["templates"]) if folders["templates"].is_dir() else None,
        plugins_dir=str(folders["plugins"]) if folders["plugins"].is_dir() else None,
        static_mounts=[("static", str(folders["static"]))] if folders["static"].is_dir() else None)


def serve(db: str | Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Run the published site until interrupted."""
    import uvicorn

    app = datasette_app(db)
    asyncio.run(app.invoke_startup())
    uvicorn.run(app.app(), host=host, port=port, log_level="warning", lifespan="on")
