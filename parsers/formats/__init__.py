"""The file formats reports come in, each declared once: what it is called in the archive
(`kind`), how it is recognised from its bytes, the suffixes and media types that name it,
which one to trust when two files of a report give as many cells (`rank`), and its reader
(bytes in, `rows.Extracted` out, in the module of the same name). The sniffer, the
parser's dispatch, the crawler's attachment links and kinds, the archive's served media
types and the report assembly all read this list: a new format is one entry here and its
reader module.

Formats without a reader are still captured byte for byte (the crawler downloads them and
the archive serves them); the parser says it cannot read them.
"""

from __future__ import annotations

import functools
import importlib
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Callable

from ..errors import ReportParseError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_HTML = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|meta|table|div|p|title)[\s>/]", re.I)


class Probe:
    """A file's bytes as the recognisers look at them (its zip listing read once)."""

    def __init__(self, body: bytes, url: str | None):
        self.body, self.head = body, body[:1024]
        self.url = (url or "").lower().split("?")[0]

    @property
    def zipped(self) -> bool:
        return self.body.startswith(b"PK\x03\x04")

    @functools.cached_property
    def zip_names(self) -> set[str]:
        try:
            return set(zipfile.ZipFile(io.BytesIO(self.body)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise ReportParseError("the file is a truncated or corrupt zip archive (DOCX, XLSX or OFD?)", "docx")

    @property
    def ole(self) -> bool:
        return self.body.startswith(OLE_MAGIC)

    @property
    def binary(self) -> bool:
        return b"\x00" in self.head and not self.head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _read(module: str, function: str, *arguments: str) -> Callable:
    """A reader, imported when first used: `arguments` names what it takes beside the
    bytes (content_type, kind)."""
    def read(body: bytes, content_type: str | None, kind: str):
        reader = getattr(importlib.import_module(f".{module}", __name__), function)
        given = {"content_type": content_type, "kind": kind}
        return reader(body, *(given[name] for name in arguments))
    return read


@dataclass(frozen=True)
class Format:
    kind: str
    suffixes: tuple[str, ...]
    media_types: tuple[str, ...] = ()
    rank: int = 0
    recognise: Callable[[Probe], bool] | None = None
    read: Callable | None = None


# in the order the recognisers are tried
FORMATS = (
    Format("pdf", ("pdf",), ("application/pdf",), rank=1,
           recognise=lambda p: b"%PDF-" in p.head, read=_read("pdf", "read_pdf")),
    Format("docx", ("docx",),
           ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",), rank=4,
           recognise=lambda p: p.zipped and "word/document.xml" in p.zip_names,
           read=_read("docx", "read_docx")),
    # Excel 97 (.xls) shares the OLE container with Word 97: its directory names a Workbook
    # stream (UTF-16); LibreOffice Calc turns it into .xlsx, read as such
    Format("xls", ("xls",), ("application/vnd.ms-excel",), rank=3,
           recognise=lambda p: p.ole and "Workbook".encode("utf-16-le") in p.body,
           read=_read("office", "read_spreadsheet", "kind")),
    # Kingsoft WPS and Word 97 share the OLE container (LibreOffice reads both); only the
    # name tells them apart
    Format("wps", ("wps",), ("application/kswps", "application/vnd.ms-works"), rank=3,
           recognise=lambda p: p.ole and p.url.endswith(".wps"),
           read=_read("office", "read_legacy", "kind")),
    Format("doc", ("doc",), ("application/msword",), rank=3,
           recognise=lambda p: p.ole, read=_read("office", "read_legacy", "kind")),
    Format("rtf", ("rtf",), ("application/rtf", "text/rtf"), rank=3,
           recognise=lambda p: p.body.lstrip().startswith(b"{\\rtf"),
           read=_read("office", "read_legacy", "kind")),
    Format("html", ("html", "htm", "shtml"), ("text/html", "application/xhtml+xml"), rank=5,
           recognise=lambda p: not p.binary and bool(_HTML.search(p.body[:65536])),
           read=_read("html", "read_html", "content_type")),
    Format("text", ("txt",), ("text/plain",), rank=2,
           recognise=lambda p: not p.binary and not p.zipped,
           read=_read("text", "read_text", "content_type")),
    # a picture in a report page (its tables as a screenshot): read with its page, by OCR,
    # never alone (`parse_report(images=…)`)
    Format("image", ("png", "jpg", "jpeg", "gif", "bmp"),
           ("image/png", "image/jpeg", "image/gif", "image/bmp"), rank=0,
           recognise=lambda p: p.body.startswith(IMAGE_MAGIC)),
    # GB/T 33190 fixed layout: a zip whose root names the document in OFD.xml
    Format("ofd", ("ofd",), ("application/ofd",), rank=2,
           recognise=lambda p: p.zipped and "OFD.xml" in p.zip_names,
           read=_read("ofd", "read_ofd")),
    Format("xlsx", ("xlsx",), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
           rank=4, recognise=lambda p: p.zipped and "xl/workbook.xml" in p.zip_names,
           read=_read("xlsx", "read_xlsx")),
    # captured and served, not read
    Format("et", ("et",), ("application/kset",)),
    Format("zip", ("zip",), ("application/zip",)),
    Format("rar", ("rar",), ("application/vnd.rar", "application/x-rar-compressed")),
    Format("7z", ("7z",), ("application/x-7z-compressed",)),
)
BY_KIND = {fmt.kind: fmt for fmt in FORMATS}
# every kind the parsers read
READABLE = tuple(fmt.kind for fmt in FORMATS if fmt.read)


def by_suffix(suffix: str) -> Format | None:
    """The format a file name's suffix (without the dot) names."""
    suffix = suffix.lower()
    return next((fmt for fmt in FORMATS if suffix in fmt.suffixes), None)


def by_media_type(media_type: str) -> Format | None:
    """The format a server's Content-Type (parameters allowed) names."""
    media_type = media_type.split(";")[0].strip().lower()
    return next((fmt for fmt in FORMATS if media_type in fmt.media_types), None)


def attachment_suffixes() -> tuple[str, ...]:
    """Suffixes of the files a report page links as attachments: every format but pages
    and the pictures in them."""
    return tuple(suffix for fmt in FORMATS if fmt.kind not in ("html", "text", "image")
                 for suffix in fmt.suffixes)
