"""Publish an archive with Datasette and the site's configuration (`nianbao/site/`).

The site is Datasette's own: `metadata.yml` says what the archive is, `datasette.yml` how
the site behaves (settings, facets, saved queries, plugin options), `plugins/` one file
per concern, `templates/` and `static/`. `datasette_app` is the one place they are put
together: `nianbao serve` runs it under uvicorn and the tests drive it through
Datasette's test client; `datasette_command` is the same site as a plain `datasette`
command line.

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

# the Datasette configuration, shipped in the package
SITE_DIR = Path(__file__).with_name("site")
# the database the configuration describes; any archive file is published under its own
# name (archive.db -> /archive), so the description is moved to that name
CONFIGURED_DATABASE = "archive"


def _merged(base: dict, extra: dict) -> dict:
    """`extra` laid over `base`, mappings merged key by key."""
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merged(merged[key], value) if isinstance(value, dict) and \
            isinstance(merged.get(key), dict) else value
    return merged


def configuration_for(db: str | Path) -> tuple[dict, dict]:
    """(metadata, settings) for Datasette 0.65: `metadata.yml` and `datasette.yml` merged
    (0.65 reads configuration from its metadata), describing the database `db` will be
    published as, with what they say of the national template filled in from it."""
    read = (lambda name: yaml.safe_load((SITE_DIR / name).read_text(encoding="utf-8")))
    config = read("datasette.yml")
    settings = config.pop("settings", {})
    metadata = _merged(read("metadata.yml"), config)
    name = Path(db).stem
    databases = metadata.get("databases", {})
    if name != CONFIGURED_DATABASE and CONFIGURED_DATABASE in databases:
        databases[name] = databases.pop(CONFIGURED_DATABASE)
    for database in databases.values():
        _from_template(database)
    return metadata, settings


def metadata_for(db: str | Path) -> dict:
    return configuration_for(db)[0]


# rows a query's page draws. A saved question that may answer more ends in
# `limit :_page_rows` (datasette.yml), a magic parameter (plugins/tables.py: page_rows):
# Datasette prepares every row it is handed for the page, each cell through render_cell,
# and at 1,000 rows that costs more than the query
PAGE_ROWS = 200
PAGE_LIMIT = "_page_rows"

# a saved question's 年度 left empty: the archive's latest year
CHOSEN_YEAR = "coalesce(nullif(:年度, ''), (select max(年度) from figures)) + 0"


def _from_template(database: dict) -> None:
    """The figures table's headline columns are described by the template, and a saved
    query names a template row by its reason's short name: `{row:国家秘密}` is '三.三.1',
    `{reason_rows}` every reason's row, `{reason_columns}` one column per reason (of
    cell_keys k and report_cells c); `{chosen_year}` is the 年度 asked for, or when none
    is, the archive's latest."""
    from parsers.template import headline, refusal_reasons, row_by_short_name

    columns = database.get("tables", {}).get("figures", {}).setdefault("columns", {})
    columns.update({figure.name: figure.about for figure in headline()})
    rows = row_by_short_name()
    reason_columns = ",\n  ".join(f"max(case when k.row = '{key}' then c.value end) as {short}"
                                   for key, short in refusal_reasons().items())
    reason_rows = ", ".join(f"'{key}'" for key in refusal_reasons())
    for query in database.get("queries", {}).values():
        sql = query["sql"].replace("{reason_columns}", reason_columns).replace(
            "{reason_rows}", reason_rows).replace("{chosen_year}", CHOSEN_YEAR)
        query["sql"] = re.sub(r"\{row:(\w+)\}", lambda found: f"'{rows[found.group(1)]}'", sql)


def out_of_date(db: str | Path) -> list[str]:
    """What the published site needs and the archive lacks (an archive made by an older
    version): tables and columns of the schema, the search index."""
    from .archive import read_archive
    from .schema import SCHEMA, VIEWS
    from .search import FTS_TABLE

    archive = read_archive(db)
    try:
        tables = set(archive.table_names())
        missing = [name for name in [*SCHEMA, FTS_TABLE] if name not in tables]
        missing += [name for name in VIEWS if name not in set(archive.view_names())]
        for name, spec in SCHEMA.items():
            if name in tables:
                columns = archive.table(name).columns_dict
                missing += [f"{name}.{column}" for column in spec["columns"] if column not in columns]
        return missing
    finally:
        archive.close()


