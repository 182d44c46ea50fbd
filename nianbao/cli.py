"""The `nianbao` command: crawl, re-parse, publish and export the archive.

    nianbao demo                      serve the demo portal, crawl it, publish on :8001
    nianbao crawl [--url URL]...      crawl listings (default: the sources registry)
    nianbao reparse --db PATH         rebuild parsed tables from the stored bytes
    nianbao serve --db PATH --port N  publish an archive with Datasette
    nianbao export --db PATH ...      a filtered CSV, without a server
    nianbao sources                   list and check the sources registry
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from . import __version__
from .archive import DEFAULT_DB
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


def _report_run(db) -> None:
    from .crawl import last_run

    run = last_run(db)
    if run:
        click.echo(f"crawl run {run['id']} {run['status']}: {run['listings']} listing pages, "
                   f"{run['reports_new']} new, {run['reports_changed']} changed, "
                   f"{run['reports_unchanged']} unchanged reports, {run['documents']} files, "
                   f"{run['errors']} errors (see the errors table)")


@main.command()
@db_option
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="A 年报 listing to crawl (repeatable). Default: every registry entry.")
@click.option("--source", metavar="NAME", help="Only this entry of the sources registry.")
@click.option("--registry", type=click.Path(exists=True, dir_okay=False),
              help="Another sources registry file (default: crawler/sources.yaml).")
@click.option("--jobdir", type=click.Path(file_okay=False),
              help="Keep the crawl's state here so that an interrupted crawl resumes.")
@click.option("-s", "--setting", "settings", multiple=True, metavar="NAME=VALUE",
              help="A Scrapy setting for this run (repeatable), e.g. -s DOWNLOAD_DELAY=5.")
def crawl(db, urls, source, registry, jobdir, settings):
    """Crawl 年报 listings into the archive (a scheduled crawl runs this).

    Every report page and attachment is kept byte for byte beside the archive; a report
    whose files did not change since the last crawl is not parsed again.
    """
    from .crawl import run_crawl

    options = {name: value.strip() for name, value in _pairs(settings, "-s").items()}
    if jobdir:
        options["JOBDIR"] = jobdir
    code = run_crawl(db, urls=list(urls), source=source, registry=registry, settings=options)
    _report_run(db)
    sys.exit(code)


@main.command()
@db_option
@click.option("--outdated", is_flag=True,
              help="Only reports parsed by an older parser version.")
def reparse(db, outdated):
    """Rebuild every parsed table from the archived files, without crawling."""
    from .reparse import reparse as run

    _require_archive(db)
    counts = run(db, outdated_only=outdated, log=click.echo)
    click.echo(f"{counts['reparsed']} reports re-parsed, {counts['skipped']} up to date, "
               f"{counts['missing_files']} with stored files missing")


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
def serve(db, host, port):
    """Publish an archive with Datasette, read-only, with the project's configuration."""
    from .publish import out_of_date
    from .publish import serve as publish

    _require_archive(db)
    missing = out_of_date(db)
    if missing:
        raise click.ClickException(
            f"{db} was made by an older version (it lacks {', '.join(missing)}): run "
            f"`nianbao reparse --db {db}` once, then serve it")
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

    from .crawl import run_crawl
    from .demo.server import serve_portal
    from .demo.site import LISTING_PATH, PORTAL_REGION, build_site
    from .publish import serve as publish

    with tempfile.TemporaryDirectory(prefix="nianbao-demo-portal-") as folder:
        site = Path(folder)
        manifest = build_site(site)
        try:
            server, base = serve_portal(site, port=portal_port)
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
            registry = site / "sources.yaml"
            registry.write_text(yaml.safe_dump({"sources": [{
                "name": manifest["portal"], "region": PORTAL_REGION, "listing": listing,
                "verified": True}]}, allow_unicode=True), encoding="utf-8")
            click.echo(f"crawling it into {db} …")
            code = run_crawl(db, registry=registry,
                             settings={"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False})
            _report_run(db)
            if code:
                raise click.ClickException(f"the crawl failed (exit code {code})")
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
def export(db, table, filters, search, columns, output):
    """Write a filtered CSV (UTF-8 with BOM, opens right in Excel)."""
    from .export import export_rows, write_csv

    _require_archive(db)
    where = _pairs(filters, "--where", "COLUMN=VALUE")
    try:
        names, rows = export_rows(db, table, where, search, list(columns) or None)
    except ValueError as error:
        raise click.ClickException(str(error))
    count = write_csv(output, names, rows)
    click.echo(f"{count} rows written", err=True)


@main.command()
@click.option("--registry", type=click.Path(dir_okay=False),
              help="The registry file (default: crawler/sources.yaml).")
def sources(registry):
    """List the sources registry, checking every entry."""
    from crawler.sources import REGISTRY_PATH, RegistryError, load_sources

    try:
        entries = load_sources(registry or REGISTRY_PATH)
    except RegistryError as error:
        raise click.ClickException(str(error))
    for entry in entries:
        region = " ".join(x for x in (entry.province, entry.city, entry.county) if x)
        flags = ", ".join(x for x in (entry.family if entry.family != "auto" else "",
                                      "browser" if entry.browser else "",
                                      "verified" if entry.verified else "unverified") if x)
        start = f"listing {entry.listing}" if entry.listing else f"home {entry.home}"
        click.echo(f"{entry.name}\t{region}\t{start}\t{flags}")
    click.echo(f"{len(entries)} sources, {sum(e.verified for e in entries)} verified", err=True)


if __name__ == "__main__":
    main()
