"""`annual_reports`: walk 年报 listings, capture every report page and its attachments.

    scrapy crawl annual_reports -a urls=URL1,URL2 -s ARCHIVE_DB=archive.db
    scrapy crawl annual_reports                      # every listing in the registry
    scrapy crawl annual_reports -a source=NAME       # one registry entry

The spider only schedules requests and yields raw documents (`ReportPage`) and the
errors it meets (`CrawlError`); the pipelines store, parse and archive them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

import scrapy
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from nianbao.archive import now

from ..items import CrawlError, ReportPage
from ..links import attachment_links, is_attachment_url, next_page_links, report_links, trs_pages
from ..sources import REGISTRY_PATH, load_sources


@dataclass
class Listing:
    """The listing a request belongs to, carried from page to page."""

    url: str
    source: dict = field(default_factory=dict)
    file_hosts: tuple[str, ...] = ()


def _split_urls(value: str | None) -> list[str]:
    urls = [u.strip() for u in (value or "").split(",") if u.strip()]
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"not an http(s) URL: {url!r}")
    return urls


class AnnualReportsSpider(scrapy.Spider):
    name = "annual_reports"

    def __init__(self, urls: str | None = None, source: str | None = None,
                 registry: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.run_arguments = {k: v for k, v in
                              {"urls": urls, "source": source, "registry": registry}.items() if v}
        self.listings: list[Listing] = [Listing(url) for url in _split_urls(urls)]
        if not self.listings:
            entries = load_sources(registry or REGISTRY_PATH)
            if source:
                entries = [e for e in entries if e.name == source]
                if not entries:
                    raise ValueError(f"no source named {source!r} in the registry")
            self.listings = [Listing(e.start_url, e.as_item_source(), tuple(e.file_hosts))
                             for e in entries]
        self.pages_seen: dict[str, int] = {}

    async def start(self):
        for listing in self.listings:
            yield self.listing_request(listing.url, listing)

    def listing_request(self, url: str, listing: Listing) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_listing, errback=self.failed,
                              cb_kwargs={"listing": listing}, meta={"nianbao_stage": "listing"})

    # --- listings -----------------------------------------------------------------------

    def parse_listing(self, response, listing: Listing):
        self.crawler.stats.inc_value("nianbao/listings")
        if not isinstance(response, TextResponse):
            yield CrawlError(response.url, "listing", "the listing is not an HTML page")
            return
        links = report_links(response)
        first_page = response.url == listing.url
        if not links and first_page:
            yield CrawlError(response.url, "listing",
                             "no report links on the listing: it may have moved or been "
                             "redesigned (this is a failure of the source, not 'no new reports')")
        for url, hints in links:
            yield scrapy.Request(url, callback=self.parse_detail, errback=self.failed,
                                 cb_kwargs={"listing": listing, "hints": hints},
                                 meta={"nianbao_stage": "detail"})
        limit = self.settings.getint("NIANBAO_MAX_LISTING_PAGES", 200)
        for url in trs_pages(response) + next_page_links(response):
            seen = self.pages_seen.get(listing.url, 0)
            if seen >= limit:
                self.logger.warning("listing %s: stopped after %s pages", listing.url, limit)
                break
            if url != response.url:
                self.pages_seen[listing.url] = seen + 1
                yield self.listing_request(url, listing)

    # --- detail pages -------------------------------------------------------------------

    def parse_detail(self, response, listing: Listing, hints: dict):
        attachments: dict[str, str] = {}
        if isinstance(response, TextResponse) and not is_attachment_url(response.url):
            attachments = attachment_links(response, listing.file_hosts)
            attachments.pop(response.url, None)
        content_type = response.headers.get("Content-Type")
        yield ReportPage(
            url=response.url, body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            http_status=response.status, fetched_at=now(), listing_url=listing.url,
            hints=hints, source=listing.source, file_urls=list(attachments),
            file_names={url: text for url, text in attachments.items() if text})

    # --- failures -----------------------------------------------------------------------

    def failed(self, failure):
        request = failure.request
        stage = request.meta.get("nianbao_stage", "request")
        if failure.check(HttpError):
            message = f"HTTP {failure.value.response.status}"
        else:
            message = f"{type(failure.value).__name__}: {failure.value}"
        yield CrawlError(request.url, stage, message)
