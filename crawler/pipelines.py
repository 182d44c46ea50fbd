"""Keep every byte, then parse and archive.

`ReportFilesPipeline` is Scrapy's FilesPipeline with a content-addressed file layout:
each attachment, and the detail page itself, is stored under its sha256 beside the
archive (written whole or not at all). `ArchivePipeline` turns a page and its files into
rows through `nianbao.assemble` (which calls the parsers), one transaction per report,
and records errors and crawl runs; a report that cannot be archived is an `errors` row,
never a lost item.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import Counter, OrderedDict
from io import BytesIO
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from scrapy import Request, signals
from scrapy.exceptions import CloseSpider
from scrapy.pipelines.files import FilesPipeline, FSFilesStore
from scrapy.utils.defer import ensure_awaitable

from nianbao.archive import Archive, ArchiveBusy, DocumentRecord, now
from nianbao.assemble import current_documents, is_unchanged, source_fields
from nianbao.parsing import ParsePool, WorkerDied
from nianbao.store import ContentStore, content_path, sha256
from parsers.formats import by_media_type, by_suffix
from parsers.formats.image import pixel_size
from parsers.template import earlier_template

from .items import CrawlError, ReportPage
from .middlewares import NOT_MODIFIED, SCOPE, STORED, Refused, files_location, store_options
from .pages import header

logger = logging.getLogger(__name__)

_FILENAME_STAR = re.compile(r"filename\*\s*=\s*([\w\-]+)'[^']*'([^;]+)", re.I)
_FILENAME = re.compile(r'filename\s*=\s*"?([^";]+)"?', re.I)


def disposition_filename(raw: bytes | None) -> str | None:
    """The file name a Content-Disposition header gives: RFC 5987 `filename*=`, else a
    plain `filename=` in UTF-8, GBK or percent-encoding (portals send all three)."""
    if not raw:
        return None
    text = raw.decode("latin-1")
    match = _FILENAME_STAR.search(text)
    if match:
        charset, value = match.groups()
        try:
            return unquote(value.strip(), encoding=charset or "utf-8")
        except LookupError:
            return unquote(value.strip())
    match = _FILENAME.search(text)
    if not match:
        return None
    name_bytes = match.group(1).strip().encode("latin-1")
    for encoding in ("utf-8", "gb18030"):
        try:
            return unquote(name_bytes.decode(encoding))
        except UnicodeDecodeError:
            continue
    return None


def file_name(result: dict, link_text: str | None) -> str | None:
    """The server's name for a file (Content-Disposition), else the link's text where it
    reads as a file name (年报.pdf, not 【下载PDF】), else the URL's last segment."""
    if result.get("disposition_name"):
        return result["disposition_name"]
    if link_text and by_suffix(PurePosixPath(link_text).suffix.lstrip(".")):
        return link_text
    return result.get("url_name")


def document_kind(url: str, content_type: str | None, filename: str | None = None) -> str:
    """html, pdf, docx, doc, wps, xls … as the server names the file. The parsers
    correct it from the bytes for every file they read (`nianbao.assemble`)."""
    for name in (filename, urlparse(url).path):
        named = by_suffix(PurePosixPath(name or "").suffix.lstrip("."))
        if named:
            return named.kind
    served = by_media_type(content_type or "")
    return served.kind if served else "bin"


class ContentAddressedFilesStore(FSFilesStore):
    """The FilesPipeline's file system store, writing through `ContentStore.put`: each
    file whole (temporary name, synced, renamed), never twice, and in one writer thread
    of its own, so that the reactor does not wait for the disk (one thread, not a pool:
    each thread that handles large buffers keeps a memory arena of its own)."""

    _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nianbao-store")

    def persist_file(self, path, buf, info, meta=None, headers=None):
        # `path` is content_path(digest): the bytes were hashed once, by the pipeline
        return asyncio.wrap_future(self._writer.submit(
            ContentStore(self.basedir).put, buf.getvalue(), PurePosixPath(path).name))


