"""Run the `annual_reports` spider as a command (what `nianbao crawl` and cron run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .archive import read_archive


def scrapy_arguments(db: str | Path, urls: list[str] = (), source: str | None = None,
                     registry: str | None = None, settings: dict | None = None) -> list[str]:
    arguments = [sys.executable, "-m", "scrapy", "crawl", "annual_reports",
                 "-s", f"ARCHIVE_DB={Path(db).resolve()}"]
    if urls:
        arguments += ["-a", "urls=" + ",".join(urls)]
    if source:
        arguments += ["-a", f"source={source}"]
    if registry:
        arguments += ["-a", f"registry={Path(registry).resolve()}"]
    for name, value in (settings or {}).items():
        arguments += ["-s", f"{name}={value}"]
    return arguments


def run_crawl(db, **options) -> int:
    """Crawl in a child process (Scrapy's reactor runs once per process); its log goes to
    this process's stderr. Returns the exit code."""
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    return subprocess.run(scrapy_arguments(db, **options), env=env).returncode


def last_run(db) -> dict | None:
    """The archive's latest crawl run; None when no crawl got as far as recording one."""
    if not Path(db).exists():
        return None
    archive = read_archive(db)
    if "crawl_runs" not in archive.table_names():
        return None
    rows = list(archive.query("select * from crawl_runs order by id desc limit 1"))
    return rows[0] if rows else None
