"""Hanweb (大汉) jpage columns: /col/colN/index.html.

The column page carries its first records inline, in
`<script type="text/xml"><datastore>…<recordset><record><![CDATA[<li><a href=…>]]></record>`;
the rest come from a POST to `/module/web/jpage/dataproxy.jsp?startrecord=S&endrecord=E&
perpage=N`, whose form fields (col, appid, webid, path, columnid, unitid, webname,
permissiontype) the page itself gives: in the `nextgroup` link, the `jpage({...})` call,
the id of the element around the datastore, the column URL. The answer is the same XML.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlparse

from parsel import Selector
from scrapy import Request

from ..links import report_links
from .base import Family, ReportLink

DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.S)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>|totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
# a setting as pages give it: a key of the jpage({...}) object, a `var name = …`, a field of a
# script's own object. They are scattered over several scripts in several forms, so a scan
# for `name: value` / `name = value` finds them where parsing one object literal would not.
_SETTING = r"""['"]?{name}['"]?\s*[:=]\s*['"]?([^'",}}\s]+)"""
_DATASTORE_HOLDER = re.compile(r"""id\s*=\s*['"]?(\d+)['"]?[^>]*>\s*<script[^>]*type\s*=\s*['"]text/xml""", re.I)


def _setting(text: str, name: str) -> str | None:
    match = re.search(_SETTING.format(name=name), text, re.I)
    return match.group(1) if match else None


def records(text: str, base_url: str) -> list[ReportLink]:
    links = []
    for record in _RECORD.findall(text):
        for url, hints in report_links(Selector(text=record), base_url):
            if not any(link.url == url for link in links):
                links.append(ReportLink(url, hints))
    return links


def proxy_form(text: str, url: str) -> tuple[str, dict]:
    """The dataproxy URL and the form fields the page's own script would send."""
    fields: dict[str, str] = {}
    nextgroup = _NEXTGROUP.search(text)
    proxy = _setting(text, "proxyUrl") or DEFAULT_PROXY
    if nextgroup:
        href = re.search(r"""href\s*=\s*['"]([^'"]+)""", nextgroup.group(1))
        if href:
            target = urlparse(href.group(1).replace("&amp;", "&"))
            proxy = target.path or proxy
            fields.update(parse_qsl(target.query))
    column = re.search(r"/col/col(\d+)/", url)
    unit = dict(parse_qsl(urlparse(url).query)).get("uid")
    holder = _DATASTORE_HOLDER.search(text)
    guesses = {
        "columnid": _setting(text, "columnid") or (column.group(1) if column else None),
        "unitid": _setting(text, "unitid") or unit or (holder.group(1) if holder else None),
        "webid": _setting(text, "webid"),
        "webname": _setting(text, "webname"),
        "path": _setting(text, "path") or "/",
        "permissiontype": _setting(text, "permissiontype") or "0",
    }
    for key, value in guesses.items():
        if value and key not in fields:
            fields[key] = value
    fields.pop("page", None)
    form = {"col": "1", "appid": "1", "sourceContentType": "1", **fields}
    return urljoin(url, proxy), form


class HanwebFamily(Family):
    name = "hanweb"

    def recognise(self, response, text):
        return "<datastore>" in text or "jpage" in text or "dataproxy.jsp" in text

    def start(self, response, text):
        inline = records(text, response.url)
        yield from inline
        total_match = _TOTAL.search(text)
        total = int(next(g for g in total_match.groups() if g)) if total_match else None
        per_page = int(_setting(text, "perPage") or 15)
        group = int(_setting(text, "groupSize") or 3)
        step = per_page * group
        proxy, form = proxy_form(text, response.url)
        first = len(inline) + 1
        if total is None:
            # without a total, ask for one window at a time while windows come back full
            if not inline or len(inline) >= step:
                yield self.window(proxy, form, first, first + step - 1, per_page, response.url)
            return
        for start in range(first, total + 1, step):
            yield self.window(proxy, form, start, min(start + step - 1, total), per_page,
                              response.url, known_total=True)

    @staticmethod
    def window(proxy: str, form: dict, start: int, end: int, per_page: int, referer: str,
               known_total: bool = False) -> Request:
        query = urlencode({"startrecord": start, "endrecord": end, "perpage": per_page})
        return Request(
            f"{proxy}?{query}", method="POST", body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                     "X-Requested-With": "XMLHttpRequest", "Referer": referer,
                     "Accept": "application/xml, text/xml, */*; q=0.01"},
            meta={"nianbao_hanweb": {"proxy": proxy, "form": form, "start": start, "end": end,
                                     "per_page": per_page, "referer": referer,
                                     "known_total": known_total}})

    def follow(self, response, text):
        found = records(text, response.url)
        yield from found
        window = response.meta.get("nianbao_hanweb", {})
        size = window.get("end", 0) - window.get("start", 0) + 1
        if window and not window["known_total"] and found and len(found) >= size:
            start = window["end"] + 1
            yield self.window(window["proxy"], window["form"], start, start + size - 1,
                              window["per_page"], window["referer"])