class Latest(OrderedDict):
    """A dict that keeps only its `size` latest entries."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if len(self) > self.size:
            self.popitem(last=False)


class ReportFilesPipeline(FilesPipeline):
    """FilesPipeline storing files by the sha256 of their bytes, with their HTTP facts."""

    STORE_SCHEMES = {**FilesPipeline.STORE_SCHEMES, "": ContentAddressedFilesStore,
                     "file": ContentAddressedFilesStore}
    # failures are recorded in `errors` and logged in one line by ArchivePipeline
    LOG_FAILED_RESULTS = False

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        cls._update_stores(settings)
        media_log = logging.getLogger("scrapy.pipelines.media")
        if not any(isinstance(f, _WithoutAttachmentTracebacks) for f in media_log.filters):
            media_log.addFilter(_WithoutAttachmentTracebacks())
        # FILES_STORE as every Scrapy user sets it (a folder, s3://…); by default beside the
        # archive. The archive records it for `reparse`, `serve` and `backup`.
        return cls(files_location(settings), crawler=crawler)

    # Scrapy keeps the result of every file for the whole run, so that a file linked twice
    # is fetched once: over a national crawl's hundreds of thousands of attachments that
    # grows without end (about 1 KB each). The latest are kept; a file linked again after
    # them is asked for again, conditionally (a 304 when the archive holds it).
    RESULTS_KEPT = 1000

    def open_spider(self, spider=None):  # `spider`: older Scrapy callers still pass it
        super().open_spider()
        self.spiderinfo.downloaded = Latest(self.RESULTS_KEPT)

    def get_media_requests(self, item, info):
        if not isinstance(item, ReportPage):
            return []
        meta = {"nianbao_stage": "attachment", **({SCOPE: item.scope} if item.scope else {})}
        pictures = set(item.image_urls)
        picture_meta = {**meta, "nianbao_image": True,
                        "download_maxsize": self.crawler.settings.getint("NIANBAO_PAGE_IMAGE_MAX_BYTES")}
        return [Request(url, headers={"Referer": item.url},
                        meta=picture_meta if url in pictures else meta) for url in item.file_urls]

    def media_to_download(self, request, info, *, item=None):
        # Content addresses are known only once the bytes are: always fetch, so that a
        # changed attachment is seen as a new version.
        return None

    def file_path(self, request, response=None, info=None, *, item=None):
        return content_path(sha256(response.body)) if response is not None else ""

    def media_failed(self, failure, request, info):
        # keep the reason (the base class raises a bare exception, and drops the
        # requests robots.txt forbids without a word)
        refused = failure.value
        if isinstance(refused, AttachmentError):
            raise refused
        if isinstance(refused, Refused):  # offsite, blocked (crawler.middlewares)
            raise AttachmentError(str(refused), refused.http_status, refused.stage)
        raise AttachmentError(f"{type(refused).__name__}: {refused}")

    async def media_downloaded(self, response, request, info, *, item=None):
        if request.meta.get(NOT_MODIFIED):
            # 304: the stored file is current; no body, no hash, nothing to store
            stored = request.meta[STORED]
            return {"url": request.url, "path": content_path(stored["sha256"]), "status": "uptodate",
                    "checksum": None, **stored, "http_status": 304, "not_modified": True,
                    "disposition_name": stored["filename"], "url_name": None}
        if response.status != 200:
            raise AttachmentError(f"HTTP {response.status}", response.status)
        if not response.body:
            raise AttachmentError("an empty file")
        if request.meta.get("nianbao_image"):
            self.check_picture(response.body)
        # hashed once (Scrapy's own path would hash it three times, md5 among them)
        digest = sha256(response.body)
        await ensure_awaitable(self.store.persist_file(
            content_path(digest), BytesIO(response.body), info))
        self.inc_stats("downloaded")
        filename = disposition_filename(response.headers.get("Content-Disposition"))
        content_type = header(response, "Content-Type")
        result = dict(
            path=content_path(digest), checksum=digest, status="downloaded",
            url=request.url, final_url=response.url, sha256=digest,
            size=len(response.body), content_type=content_type, http_status=response.status,
            disposition_name=filename,
            url_name=PurePosixPath(unquote(urlparse(response.url).path)).name or None,
            kind=document_kind(response.url, content_type, filename),
            etag=header(response, "ETag"), last_modified=header(response, "Last-Modified"),
            fetched_at=now(), body=response.body)  # parsed from memory, not read back
        return result

    def check_picture(self, body: bytes) -> None:
        """A picture of the page is kept only if it could be a table's screenshot."""
        size = pixel_size(body)
        limit = self.crawler.settings.getint("NIANBAO_PAGE_IMAGE_MAX_PIXELS")
        if size is None:
            raise AttachmentError("a picture that is not a PNG, JPEG, GIF or BMP: not kept", stage="image")
        if size[0] * size[1] > limit:
            raise AttachmentError(f"a picture of {size[0]} × {size[1]} pixels (limit {limit:,}): "
                                  "not kept", stage="image")

    def item_completed(self, results, item, info):
        if not isinstance(item, ReportPage):
            return item
        item.files = [value for ok, value in results if ok]
        item.file_errors = []
        for request, (ok, value) in zip(self.get_media_requests(item, info), results):
            if not ok:
                error = getattr(value, "value", value)  # a Failure's exception
                item.file_errors.append({"url": request.url, "message": str(error),
                                         "http_status": getattr(error, "http_status", None),
                                         "stage": getattr(error, "stage", "attachment")})
        return item

    async def process_item(self, item):
        if isinstance(item, ReportPage) and not item.stored:
            # the page's own bytes go into the same store, through the same storage
            item.sha256 = sha256(item.body)
            await ensure_awaitable(self.store.persist_file(
                content_path(item.sha256), BytesIO(item.body), self.spiderinfo))
        return await super().process_item(item)


