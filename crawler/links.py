"""Links on listings and detail pages: which are reports, which are attachments, which
are further listing pages. Functions of a response; the vocabulary is `selectors.yaml`."""

from __future__ import annotations

import functools
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlparse

import tldextract
import yaml

from parsers.formats import attachment_suffixes
from parsers.metadata import find_date

SELECTORS_PATH = Path(__file__).with_name("selectors.yaml")
# registrable domains from the public suffix list tldextract ships (never downloaded)
_DOMAINS = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
_PAGE_SUFFIXES = {"html", "htm", "shtml", "jsp", "php", "asp", "aspx"}


@functools.lru_cache(maxsize=1)
def selectors() -> dict:
    return yaml.safe_load(SELECTORS_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _announcements() -> tuple[list, list]:
    voc = selectors()["announced"]
    return [re.compile(p, re.I) for p in voc["records"]], [re.compile(p, re.I) for p in voc["pages"]]


def announced(text: str, per_page: int) -> tuple[int, bool] | None:
    """What a listing page says its column holds: (records, exact), from a count of
    records, or from a count of pages (then at least the pages before the last full, and
    one more); None when it says nothing."""
    records, pages = _announcements()
    counts = [int(m.group(1)) for pattern in records for m in pattern.finditer(text)]
    if counts:
        return max(counts), True
    counts = [int(m.group(1)) for pattern in pages for m in pattern.finditer(text)]
    if counts and per_page:
        return (max(counts) - 1) * per_page + 1, False
    return None


@functools.lru_cache(maxsize=1)
def _compiled() -> dict:
    voc = selectors()
    return {
        "detail": [re.compile(p, re.I) for p in voc["report_links"]["detail_url_patterns"]],
        "skip": [re.compile(p, re.I) for p in voc["report_links"]["skip_url_patterns"]],
        "year": re.compile(voc["report_links"]["title_year"]),
    }


def site_of(url: str) -> str:
    """The registrable site of a URL: www.zhifu.gov.cn and files.zhifu.gov.cn are one."""
    host = (urlparse(url).hostname or "").lower()
    parts = _DOMAINS(host)
    if parts.top_domain_under_public_suffix:
        return parts.top_domain_under_public_suffix
    if parts.ipv4 or ":" in host or "." not in host:  # an address, localhost: itself
        return host
    return ".".join(host.split(".")[-2:])  # under no public suffix (.test, an intranet)


def same_site(url: str, other: str, allowed_hosts: tuple[str, ...] = ()) -> bool:
    host = (urlparse(url).hostname or "").lower()
    return site_of(url) == site_of(other) or host in allowed_hosts


_NOT_FOLLOWED = ("javascript:", "mailto:", "#")


def followable(href: str | None) -> bool:
    """A link to another page: not a script, a mail address or a place in this page."""
    return bool(href and href.strip()) and not href.strip().startswith(_NOT_FOLLOWED)


def anchors(page, base_url: str):
    """(href, absolute URL, element) for each followable link of a page (a parsel Selector)."""
    for link in page.css("a[href]"):
        href = link.attrib["href"].strip()
        if followable(href):
            yield href, urljoin(base_url, href), link


def _link_text(link) -> str:
    title = link.attrib.get("title") or ""
    text = re.sub(r"\s+", "", "".join(link.css("::text").getall()))
    return title.strip() if len(title.strip()) > len(text) else text


def _suffix(url: str) -> str:
    return PurePosixPath(urlparse(url).path).suffix.lower().lstrip(".")


def is_attachment_url(url: str) -> bool:
    return _suffix(url) in attachment_suffixes()


def _date_near(link) -> str | None:
    """A date printed beside the link in its list item or table row."""
    for container in link.xpath("./ancestor::*[self::li or self::tr or self::dd or self::dl][1]"):
        date = find_date(" ".join(container.css("::text").getall()))
        if date:
            return date
    return None


def report_links(page, base_url: str):
    """(URL, hints) for each link on a listing page (a parsel Selector) that leads to a
    report, in page order, as they are read: a caller that stops (at the report-link
    cap) does not pay for the rest of a huge page."""
    words = selectors()["report_links"]["title_words"]
    compiled = _compiled()
    found: set[str] = set()
    for href, url, link in anchors(page, base_url):
        if url.split("#")[0] == base_url.split("#")[0]:
            continue
        text = _link_text(link)
        by_url = any(p.search(urlparse(url).path) for p in compiled["detail"]) and \
            not any(p.search(href) for p in compiled["skip"])
        by_text = any(w in text for w in words) and bool(compiled["year"].search(text)) \
            and len(text) <= 80
        in_list = bool(link.xpath("./ancestor::*[self::li or self::td or self::dd][1]"))
        if (by_url or by_text) and (in_list or by_url) and same_site(url, base_url) \
                and url not in found:
            # hints use the parsers' metadata keys: the page's own block overrides them
            hints = {"标题": text} if text else {}
            date = _date_near(link)
            if date:
                hints["发布时间"] = date
            found.add(url)
            yield url, hints


def attachment_links(page, base_url: str, allowed_hosts: tuple[str, ...] = ()) -> dict[str, str]:
    """Attachment URL -> link text for every file a detail page (a parsel Selector) links."""
    voc = selectors()["attachments"]
    found: dict[str, str] = {}
    for _, url, link in anchors(page, base_url):
        text = _link_text(link)
        suffix = _suffix(url)
        is_page = suffix in _PAGE_SUFFIXES or urlparse(url).path in ("", "/")
        by_suffix = suffix in attachment_suffixes()
        # download.jsp?id=… and the like: a script that serves a file
        by_url = any(p in url.lower() for p in voc["url_patterns"]) and suffix not in ("html", "htm", "shtml")
        by_text = any(w in text for w in voc["link_words"]) and not is_page
        if (by_suffix or by_url or by_text) and same_site(url, base_url, allowed_hosts):
            found.setdefault(url, text)
    return found


def _in_chrome(element, names: frozenset[str]) -> bool:
    """Inside the page's header, navigation or footer."""
    return any(names & {ancestor.tag, ancestor.get("id") or "", *(ancestor.get("class") or "").split()}
               for ancestor in element.iterancestors())


def page_images(page, base_url: str, allowed_hosts: tuple[str, ...] = (),
                limit: int = 12) -> list[str]:
    """The pictures in a detail page's body, in page order, where the page's HTML does not
    hold the report's tables itself (then they may be its tables, pasted as screenshots)."""
    voc = selectors()["page_images"]
    if limit <= 0:
        return []
    cells = " ".join(page.css("td ::text, th ::text").getall())
    if any(word in cells for word in voc["html_table_words"]):
        return []
    body = next((found[0] for css in voc["content"] if (found := page.css(css))), None)
    chrome = frozenset(voc["outside"])
    pictures = body.css("img") if body is not None else page.css("body img")
    found: list[str] = []
    for picture in pictures:
        src = (picture.attrib.get("src") or picture.attrib.get("data-src") or "").strip()
        if not src or src.startswith("data:") or _in_chrome(picture.root, chrome):
            continue
        url = urljoin(base_url, src)
        if any(word in url.lower() for word in voc["skip_words"]) or url in found:
            continue
        if not same_site(url, base_url, allowed_hosts) or not url.startswith(("http://", "https://")):
            continue
        found.append(url)
        if len(found) == limit:
            break
    return found


def next_page_links(page, base_url: str) -> list[str]:
    """Further pages a listing links: its "下一页"/"尾页" links and its page numbers."""
    words = set(selectors()["pagination"]["next_words"])
    found = []
    for _, url, link in anchors(page, base_url):
        text = _link_text(link)
        if text in words or (text.isdigit() and len(text) <= 3):
            if same_site(url, base_url) and url != base_url and url not in found:
                found.append(url)
    return found
