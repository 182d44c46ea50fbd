"""Excel workbooks (.xlsx), as offices attach the report's tables: every sheet in order,
its used range as one grid (merged cells as the template prints them, each merged cell's
text once), rows merged across the whole grid (the title, a section heading) as lines of
text. Figures are read as the cells hold them: numbers stay numbers, with their decimals.
"""

from __future__ import annotations

import datetime
import io
import itertools
import warnings

from ..errors import ReportParseError
from ..limits import MAX_SHEET_CELLS
from ..metadata import extract_metadata
from ..rows import Extracted, Row, grid_rows
from .docx import check_zip


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    return str(value).strip()


def _sheet_grid(sheet) -> list[list[tuple[str, bool, bool]]]:
    """The used range as (text, continues left, continues up) positions."""
    rows, columns = sheet.max_row, sheet.max_column
    if rows * columns > MAX_SHEET_CELLS:
        raise ReportParseError(f"a sheet of {rows} × {columns} cells (limit {MAX_SHEET_CELLS:,}): "
                               "not a report's table", "xlsx")
    origin = {}
    for merged in sheet.merged_cells.ranges:
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                origin[r, c] = (merged.min_row, merged.min_col)
    values = {(cell.row, cell.column): cell.value for line in sheet.iter_rows() for cell in line
              if cell.value is not None}
    grid = []
    for r in range(1, rows + 1):
        line = []
        for c in range(1, columns + 1):
            start = origin.get((r, c), (r, c))
            line.append((_text(values.get(start)),
                         c > 1 and origin.get((r, c - 1), (r, c - 1)) == start,
                         r > 1 and origin.get((r - 1, c), (r - 1, c)) == start))
        grid.append(line)
    return grid


def _is_line(line) -> bool:
    """A row that is one text across the grid (a title, a heading), or empty."""
    texts = [text for text, left, up in line if not left and text]
    return len(texts) <= 1 and all(left or not text for text, left, _ in line[1:])


def read_xlsx(body: bytes) -> Extracted:
    check_zip(body, "xlsx")
    import openpyxl

    try:
        with warnings.catch_warnings():  # openpyxl warns of styles and validations it skips
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(body), data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a broken package
        raise ReportParseError(f"XLSX cannot be read: {error}".splitlines()[0], "xlsx") from None
    rows: list[Row] = []
    lines: list[str] = []
    blocks = 0
    for sheet in book.worksheets:
        # runs of table rows between the lines of text (titles, headings)
        for is_text, run in itertools.groupby(_sheet_grid(sheet), key=_is_line):
            run = list(run)
            if is_text:
                texts = [line[0][0] for line in run if line[0][0]]
                rows += [Row([text]) for text in texts]
                lines += texts
            else:
                rows.extend(grid_rows(run, blocks))
                blocks += 1
                lines += ["\t".join(text for text, left, _ in line if not left) for line in run]
    hints = [book.properties.title] if book.properties.title else []
    return Extracted("xlsx", rows, "\n".join(lines), extract_metadata(lines[:40]), hints)
