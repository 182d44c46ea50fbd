"""What a file is, from its bytes: the suffix and the server's content type are hints
that are often wrong (PDFs served as text/html, DOC files named .pdf). The recognisers
are the formats' own (`parsers/formats/__init__.py`)."""

from __future__ import annotations

from .errors import ReportParseError
from .formats import FORMATS, IMAGE_MAGIC, READABLE, Probe

KINDS = READABLE


def sniff(body: bytes, content_type: str | None = None, url: str | None = None) -> str:
    """One of KINDS, or ReportParseError for what no reader takes."""
    if not body or not body.strip():
        raise ReportParseError("the file is empty")
    probe = Probe(body, url)
    for fmt in FORMATS:
        if fmt.read and fmt.recognise(probe):
            return fmt.kind
    if probe.zipped:
        raise ReportParseError("the file is a zip archive with no Word document, Excel "
                               "workbook or OFD document in it")
    if body.startswith(IMAGE_MAGIC):
        raise ReportParseError("the file is a picture: pictures are read with the page that "
                               "shows them (parse_report(page, images=[…]))")
    raise ReportParseError("the file is binary data of no format the parsers read")
