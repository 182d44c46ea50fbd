"""The CMS families 年报 listings are built on, each recognised from the listing's own
response. A family reads a listing page (and the API answers it asks for) into report
links and further requests; it never fetches or parses a report.

    trs      static pages announced by createPageHTML / countPage (index_1.html …)
    hanweb   大汉 jpage: records inline in <datastore>, the rest POSTed from dataproxy.jsp
    gkmlpt   Guangdong's 政府信息公开目录 platform: JSON pages from /gkmlpt/api/all/{id}
    json     a list endpoint the listing's script calls with pageNo/pageSize
    plain    links on the page, "下一页"/page-number pagination, ?page=N, list_2.html
    browser  a list only a browser draws: rendered in Chromium, "下一页" clicked
"""

from __future__ import annotations

from .base import Family, ReportLink
from .browser import BrowserFamily
from .gkmlpt import GkmlptFamily
from .hanweb import HanwebFamily
from .jsonlist import JsonListFamily
from .plain import PlainFamily
from .trs import TrsFamily

# tried in this order; plain takes whatever the others do not
RECOGNISED = [GkmlptFamily(), HanwebFamily(), TrsFamily(), JsonListFamily(), PlainFamily()]
BROWSER = BrowserFamily()
FAMILIES = {family.name: family for family in RECOGNISED + [BROWSER]}


def recognise(response, text: str) -> Family:
    return next(family for family in RECOGNISED if family.recognise(response, text))


__all__ = ["Family", "ReportLink", "FAMILIES", "BROWSER", "recognise"]
