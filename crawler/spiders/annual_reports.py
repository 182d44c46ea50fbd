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
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.job import job_dir

# GONE_STATUSES: by which a portal says a page is gone for good (not merely unavailable)
from nianbao.archive import GONE_STATUSES, now, reports_seen_since
from nianbao.registry import load_registry

from ..families import BROWSER, FAMILIES, ReportLink, recognise
from ..families.browser import browser_request
from ..items import CrawlError, ReportPage
from ..jobstate import JobState
from ..links import (announced, anchors, attachment_links, is_attachment_url, page_images,
                     same_site, selectors)
from ..middlewares import NOT_MODIFIED, SCOPE, STORED, OverBudget, Refused, scope
from ..pages import header, is_html, page_selector, page_text


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
        return scope(self.url, self.file_hosts, self.source.get("id"))


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
    # registry entries (or listings) that failed as a whole: name -> [why, outcome]
    source_failures: dict[str, list] = _Kept(dict)
    # sources stopped at their budget (NIANBAO_SOURCE_MAX_*): id or listing -> why
    budget_spent: dict[str, str] = _Kept(dict)
    # the report links each listing gave (a link given twice counts once)
    links_seen: dict[str, set] = _Kept(dict)
    # what a listing's first page says the column holds: listing -> [records, exact]
    announced_totals: dict[str, list] = _Kept(dict)
    # the CMS family each listing was read as
    families_seen: dict[str, str] = _Kept(dict)

    def __init__(self, urls: str | None = None, home: str | None = None,
                 source: str | None = None, registry: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.run_arguments = {k: v for k, v in {"urls": urls, "home": home, "source": source,
                                                "registry": registry}.items() if v}
        self.listings = [Listing(url) for url in _split_urls(urls)]
        self.homes = [Listing(url) for url in _split_urls(home)]
        # the registry entries of this crawl (none for a crawl of bare URLs), and the
        # registry's entries refused by its loader, one line each
        self.registry_sources, self.registry_all, self.registry_refused = [], [], []
        if not (self.listings or self.homes):
            registry = load_registry([registry] if registry else None, families=list(FAMILIES))
            self.registry_all = registry.sources
            self.registry_refused = [(str(registry.paths[0]), line) for line in registry.refused]
            entries = registry.sources
            if source:
                entries = [e for e in entries if source in (e.name, e.id)]
                if not entries:
                    raise ValueError(f"no source named {source!r} in the registry")
            self.registry_sources = entries
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
        spider.scale_concurrency(crawler.settings)
        directory = job_dir(crawler.settings)
        if directory:
            spider.job = JobState(directory)
            spider.logger.info(spider.job.begin())
            if spider.job.recovering:
                spider.already_archived = reports_seen_since(
                    crawler.settings.get("ARCHIVE_DB"), spider.job.started)
            crawler.signals.connect(spider.job_closed, signal=scrapy.signals.spider_closed)
        return spider

    def scale_concurrency(self, settings) -> None:
        """Room for every portal at once: each host keeps its own pace (one request at a
        time, DOWNLOAD_DELAY apart), so the crawl's global concurrency grows with the
        number of hosts (up to NIANBAO_MAX_CONCURRENT_REQUESTS), unless it was set on the
        command line. A request waiting out its host's delay holds a place too: with
        fewer places than hosts, the portals would wait for one another."""
        if settings.getpriority("CONCURRENT_REQUESTS") > SETTINGS_PRIORITIES["project"]:
            return
        hosts = {urlparse(listing.url).netloc for listing in self.listings + self.homes}
        wanted = min(len(hosts) * settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 1),
                     settings.getint("NIANBAO_MAX_CONCURRENT_REQUESTS", 512))
        if wanted > settings.getint("CONCURRENT_REQUESTS"):
            settings.set("CONCURRENT_REQUESTS", wanted, priority="spider")
            self.logger.info("%s portals: up to %s requests at once, one per portal",
                             len(hosts), wanted)

    def job_closed(self, spider, reason):
        self.job.end(reason)

    async def start(self):
        for path, line in self.registry_refused:
            yield CrawlError(path, "registry", f"left out: {line}")
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

    def source_failed(self, listing: Listing, why: str, outcome: str = "unreachable") -> None:
        self.source_failures.setdefault(listing.name, [why, outcome])

    def failed_sources(self) -> list[str]:
        """"name: why" for each source that failed as a whole this crawl: its first page
        failed, or its listing yielded no report link."""
        failures = {name: why for name, (why, _) in self.source_failures.items()}
        for url, count in self.links_found.items():
            if count == 0:
                failures.setdefault(self.known_listings[url].name,
                                    "its list pages failed" if url in self.listings_failed
                                    else "empty listing")
        return [f"{name}: {why}" for name, why in failures.items()]

    def source_health(self) -> list[dict]:
        """How each registry entry of this crawl answered: its outcome (ok, unreachable,
        blocked, empty listing, moved), why, and the report links its listings gave."""
        listed: dict[str, int] = {}
        families: dict[str, list] = {}
        said: dict[str, list] = {}
        for url, count in self.links_found.items():
            source_id = self.known_listings[url].source.get("id")
            if source_id:
                listed[source_id] = listed.get(source_id, 0) + min(count, self.report_link_cap)
                if url in self.announced_totals:
                    total, exact = self.announced_totals[url]
                    said.setdefault(source_id, [0, True])
                    said[source_id] = [said[source_id][0] + total, said[source_id][1] and exact]
                if url in self.families_seen:
                    families.setdefault(source_id, []).append(self.families_seen[url])
        health = []
        for entry in self.registry_sources:
            why, outcome = self.source_failures.get(entry.name, (None, None))
            count = listed.get(entry.id, 0)
            total, exact = said.get(entry.id, (None, True))
            if outcome is None:
                outcome, why = ("ok", self.budget_spent.get(entry.id)) if count else (
                    "empty listing", "no report links on the listing: moved or redesigned?")
            if outcome == "ok" and total and count < total:
                outcome, why = "short", (f"found {count} of {total} announced" if exact else
                                         f"found {count} of at least {total} announced")
            health.append({"id": entry.id, "name": entry.name, "outcome": outcome,
                           "detail": why, "listed": count, "announced": total,
                           "family": ", ".join(dict.fromkeys(families.get(entry.id, []))) or None})
        return health

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
        self.source_failed(home, "no 年报 column found", "moved")
        yield CrawlError(home.url, "listing", "no 年报 column found from this page "
                         "(looked for " + "、".join(voc["words"][:3]) + " …)")

    # --- listings -------------------------------------------------------------------------

    def parse_listing(self, response, listing: Listing):
        """A listing page: recognise its family and walk it."""
        self.crawler.stats.inc_value("nianbao/listings")
        if not is_html(response):
            self.listings_failed.add(listing.url)
            self.source_failed(listing, "not a listing page", "moved")
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
        self.families_seen.setdefault(listing.url, family.name)
        further = 0  # further pages or requests the family asked for
        for output in outputs:
            further += not isinstance(output, ReportLink)
            yield from self.emit(output, listing, family, response)
            if self.links_capped(listing):
                return  # the rest of the page is not even read
        if response.meta.get("nianbao_first") and family is not BROWSER:
            yield from self.check_announced(response, text, listing, further)

    def check_announced(self, response, text: str, listing: Listing, further: int):
        """A first page that announces more reports than it links, and names no further
        page: the rest is reached by script (下一页 with no URL); the browser clicks on."""
        found = self.links_found.get(listing.url, 0)
        said = announced(text, found)
        if said is None:
            return
        self.announced_totals[listing.url] = list(said)
        if found >= said[0] or further or not self.settings.getbool("NIANBAO_BROWSER_FALLBACK", True):
            return
        self.logger.info("%s: announces %s reports, links %s and names no further page; "
                         "rendering it in a browser", response.url, said[0], found)
        for output in BROWSER.start(response, text):
            yield from self.emit(output, listing, BROWSER, response)

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
            seen = self.links_seen.setdefault(listing.url, set())
            if output.url in seen:
                return
            seen.add(output.url)
            self.links_found[listing.url] = found + 1
            if self.settings.getbool("NIANBAO_LISTINGS_ONLY"):
                return  # `nianbao sources check`: the links are counted, not followed
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
        pictures: list[str] = []
        if is_html(response) and not is_attachment_url(response.url):
            page = page_selector(response)
            for url, text in attachment_links(page, response.url, listing.file_hosts).items():
                attachments.setdefault(url, text)
            attachments.pop(response.url, None)
            attachments.pop(link.url, None)
            pictures = [url for url in page_images(page, response.url, listing.file_hosts,
                                                   self.settings.getint("NIANBAO_PAGE_IMAGES"))
                        if url not in attachments]
        stored = response.meta.get(STORED) if response.meta.get(NOT_MODIFIED) else None
        yield ReportPage(
            url=link.url, body=response.body, content_type=header(response, "Content-Type"),
            http_status=304 if stored else response.status, fetched_at=now(),
            listing_url=listing.url, hints=link.hints, source=listing.source,
            file_urls=list(attachments) + pictures, image_urls=pictures,
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
        if failure.check(OverBudget):  # said once per source
            key = request.meta[SCOPE]["source"]
            if key in self.budget_spent:
                return []
            self.budget_spent[key] = str(failure.value)
            return [CrawlError(listing.url if listing is not None else url, "budget",
                               str(failure.value))]
        if failure.check(Refused):  # offsite, blocked, gone (crawler.middlewares)
            refused = failure.value
            if first:
                self.source_failed(listing, refused.summary,
                                   "blocked" if refused.stage == "blocked" else "moved")
            return [CrawlError(url, refused.stage, str(refused), refused.http_status,
                               gone=refused.gone)]
        if failure.check(HttpError):
            response = failure.value.response
            if first:
                self.source_failed(listing, f"HTTP {response.status}",
                                   "moved" if response.status in GONE_STATUSES else
                                   "blocked" if response.status in (401, 403) else "unreachable")
            return [CrawlError(url, stage, f"HTTP {response.status}", response.status,
                               gone=response.status in GONE_STATUSES)]
        if first and "robots.txt" in str(failure.value):
            self.source_failed(listing, "forbidden by robots.txt", "blocked")
        elif first:
            self.source_failed(listing, f"unreachable ({type(failure.value).__name__})")
        return [CrawlError(url, stage, f"{type(failure.value).__name__}: {failure.value}")]
