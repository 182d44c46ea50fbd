"""Spider callbacks on recorded responses (tests/fixtures), and the pipeline's helpers."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.families import ReportLink
from crawler.items import ReportPage
from crawler.pipelines import disposition_filename, document_kind
from crawler.spiders.annual_reports import AnnualReportsSpider, Listing

from .conftest import FIXTURES

BASE = "http://portal.test/xxgk/zfxxgknb/"


def spider(**arguments) -> AnnualReportsSpider:
    crawler = get_crawler(AnnualReportsSpider)
    return AnnualReportsSpider.from_crawler(crawler, **arguments)


def response(url: str, fixture: str | None = None, body: bytes | None = None,
             headers: dict | None = None) -> HtmlResponse:
    body = (FIXTURES / fixture).read_bytes() if fixture else body
    return HtmlResponse(url=url, body=body, headers=headers or {"Content-Type": "text/html"},
                        request=Request(url))


def test_listing_yields_its_reports_and_its_other_pages():
    s = spider(urls=BASE + "index.html")
    out = list(s.parse_listing(response(BASE + "index.html", "trs_listing_index.html"),
                               Listing(BASE + "index.html")))
    details = [r for r in out if isinstance(r, Request) and r.callback == s.parse_detail]
    pages = [r.url for r in out if isinstance(r, Request) and r.callback == s.parse_listing]
    assert len(details) == 4
    assert all(r.url.startswith(BASE + "20") for r in details)
    # the listing is GBK: the titles read from it are right
    assert all("政府信息公开" in r.cb_kwargs["link"].hints["标题"] for r in details)
    assert all(r.cb_kwargs["link"].hints["发布时间"][:2] == "20" for r in details)
    assert pages == [BASE + "index_1.html", BASE + "index_2.html"]


def test_a_listing_without_links_goes_to_the_browser_and_counts_as_empty_until_it_finds_some():
    s = spider(urls=BASE + "index.html")
    s.links_found[BASE + "index.html"] = 0
    page = b"<html><body><ul id='list'></ul><script>render()</script></body></html>"
    (request,) = s.parse_listing(response(BASE + "index.html", body=page), Listing(BASE + "index.html"))
    assert request.meta["playwright"] is True and request.cb_kwargs["family"] == "browser"
    assert s.empty_listings() == [BASE + "index.html"]


def test_detail_page_yields_the_raw_page_and_its_attachments():
    s = spider(urls=BASE + "index.html")
    url = BASE + "202112/t20211231_1002.html"
    page = response(url, "trs_detail_seed001.html")
    (item,) = s.parse_detail(page, Listing(BASE + "index.html"), ReportLink(url, {"标题": "x"}))
    assert isinstance(item, ReportPage)
    assert item.body == page.body  # bytes as served, GBK, not re-encoded
    assert item.file_urls == [BASE + "202112/W0202112310020.docx", BASE + "202112/P0202112310021.pdf"]
    assert item.file_names == {BASE + "202112/W0202112310020.docx": "【下载Word】",
                               BASE + "202112/P0202112310021.pdf": "【下载PDF】"}
    assert item.listing_url == BASE + "index.html" and item.hints == {"标题": "x"}


def test_attachments_on_other_sites_are_not_followed():
    s = spider(urls=BASE + "index.html")
    page = ("<html><body><a href='//cdn.elsewhere.com/a.pdf'>a</a>"
            "<a href='https://files.portal.test/b.doc'>b</a>"
            "<a href='/module/download/downfile.jsp?id=7'>附件：报告</a>"
            "<a href='/xzzx/index.html'>下载中心</a></body></html>").encode()
    (item,) = s.parse_detail(response(BASE + "t1.html", body=page), Listing(BASE), ReportLink(BASE + "t1.html"))
    assert item.file_urls == ["https://files.portal.test/b.doc",
                              "http://portal.test/module/download/downfile.jsp?id=7"]


def test_a_pdf_linked_straight_from_the_listing_is_the_report_itself():
    s = spider(urls=BASE + "index.html")
    url = BASE + "202201/P0.pdf"
    pdf = Response(url=url, body=b"%PDF-1.7 ...", headers={"Content-Type": "application/pdf"},
                   request=Request(url))
    (item,) = s.parse_detail(pdf, Listing(BASE), ReportLink(url))
    assert item.url == url and item.file_urls == [] and item.body.startswith(b"%PDF")


def test_http_errors_become_error_records():
    s = spider(urls=BASE + "index.html")
    request = Request(BASE + "gone.html", meta={"nianbao_stage": "detail"})
    failure = Failure(HttpError(Response(request.url, status=404, request=request)))
    failure.request = request
    (error,) = asyncio.run(s.failed(failure))
    assert (error.url, error.stage, error.message) == (request.url, "detail", "HTTP 404")


def test_bad_start_urls_are_refused():
    with pytest.raises(ValueError, match="not an http"):
        spider(urls="ftp://x/y, http://ok.test/")


@pytest.mark.parametrize("header, name", [
    (b"attachment; filename*=UTF-8''%E5%B9%B4%E6%8A%A5.pdf", "年报.pdf"),
    ('attachment; filename="年报.doc"'.encode("gbk"), "年报.doc"),
    ('attachment; filename="年报.docx"'.encode("utf-8"), "年报.docx"),
    (b'attachment; filename="%E5%B9%B4%E6%8A%A5.wps"', "年报.wps"),
    (b"inline", None),
])
def test_file_names_from_content_disposition(header, name):
    assert disposition_filename(header) == name


def test_document_kind_from_the_name_then_the_type():
    assert document_kind("http://x/a/P0.pdf", None) == "pdf"
    assert document_kind("http://x/dl.jsp?id=1", "application/msword", "年报.wps") == "wps"
    assert document_kind("http://x/dl.jsp?id=1", "application/pdf") == "pdf"
    assert document_kind("http://x/t1.shtml", "text/html") == "html"