class AttachmentError(Exception):
    """An attachment that could not be fetched; its message says why, `stage` is the
    errors stage (attachment, blocked, offsite)."""

    def __init__(self, message: str, http_status: int | None = None, stage: str = "attachment"):
        super().__init__(message)
        self.http_status = http_status
        self.stage = stage


class _WithoutAttachmentTracebacks(logging.Filter):
    """MediaPipeline logs every failed download with a traceback; a missing attachment
    is an everyday event, recorded in `errors` and logged in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], AttachmentError))


class ArchivePipeline:
    """Parse each report's files and write the result, one transaction per report; count
    the run; record errors. The archive's writer lock is held from the spider's opening
    to its closing: a second crawl into the same archive stops at once."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.archive: Archive | None = None
        # parsing runs in worker processes: the reactor never waits for a parse
        self.pool = ParsePool(crawler.settings.getint("NIANBAO_PARSE_WORKERS"))
        self.run_id: int | None = None
        self.counts = {"reports_new": 0, "reports_changed": 0, "reports_unchanged": 0,
                       "documents": 0, "documents_not_modified": 0, "errors": 0}
        self.new_by_source: Counter[str] = Counter()  # registry entry id -> new reports

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self):
        spider = self.crawler.spider
        try:
            settings = self.crawler.settings
            self.archive = Archive(settings.get("ARCHIVE_DB"), "crawl",
                                   files_store=settings.get("FILES_STORE") and files_location(settings),
                                   store_options=store_options(settings))
        except ArchiveBusy as busy:
            logger.error("%s; this crawl stops without fetching anything", busy)
            raise CloseSpider("archive_busy") from None
        for run in self.archive.interrupted_runs:
            logger.warning("crawl run %s never finished (its process was killed): "
                           "marked interrupted", run)
        self.run_id = self.archive.start_run(getattr(spider, "run_arguments", {}))
        if getattr(spider, "registry_all", None):
            self.archive.sync_sources(spider.registry_all)
        logger.info("archive %s, crawl run %s", self.archive.path, self.run_id)

    def spider_closed(self, spider, reason):
        if self.archive is None:
            return
        for url in getattr(spider, "empty_listings", lambda: [])():
            self.error(url, "listing", "no report links on the listing: it may have moved or "
                       "been redesigned (a failure of the source, not 'no new reports')")
        failed = getattr(spider, "failed_sources", lambda: [])()
        health = getattr(spider, "source_health", lambda: [])()
        if health and reason == "finished":  # an interrupted run says nothing of health
            for entry in health:
                entry["new"] = self.new_by_source[entry["id"]]
            self.archive.record_source_health(self.run_id, health)
        listings = self.crawler.stats.get_value("nianbao/listings", 0)
        self.archive.finish_run(self.run_id, "finished" if reason == "finished" else reason,
                                {"listings": listings, **self.counts,
                                 "sources_failed": json.dumps(failed, ensure_ascii=False)})
        logger.info("crawl run %s %s: %s listing pages, %s", self.run_id, reason, listings,
                    ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.counts.items()))
        self.archive.close()
        self.pool.close()

    def error(self, url: str, stage: str, message: str) -> None:
        self.counts["errors"] += 1
        logger.warning("%s failed at %s: %s", url, stage, message)
        try:
            self.archive.record_error(self.run_id, url, stage, message)
        except Exception as error:  # the log line above is then the only record
            logger.error("could not record the error in the archive: %s", error)

    async def process_item(self, item):
        if isinstance(item, CrawlError):
            self.error(item.url, item.stage, item.message)
        try:
            if isinstance(item, CrawlError) and item.stage in ("detail", "blocked", "offsite"):
                # a report already archived keeps everything; its page's failure is noted
                self.archive.page_failed(item.url, item.message, item.http_status, item.gone)
            elif isinstance(item, ReportPage):
                await self.archive_report(item)
        except Exception as error:  # its transaction was rolled back
            logger.exception("archiving %s failed", item.url)
            self.error(item.url, "archive", f"{type(error).__name__}: {error}")
        return item

    async def archive_report(self, item: ReportPage) -> None:
        failures = {}
        for failure in item.file_errors:
            self.error(failure["url"], failure["stage"], failure["message"])
            failures[failure["url"]] = failure
        page = item.stored or {"sha256": item.sha256 or sha256(item.body), "size": len(item.body),
                               "fetched_at": item.fetched_at, "etag": item.etag,
                               "last_modified": item.last_modified}
        fetched = [DocumentRecord(
            url=item.url, kind=document_kind(item.url, item.content_type), sha256=page["sha256"],
            size=page["size"], content_type=item.content_type, http_status=item.http_status,
            fetched_at=page["fetched_at"], etag=page["etag"], last_modified=page["last_modified"],
            not_modified=item.stored is not None)]
        fetched += [
            DocumentRecord(url=f["url"], kind=f["kind"], sha256=f["sha256"], size=f["size"],
                           content_type=f["content_type"], http_status=f["http_status"],
                           filename=file_name(f, item.file_names.get(f["url"])),
                           fetched_at=f["fetched_at"], etag=f.get("etag"),
                           last_modified=f.get("last_modified"), not_modified=f.get("not_modified", False))
            for f in item.files]
        # the bytes of this crawl's files, taken out of the results: the media pipeline
        # keeps every result for the whole run (a later report linking the same file reads
        # it back from the store)
        bodies = {item.url: item.body, **{f["url"]: f.pop("body") for f in item.files if "body" in f}}
        stored = self.archive.stored_documents(item.url)
        checked = now()
        for doc in stored:  # failed this time: its last stored bytes stand in
            if doc.url in failures:
                doc.fetch_error = failures[doc.url]["message"]
                doc.http_status = failures[doc.url]["http_status"]
                doc.checked_at = checked
        documents = current_documents(fetched, stored)
        self.counts["documents"] += len(fetched)
        self.counts["documents_not_modified"] += sum(doc.not_modified for doc in fetched)
        state = self.archive.report_state(item.url)
        fields = {"listing_url": item.listing_url, **source_fields(item.source)}
        if is_unchanged(state, documents):
            self.archive.save_unchanged(item.url, documents, fields)
            self.counts["reports_unchanged"] += 1
            return
        files = []
        for doc in documents:
            try:
                body = bodies[doc.url] if doc.url in bodies else self.archive.store.read(doc.sha256)
                files.append((doc, body))
            except OSError as error:
                logger.warning("%s: its stored copy is missing (%s); left out", doc.url, error)
        try:
            record = await self.pool.build(item.url, files, hints=item.hints, source=item.source,
                                           listing_url=item.listing_url)
        except WorkerDied as died:  # the report is left for the next crawl to try again
            self.error(item.url, "parse", str(died))
            return
        if record.fields["status"] not in ("ok", earlier_template()):
            failed = [doc for doc in record.documents if doc.parse_error]
            for doc in failed:
                self.error(doc.url, "parse", doc.parse_error)
            if not failed:
                self.error(item.url, "parse", "no report tables in the page or its attachments")
        self.archive.save_report(record, record.documents)
        self.counts["reports_changed" if state else "reports_new"] += 1
        if not state and item.source and item.source.get("id"):
            self.new_by_source[item.source["id"]] += 1
        logger.info("%s report: %s (%s, %s cells%s)", "changed" if state else "new",
                    record.fields["title"], record.fields["status"], len(record.cells),
                    "" if record.fields["checks_ok"] in (1, None) else
                    f", {record.fields['checks_failed']} checks fail")
