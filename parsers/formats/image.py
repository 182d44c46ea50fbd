"""Tables pasted into a report page as pictures (screenshots of the Word or Excel
table): each image becomes a page of a PDF without text layer, read by the OCR that reads
scans (ruling lines → grid, tesseract → cells). Images come in page order, so a table
split across two images continues as a table broken by a page does.

A screenshot has no physical size: it is taken to be at screen resolution (96 dpi, so that
10.5 pt type, 14 pixels high, is read at the size OCR reads best), or finer where it is
wider than a page's text could be at that resolution (a scan pasted as a picture).
"""

from __future__ import annotations

import dataclasses

import pymupdf

from ..errors import ReportParseError
from ..limits import MAX_IMAGE_PIXELS, MAX_IMAGES
from ..rows import Extracted

SCREEN_DPI = 96
# inches of a page a table can span: wider images are finer than a screen
_TABLE_INCHES = 7.0
# JPEG start-of-frame markers (baseline, progressive …) that carry the size
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def pixel_size(body: bytes) -> tuple[int, int] | None:
    """(width, height) from the file's header, before anything is decoded."""
    if body.startswith(b"\x89PNG") and len(body) >= 24:
        return int.from_bytes(body[16:20], "big"), int.from_bytes(body[20:24], "big")
    if body.startswith(b"GIF") and len(body) >= 10:
        return int.from_bytes(body[6:8], "little"), int.from_bytes(body[8:10], "little")
    if body.startswith(b"BM") and len(body) >= 26:
        return (abs(int.from_bytes(body[18:22], "little", signed=True)),
                abs(int.from_bytes(body[22:26], "little", signed=True)))
    if body.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(body) and body[index] == 0xFF:
            marker, length = body[index + 1], int.from_bytes(body[index + 2:index + 4], "big")
            if marker in _JPEG_FRAMES:
                return (int.from_bytes(body[index + 7:index + 9], "big"),
                        int.from_bytes(body[index + 5:index + 7], "big"))
            index += 2 + length
    return None


def _as_pages(images: list[bytes], warnings: list[str]) -> pymupdf.Document:
    document = pymupdf.open()
    for number, body in enumerate(images[:MAX_IMAGES], 1):
        size = pixel_size(body)
        if not size or not all(size):
            warnings.append(f"image {number} is not a PNG, JPEG, GIF or BMP picture: left out")
            continue
        columns, rows = size
        if columns * rows > MAX_IMAGE_PIXELS:
            warnings.append(f"image {number} has {columns * rows:,} pixels "
                            f"(limit {MAX_IMAGE_PIXELS:,}): left out")
            continue
        dpi = max(SCREEN_DPI, columns / _TABLE_INCHES)
        page = document.new_page(width=columns * 72 / dpi, height=rows * 72 / dpi)
        try:
            page.insert_image(page.rect, stream=body)
        except Exception as error:  # MuPDF's own error types for broken images
            warnings.append(f"image {number} cannot be read: {error}")
            document.delete_page(-1)
    if len(images) > MAX_IMAGES:
        warnings.append(f"only the first {MAX_IMAGES} of {len(images)} images were read")
    return document


def read_images(images: list[bytes]) -> Extracted:
    """The tables (and any text) in the pictures, as rows; `ocr` is set."""
    from .ocr import read_scanned_pdf

    warnings: list[str] = []
    document = _as_pages(images, warnings)
    if document.page_count == 0:
        raise ReportParseError("none of the page's images could be read", "image")
    extracted = read_scanned_pdf(document, warnings)
    extracted.warnings = [w for w in extracted.warnings if "no text layer" not in w]
    extracted.warnings.append(f"the tables were read by OCR from {document.page_count} "
                              "image(s) in the page")
    return extracted


def with_pictured_tables(extracted: Extracted, images: list[bytes]) -> Extracted:
    """A page's rows with the tables its pictures hold, read after the page's own rows;
    a page whose HTML holds the tables is never OCR'd. A picture OCR cannot read leaves
    the page as it was, with a warning."""
    from ..tables import read_tables

    if not images or any(read_tables(extracted.rows).tables.values()):
        return extracted
    try:
        pictured = read_images(images)
    except ReportParseError as error:
        return dataclasses.replace(extracted, warnings=extracted.warnings + [str(error)])
    offset = 1 + max((row.block for row in extracted.rows if row.block is not None), default=-1)
    rows = extracted.rows + [dataclasses.replace(row, block=None if row.block is None else row.block + offset)
                             for row in pictured.rows]
    return dataclasses.replace(extracted, rows=rows, ocr=True,
                               warnings=extracted.warnings + pictured.warnings)
