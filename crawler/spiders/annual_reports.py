"""`annual_reports`: walk 年报 listings, capture every report page and its attachments.

    scrapy crawl annual_reports -a urls=URL1,URL2 -s ARCHIVE_DB=archive.db
    scrapy crawl annual_reports -a home=URL          # find the 年报 column from a home page
    scrapy crawl annual_reports                      # every entry of the sources registry
    scrapy crawl annual_reports -a source=NAME       # one registry entry

The spider only schedules requests and yields raw documents (`ReportPage`) and the
errors it meets (`CrawlError`); the pipelines store, parse and archive them. How a
listing is walked is its CMS family's business (`crawler.families`), recognised from
the listing's own response or pinned in the registry.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass, field
from urllib.parse import urlparse

import scrapy
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.job import job_dir

from nianbao.archive import now, reports_seen_since
from nianbao.registry import REGISTRY_PATH, load_sources

from ..families import BROWSER, FAMILIES, ReportLink, recognise
from ..families.browser import browser_request
from ..items import CrawlError, ReportPage
from ..jobstate import JobState
from ..links import anchors, attachment_links, is_attachment_url, same_site, selectors
from ..middlewares import NOT_MODIFIED, SCOPE, STORED, Refused, scope
from ..pages import header, is_html, page_selector, page_text

# statuses by which a portal says a page is gone for good (not merely unavailable)
GONE_STATUSES = (404, 410)


@dataclass
class Listing:
    """A 年报 listing (or a home page to find one from), carried from page to page."""

    url: str
    source: dict = field(default_factory=dict)
    family: str = "auto"
    browser: bool = False
    file_hosts: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.source.get("name") or self.url

    @property
    def scope(self) -> dict:
        return scope(self.url, self.file_hosts)


class _Kept:
    """A counter of the crawl kept in `spider.state`, which Scrapy saves in the JOBDIR
    when a crawl is paused and gives back when it resumes."""

    def __init__(self, make):
        self.make = make

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, spider, owner=None):
        if spider is None:
            return self
        if getattr(spider, "state", None) is None:  # before Scrapy opens the spider
            spider.state = {}
        return spider.state.setdefault(self.name, self.make())


def _split_urls(value: str | None) -> list[str]:
    urls = [u.strip() for u in (value or "").split(",") if u.strip()]
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"not an http(s) URL: {url!r}")
    return urls


class AnnualReportsSpider(scrapy.Spider):
    name = "annual_reports"

    # report links found per listing: a listing that yields none is a failed source
    # (unless it failed outright, which is recorded as such)
    links_found: dict[str, int] = _Kept(dict)
    listings_failed: set[str] = _Kept(set)
    pages_seen: dict[str, int] = _Kept(dict)
    known_listings: dict[str, Listing] = _Kept(dict)
    # registry entries (or listings) that failed as a whole: name -> why
    source_failures: dict[str, str] = _Kept(dict)

    def __init__(self, urls: str | None = None, home: str | None = None,
                 source: str | None = None, registry: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.run_arguments = {k: v for k, v in {"urls": urls, "home": home, "source": source,
                                                "registry": registry}.items() if v}
        self.listings = [Listing(url) for url in _split_urls(urls)]
        self.homes = [Listing(url) for url in _split_urls(home)]
        if not (self.listings or self.homes):
            entries = load_sources(registry or REGISTRY_PATH, families=list(FAMILIES))
            if source:
                entries = [e for e in entries if e.name == source]
                if not entries:
                    raise ValueError(f"no source named {source!r} in the registry")
            for entry in entries:
                listing = Listing(entry.start_url, entry.as_item_source(), entry.family,
                                  entry.browser or entry.family == "browser", tuple(entry.file_hosts))
                (self.listings if entry.listing else self.homes).append(listing)
        self.job: JobState | None = None
        # reports a killed crawl of this JOBDIR already archived: not fetched again
        self.already_archived: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        directory = job_dir(crawler.settings)
        if directory:
            spider.job = JobState(directory)
            spider.logger.info(spider.job.begin())
            if spider.job.recovering:
                spider.already_archived = reports_seen_since(
                    crawler.settings.get("ARCHIVE_DB"), spider.job.started)
            crawler.signals.connect(spider.job_closed, signal=scrapy.signals.spider_closed)
        return spider

    def job_closed(self, spider, reason):
        self.job.end(reason)

    async def start(self):
        for listing in self.listings:
            yield self.listing_request(listing)
        for home in self.homes:
            yield scrapy.Request(home.url, callback=self.find_column, errback=self.failed,
                                 cb_kwargs={"home": home, "depth": 0}, dont_filter=True,
                                 meta={"nianbao_stage": "home", SCOPE: home.scope,
                                       "nianbao_first": True})

    def listing_request(self, listing: Listing) -> scrapy.Request:
        """The first page of a listing: never filtered as already seen, so that a resumed
        crawl walks its listings again."""
        self.links_found.setdefault(listing.url, 0)
        self.known_listings.setdefault(listing.url, listing)
        limit = self.settings.getint("NIANBAO_MAX_LISTING_PAGES", 200)
        meta = {"nianbao_stage": "listing", SCOPE: listing.scope, "nianbao_first": True}
        if listing.browser:
            request = browser_request(listing.url, limit)
            return request.replace(callback=self.parse_family, errback=self.failed,
                                   cb_kwargs={"listing": listing, "family": BROWSER.name},
                                   meta={**request.meta, **meta})
        return scrapy.Request(listing.url, callback=self.parse_listing, errback=self.failed,
                              cb_kwargs={"listing": listing}, dont_filter=True,
                              meta={**meta, "nianbao_max_pages": limit})

    def empty_listings(self) -> list[str]:
        """Listings that were read and linked no report: moved, or redesigned."""
        return [url for url, count in self.links_found.items()
                if count == 0 and url not in self.listings_failed]

    @property
    def report_link_cap(self) -> int:
        return self.settings.getint("NIANBAO_MAX_REPORT_LINKS", 5000)

    def links_capped(self, listing: Listing) -> bool:
        return self.links_found.get(listing.url, 0) > self.report_link_cap

    def source_failed(self, listing: Listing, why: str) -> None:
        self.source_failures.setdefault(listing.name, why)

    def failed_sources(self) -> list[str]:
        """"name: why" for each source that failed as a whole this crawl: its first page
        failed, or its listing yielded no report link."""
        failures = dict(self.source_failures)
        for url, count in self.links_found.items():
            if count == 0:
                failures.setdefault(self.known_listings[url].name,
                                    "its list pages failed" if url in self.listings_failed
                                    else "empty listing")
        return [f"{name}: {why}" for name, why in failures.items()]

    # --- finding the 年报 column -------------------------------------------------------------

    def find_column(self, response, home: Listing, depth: int):
        voc = selectors()["column"]
        page = page_selector(response)
        labelled = []
        for _, target, anchor in anchors(page, response.url):
            label = "".join(anchor.css("::text").getall()).strip() or anchor.attrib.get("title", "")
            if same_site(target, response.url):
                labelled.append((label.replace(" ", ""), target))
        for word in voc["words"]:
            columns = list(dict.fromkeys(url for label, url in labelled if word in label))
            if columns:
                for url in columns:
                    self.logger.info("%s: the 年报 column is %s", home.url, url)
                    yield self.listing_request(Listing(url, home.source, home.family, home.browser,
                                                       home.file_hosts))
                return
        if depth < voc["max_depth"]:
            via = list(dict.fromkeys(url for label, url in labelled
                                     if any(w in label for w in voc["via"])))[:5]
            for url in via:
                yield scrapy.Request(url, callback=self.find_column, errback=self.failed,
                                     cb_kwargs={"home": home, "depth": depth + 1},
                                     meta={"nianbao_stage": "home", SCOPE: home.scope})
            if via:
                return
        self.source_failed(home, "no 年报 column found")
        yield CrawlError(home.url, "listing", "no 年报 column found from this page "
                         "(looked for " + "、".join(voc["words"][:3]) + " …)")

    # --- listings -------------------------------------------------------------------------

    def parse_listing(self, response, listing: Listing):
        """A listing page: recognise its family and walk it."""
        self.crawler.stats.inc_value("nianbao/listings")
        if not is_html(response):
            self.listings_failed.add(listing.url)
            self.source_failed(listing, "not a listing page")
            yield CrawlError(response.url, "listing", "the listing is not an HTML page")
            return
        text = page_text(response)
        family = FAMILIES.get(listing.family) if listing.family != "auto" else recognise(response, text)
        response.meta["nianbao_listing_url"] = listing.url
        outputs = iter(family.start(response, text))
        first = next(outputs, None)
        if first is None and self.settings.getbool("NIANBAO_BROWSER_FALLBACK", True):
            # no link, no list API: a list drawn by script
            self.logger.info("%s: no links in the HTML; rendering it in a browser", response.url)
            family, outputs = BROWSER, BROWSER.start(response, text)
        elif first is not None:
            outputs = itertools.chain([first], outputs)
        self.logger.debug("%s: %s family", response.url, family.name)
        for output in outputs:
            yield from self.emit(output, listing, family, response)
            if self.links_capped(listing):
                return  # the rest of the page is not even read

    async def parse_family(self, response, listing: Listing, family: str):
        """An answer to a family's own request: an API page, a rendered list."""
        self.crawler.stats.inc_value("nianbao/listings")
        walker = FAMILIES[family]
        result = walker.follow(response, page_text(response))
        if inspect.isasyncgen(result):
            async for output in result:
                for item in self.emit(output, listing, walker, response):
                    yield item
                if self.links_capped(listing):
                    await result.aclose()
                    return
        else:
            for output in result:
                for item in self.emit(output, listing, walker, response):
                    yield item
                if self.links_capped(listing):
                    return

    def emit(self, output, listing: Listing, family, response):
        """A family's output as the spider's: a report becomes a detail request, a URL a
        further page of the same listing, a request the family's own next step."""
        if isinstance(output, ReportLink):
            found = self.links_found.get(listing.url, 0)
            cap = self.report_link_cap
            if found >= cap:
                if found == cap:
                    self.links_found[listing.url] = found + 1
                    message = (f"stopped after {cap} report links (NIANBAO_MAX_REPORT_LINKS): "
                               "no real 年报 column lists so many; the rest were not followed")
                    self.logger.warning("listing %s: %s", listing.url, message)
                    yield CrawlError(listing.url, "listing", message)
                return
            self.links_found[listing.url] = found + 1
            if output.url in self.already_archived:
                self.crawler.stats.inc_value("nianbao/skipped_archived")
                return
            yield scrapy.Request(output.url, callback=self.parse_detail, errback=self.failed,
                                 cb_kwargs={"listing": listing, "link": output},
                                 meta={"nianbao_stage": "detail", SCOPE: listing.scope})
            return
        seen = self.pages_seen.get(listing.url, 0)
        limit = self.settings.getint("NIANBAO_MAX_LISTING_PAGES", 200)
        if seen >= limit:
            if seen == limit:
                self.logger.warning("listing %s: stopped after %s pages", listing.url, limit)
                self.pages_seen[listing.url] = seen + 1
            return
        if isinstance(output, str):
            # the first page is fetched unfiltered (listing_request): not again from its pager
            if output not in (response.url, listing.url):
                self.pages_seen[listing.url] = seen + 1
                yield scrapy.Request(output, callback=self.parse_listing, errback=self.failed,
                                     cb_kwargs={"listing": listing},
                                     meta={"nianbao_stage": "listing", "nianbao_max_pages": limit,
                                           SCOPE: listing.scope})
        elif isinstance(output, scrapy.Request):
            self.pages_seen[listing.url] = seen + 1
            yield output.replace(callback=self.parse_family, errback=self.failed,
                                 cb_kwargs={"listing": listing, "family": family.name},
                                 meta={**output.meta, "nianbao_stage": "listing",
                                       "nianbao_listing_url": listing.url, SCOPE: listing.scope})

    # --- detail pages -------------------------------------------------------------------

    def parse_detail(self, response, listing: Listing, link: ReportLink):
        """A report page (or a file the listing links directly), archived under the URL
        the listing gave, wherever the portal redirected it. (Challenges and pages saying
        they are gone never come here: `AnswerMiddleware` refuses them.)"""
        attachments = dict(link.files)
        if is_html(response) and not is_attachment_url(response.url):
            page = page_selector(response)
            for url, text in attachment_links(page, response.url, listing.file_hosts).items():
                attachments.setdefault(url, text)
            attachments.pop(response.url, None)
            attachments.pop(link.url, None)
        stored = response.meta.get(STORED) if response.meta.get(NOT_MODIFIED) else None
        yield ReportPage(
            url=link.url, body=response.body, content_type=header(response, "Content-Type"),
            http_status=304 if stored else response.status, fetched_at=now(),
            listing_url=listing.url, hints=link.hints, source=listing.source,
            file_urls=list(attachments),
            file_names={url: text for url, text in attachments.items() if text},
            scope=listing.scope, etag=header(response, "ETag"),
            last_modified=header(response, "Last-Modified"), stored=stored)

    # --- failures -----------------------------------------------------------------------

    async def failed(self, failure):
        request = failure.request
        stage = request.meta.get("nianbao_stage", "request")
        page = request.meta.get("playwright_page")
        if page is not None:
            await page.close()
        listing = request.cb_kwargs.get("listing") or request.cb_kwargs.get("home")
        link = request.cb_kwargs.get("link")
        url = link.url if link is not None else request.url  # the URL the listing gave
        first = request.meta.get("nianbao_first")
        if stage == "listing" and listing is not None:
            self.listings_failed.add(listing.url)
        if failure.check(Refused):  # offsite, blocked, gone (crawler.middlewares)
            refused = failure.value
            if first:
                self.source_failed(listing, refused.summary)
            return [CrawlError(url, refused.stage, str(refused), refused.http_status,
                               gone=refused.gone)]
        if failure.check(HttpError):
            response = failure.value.response
            if first:
                self.source_failed(listing, f"HTTP {response.status}")
            return [CrawlError(url, stage, f"HTTP {response.status}", response.status,
                               gone=response.status in GONE_STATUSES)]
        if first:
            self.source_failed(listing, f"unreachable ({type(failure.value).__name__})")
        return [CrawlError(url, stage, f"{type(failure.value).__name__}: {failure.value}")]
