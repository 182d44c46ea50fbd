"""Tables from ruling lines: the one way the parsers rebuild a printed table.

A PDF draws its tables as vector lines, a scan shows them as dark pixels; either way the
page gives horizontal and vertical segments and positioned text (characters or OCR'd
words). Rows are the bands between horizontal lines that vertical lines cross; columns are
the vertical lines' positions; a cell is the region of grid positions no drawn line
separates, so merged cells come out as the template prints them (see `rows.grid_rows`).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """A ruling line: `position` across it (y of a horizontal line), `start`-`end` along it."""

    position: float
    start: float
    end: float


@dataclass(frozen=True)
class Glyph:
    """A piece of text with its box: a character of a PDF, a word of an OCR'd page."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2


@dataclass
class Table:
    rows: list[float]       # y of each row edge, top to bottom
    columns: list[float]    # x of each column edge, left to right
    vertical: list[Segment]
    horizontal: list[Segment]
    snap: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.columns[0], self.rows[0], self.columns[-1], self.rows[-1]

    def contains(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self.box
        return x0 <= x <= x1 and y0 <= y <= y1

    def drawn_between_columns(self, row: int, edge: int) -> bool:
        """Is column edge `edge` drawn across row band `row`?"""
        top, bottom = self.rows[row], self.rows[row + 1]
        return edge == 0 or edge == len(self.columns) - 1 or any(
            abs(s.position - self.columns[edge]) <= self.snap
            and s.start <= top + self.snap and s.end >= bottom - self.snap for s in self.vertical)

    def drawn_between_rows(self, edge: int, column: int) -> bool:
        """Is row edge `edge` drawn across column `column`?"""
        left, right = self.columns[column], self.columns[column + 1]
        middle = (left + right) / 2
        return edge == 0 or edge == len(self.rows) - 1 or any(
            abs(s.position - self.rows[edge]) <= self.snap and s.start <= middle <= s.end
            for s in self.horizontal)


def ruling_segments(pieces, thin: float) -> tuple[list[Segment], list[Segment]]:
    """(horizontal, vertical) rules from straight pieces (x0, y0, x1, y1): a piece thinner
    than `thin` across and longer than it along; slanted pieces are no rules."""
    horizontal, vertical = [], []
    for x0, y0, x1, y1 in pieces:
        if abs(y1 - y0) <= thin and abs(x1 - x0) > thin:
            horizontal.append(Segment((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= thin and abs(y1 - y0) > thin:
            vertical.append(Segment((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    return horizontal, vertical


def join_segments(segments: list[Segment], snap: float) -> list[Segment]:
    """Collinear pieces that touch or overlap become one segment (cells drawn one by
    one); parallel lines a little apart that do not overlap stay two."""
    clusters: list[list[Segment]] = []
    for segment in sorted(segments, key=lambda s: s.position):
        if clusters and segment.position - clusters[-1][-1].position <= snap:
            clusters[-1].append(segment)
        else:
            clusters.append([segment])
    joined: list[Segment] = []
    for cluster in clusters:
        run: list[Segment] = []
        for segment in sorted(cluster, key=lambda s: s.start):
            if run and segment.start <= max(s.end for s in run) + snap:
                run.append(segment)
                continue
            if run:
                joined.append(_merged(run))
            run = [segment]
        joined.append(_merged(run))
    return joined


def _merged(run: list[Segment]) -> Segment:
    position = sorted(s.position for s in run)[len(run) // 2]
    return Segment(position, min(s.start for s in run), max(s.end for s in run))


def _edges(values: list[float], snap: float) -> list[float]:
    edges: list[float] = []
    for value in sorted(values):
        if not edges or value - edges[-1] > snap:
            edges.append(value)
    return edges


def find_tables(horizontal: list[Segment], vertical: list[Segment], snap: float,
                min_row_height: float) -> list[Table]:
    """The tables the ruling lines draw, top to bottom."""
    horizontal, vertical = join_segments(horizontal, snap), join_segments(vertical, snap)
    bands = []
    ys = _edges([s.position for s in horizontal], snap)
    # a table cut by a page break has no rule under its last row: its vertical lines
    # still end there
    ends = [y for s in vertical for y in (s.start, s.end)
            if all(abs(y - edge) >= min_row_height for edge in ys)]
    ys = _edges(ys + ends, snap)
    for top, bottom in zip(ys, ys[1:]):
        if bottom - top < min_row_height:
            continue
        crossing = [s for s in vertical
                    if s.start <= top + snap and s.end >= bottom - snap]
        if len(crossing) >= 2:
            bands.append((top, bottom, crossing))
    groups: list[list] = []
    for band in bands:
        if groups and abs(groups[-1][-1][1] - band[0]) <= snap:
            groups[-1].append(band)
        else:
            groups.append([band])
    tables = []
    for group in groups:
        rows = [group[0][0]] + [bottom for _, bottom, _ in group]
        lines = {s for _, _, crossing in group for s in crossing}
        columns = _edges([s.position for s in lines], snap)
        if len(columns) < 2:
            continue
        left, right = columns[0] - snap, columns[-1] + snap
        tables.append(Table(rows, columns, sorted(lines, key=lambda s: s.position),
                            [s for s in horizontal if s.end >= left and s.start <= right
                             and rows[0] - snap <= s.position <= rows[-1] + snap], snap))
    return tables


def text_lines(glyphs: list[Glyph]) -> list[list[Glyph]]:
    """Glyphs grouped into lines by their vertical overlap, top to bottom, left to right."""
    lines: list[list[Glyph]] = []
    for glyph in sorted(glyphs, key=lambda g: g.y0):
        middle = (glyph.y0 + glyph.y1) / 2
        for line in lines:
            if line[0].y0 <= middle <= line[0].y1:
                line.append(glyph)
                break
        else:
            lines.append([glyph])
    return [sorted(line, key=lambda g: g.x0) for line in lines]


def join_text(glyphs: list[Glyph]) -> str:
    """The text of glyphs in reading order; ASCII words keep a space between them."""
    text = ""
    for line in text_lines(glyphs):
        for glyph in line:
            piece = glyph.text
            if text and piece and text[-1].isascii() and text[-1].isalnum() \
                    and piece[0].isascii() and piece[0].isalnum() and len(piece) > 1:
                text += " "
            text += piece
        text += "\n"
    return text.strip()


def fill(table: Table, glyphs: list[Glyph]):
    """(grid, used, boxes): the table as a grid of (text, continues_left, continues_up);
    the indices of the glyphs it took; each cell's box, keyed by its top-left position.

    Every grid position belongs to a cell, a region no drawn line divides; the cell's
    text sits at its top-left position, repeated where it continues downwards (the
    convention of `rows.grid_rows`)."""
    height, width = len(table.rows) - 1, len(table.columns) - 1
    parent = list(range(height * width))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(height):
        for c in range(width):
            if c + 1 < width and not table.drawn_between_columns(r, c + 1):
                parent[find(r * width + c + 1)] = find(r * width + c)
            if r + 1 < height and not table.drawn_between_rows(r + 1, c):
                parent[find((r + 1) * width + c)] = find(r * width + c)
    contents: dict[int, list[Glyph]] = {}
    used: set[int] = set()
    for index, glyph in enumerate(glyphs):
        x, y = glyph.centre
        if not table.contains(x, y):
            continue
        # the last row (column) whose edge is above (left of) the centre: the edges are in order
        r = min(bisect_right(table.rows, y), height) - 1
        c = min(bisect_right(table.columns, x), width) - 1
        contents.setdefault(find(r * width + c), []).append(glyph)
        used.add(index)
    texts = {cell: join_text(items) for cell, items in contents.items()}
    grid = []
    extents: dict[int, list[int]] = {}  # cell -> [first row, first column, last row, last column]
    for r in range(height):
        line = []
        for c in range(width):
            cell = find(r * width + c)
            left = c > 0 and find(r * width + c - 1) == cell
            up = r > 0 and find((r - 1) * width + c) == cell
            line.append((texts.get(cell, ""), left, up))
            extent = extents.setdefault(cell, [r, c, r, c])
            extent[2], extent[3] = max(extent[2], r), max(extent[3], c)
        grid.append(line)
    boxes = {(r0, c0): (table.columns[c0], table.rows[r0], table.columns[c1 + 1], table.rows[r1 + 1])
             for r0, c0, r1, c1 in extents.values()}
    return grid, used, boxes
