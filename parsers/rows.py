"""The common shape every format is read into before its tables are interpreted.

A document becomes a list of `Row`s in reading order: a table row is its cells (merged
cells as the template prints them, see `grid`), a paragraph or a line outside a table is
a one-cell row. The interpreter in `tables` never needs to know which format a row
came from, only whether it sits in a real grid (`block`), where column positions mean
something, or in running text, where they do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .grid import Glyph, Table, join_text, text_lines
from .vocabulary import is_blank_mark, parse_number


@dataclass
class Row:
    cells: list[str]
    # id of the table grid the row belongs to; None for running text
    block: int | None = None
    # positions that only continue a cell merged across from the left: not cells of
    # their own (a DOC saved by Word or LibreOffice may split one column into two)
    merged: frozenset[int] = frozenset()


@dataclass
class Extracted:
    """What a format reader hands to `report.build`."""

    format: str
    rows: list[Row]
    text: str
    metadata: dict = field(default_factory=dict)
    # titles the container names (HTML <title>, meta ArticleTitle, PDF /Title), best first
    title_hints: list[str] = field(default_factory=list)
    ocr: bool = False
    warnings: list[str] = field(default_factory=list)


def is_value(cell: str) -> bool:
    """A cell that holds a figure or a blank mark, as opposed to a label."""
    return bool(cell.strip()) and (parse_number(cell) is not None or is_blank_mark(cell))


def grid_rows(grid: list[list[tuple[str, bool, bool]]], block: int) -> list[Row]:
    """Rows from a grid of (text, continues_left, continues_up) positions.

    Merged cells are laid out as the template prints them: a label merged down over
    several rows is repeated on each (so every row carries its group, such as
    （三）不予公开); anything merged across columns, and a figure merged down, appears
    once, so that no figure is ever counted twice.
    """
    rows = []
    for line in grid:
        cells, merged = [], set()
        for position, (text, continues_left, continues_up) in enumerate(line):
            if continues_left:
                merged.add(position)
            cells.append("" if continues_left or (continues_up and is_value(text)) else text)
        rows.append(Row(cells, block, frozenset(merged)))
    return rows


def page_rows(tables: list[Table], grids: list, loose: list[Glyph], block_base: int) -> list[Row]:
    """A page in reading order: each table's rows (`grids`, as `grid.fill` gives them) and
    the lines of the text outside its tables, by their top edge."""
    placed: list[tuple[float, int, Row]] = []
    for number, (table, grid) in enumerate(zip(tables, grids)):
        for index, row in enumerate(grid_rows(grid, block_base + number)):
            placed.append((table.rows[0], index, row))
    for line in text_lines(loose):
        placed.append((min(g.y0 for g in line), 0, Row([join_text(line)])))
    placed.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in placed]


def merge_cell_runs(rows: list[Row]) -> list[Row]:
    """Join runs of one-cell text rows into table rows: labels, then their figures.

    Pages that print a table one cell per line (a flattened HTML table, text copied
    out of a PDF) become `规章 0 0 0` rows again.
    """
    merged: list[Row] = []
    run: list[str] = []
    seen_value = False

    def flush():
        nonlocal run, seen_value
        if run:
            merged.append(Row(run))
        run, seen_value = [], False

    for row in rows:
        cells = [c for c in row.cells if c.strip()]
        if row.block is not None or len(cells) != 1:
            flush()
            merged.append(row)
            continue
        value = is_value(cells[0])
        if seen_value and not value:
            flush()
        run.append(cells[0])
        seen_value = seen_value or value
    flush()
    return merged


def text_rows(text: str) -> list[Row]:
    """Rows from plain text in the forms reports are copied out as.

    - tab-separated rows, one per line (text copied from a PDF or a spreadsheet);
    - one cell per line, each line starting with a tab, rows separated by blank lines
      (Word tables saved as text); a line without the tab continues the cell above;
    - one cell per line with nothing to mark rows (a flattened HTML table).
    """
    lines = text.splitlines()
    rows: list[Row] = []
    block: list[str] | None = None  # cells of a tab-indented row being read

    def close_block():
        nonlocal block
        if block:
            rows.append(Row(block))
        block = None

    for line in lines:
        stripped = line.strip()
        if not stripped:
            close_block()
            continue
        parts = [part.strip() for part in line.split("\t")]
        filled = [part for part in parts if part]
        if line.startswith("\t") and len(filled) == 1 and len(parts) == 2:
            # one tab-indented cell: part of a row read down the page
            block = (block or []) + [filled[0]]
        elif block is not None and "\t" not in line:
            block[-1] += stripped  # a cell's text wrapped onto the next line
        elif len(filled) > 1 or (len(parts) > 1 and filled):
            close_block()
            rows.append(Row(parts))
        else:
            close_block()
            rows.append(Row([stripped]))
    close_block()
    return merge_cell_runs(rows)
