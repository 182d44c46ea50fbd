"""Guangdong's 政府信息公开目录 platform (gkmlpt), on every Guangdong province, city and
district site.

The listing page (`/gkmlpt/index`, `/gkmlpt/annualreport#{id}`) holds
`window._CONFIG = {SID: '…', TREE: [...]}`; the category comes from the URL's fragment or
from the TREE node named 年报; the list is JSON from `/gkmlpt/api/all/{id}?page=N&sid=SID`,
`{classify: {post_count}, articles: [{url, title, identifier, publisher, date,
display_publish_time, document_number, attachment, …}]}`, read until `post_count`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone, timedelta
from urllib.parse import urljoin, urlparse

import chompjs
from scrapy import Request

from parsers.metadata import normalize_date

from .base import Family, ReportLink

_CHINA = timezone(timedelta(hours=8))


def config(text: str) -> dict:
    """The page's `window._CONFIG`: a JavaScript object literal (unquoted keys, single
    quotes), read as one by chompjs; {} when the page has none."""
    at = text.find("_CONFIG")
    if at < 0:
        return {}
    try:
        found = chompjs.parse_js_object(text[at:])
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _nodes(tree):
    for node in tree if isinstance(tree, list) else []:
        if isinstance(node, dict):
            yield node
            yield from _nodes(node.get("children"))


def category(text: str, url: str) -> str | None:
    """The 年报 category: the URL's #fragment, else the TREE node named 年报."""
    fragment = urlparse(url).fragment
    if fragment.isdigit():
        return fragment
    for node in _nodes(config(text).get("TREE")):
        name = str(node.get("name", ""))
        if "年报" in name or "年度报告" in name:
            return str(node.get("id"))
    return None


def _date(article: dict) -> str | None:
    stamp = article.get("display_publish_time") or article.get("publish_time")
    if isinstance(stamp, (int, float)) and stamp > 0:
        return datetime.fromtimestamp(stamp, _CHINA).strftime("%Y-%m-%d")
    for key in ("date", "created_at", "publish_date"):
        if article.get(key):
            return normalize_date(str(article[key]))
    return None


def report_link(article: dict, base_url: str) -> ReportLink | None:
    url = article.get("url") or article.get("post_url")
    if not url:
        return None
    hints = {"标题": article.get("title"), "索引号": article.get("identifier"),
             "发布机构": article.get("publisher"), "发布时间": _date(article),
             "文号": article.get("document_number")}
    files = {urljoin(base_url, a["url"]): a.get("name") or ""
             for a in article.get("attachment") or [] if isinstance(a, dict) and a.get("url")}
    return ReportLink(urljoin(base_url, url), {k: v for k, v in hints.items() if v}, files)


class GkmlptFamily(Family):
    name = "gkmlpt"

    def recognise(self, response, text):
        return "/gkmlpt/" in response.url or bool(config(text).get("SID"))

    def start(self, response, text):
        sid = config(text).get("SID")
        listing = response.meta.get("nianbao_listing_url", response.url)
        cat = category(text, listing) or category(text, response.url)
        if not (sid and cat):
            return
        yield self.page(response.url, cat, str(sid), 1, 0)

    @staticmethod
    def page(base_url: str, cat: str, sid: str, number: int, seen: int) -> Request:
        return Request(urljoin(base_url, f"/gkmlpt/api/all/{cat}?page={number}&sid={sid}"),
                       headers={"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"},
                       meta={"nianbao_gkmlpt": {"cat": cat, "sid": sid, "page": number, "seen": seen}})

    def follow(self, response, text):
        state = response.meta.get("nianbao_gkmlpt")
        try:
            data = json.loads(text)
        except ValueError:
            return
        articles = data.get("articles") or []
        for article in articles:
            link = report_link(article, response.url)
            if link:
                yield link
        total = (data.get("classify") or {}).get("post_count") or data.get("total") or 0
        seen = (state or {}).get("seen", 0) + len(articles)
        if state and articles and seen < total:  # until the accumulated count reaches post_count
            yield self.page(response.url, state["cat"], state["sid"], state["page"] + 1, seen)
