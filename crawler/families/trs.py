"""TRS WCM static columns: index.html, index_1.html … announced by a script."""

from __future__ import annotations

import functools
import re
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlparse

from ..links import selectors
from .base import Family, static_links


@functools.lru_cache(maxsize=1)
def _patterns():
    voc = selectors()["pagination"]
    return re.compile(voc["trs_create_page"]), re.compile(voc["trs_count_page"])


def trs_pages(text: str, url: str) -> list[str]:
    """Every page the column announces, in any of the forms seen:
    createPageHTML(pages, current, "index", "html"), createPageHTML(records, pages,
    current, "index", "html"), createPageHTML('page_div', pages, current, 'zwgklist',
    'shtml', records), and `var countPage = N` (pages named like the listing's own)."""
    create, count = _patterns()
    name = PurePosixPath(urlparse(url).path).name or "index.html"
    stem, _, suffix = name.partition(".")
    stem = re.sub(r"_\d+$", "", stem)
    pages = None
    match = create.search(text)
    if match:
        args = [a.strip() for a in match.group(1).split(",") if a.strip()]
        quoted = [a.strip("'\"") for a in args if a[:1] in "'\""]
        numbers = [int(a) for a in args if a.isdigit()]
        if numbers:
            if args[0][:1] in "'\"":          # Gansu: ('page_div', pages, current, stem, suffix, records)
                pages = numbers[0]
                quoted = quoted[1:]
            elif len(numbers) >= 3:           # (records, pages, current, stem, suffix)
                pages = numbers[1]
            else:                             # (pages, current, stem, suffix)
                pages = numbers[0]
        if quoted:
            stem = quoted[0]
            suffix = quoted[1] if len(quoted) > 1 else suffix
    else:
        match = count.search(text)
        if match:
            pages = int(match.group(1))
    if not pages:
        return []
    base = url.split("?")[0].rsplit("/", 1)[0] + "/"
    return [urljoin(base, f"{stem}.{suffix}" if n == 0 else f"{stem}_{n}.{suffix}")
            for n in range(min(pages, 1000))]


class TrsFamily(Family):
    name = "trs"

    def recognise(self, response, text):
        return bool(_patterns()[0].search(text) or _patterns()[1].search(text))

    def start(self, response, text):
        return static_links(text, response.url, trs_pages(text, response.url))
