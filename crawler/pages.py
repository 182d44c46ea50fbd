"""What a response is, read the same way whatever the portal declared: its text decoded
as the parsers decode it (UTF-8, GBK, GB2312, GB18030, declared right or wrongly), and
whether it is an anti-bot challenge or a soft 404 rather than the page asked for.

`crawler.middlewares.AnswerMiddleware` applies these to every answer once, as it arrives;
the functions stay usable on a response built from bytes (the tests' recorded pages)."""

from __future__ import annotations

from parsel import Selector
from scrapy.http import HtmlResponse, Response, TextResponse

from parsers.textdecode import decode

from .links import selectors


def header(response: Response, name: str) -> str | None:
    """A response header as text (headers are bytes, Latin-1 by HTTP's rules)."""
    value = response.headers.get(name)
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _decode(response: Response) -> tuple[str, str]:
    """(text, encoding) of a text answer, kept on its request so that it is done once."""
    cached = response.meta.get("nianbao_text") if response.request is not None else None
    if cached is not None:
        return cached
    content_type = response.headers.get("Content-Type", b"").decode("latin-1")
    cached = decode(response.body, content_type)
    if response.request is not None:
        response.meta["nianbao_text"] = cached
    return cached


def decoded(response: Response) -> Response:
    """A text answer re-typed in the encoding its bytes are in, so that Scrapy's own
    `.text` and selectors read it right. Scrapy trusts the Content-Type header; portals
    send GBK pages declared as UTF-8 and the reverse, so the bytes decide. Other answers
    (PDF, Word …) come back as they are."""
    if not is_html(response):
        return response
    _, encoding = _decode(response)
    return response.replace(cls=type(response) if isinstance(response, TextResponse) else HtmlResponse,
                            encoding=encoding)


def page_text(response: Response) -> str:
    """The body as text, in the encoding its bytes are in."""
    return _decode(response)[0]


def page_selector(response: Response) -> Selector:
    """The page, decoded as `page_text` decodes it, ready for CSS and XPath."""
    return Selector(text=page_text(response), base_url=response.url)


def is_html(response: Response) -> bool:
    head = response.body[:1024].lstrip().lower()
    return isinstance(response, TextResponse) or head.startswith((b"<!doctype", b"<html", b"<"))


def blocked_reason(response: Response) -> str | None:
    """Why the answer is an anti-bot challenge or captcha, or None when it is not one."""
    voc = selectors()["blocked"]
    # a challenge page is small and bare: a real page that mentions 验证码 has links
    bare = len(response.body) < 20000 and response.body.count(b"<a ") < 5
    if response.status not in voc["statuses"] and not bare:
        return None  # a file or a full page: nothing to read for markers
    head = response.body[:20000].decode("utf-8", "replace").lower()
    markers = [m for m in voc["markers"] if m.lower() in head]
    if response.status in voc["statuses"] or (markers and bare):
        what = {412: "a script challenge (瑞数-style, HTTP 412)", 521: "a cookie challenge (HTTP 521)",
                403: "access refused (HTTP 403)", 429: "rate limited (HTTP 429)"}.get(
            response.status, f"HTTP {response.status}")
        if response.status == 200:
            what = "a challenge or captcha page"
        detail = f"; markers: {', '.join(markers[:3])}" if markers else ""
        return f"blocked: {what}{detail}. Not crawled: the crawler does not try to defeat it"
    return None


def is_soft_404(response: Response) -> bool:
    """A 200 page that says the page is gone (short, and says so)."""
    if response.status != 200 or len(response.body) > 30000 or not is_html(response):
        return False
    text = page_text(response)
    return any(marker in text for marker in selectors()["soft_404"]["markers"])
