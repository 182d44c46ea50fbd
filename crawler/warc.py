"""The crawl as WARC, beside the content store: `-s NIANBAO_WARC=DIR` writes every request
and every response of a run into `DIR/nianbao-<time>-<pid>.warc.gz` (warcio), so that
archivists can replay the capture (pywb) and hand it on, as national libraries keep
the web.

The middleware sits next to the downloader: it records each answer as the server sent
it, redirects included, before Scrapy decompresses or follows it. An answer of 304 to a
conditional request is a `revisit` record (profile server-not-modified) that refers to
the bytes the archive already holds. Payload digests are sha256 (base32, as WARC writes
digests), so a record's digest names the file in the content store.
"""

from __future__ import annotations

import base64
import io
import os
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from nianbao import __version__
from nianbao.store import sha256

from .middlewares import STORED

NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# hop-by-hop framing the recorded body no longer has (it is de-chunked)
_FRAMING = {b"transfer-encoding"}


def warc_digest(hex_digest: str) -> str:
    """A sha256 as WARC writes digests: `sha256:` and the digest in base32."""
    return "sha256:" + base64.b32encode(bytes.fromhex(hex_digest)).decode("ascii")


def _warc_date(iso: str | None) -> str:
    moment = datetime.fromisoformat(iso) if iso else datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _headers(headers) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() if name.lower() not in _FRAMING
            for value in values]


class WarcMiddleware:
    """Every request and answer of the crawl into one WARC file per run."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.file = None
        self.writer: WARCWriter | None = None
        self.path: Path | None = None

    @classmethod
    def from_crawler(cls, crawler):
        folder = crawler.settings.get("NIANBAO_WARC")
        if not folder:
            raise NotConfigured("NIANBAO_WARC is not set")
        middleware = cls(folder)
        crawler.signals.connect(middleware.open, signal=signals.spider_opened)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    def open(self, spider=None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        self.path = self.folder / f"nianbao-{stamp}-{os.getpid()}.warc.gz"
        self.file = open(self.path, "wb")
        self.writer = WARCWriter(self.file, gzip=True, warc_version="1.1")
        self.writer.write_record(self.writer.create_warcinfo_record(
            self.path.name, {"software": f"nianbao/{__version__} (Scrapy, warcio)",
                             "format": "WARC File Format 1.1"}))

    def close(self, spider=None, reason=None) -> None:
        if self.file is not None:
            self.file.close()
            self.file = self.writer = None

    def process_response(self, request, response, spider=None):
        if self.writer is None:
            return response
        when = _warc_date(None)
        stored = request.meta.get(STORED)
        status = f"{response.status} {_phrase(response.status)}"
        http = StatusAndHeaders(status, _headers(response.headers), protocol=response.protocol or "HTTP/1.1")
        if response.status == 304 and stored:
            record = self.writer.create_revisit_record(
                response.url, warc_digest(stored["sha256"]), response.url,
                _warc_date(stored["fetched_at"]), http_headers=http,
                warc_headers_dict={"WARC-Date": when})
            # the server said not modified (warcio's default is identical-payload-digest)
            record.rec_headers.replace_header("WARC-Profile", NOT_MODIFIED_PROFILE)
        else:
            record = self.writer.create_warc_record(
                response.url, "response", payload=io.BytesIO(response.body), length=len(response.body),
                http_headers=http, warc_headers_dict={
                    "WARC-Date": when,
                    "WARC-Payload-Digest": warc_digest(sha256(response.body))})
        self.writer.write_record(record)
        self.writer.write_record(self._request_record(request, record, when))
        return response

    def _request_record(self, request, response_record, when: str):
        target = urlsplit(request.url)
        line = f"{request.method} {target.path or '/'}{'?' + target.query if target.query else ''}"
        headers = [("Host", target.netloc), *_headers(request.headers)]
        return self.writer.create_warc_record(
            request.url, "request", payload=io.BytesIO(request.body or b""), length=len(request.body or b""),
            http_headers=StatusAndHeaders(line, headers, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": when, "WARC-Concurrent-To":
                               response_record.rec_headers.get_header("WARC-Record-ID")})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
