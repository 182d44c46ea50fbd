"""Parse 政府信息公开工作年度报告 into the report JSON of the contract.

    >>> import parsers
    >>> report = parsers.parse_report(open("report.pdf", "rb").read())
    >>> report["tables"]["applications"]["一"]["总计"]

`parse_report` is a pure function of its arguments: the same bytes give the same result.
It raises `ReportParseError`, and only that, for input it cannot read as a report. This
package never imports Scrapy.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ReportParseError
from .limits import MAX_INPUT_BYTES
from .sniff import sniff

# Bump when a change to the parsers can change their output: the archive records it, and
# `nianbao reparse` rebuilds what an older version produced.
PARSER_VERSION = "3"

__all__ = ["parse_report", "ReportParseError", "PARSER_VERSION"]


def parse_report(body: bytes, content_type: str | None = None, url: str | None = None,
                 images: Sequence[bytes] = ()) -> dict:
    """The report JSON for one file's bytes (HTML, PDF, OFD, DOCX, DOC, WPS, XLSX, XLS, RTF
    or text).

    `content_type` (the HTTP header) helps decode HTML and text; `url` only hints at WPS
    files. The format is sniffed from the bytes, never taken from either. `images`: the
    pictures in an HTML page's body, in page order; where the page's HTML holds no report
    tables, they are read by OCR for them (the result says `"ocr": true`).
    """
    from .report import build

    if len(body) > MAX_INPUT_BYTES:
        raise ReportParseError(f"the file is {len(body):,} bytes; the limit is {MAX_INPUT_BYTES:,}")
    kind = sniff(body, content_type, url)
    try:
        extracted = _read(kind, body, content_type)
        if images and kind == "html":
            from .formats.image import with_pictured_tables
            extracted = with_pictured_tables(extracted, list(images))
        return build(extracted, PARSER_VERSION)
    except ReportParseError:
        raise
    except RecursionError:
        raise ReportParseError(f"the {kind.upper()} file is nested too deeply to read", kind) from None
    except MemoryError:
        raise ReportParseError(f"the {kind.upper()} file needs more memory than allowed", kind) from None


def _read(kind: str, body: bytes, content_type: str | None):
    from .formats import BY_KIND

    return BY_KIND[kind].read(body, content_type, kind)
