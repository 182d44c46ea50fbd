"""The crawl's cost against a bare Scrapy spider, on a generated portal served by nginx.

    .venv/bin/python scripts/benchmark_crawl.py [--reports 2000] [--keep DIR]

Builds an N-report TRS column (GBK pages announced by createPageHTML, each report a page
with a PDF or a DOCX attachment, every file's bytes distinct), serves it with nginx on
127.0.0.1 (a real server: ETag and Last-Modified on every file, 304 to a conditional
request), and runs, one after the other:

    bare        a 30-line Scrapy spider fetching the same URLs, keeping nothing
    first       `scrapy crawl annual_reports` into a new archive
    again       the same crawl again, nothing changed on the portal
    bare_again  a bare spider asking the same URLs again as `again` does: the listing
                pages whole, each report page and attachment with the validator the first
                crawl stored (all 304): the least Scrapy itself spends on a re-crawl
    reparse     `nianbao reparse` with one worker, then with one per core

with the loopback overrides DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False,
CONCURRENT_REQUESTS_PER_DOMAIN=8, ROBOTSTXT_OBEY=False. Prints wall and CPU seconds,
bytes downloaded, peak RSS of the largest process, the archive's bytes per report, and
the ratios the README quotes. Needs nginx (apt) and LibreOffice-free sample files from
tests/corpus. Timings vary from run to run: the ratios are the point.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.samples.render import page_html, samples  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
COLUMN = "/xxgk/nb/"
PER_PAGE = 20
OVERRIDES = ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
             "ROBOTSTXT_OBEY=False", "LOG_LEVEL=INFO"]

BARE_SPIDER = '''
import scrapy

class Bare(scrapy.Spider):
    """Every listing page, report page and attachment of the column, kept nowhere."""
    name = "bare"
    start_urls = [LISTING]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if "/index_" in url:
                yield scrapy.Request(url, callback=self.parse)
            elif url.endswith(".html"):
                yield scrapy.Request(url, callback=self.page)
        for number in range(1, PAGES):
            yield scrapy.Request(response.urljoin(f"index_{number}.html"), callback=self.parse)

    def page(self, response):
        for href in response.css("a::attr(href)").getall():
            if href.endswith((".pdf", ".docx")):
                yield scrapy.Request(response.urljoin(href), callback=self.file)

    def file(self, response):
        pass
'''

BARE_AGAIN_SPIDER = '''
import json
import scrapy

class BareAgain(scrapy.Spider):
    """The listing pages whole, every report page and attachment with its stored ETag."""
    name = "bare_again"
    custom_settings = {"HTTPERROR_ALLOWED_CODES": [304]}

    async def start(self):
        for url in LISTINGS:
            yield scrapy.Request(url, callback=self.done)
        for url, etag in json.loads(open(STORED, encoding="utf-8").read()):
            yield scrapy.Request(url, headers={"If-None-Match": etag}, callback=self.done)

    def done(self, response):
        pass
'''


def distinct(body: bytes, kind: str, number: int) -> bytes:
    """The same report with bytes of its own: a PDF comment after %%EOF, a DOCX comment."""
    if kind == "pdf":
        return body + f"\n% nianbao benchmark {number}\n".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for entry in source.infolist():
            copy.writestr(entry, source.read(entry.filename))
        copy.comment = f"nianbao benchmark {number}".encode()
    return out.getvalue()


def build_portal(root: Path, count: int) -> int:
    """Write the column; returns its number of listing pages."""
    column = root / COLUMN.strip("/")
    column.mkdir(parents=True)
    pool = samples()
    entries = []
    for number in range(1, count + 1):
        sample = pool[number % len(pool)]
        kind = "pdf" if number % 2 else "docx"
        name = f"P0{number:05d}.{kind}" if kind == "pdf" else f"W0{number:05d}.{kind}"
        body = (CORPUS / sample.name / f"report.{kind}").read_bytes()
        (column / name).write_bytes(distinct(body, kind, number))
        page = f"t2023_{number:05d}.html"
        (column / page).write_bytes(page_html(sample, [(f"./{name}", f"{sample.title}.{kind}")], shell=True))
        entries.append((page, sample.title))
    pages = (count + PER_PAGE - 1) // PER_PAGE
    for index in range(pages):
        items = "".join(f'<li><a href="./{page}">{html.escape(title)}</a><span>2023-01-15</span></li>'
                        for page, title in entries[index * PER_PAGE:(index + 1) * PER_PAGE])
        name = "index.html" if index == 0 else f"index_{index}.html"
        (column / name).write_bytes(
            f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
            f'<body><ul>{items}</ul><script>createPageHTML({pages}, {index}, "index", "html");</script>'
            f"</body></html>".encode("gbk", "xmlcharrefreplace"))
    return pages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_nginx(root: Path, folder: Path, port: int) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    (folder / "logs").mkdir()
    (folder / "nginx.conf").write_text(f"""
