"""Bytes to text for HTML and plain text, for pages served in UTF-8, GBK, GB2312 or
GB18030, declared in the header, in a meta tag, or wrongly."""

from __future__ import annotations

import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
# every Chinese legacy encoding is read as its superset, so that characters outside
# GB2312 printed by a page that declares gb2312 still decode
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
             "cp936": "gb18030", "gb18030": "gb18030", "euc-cn": "gb18030",
             # error pages declare Latin-1 over Chinese bytes; no report is in Latin-1
             "iso-8859-1": "gb18030", "latin-1": "gb18030", "latin1": "gb18030",
             "windows-1252": "gb18030", "us-ascii": "gb18030", "ascii": "gb18030"}


def _candidates(body: bytes, content_type: str | None) -> list[str]:
    names = []
    if body.startswith(b"\xef\xbb\xbf"):
        names.append("utf-8-sig")
    elif body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        names.append("utf-16")
    # bytes that are valid UTF-8 are UTF-8 whatever the page declares: GBK text
    # almost never is, while UTF-8 read as GBK decodes "cleanly" into mojibake
    names.append("utf-8")
    match = _HEADER_CHARSET.search(content_type or "")
    if match:
        names.append(match.group(1))
    match = _META_CHARSET.search(body[:4096])
    if match:
        names.append(match.group(1).decode("ascii"))
    names.append("gb18030")
    return [_SUPERSET.get(n.lower(), n.lower()) for n in names]


def decode(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, encoding used). An encoding that fails to decode the bytes cleanly is
    passed over for the next: servers often declare one and send another."""
    for name in dict.fromkeys(_candidates(body, content_type)):
        try:
            return body.decode(name), name
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("gb18030", errors="replace"), "gb18030"
