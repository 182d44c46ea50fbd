"""Listings only a browser draws: rendered in Chromium through scrapy-playwright.

The rendered list is read like a static one; its "下一页" control is followed by its URL
where it reveals one, else clicked, page after page. Only listings go through the
browser: report pages and attachments are fetched over plain HTTP (a browser turns PDFs
into its viewer's HTML).
"""

from __future__ import annotations

from urllib.parse import urljoin

from parsel import Selector
from scrapy import Request

from ..links import followable, report_links, selectors
from .base import Family, ReportLink

# how long to wait for a list to settle after a click (ms)
SETTLE_MS = 10_000


def browser_request(url: str, max_pages: int) -> Request:
    return Request(url, dont_filter=True, meta={
        "playwright": True, "playwright_include_page": True,
        "playwright_page_goto_kwargs": {"wait_until": "networkidle"},
        "nianbao_browser": {"max_pages": max_pages}})


class BrowserFamily(Family):
    name = "browser"

    def recognise(self, response, text):
        return False  # chosen by the registry, or when a listing's HTML holds no links

    def start(self, response, text):
        yield browser_request(response.url, response.meta.get("nianbao_max_pages", 50))

    async def follow(self, response, text):
        page = response.meta.get("playwright_page")
        if page is None:  # a plain response after all
            for url, hints in report_links(Selector(text=text), response.url):
                yield ReportLink(url, hints)
            return
        limit = response.meta.get("nianbao_browser", {}).get("max_pages", 50)
        words = selectors()["pagination"]["next_words"][:3]  # 下一页, 下页, 后一页
        try:
            for _ in range(limit):
                html = await page.content()
                for url, hints in report_links(Selector(text=html), page.url):
                    yield ReportLink(url, hints)
                control = None
                for word in words:
                    candidate = page.get_by_text(word, exact=True)
                    if await candidate.count():
                        control = candidate.first
                        break
                if control is None:
                    return
                href = await control.get_attribute("href")
                if followable(href):
                    target = urljoin(page.url, href)
                    if target != page.url:  # the pager reveals its URLs: follow them
                        yield browser_request(target, limit - 1)
                    return
                classes = (await control.get_attribute("class")) or ""
                if "disabled" in classes or not await control.is_visible() \
                        or await control.is_disabled():
                    return
                await control.click()
                await page.wait_for_load_state("networkidle", timeout=SETTLE_MS)
                if await page.content() == html:
                    return  # the last page: the click changed nothing
        finally:
            await page.close()
