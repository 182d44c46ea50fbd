"""Plain text, in the forms reports are copied out as (see `rows.text_rows`)."""

from __future__ import annotations

from ..limits import MAX_TEXT_CHARS
from ..metadata import extract_metadata
from ..rows import Extracted, text_rows
from ..textdecode import decode


def read_text(body: bytes, content_type: str | None = None) -> Extracted:
    text, _ = decode(body, content_type)
    text = text[:MAX_TEXT_CHARS]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return Extracted("text", text_rows(text), text.strip(), extract_metadata(lines[:60]))
