"""Middlewares of the nianbao crawl: what every request and every answer goes through, so
that the spider and the pipelines need not check it by hand.

- `ConfinementMiddleware` keeps every request on its portal: the listing's site, or the
  hosts its registry entry allows for files. Each redirect hop is a new request through
  the middlewares, so a page or file that redirects elsewhere is refused at the hop.
- `AnswerMiddleware` reads each answer once, as it arrives: a text answer is re-typed in
  the encoding its bytes are in; an anti-bot challenge (for any request) and a page that
  says it is gone (for a report page) are not the answer asked for, and become a refusal.
- `ConditionalGetMiddleware` asks for a report page or attachment the archive already holds
  with its validators (If-None-Match, If-Modified-Since): an unchanged file answers 304,
  with no body, and counts as seen. Listing pages are always fetched whole: they are how
  new reports are found.
- `SourceBudgetMiddleware` gives each source (a registry entry, or a listing) a budget of
  requests and of time, so that one huge or broken portal cannot hold a registry crawl.
- `ReportsInFlightMiddleware` (a spider middleware) bounds the reports between the spider
  and the archive: when parsing is slower than downloading, the engine stops sending
  requests until the pipelines catch up, so that a crawl's memory does not grow with the
  number of reports it has downloaded and not yet archived.

A refusal (`Refused`) reaches the spider's errback, or the files pipeline's failure
handler, which record it in `errors` with its stage.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest

from nianbao.archive import StoredDocuments
from nianbao.store import files_dir, open_store

from .items import ReportPage
from .links import same_site
from .pages import blocked_reason, decoded, is_soft_404

SCOPE = "nianbao_scope"


def files_location(settings) -> str:
    """Where the crawl keeps files: FILES_STORE (a folder made absolute, or a URI), else
    beside the archive."""
    location = settings.get("FILES_STORE")
    if not location:
        return str(files_dir(settings.get("ARCHIVE_DB")).resolve())
    return location if "://" in location else str(Path(location).resolve())


def store_options(settings) -> dict:
    """botocore's client options from Scrapy's AWS_* settings (for an s3:// FILES_STORE)."""
    return {"aws_access_key_id": settings.get("AWS_ACCESS_KEY_ID"),
            "aws_secret_access_key": settings.get("AWS_SECRET_ACCESS_KEY"),
            "aws_session_token": settings.get("AWS_SESSION_TOKEN"),
            "endpoint_url": settings.get("AWS_ENDPOINT_URL"),
            "region_name": settings.get("AWS_REGION_NAME")}


def scope(listing_url: str, file_hosts=(), source: str | None = None) -> dict:
    """What a listing's requests may reach: its site, and the registry's file hosts; and
    the source they are spent on (its registry id, else the listing)."""
    return {"site": listing_url, "hosts": [host.lower() for host in file_hosts],
            "source": source or listing_url}


class Refused(IgnoreRequest):
    """A request not made, or an answer not taken: its message says why, `stage` is the
    errors stage it is recorded under, `gone` says the portal removed the page."""

    stage = "refused"
    summary = "refused"  # what a source whose first page is refused failed by

    def __init__(self, message: str, http_status: int | None = None, gone: bool = False):
        super().__init__(message)
        self.http_status = http_status
        self.gone = gone


class OffsiteRequest(Refused):
    """A request, or a redirect hop, that would leave the portal."""

    stage = "offsite"
    summary = "moved off the site"


class Blocked(Refused):
    """An anti-bot challenge, a captcha or an access refusal instead of the page."""

    stage = "blocked"
    summary = "blocked"


class OverBudget(Refused):
    """A request beyond its source's budget of requests or time."""

    stage = "budget"
    summary = "over its budget"


class Gone(Refused):
    """A report page answered 200 with "page not found" (a soft 404)."""

    stage = "detail"
    summary = "gone"


class ConfinementMiddleware:
    """Refuse any request outside its listing's scope (`request.meta["nianbao_scope"]`).
    Requests without a scope are Scrapy's own (robots.txt) and pass."""

    def process_request(self, request: Request, spider=None):
        allowed = request.meta.get(SCOPE)
        if allowed is None or same_site(request.url, allowed["site"], tuple(allowed["hosts"])):
            return None
        hops = request.meta.get("redirect_urls") or []
        how = f"a redirect from {hops[-1]}" if hops else "a link"
        host = urlparse(request.url).hostname or request.url
        raise OffsiteRequest(
            f"offsite: {how} leads to {host}, outside the portal "
            f"({urlparse(allowed['site']).hostname}"
            + (f" and the file hosts {', '.join(allowed['hosts'])}" if allowed["hosts"] else "")
            + f"); not followed: {request.url}")


class AnswerMiddleware:
    """Each answer read once: decoded, and refused when it is a challenge, or a report
    page saying it is gone. Runs after retries and redirects (a 429 is retried first)."""

    def process_response(self, request: Request, response, spider=None):
        if request.url.endswith("/robots.txt"):
            return response
        reason = blocked_reason(response)
        if reason:
            raise Blocked(reason, response.status)
        response = decoded(response)
        if request.meta.get("nianbao_stage") == "detail" and is_soft_404(response):
            raise Gone("the page says it is gone (soft 404)", response.status, gone=True)
        return response


# set on a request for a file the archive holds: what it holds (StoredDocuments); on its
# answer, true when the server said it is not modified
STORED, NOT_MODIFIED = "nianbao_stored", "nianbao_not_modified"
# the requests made conditional: report pages and their attachments
CONDITIONAL_STAGES = ("detail", "attachment")


class ConditionalGetMiddleware:
    """Conditional requests for the files the archive already holds.

    A report page that answers 304 is handed on with its stored bytes (the spider reads
    its attachment links from them, so that they are revalidated too); an attachment that
    answers 304 is handed on as such, and the files pipeline takes the stored file's facts
    without a body, a hash or a parse. Where the stored file has no validator, the request
    is a plain one and the bytes decide, as before."""

    def __init__(self, db_path, files: str, options: dict | None = None):
        self.stored = StoredDocuments(db_path)
        self.files, self.options = files, options or {}
        self.store = None  # opened at the first 304

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        middleware = cls(settings.get("ARCHIVE_DB"), files_location(settings), store_options(settings))
        crawler.signals.connect(middleware.stored.close, signal=signals.spider_closed)
        return middleware

    def process_request(self, request: Request, spider=None):
        if request.meta.get("nianbao_stage") not in CONDITIONAL_STAGES or STORED in request.meta:
            return None
        stored = self.stored(request.url)
        if not stored or not (stored["etag"] or stored["last_modified"]):
            return None
        request.meta[STORED] = stored
        if stored["etag"]:
            request.headers["If-None-Match"] = stored["etag"]
        if stored["last_modified"]:
            request.headers["If-Modified-Since"] = stored["last_modified"]
        if request.meta.get("nianbao_stage") == "detail":
            # a 304 is an answer, not an error, for the spider's callback (the files
            # pipeline takes every answer but redirects already)
            allowed = request.meta.setdefault("handle_httpstatus_list", [])
            if 304 not in allowed:
                allowed.append(304)
        return None

    def process_response(self, request: Request, response, spider=None):
        stored = request.meta.get(STORED)
        if response.status != 304 or not stored:
            return response
        request.meta[NOT_MODIFIED] = True
        if request.meta.get("nianbao_stage") != "detail":
            return response
        # the page as stored, for its links: the spider cannot tell it from a 200
        headers = {"Content-Type": stored["content_type"]} if stored["content_type"] else {}
        self.store = self.store or open_store(self.files, **self.options)
        return response.replace(status=200, body=self.store.read(stored["sha256"]), headers=headers,
                                flags=[*response.flags, "not_modified"])


class SourceBudgetMiddleware:
    """At most NIANBAO_SOURCE_MAX_REQUESTS requests for one source's listings and report
    pages, and none after NIANBAO_SOURCE_MAX_SECONDS from its first (0: no limit). The
    attachments of a page already fetched are not counted: a report is not archived
    without its files. What is over the budget is not fetched this crawl."""

    def __init__(self, max_requests: int, max_seconds: float):
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.spent: dict[str, int] = {}
        self.started: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(settings.getint("NIANBAO_SOURCE_MAX_REQUESTS"),
                   settings.getfloat("NIANBAO_SOURCE_MAX_SECONDS"))

    def process_request(self, request: Request, spider=None):
        allowed = request.meta.get(SCOPE)
        if allowed is None or request.meta.get("nianbao_stage") == "attachment":
            return None
        source = allowed.get("source") or allowed["site"]
        started = self.started.setdefault(source, time.monotonic())
        spent = self.spent[source] = self.spent.get(source, 0) + 1
        if self.max_requests and spent > self.max_requests:
            raise OverBudget(f"stopped after {self.max_requests} requests "
                             "(NIANBAO_SOURCE_MAX_REQUESTS); the rest is not fetched this crawl")
        if self.max_seconds and time.monotonic() - started > self.max_seconds:
            raise OverBudget(f"stopped after {self.max_seconds:g} s (NIANBAO_SOURCE_MAX_SECONDS); "
                             "the rest is not fetched this crawl")
        return None


class ReportsInFlightMiddleware:
    """At most NIANBAO_REPORTS_IN_FLIGHT report pages (each with its attachments' bytes)
    between the spider and the end of the item pipelines. Scrapy's own bound
    (SCRAPER_SLOT_MAX_ACTIVE_SIZE) counts only the bytes of the page that yielded an item,
    not the attachments the files pipeline downloads for it; without this, on a fast
    portal the reports waiting for a parse worker pile up (≈ 40 MB per 1,000)."""

    def __init__(self, crawler, limit: int):
        self.crawler = crawler
        self.limit = limit
        self.in_flight = 0
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self._item_done, signal=signal)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, max(1, crawler.settings.getint("NIANBAO_REPORTS_IN_FLIGHT")))

    def _entering(self, entry) -> None:
        if isinstance(entry, ReportPage):
            self.in_flight += 1
            self.crawler.stats.max_value("nianbao/reports_in_flight_max", self.in_flight)
            engine = self.crawler.engine
            if self.in_flight >= self.limit and not engine.paused:
                engine.pause()  # downloads under way finish; no new ones start

    async def process_spider_output_async(self, response, result):
        async for entry in result:
            self._entering(entry)
            yield entry

    def process_spider_output(self, response, result):  # for a synchronous callback
        for entry in result:
            self._entering(entry)
            yield entry

    def _item_done(self, item, **kwargs):
        if not isinstance(item, ReportPage):
            return
        self.in_flight -= 1
        engine = self.crawler.engine
        if engine.paused and self.in_flight < self.limit:
            # the engine asks for its next request as soon as the page's scrape ends
            engine.unpause()
