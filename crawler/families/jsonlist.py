"""Listings whose script fetches the list from a JSON endpoint with pageNo/pageSize.

The endpoint is read from the page's script: a URL with a page parameter
(`"/api/list?columnId=12&pageSize=10&pageNo="`), or an AJAX call's `url` with a `data`
object holding one (`$.getJSON('/api/list', {pageNo: 1, pageSize: 10})`). The answer is
searched for its list of items (objects with a URL and a title) and its total.
"""

from __future__ import annotations

import functools
import json
import math
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlparse

from scrapy import Request

from parsers.metadata import normalize_date

from ..links import same_site, selectors
from .base import Family, ReportLink, static_links


@functools.lru_cache(maxsize=1)
def _patterns():
    voc = selectors()["pagination"]
    params = "|".join(map(re.escape, voc["page_parameters"]))
    literal = re.compile(
        rf"""['"](?P<url>(?:https?:)?/[^'"\s<>]*?\?[^'"\s<>]*?\b(?P<param>{params})=[^'"\s<>]*)['"]""")
    call = re.compile(
        r"""(?:url\s*:\s*|\$\.(?P<verb>get|getJSON|post)\(\s*)['"](?P<url>[^'"\s]+)['"]"""
        r"""[^{}]*?(?:data\s*:\s*|,\s*)\{(?P<data>[^{}]*)\}""", re.I)
    return literal, call, voc["page_parameters"], voc["size_parameters"]


def _object_literal(body: str) -> dict:
    """`{channelId: 'nb', pageNo: n, pageSize: 10}` as a dict; a variable's value is left
    empty (the page number is filled in per request)."""
    values = {}
    for key, value in re.findall(r"""['"]?(\w+)['"]?\s*:\s*([^,}]+)""", body):
        value = value.strip()
        if value[:1] in "'\"":
            values[key] = value.strip("'\"")
        else:
            values[key] = value if value.isdigit() else ""
    return values


def endpoint(text: str, url: str) -> dict | None:
    """The list endpoint the listing's script calls: method, URL, query or form, page key."""
    literal, call, page_keys, _sizes = _patterns()
    for match in call.finditer(text):
        data = _object_literal(match.group("data"))
        key = next((k for k in page_keys if k in data), None)
        if key:
            method = "POST" if (match.group("verb") or "").lower() == "post" or \
                re.search(r"type\s*:\s*['\"]post", text[match.start():match.end()], re.I) else "GET"
            return {"method": method, "url": urljoin(url, match.group("url")), "data": data,
                    "key": key}
    match = literal.search(text)
    if match:
        target = urlparse(match.group("url"))
        data = dict(parse_qsl(target.query, keep_blank_values=True))
        return {"method": "GET", "url": urljoin(url, target._replace(query="").geturl()),
                "data": data, "key": match.group("param")}
    return None


def page_request(api: dict, number: int) -> Request:
    data = {**api["data"], api["key"]: str(number)}
    meta = {"nianbao_json": {**api, "page": number}}
    headers = {"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}
    if api["method"] == "POST":
        return Request(api["url"], method="POST", body=urlencode(data), meta=meta,
                       headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    return Request(f"{api['url']}?{urlencode(data)}", headers=headers, meta=meta)


def _first(item: dict, keys: list[str]):
    for key in keys:
        value = item.get(key)
        if isinstance(value, dict):  # urls: {pc: …}
            value = value.get("pc") or next(iter(value.values()), None)
        if value not in (None, ""):
            return value
    return None


def item_lists(data) -> list[list[dict]]:
    """Every list of objects in a JSON answer that look like links (a URL and a title)."""
    keys = selectors()["json_items"]
    found = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            objects = [x for x in node if isinstance(x, dict)]
            if objects and all(_first(o, keys["url"]) and _first(o, keys["标题"]) for o in objects):
                found.append(objects)
            else:
                stack.extend(node)
    return found


def _total(data, keys: list[str]) -> int | None:
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in keys:
                value = node.get(key)
                if isinstance(value, (int, str)) and str(value).isdigit():
                    return int(value)
            stack.extend(v for v in node.values() if isinstance(v, dict))
    return None


class JsonListFamily(Family):
    name = "json"

    def recognise(self, response, text):
        return endpoint(text, response.url) is not None

    def start(self, response, text):
        # whatever the page prints itself, and the endpoint its script asks
        yield from static_links(text, response.url)
        api = endpoint(text, response.url)
        if api:
            yield page_request(api, 1)

    def follow(self, response, text):
        try:
            data = json.loads(text)
        except ValueError:
            return
        api = response.meta.get("nianbao_json")
        keys = selectors()["json_items"]
        lists = item_lists(data)
        items = max(lists, key=len) if lists else []
        for item in items:
            url = urljoin(response.url, str(_first(item, keys["url"])))
            if not same_site(url, response.url):
                continue
            hints = {key: str(_first(item, names)) for key, names in keys.items()
                     if key != "url" and _first(item, names) is not None}
            if "发布时间" in hints:
                hints["发布时间"] = normalize_date(str(hints["发布时间"]))
            yield ReportLink(url, hints)
        if not api or api["page"] != 1 or not items:
            return
        totals = selectors()["json_totals"]
        pages = _total(data, totals["pages"])
        records = _total(data, totals["records"])
        if not pages and records:
            pages = math.ceil(records / len(items))
        for number in range(2, (pages or 1) + 1):
            yield page_request(api, number)