def missing_indexes(db: str | Path) -> list[str]:
    """The schema's indexes an archive made by an older version lacks: the site answers
    without them, slowly on a large archive; the next write (a crawl, `reparse`) adds them."""
    from .archive import read_archive
    from .schema import SCHEMA, index_names

    archive = read_archive(db)
    try:
        present = {row[0] for row in archive.execute("select name from sqlite_master where type = 'index'")}
        wanted = [name for table, spec in SCHEMA.items() for name in index_names(table, spec)]
        return [name for name in wanted if name not in present]
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
            or not exists (select 1 from [{FTS_TABLE}] where rowid = r.id)
            or r.cell_count is null
            or r.cell_count != (select count(*) from report_cells where report_id = r.id)""").fetchone()[0]
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


# answers that change only when the archive does (a parameter's choices, the home page's
# coverage, the charts' totals): (database file, key) -> (archive version, answer)
_ANSWERS: dict[tuple[str, str], tuple[tuple, object]] = {}
_MAX_ANSWERS = 1000


def archive_version(path: str | Path) -> tuple:
    """What changes whenever a committed write reaches the archive: the database file's
    and its write-ahead log's size and modification time."""
    import os

    version = []
    for name in (str(path), f"{path}-wal"):
        try:
            stat = os.stat(name)
            version += [stat.st_mtime_ns, stat.st_size]
        except OSError:
            version += [None, None]
    return tuple(version)


async def answer_until_changed(db, key: str, compute, answers: dict = _ANSWERS,
                               most: int = _MAX_ANSWERS):
    """`await compute()` for Datasette database `db`, kept until the archive changes: a
    large archive's totals cost a scan each, and readers ask the same ones again and again.
    (`answers`, `most`: a store of its own and its size, for answers larger than most.)"""
    if not db.path:
        return await compute()
    version = archive_version(db.path)  # before computing: a write meanwhile makes it old
    kept = answers.get((db.path, key))
    if kept and kept[0] == version:
        return kept[1]
    answer = await compute()
    keep_answer(db.path, key, answer, version, answers, most)
    return answer


def answer_kept(path: str, key: str, answers: dict = _ANSWERS):
    """What answer_until_changed keeps for the archive at `path` under `key`, if the archive
    has not changed since; else None."""
    kept = answers.get((path, key))
    return kept[1] if kept and kept[0] == archive_version(path) else None


def keep_answer(path: str, key: str, answer, version: tuple, answers: dict = _ANSWERS,
                most: int = _MAX_ANSWERS) -> None:
    """Keep `answer`, computed from the archive at `path` as it was at `version`
    (archive_version, read before computing it)."""
    if len(answers) >= most:
        answers.clear()
    answers[(path, key)] = (version, answer)


def datasette_app(db: str | Path):
    """Datasette publishing `db` read-only, with the site's configuration. The file is
    opened as a mutable database (mode=ro), not immutable: a crawl may be writing it."""
    from datasette.app import Datasette

    metadata, settings = configuration_for(db)
    return Datasette(files=[str(db)], metadata=metadata, settings=settings,
                     template_dir=str(SITE_DIR / "templates"), plugins_dir=str(SITE_DIR / "plugins"),
                     static_mounts=[("static", str(SITE_DIR / "static"))])


def datasette_command(db: str | Path, metadata_file: str | Path, host: str, port: int) -> list[str]:
    """The plain `datasette serve` command line that serves `db` as `nianbao serve` does,
    reading the merged metadata and configuration from `metadata_file`."""
    _, settings = configuration_for(db)
    command = ["datasette", "serve", str(db), "--metadata", str(metadata_file),
               "--plugins-dir", str(SITE_DIR / "plugins"), "--template-dir", str(SITE_DIR / "templates"),
               "--static", f"static:{SITE_DIR / 'static'}", "--host", host, "--port", str(port)]
    for name, value in settings.items():
        command += ["--setting", name, str(value).lower() if isinstance(value, bool) else str(value)]
    return command


def serve(db: str | Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Run the published site until interrupted."""
    import uvicorn

    app = datasette_app(db)
    asyncio.run(app.invoke_startup())
    uvicorn.run(app.app(), host=host, port=port, log_level="warning", lifespan="on")


# the most values a parameter's list offers (a longer list stays a typed box)
MAX_CHOICES = 500


async def parameter_choices(datasette, database: str, request, asked: set[str]) -> dict:
    """{parameter: [values]} for the parameters `asked` (of a saved question, or the charts'
    filters) that name something the archive holds (datasette.yml `plugins: nianbao:
    parameter_choices`), narrowed by the others chosen; each list kept until the archive
    changes."""
    sql_of = (datasette.plugin_config("nianbao") or {}).get("parameter_choices", {})
    chosen = {name: request.args.get(name, "") for name in ("省", "市", "县")}
    db = datasette.get_database(database)
    choices = {}
    for name in asked & set(sql_of):
        sql = sql_of[name]
        params = {key: value for key, value in chosen.items() if f":{key}" in sql}

        async def values(sql=sql, params=params):
            return [row[0] for row in await db.execute(f"{sql} limit {MAX_CHOICES + 1}", params)]
        try:
            found = await answer_until_changed(db, f"choices {sql} {sorted(params.items())}", values)
        except Exception:  # a table an older archive lacks: the parameter stays typed
            continue
        if len(found) <= MAX_CHOICES:
            choices[name] = found
    return choices
