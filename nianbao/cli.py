"""The `nianbao` command: crawl, re-parse, publish and export the archive.

    nianbao demo                      serve the demo portal, crawl it, publish on :8001
    nianbao crawl [--url URL]...      crawl listings (default: the sources registry)
    nianbao reparse --db PATH         rebuild parsed tables from the stored bytes
    nianbao serve --db PATH --port N  publish an archive with Datasette
    nianbao export --db PATH ...      a filtered CSV, without a server
    nianbao backup --db PATH DEST     a consistent copy of the archive, safe during a crawl
    nianbao sources                   list the sources registry, naming refused entries
    nianbao sources check [--write]   fetch each entry's listing: family, report links
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click

from . import __version__
from .archive import DEFAULT_DB, SAMPLE_DATA, Archive
from .export import EXCEL_ENCODING

# the demo portal's port: fixed, so that the archive's report URLs stay the same between runs
DEMO_PORTAL_PORT = 8002
db_option = click.option("--db", default=DEFAULT_DB, show_default=True,
                         type=click.Path(dir_okay=False), help="The archive (SQLite file).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nianbao")
def main():
    """Archive of 政府信息公开工作年度报告: crawl, parse, publish."""


def _pairs(pairs: tuple[str, ...], option: str, shape: str = "NAME=VALUE") -> dict[str, str]:
    """NAME=VALUE options as a dict (names stripped, values as given)."""
    found = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r} is not {shape}", param_hint=option)
        name, value = pair.split("=", 1)
        found[name.strip()] = value
    return found


def _require_archive(db: str) -> None:
    if not Path(db).exists():
        raise click.ClickException(f"no archive at {db}")


def _report_run(run: dict | None) -> None:
    if run:
        click.echo(f"crawl run {run['id']} {run['status']}: {run['listings']} listing pages, "
                   f"{run['reports_new']} new, {run['reports_changed']} changed, "
                   f"{run['reports_unchanged']} unchanged reports, {run['documents']} files, "
                   f"{run['errors']} errors (see the errors table)")


class _ArgumentError(click.ClickException):
    """A bad argument, said in one `Error:` line (exit 2, as click's usage errors), before
    Scrapy starts."""

    exit_code = 2


# `nianbao crawl` exit codes, for cron and systemd timers
EXIT_SOURCE_FAILED, EXIT_BUSY, EXIT_CRAWL_FAILED = 1, 3, 4


def _check_crawl_arguments(urls, source, registry) -> None:
    from urllib.parse import urlparse

    from .registry import RegistryError, load_registry

    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise _ArgumentError(f"--url {url!r} is not an http(s) URL")
    if urls:
        return
    try:
        entries = load_registry([registry] if registry else None).sources
    except RegistryError as error:
        raise _ArgumentError(str(error)) from None
    _check_source(entries, source, registry)


def _check_source(entries, source, registry) -> None:
    """The registry has entries, and one of them is --source (by name or id)."""
    if not entries:
        raise _ArgumentError(f"no valid entry in {registry or 'the sources registry'} "
                             "(`nianbao sources` says why)")
    if source and source not in {e.name for e in entries} | {e.id for e in entries}:
        raise _ArgumentError(f"--source {source!r}: no entry of that name or id in "
                             f"{registry or 'the sources registry'} (`nianbao sources` lists them)")


def _crawl_outcome(db, before: dict | None, code: int) -> tuple[int, str | None]:
    """The exit code and error line of a crawl, from the run it recorded."""
    from .archive import writer_of
    from .crawl import last_run

    run = last_run(db)
    if run is None or (before is not None and run["id"] == before["id"]):
        busy = writer_of(db)
        if busy:
            return EXIT_BUSY, f"archive busy: {busy}; nothing was crawled"
        return EXIT_CRAWL_FAILED, f"the crawl did not start (exit code {code}; see the log above)"
    _report_run(run)
    if run["status"] != "finished" or code:
        return EXIT_CRAWL_FAILED, f"crawl run {run['id']} did not finish ({run['status']})"
    failed = json.loads(run["sources_failed"] or "[]")
    if failed:
        return EXIT_SOURCE_FAILED, f"{len(failed)} source(s) failed: " + "; ".join(failed)
    return 0, None


@main.command(epilog="""\b
Exit codes (for cron and systemd timers):
  0  the crawl finished and every source answered
  1  the crawl finished, but a source failed (unreachable, blocked, empty
     listing); the last line names them
  2  bad arguments: nothing was crawled
  3  the archive is busy (another crawl or reparse is writing it)
  4  the crawl did not finish (interrupted, or Scrapy failed to start)""")
@db_option
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="A 年报 listing to crawl (repeatable). Default: every registry entry.")
@click.option("--source", metavar="NAME", help="Only this entry of the sources registry.")
@click.option("--registry", type=click.Path(exists=True, dir_okay=False),
              help="Another sources registry file (default: nianbao/sources.yaml).")
@click.option("--jobdir", type=click.Path(file_okay=False),
              help="Keep the crawl's state here so that a stopped or killed crawl resumes.")
@click.option("-s", "--setting", "settings", multiple=True, metavar="NAME=VALUE",
              help="A Scrapy setting for this run (repeatable), e.g. -s DOWNLOAD_DELAY=5.")
def crawl(db, urls, source, registry, jobdir, settings):
    """Crawl 年报 listings into the archive (a scheduled crawl runs this).

    Every report page and attachment is kept byte for byte beside the archive; a report
    whose files did not change since the last crawl is not parsed again.
    """
    from .archive import writer_of
    from .crawl import last_run, run_crawl

    options = {name: value.strip() for name, value in _pairs(settings, "-s").items()}
    _check_crawl_arguments(urls, source, registry)
    if jobdir:
        options["JOBDIR"] = jobdir
    busy = writer_of(db)
    if busy:
        click.echo(f"Error: archive busy: {busy}; nothing was crawled", err=True)
        sys.exit(EXIT_BUSY)
    before = last_run(db)
    code = run_crawl(db, urls=list(urls), source=source, registry=registry, settings=options)
    exit_code, message = _crawl_outcome(db, before, code)
    if message:
        click.echo(f"Error: {message}", err=True)
    sys.exit(exit_code)


@main.command()
@db_option
@click.option("--outdated", is_flag=True,
              help="Only reports parsed by an older parser version, or left incomplete.")
@click.option("--workers", type=click.IntRange(min=1), help="Parsing processes (default: one per core).")
def reparse(db, outdated, workers):
    """Rebuild every parsed table from the archived files, without crawling.

    Each report is rewritten in one transaction; one that fails keeps its earlier rows
    and is recorded in the errors table (exit code 1). Exit code 3: the archive is
    busy (a crawl is writing it).
    """
    from .archive import ArchiveBusy
    from .reparse import reparse as run

    _require_archive(db)
    try:
        counts = run(db, outdated_only=outdated, workers=workers, log=click.echo)
    except ArchiveBusy as busy:
        click.echo(f"Error: {busy}; nothing was re-parsed", err=True)
        sys.exit(EXIT_BUSY)
    click.echo(f"{counts['reparsed']} reports re-parsed, {counts['skipped']} up to date, "
               f"{counts['missing_files']} with stored files missing, {counts['failed']} failed")
    if counts["failed"] or counts["missing_files"]:
        sys.exit(1)


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--datasette-command", "metadata_file", type=click.Path(dir_okay=False),
              help="Do not serve: write the site's metadata and configuration to this JSON file "
                   "and print the plain `datasette serve` command that serves the archive "
                   "as this command does (for Datasette's own options).")
def serve(db, host, port, metadata_file):
    """Publish an archive with Datasette, read-only, with the project's configuration.

    The site may run beside a crawl into the same archive: it reads what each report's
    transaction committed, and shows new reports as they come, without a restart.
    """
    from .publish import ensure_wal, incomplete_reports, missing_indexes, out_of_date
    from .publish import serve as publish

    _require_archive(db)
    if metadata_file:
        import json
        import shlex

        from .publish import configuration_for, datasette_command

        Path(metadata_file).write_text(json.dumps(configuration_for(db)[0], ensure_ascii=False, indent=1),
                                       encoding="utf-8")
        click.echo(shlex.join(datasette_command(db, metadata_file, host, port)))
        return
    missing = out_of_date(db)
    if missing:
        raise click.ClickException(
            f"{db} was made by an older version (it lacks {', '.join(missing)}): run "
            f"`nianbao reparse --db {db}` once, then serve it")
    if ensure_wal(db):
        click.echo(f"{db}: switched to WAL mode, so that a crawl can write while the site reads")
    incomplete = incomplete_reports(db)
    if incomplete:
        click.echo(f"Warning: {incomplete} report(s) were left half-written by an interrupted "
                   f"write of an older version; `nianbao reparse --db {db} --outdated` (or the "
                   "next crawl) repairs them. Serving the rest.", err=True)
    unindexed = missing_indexes(db)
    if unindexed:
        click.echo(f"Warning: {db} lacks {len(unindexed)} of the site's indexes (made by an older "
                   "version): a large archive answers slowly until the next crawl or `nianbao "
                   "reparse` adds them. Serving it.", err=True)
    click.echo(f"Datasette: http://{host}:{port}/  (Ctrl-C stops it)")
    publish(db, host, port)


@main.command()
@db_option
@click.option("--port", default=8001, show_default=True, type=int, help="Datasette's port.")
@click.option("--portal-port", default=DEMO_PORTAL_PORT, show_default=True, type=int,
              help="The demo portal's port; the same port on every run keeps the reports' "
                   "URLs, so that a second run adds nothing (0: any free port).")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Publish the archive with Datasette after the crawl.")
def demo(db, port, portal_port, serve):
    """Serve the bundled demo portal, crawl it, parse it, and publish the archive."""
    import yaml

    from .crawl import last_run, run_crawl
    from .demo import LISTING_PATH, PORTAL_DIR, PORTAL_REGION
    from .demo import manifest as portal_manifest
    from .demo.server import serve_portal
    from .publish import serve as publish

    manifest = portal_manifest()
    with tempfile.TemporaryDirectory(prefix="nianbao-demo-") as folder:
        try:
            server, base = serve_portal(PORTAL_DIR, port=portal_port)
        except OSError as error:
            raise click.ClickException(
                f"the demo portal cannot listen on port {portal_port} ({error.strerror}): "
                "pass another with --portal-port") from None
        try:
            listing = base + LISTING_PATH
            click.echo(f"demo portal ({manifest['portal']}, {len(manifest['reports'])} reports) "
                       f"at {listing}")
            # the portal goes through a registry entry, as a user's portal would, so that
            # its reports carry a region
            registry = Path(folder) / "sources.yaml"
            registry.write_text(yaml.safe_dump({"sources": [{
                "name": manifest["portal"], "region": PORTAL_REGION, "listing": listing,
                "verified": True}]}, allow_unicode=True), encoding="utf-8")
            click.echo(f"crawling it into {db} …")
            before = last_run(db)
            code = run_crawl(db, registry=registry,
                             settings={"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False})
            exit_code, message = _crawl_outcome(db, before, code)
            if exit_code:
                raise click.ClickException(message)
            with Archive(db, "demo") as archive:  # the site says these reports are made up
                archive.set_info(SAMPLE_DATA, "示例数据（合成）")
            if serve:
                click.echo(f"Datasette: http://127.0.0.1:{port}/  (Ctrl-C stops it)")
                publish(db, "127.0.0.1", port)
        finally:
            server.shutdown()


@main.command()
@db_option
@click.option("--table", default="reports", show_default=True, help="Table or view to export.")
@click.option("--where", "filters", multiple=True, metavar="COLUMN=VALUE",
              help="Keep rows whose COLUMN equals VALUE (repeatable).")
@click.option("--search", metavar="TEXT", help="Keep reports whose title or text holds TEXT.")
@click.option("--column", "columns", multiple=True, metavar="NAME", help="Columns to write.")
@click.option("-o", "--output", type=click.File("w", encoding=EXCEL_ENCODING, lazy=True),
              default="-", help="CSV file to write (default: standard output).")
@click.option("--all", "all_to", metavar="DIR", type=click.Path(file_okay=False),
              help="Write every public table as CSV, with a README of the columns, zipped into DIR.")
def export(db, table, filters, search, columns, output, all_to):
    """Write a filtered CSV (UTF-8 with BOM, opens right in Excel), or with --all every
    table zipped."""
    from .export import export_all, export_rows, write_csv

    _require_archive(db)
    if all_to:
        import datetime

        from .publish import metadata_for

        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        metadata = metadata_for(db)
        tables = metadata.get("databases", {}).get(Path(db).stem, {}).get("tables", {})
        path = export_all(db, all_to, tables, stamp, metadata.get("title", ""),
                          log=lambda line: click.echo(line, err=True))
        click.echo(str(path))
        return
    where = _pairs(filters, "--where", "COLUMN=VALUE")
    try:
        names, rows = export_rows(db, table, where, search, list(columns) or None)
    except ValueError as error:
        raise click.ClickException(str(error))
    count = write_csv(output, names, rows)
    click.echo(f"{count} rows written", err=True)


@main.command()
@db_option
@click.argument("destination", type=click.Path(file_okay=False))
def backup(db, destination):
    """Copy the archive (database and stored files) into DESTINATION, consistently.

    Safe while a crawl or the site uses the archive. Run it again into the same folder
    and only new files are copied.
    """
    from .archive import backup as copy

    _require_archive(db)
    counts = copy(db, destination)
    if "files_elsewhere" in counts:
        click.echo(f"{db} copied to {Path(destination) / Path(db).name}; its files stay in "
                   f"{counts['files_elsewhere']} (back the bucket up with its own versioning)")
        return
    click.echo(f"{db} copied to {Path(destination) / Path(db).name}; stored files: "
               f"{counts['files_copied']} copied, {counts['files_present']} already there")


registry_option = click.option(
    "--registry", type=click.Path(exists=True, dir_okay=False),
    help="One registry file (default: nianbao/sources.yaml and nianbao/sources-imported.yaml).")


def _load_registry(registry):
    from .registry import RegistryError, load_registry

    try:
        return load_registry([registry] if registry else None)
    except RegistryError as error:
        raise click.ClickException(str(error))


@main.group(invoke_without_command=True)
@registry_option
@click.pass_context
def sources(context, registry):
    """The sources registry: list it (the default), or check its entries' listings."""
    if context.invoked_subcommand is None:
        context.invoke(list_sources, registry=registry)


@sources.command("list")
@registry_option
def list_sources(registry):
    """List every entry, and name each entry refused (exit code 1 when one is)."""
    loaded = _load_registry(registry)
    for entry in loaded.sources:
        region = " ".join(x for x in (entry.province, entry.city, entry.county) if x)
        flags = ", ".join(x for x in (entry.family if entry.family != "auto" else "",
                                      "browser" if entry.browser else "",
                                      f"verified {entry.verified_on}" if entry.verified_on else
                                      "verified" if entry.verified else "unverified") if x)
        start = f"listing {entry.listing}" if entry.listing else f"home {entry.home}"
        click.echo(f"{entry.id}\t{entry.name}\t{region} {entry.code}\t{start}\t{flags}")
    for line in loaded.refused:
        click.echo(f"refused: {line}", err=True)
    click.echo(f"{len(loaded.sources)} sources, {sum(e.verified for e in loaded.sources)} verified, "
               f"{sum(1 for e in loaded.sources if e.code)} with a region code, "
               f"{len(loaded.refused)} refused", err=True)
    if loaded.refused:
        sys.exit(1)


@sources.command("check", epilog="""\b
It is a crawl of the listings alone, at the crawl's politeness (robots.txt obeyed, one
request at a time per portal): report pages are not fetched, and nothing is written to
an archive. Exit code 1 when a source failed, 4 when the check could not run.""")
@registry_option
@click.option("--source", metavar="ID", help="Only this entry (its id or name).")
@click.option("--write", is_flag=True,
              help="Mark each entry that answered with report links verified, with today's date.")
@click.option("-s", "--setting", "settings", multiple=True, metavar="NAME=VALUE",
              help="A Scrapy setting for this run (repeatable).")
def check(registry, source, write, settings):
    """Fetch each entry's listing: its family, its report links, what failed."""
    import datetime
    from collections import Counter

    from .archive import read_archive
    from .crawl import run_crawl
    from .registry import mark_verified

    loaded = _load_registry(registry)
    _check_source(loaded.sources, source, registry)
    options = {name: value.strip() for name, value in _pairs(settings, "-s").items()}
    options["NIANBAO_LISTINGS_ONLY"] = "True"
    with tempfile.TemporaryDirectory(prefix="nianbao-check-") as folder:
        db = Path(folder) / "check.db"
        code = run_crawl(db, source=source, registry=registry, settings=options)
        rows = []
        if db.exists():
            archive = read_archive(db)
            rows = list(archive.query(
                "select * from sources where last_run is not null order by outcome != 'ok', id"))
            archive.close()
    if code or not rows:
        click.echo(f"Error: the check did not run (exit code {code}; see the log above)", err=True)
        sys.exit(EXIT_CRAWL_FAILED)
    for row in rows:
        click.echo(f"{row['outcome']}\t{row['family_seen'] or '-'}\t{row['reports_listed']}\t"
                   f"{row['id']}\t{row['name']}" + (f"\t{row['detail']}" if row["detail"] else ""))
    outcomes = Counter(row["outcome"] for row in rows)
    click.echo(f"{len(rows)} sources checked: " + ", ".join(f"{n} {o}" for o, n in sorted(
        outcomes.items(), key=lambda item: (-item[1], item[0]))) + ", "
        + f"{sum(r['reports_listed'] or 0 for r in rows)} report links", err=True)
    if write:
        answered = {row["id"] for row in rows if row["outcome"] == "ok"}
        today = datetime.date.today().isoformat()
        marked = sum(mark_verified(path, answered, today) for path in loaded.paths)
        click.echo(f"{marked} entries marked verified: {today}", err=True)
    sys.exit(0 if outcomes.keys() <= {"ok"} else EXIT_SOURCE_FAILED)


if __name__ == "__main__":
    main()
