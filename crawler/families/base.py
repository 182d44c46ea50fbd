"""What every family shares: the report link it yields, and the static-page reading."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsel import Selector

from ..links import anchors, next_page_links, report_links, same_site


@dataclass
class ReportLink:
    """A report the listing links: where it is, and what the listing says about it."""

    url: str
    # metadata the listing gives, under the parsers' keys (标题, 发布时间, 索引号 …)
    hints: dict = field(default_factory=dict)
    # attachments the listing names (gkmlpt's `attachment`), URL -> name
    files: dict = field(default_factory=dict)


class Family:
    name = ""

    def recognise(self, response, text: str) -> bool:
        raise NotImplementedError

    def start(self, response, text: str):
        """Report links and requests from the listing's first page."""
        raise NotImplementedError

    def follow(self, response, text: str):
        """Report links and requests from a response to one of this family's requests."""
        return self.start(response, text)


_YEAR = re.compile(r"^(?:19|20)\d{2}\s*(?:年度?)?$")


def static_links(text: str, url: str, pages: list[str] = ()):
    """Report links of a static listing page, then its further pages. A page that lists
    no report but links one sub-column per year (Gansu's 年报 columns) yields those."""
    page = Selector(text=text, base_url=url)
    linked = 0
    for link, hints in report_links(page, url):
        linked += 1
        yield ReportLink(link, hints)
    for target in list(pages) + next_page_links(page, url):
        yield target
    if not linked:
        for _, target, anchor in anchors(page, url):
            label = "".join(anchor.css("::text").getall()).strip()
            if _YEAR.match(label) and same_site(target, url) and target != url:
                yield target
