"""What a file is, from its bytes: the suffix and the server's content type are hints
that are often wrong (PDFs served as text/html, DOC files named .pdf)."""

from __future__ import annotations

import io
import re
import zipfile

from .errors import ReportParseError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|meta|table|div|p|title)[\s>/]", re.I)

KINDS = ("pdf", "docx", "doc", "wps", "rtf", "html", "text")


def sniff(body: bytes, content_type: str | None = None, url: str | None = None) -> str:
    """One of KINDS, or ReportParseError for what no reader takes."""
    if not body or not body.strip():
        raise ReportParseError("the file is empty")
    head = body[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if body.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise ReportParseError("the file is a truncated or corrupt zip (DOCX?) archive", "docx")
        if "word/document.xml" in names:
            return "docx"
        raise ReportParseError("the file is a zip archive without a Word document in it")
    if body.startswith(OLE_MAGIC):
        # Word 97 and Kingsoft WPS share the OLE container; LibreOffice reads both
        hint = (url or "").lower().split("?")[0]
        return "wps" if hint.endswith(".wps") else "doc"
    if body.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReportParseError("the file is binary data of no format the parsers read")
    if _HTML.search(body[:65536]):
        return "html"
    return "text"
