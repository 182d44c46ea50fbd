"""Word 2007+ files: paragraphs and tables in body order, merged cells taken from the
underlying `w:tc` so that a merged cell is read once, not at every grid position."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from ..errors import ReportParseError
from ..limits import MAX_UNZIPPED_BYTES, MAX_ZIP_RATIO
from ..rows import Extracted, Row, grid_rows, merge_cell_runs
from ..metadata import extract_metadata


def check_zip(body: bytes, kind: str) -> zipfile.ZipFile:
    """Open a zip container, refusing zip bombs before anything is unpacked."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ReportParseError(f"{kind.upper()} is not a readable zip file: {error}", kind) from None
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED_BYTES:
        raise ReportParseError(
            f"{kind.upper()} would unpack to {total:,} bytes (limit {MAX_UNZIPPED_BYTES:,}): "
            "refused as a zip bomb", kind)
    for member in members:
        if member.compress_size and member.file_size / member.compress_size > MAX_ZIP_RATIO \
                and member.file_size > 1024 * 1024:
            raise ReportParseError(
                f"{kind.upper()} member {member.filename} is compressed "
                f"{member.file_size // member.compress_size}:1: refused as a zip bomb", kind)
    return archive


def _table_grid(table: Table) -> list[list[tuple[str, bool, bool]]]:
    grid = []
    above: list = []
    for row in table.rows:
        line, tcs = [], []
        for column, cell in enumerate(row.cells):
            continues_left = bool(tcs) and cell._tc is tcs[-1]
            continues_up = column < len(above) and cell._tc is above[column]
            line.append((cell.text.strip(), continues_left, continues_up))
            tcs.append(cell._tc)
        grid.append(line)
        above = tcs
    return grid


def _body_items(container):
    """w:p and w:tbl children in order, looking inside content controls."""
    for child in container.iterchildren():
        if child.tag in (qn("w:p"), qn("w:tbl")):
            yield child
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _body_items(content)


def read_docx(body: bytes) -> Extracted:
    check_zip(body, "docx")
    try:
        document = docx.Document(io.BytesIO(body))
    except Exception as error:  # python-docx raises many kinds on a broken package
        raise ReportParseError(f"DOCX cannot be read: {error}".splitlines()[0], "docx") from None
    rows: list[Row] = []
    lines: list[str] = []
    blocks = 0
    for item in _body_items(document.element.body):
        if item.tag == qn("w:p"):
            text = Paragraph(item, document).text
            if text.strip():
                rows.append(Row([text.strip()]))
                lines.append(text.strip())
        else:
            grid = _table_grid(Table(item, document))
            rows.extend(grid_rows(grid, blocks))
            blocks += 1
            for line in grid:
                cells = [text for text, left, _ in line if not left]
                lines.append("\t".join(cells))
    hints = [document.core_properties.title] if document.core_properties.title else []
    return Extracted("docx", merge_cell_runs(rows), "\n".join(lines),
                     extract_metadata(lines[:40]), hints)
