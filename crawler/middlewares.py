"""Downloader middlewares of the nianbao crawl.

`ConfinementMiddleware` keeps every request on its portal: the listing's site, or the
hosts its registry entry allows for files. Each redirect hop is a new request through
the middlewares, so a page or file that redirects elsewhere is refused at the hop.
"""

from __future__ import annotations

from urllib.parse import urlparse

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from .links import same_site

SCOPE = "nianbao_scope"


def scope(listing_url: str, file_hosts=()) -> dict:
    """What a listing's requests may reach: its site, and the registry's file hosts."""
    return {"site": listing_url, "hosts": [host.lower() for host in file_hosts]}


class OffsiteRequest(IgnoreRequest):
    """A request, or a redirect hop, that would leave the portal."""


class ConfinementMiddleware:
    """Refuse any request outside its listing's scope (`request.meta["nianbao_scope"]`).
    Requests without a scope are Scrapy's own (robots.txt) and pass."""

    def process_request(self, request: Request, spider=None):
        allowed = request.meta.get(SCOPE)
        if allowed is None or same_site(request.url, allowed["site"], tuple(allowed["hosts"])):
            return None
        hops = request.meta.get("redirect_urls") or []
        how = f"a redirect from {hops[-1]}" if hops else "a link"
        host = urlparse(request.url).hostname or request.url
        raise OffsiteRequest(
            f"offsite: {how} leads to {host}, outside the portal "
            f"({urlparse(allowed['site']).hostname}"
            + (f" and the file hosts {', '.join(allowed['hosts'])}" if allowed["hosts"] else "")
            + f"); not followed: {request.url}")
