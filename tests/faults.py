"""Fault injection for the crash tests: a Scrapy extension that kills the crawl's own
process with SIGKILL at a chosen point, as a power cut or the OOM killer would.

    -s EXTENSIONS='{"tests.faults.KillAt": 0}' -s NIANBAO_KILL_AT=archive:3

Points (the Nth occurrence):
    listing:N    a listing page has just been received
    download:N   a report page or attachment has just been received
    archive:N    inside a report's transaction: rows written, the commit not made
    store:N      inside a file's write to the store: its bytes synced, not yet renamed
    parse:TEXT   the parser's worker process dies reading the report whose URL holds TEXT
                 (the crawl itself lives on)
"""

from __future__ import annotations

import os
import signal

from scrapy import signals

from nianbao import archive as archive_module
from nianbao.assemble import build_report
from nianbao.parsing import ParsePool


def parse_or_die(url, files, **context):
    """What the parse pool runs under the `parse` point: its worker dies on the report
    named by NIANBAO_KILL_PARSE_OF (an environment variable: workers inherit it)."""
    if os.environ.get("NIANBAO_KILL_PARSE_OF", "\0") in url:
        os._exit(1)
    return build_report(url, files, **context)


class KillAt:
    def __init__(self, crawler):
        point, count = crawler.settings.get("NIANBAO_KILL_AT").split(":", 1)
        self.point = point
        if point == "parse":
            os.environ["NIANBAO_KILL_PARSE_OF"] = count
            ParsePool.function = staticmethod(parse_or_die)
            return
        self.left = int(count)
        if point in ("listing", "download"):
            crawler.signals.connect(self.received, signal=signals.response_received)
        elif point == "archive":
            # called inside a report's transaction, once its cells, checks and sections
            # are written and before its figures and search row
            figures_row = archive_module.figures_row

            def figures_then_die(*args):
                row = figures_row(*args)
                self.tick()
                return row

            archive_module.figures_row = figures_then_die
        elif point == "store":
            sync = os.fsync  # ContentStore.put syncs the temporary file before renaming it

            def sync_then_die(fd):
                sync(fd)
                self.tick()

            os.fsync = sync_then_die
        else:
            raise ValueError(f"unknown kill point {point!r}")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def received(self, response, request, spider):
        if request.url.endswith("/robots.txt"):
            return
        if (request.meta.get("nianbao_stage") == "listing") == (self.point == "listing"):
            self.tick()

    def tick(self):
        self.left -= 1
        if self.left <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