worker_processes 1;
error_log {folder}/logs/error.log;
pid {folder}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  server {{ listen 127.0.0.1:{port}; root {root}; etag on; }}
}}
""")
    server = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                               "-g", "daemon off;" + (" user root;" if os.geteuid() == 0 else "")])
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("nginx did not start: " + (folder / "logs" / "error.log").read_text())
            time.sleep(0.1)


def measured(command: list[str], cwd: Path) -> dict:
    """Run a command in a child process that reports its descendants' CPU and peak RSS."""
    probe = ("import resource, subprocess, sys, json, time; t = time.monotonic();"
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
             "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
             "print(json.dumps({'wall': time.monotonic() - t, 'cpu': u.ru_utime + u.ru_stime,"
             "'rss_mb': u.ru_maxrss / 1024, 'code': r.returncode, 'log': r.stderr[-200000:]}))")
    result = subprocess.run([sys.executable, "-c", probe, *command], cwd=cwd, capture_output=True, text=True)
    outcome = json.loads(result.stdout)
    found = re.search(r"'downloader/response_bytes': (\d+)", outcome["log"])
    outcome["bytes"] = int(found.group(1)) if found else 0
    if outcome["code"] != 0:
        print(outcome["log"][-3000:], file=sys.stderr)
        raise SystemExit(f"{command[:4]} failed")
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="leave the portal and the archive in this folder")
    parser.add_argument("--runs", default="bare,first,again,bare_again,reparse",
                        help="which runs (comma-separated; default all): bare, first, again, "
                             "bare_again, reparse")
    options = parser.parse_args()
    work = Path(options.keep or tempfile.mkdtemp(prefix="nianbao-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)
    portal, server_dir, archive = work / "portal", work / "nginx", work / "archive" / "archive.db"
    for folder in (portal, server_dir, archive.parent):
        shutil.rmtree(folder, ignore_errors=True)
    server_dir.mkdir()
    archive.parent.mkdir()
    print(f"building a {options.reports}-report portal in {portal} …", flush=True)
    pages = build_portal(portal, options.reports)
    port = free_port()
    server = start_nginx(portal, server_dir, port)
    listing = f"http://127.0.0.1:{port}{COLUMN}index.html"
    settings = [part for o in OVERRIDES for part in ("-s", o)]
    python = sys.executable
    try:
        bare_file = work / "bare.py"
        bare_file.write_text(f"LISTING = {listing!r}\nPAGES = {pages}\n" + BARE_SPIDER)
        chosen = options.runs.split(",")
        runs = {}
        if "bare" in chosen:
            runs["bare"] = measured([python, "-m", "scrapy", "runspider", str(bare_file), *settings], work)
        # one synthetic column far longer than any real one: the link and page caps lifted
        crawl = [python, "-m", "scrapy", "crawl", "annual_reports", "-a", f"urls={listing}",
                 "-s", f"ARCHIVE_DB={archive}", "-s", "NIANBAO_MAX_REPORT_LINKS=1000000",
                 "-s", "NIANBAO_MAX_LISTING_PAGES=100000", *settings]
        for name in ("first", "again"):
            if name in chosen:
                runs[name] = measured(crawl, ROOT)
        if "bare_again" in chosen:
            stored = work / "stored.json"
            # closed at once: a connection left open keeps reparse's write-ahead log from
            # being folded into archive.db when it ends
            with contextlib.closing(sqlite3.connect(archive)) as db:
                stored.write_text(json.dumps(db.execute(
                    "select url, etag from documents where etag is not null").fetchall()))
            listings = [f"http://127.0.0.1:{port}{COLUMN}" + ("index.html" if n == 0 else f"index_{n}.html")
                        for n in range(pages)]
            again_file = work / "bare_again.py"
            again_file.write_text(f"LISTINGS = {listings!r}\nSTORED = {str(stored)!r}\n" + BARE_AGAIN_SPIDER)
            runs["bare_again"] = measured([python, "-m", "scrapy", "runspider", str(again_file), *settings], work)
        if "reparse" in chosen:
            nianbao = [python, "-m", "nianbao.cli", "reparse", "--db", str(archive)]
            runs["reparse_1"] = measured([*nianbao, "--workers", "1"], ROOT)
            runs["reparse"] = measured(nianbao, ROOT)
    finally:
        server.terminate()
        server.wait()
    files_bytes = sum(p.stat().st_size for p in (archive.parent / "archive-files").rglob("*") if p.is_file())
    db_bytes = sum(p.stat().st_size for p in archive.parent.glob("archive.db*"))
    print(f"\n{options.reports} reports, {pages} listing pages, {2 * options.reports + pages} URLs\n")
    print(f"{'run':<10} {'wall s':>8} {'cpu s':>8} {'MB down':>9} {'peak RSS MB':>12}")
    for name, run in runs.items():
        print(f"{name:<10} {run['wall']:>8.1f} {run['cpu']:>8.1f} {run['bytes'] / 1e6:>9.1f} {run['rss_mb']:>12.0f}")
    print()
    ratios = [
        ("first crawl / bare spider, wall", "first", "bare", lambda a, b: f"{a['wall'] / b['wall']:.2f}×"),
        ("first crawl / bare spider, CPU", "first", "bare", lambda a, b: f"{a['cpu'] / b['cpu']:.2f}×"),
        ("unchanged re-crawl / first crawl, wall", "again", "first", lambda a, b: f"{a['wall'] / b['wall']:.3f}"),
        ("unchanged re-crawl / first, bytes", "again", "first",
         lambda a, b: f"{a['bytes'] / max(b['bytes'], 1):.4f}"),
        ("bare spider's re-ask / first crawl, wall", "bare_again", "first",
         lambda a, b: f"{a['wall'] / b['wall']:.3f}"),
        ("unchanged re-crawl / bare re-ask, wall", "again", "bare_again",
         lambda a, b: f"{a['wall'] / b['wall']:.2f}×"),
        ("reparse, one worker / one per core", "reparse_1", "reparse", lambda a, b: f"{a['wall'] / b['wall']:.2f}×"),
    ]
    for label, one, other, ratio in ratios:
        if one in runs and other in runs:
            print(f"{label:<40} {ratio(runs[one], runs[other])}")
    if "first" in runs:
        print(f"{'peak RSS of the first crawl':<40} {runs['first']['rss_mb']:.0f} MB")
        print(f"{'archive.db per report':<40} {db_bytes / options.reports / 1024:.1f} KB "
              f"(files: {files_bytes / options.reports / 1024:.1f} KB)")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
