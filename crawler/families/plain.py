"""Static listings with plain pagination: "下一页"/"尾页" and page-number links, ?page=N,
list_2.html. Whatever no other family recognises."""

from __future__ import annotations

from .base import Family, static_links


class PlainFamily(Family):
    name = "plain"

    def recognise(self, response, text):
        return True

    def start(self, response, text):
        return static_links(text, response.url)
