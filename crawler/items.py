"""What the spider yields: raw documents and the errors it met. No parsing here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReportPage:
    """A report detail page as served, with the attachments it links.

    `ReportFilesPipeline` downloads `file_urls` into the content store and fills
    `files` (and `file_errors`); `ArchivePipeline` then parses and archives it all.
    """

    url: str
    body: bytes = field(repr=False)
    content_type: str | None
    http_status: int
    fetched_at: str
    listing_url: str | None = None
    # what the listing said about the link, under metadata keys (标题, 发布时间, 索引号 …)
    hints: dict = field(default_factory=dict)
    # the registry entry the listing belongs to (name, province, city, county)
    source: dict = field(default_factory=dict)
    file_urls: list[str] = field(default_factory=list)
    # attachment URL -> the link's text, a name for files served without one
    file_names: dict = field(default_factory=dict)
    # the pictures in the page's body (also in `file_urls`): its tables, if they are
    # screenshots; fetched within NIANBAO_PAGE_IMAGE_MAX_BYTES and _PIXELS
    image_urls: list[str] = field(default_factory=list)
    files: list[dict] = field(default_factory=list, repr=False)
    file_errors: list[dict] = field(default_factory=list)
    # where its attachments may be fetched from (crawler.middlewares.scope)
    scope: dict | None = None
    # the server's validators for these bytes (ETag, Last-Modified)
    etag: str | None = None
    last_modified: str | None = None
    # the page answered 304: `body` is the archive's copy, `stored` what the archive holds
    stored: dict | None = None
    # the sha256 of `body`, once the files pipeline has stored it
    sha256: str | None = None


@dataclass
class CrawlError:
    """A page or file that failed: recorded in `errors`, and the crawl goes on."""

    url: str
    stage: str  # listing, detail, attachment, parse, blocked, offsite, archive
    message: str
    http_status: int | None = None
    # the portal says the page is gone for good (404, 410, a "page not found" page)
    gone: bool = False
