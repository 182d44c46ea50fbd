"""Read the report's three template tables out of rows of cells.

The reader walks the rows once, in reading order, as a person reads the printed tables:
a label names a table (第二十条…, 申请人情况, 行政复议…), a row (规章, 1.属于国家秘密) or a
column (本年制发件数); the figures that follow a row label belong to it. Rows are found
by their labels, never by their position, so wrapped labels, page breaks, repeated
headers, spacer rows and tables flattened to one cell per line all read the same way.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field

from .limits import MAX_FIGURE, SIGNED_COLUMNS
from .rows import Row, is_value
from .template import (active_columns_by_template, application_columns, application_figure_rows,
                       review_columns, review_groups)
from .vocabulary import (header_unit, is_blank_mark, normalize, parse_number, strip_numbering,
                         unit_of, vocabulary)

ACTIVE, APPLICATIONS, REVIEW = "active_disclosure", "applications", "review_litigation"
# labels longer than this are running text, not table labels
MAX_LABEL_CHARS = 60


@dataclass
class TablesResult:
    tables: dict
    template: str | None
    warnings: list[str] = field(default_factory=list)
    # table -> row -> column -> the unit printed in the cell or its header (元, 万元, 件 …)
    units: dict = field(default_factory=dict)


# --- vocabulary, prepared once ----------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _v() -> dict:
    voc = vocabulary()
    active, apps, review = voc["active_disclosure"], voc["applications"], voc["review_litigation"]
    column_labels = sorted(
        ((normalize(label), key, spec["template"]) for key, spec in active["columns"].items()
         for label in spec["labels"]),
        key=lambda t: len(t[0]), reverse=True)
    return {
        "markers": [(normalize(m), table) for table, words in (
            (ACTIVE, active["markers"]), (APPLICATIONS, apps["markers"]),
            (REVIEW, review["markers"])) for m in words],
        "active_rows": {normalize(label): key for key, labels in active["rows"].items()
                        for label in labels},
        "active_columns": column_labels,
        "active_header_markers": set(active["header_markers"]),
        # per template, each row's columns, in the template's order (parsers/template.yaml)
        "active_defaults": active_columns_by_template(),
        "active_order": list(dict.fromkeys(row for rows in active_columns_by_template().values()
                                           for row in rows)),
        "apps_columns": application_columns(),
        # header cells: a row printing one of these is (part of) the table's header
        "apps_header_words": {normalize(w) for w in apps["header_words"]},
        "apps_groups": [(normalize(w), key) for key, words in apps["groups"].items() for w in words],
        "apps_rows": [
            (spec["key"], [normalize(w) for w in spec.get("contains", [])],
             [normalize(w) for w in spec.get("equals", [])], spec.get("group"))
            for spec in apps["rows"]],
        "review_groups": sorted(((normalize(w), key) for key, words in review["groups"].items()
                                 for w in words), key=lambda t: len(t[0]), reverse=True),
        "review_group_order": review_groups(),
        "review_columns": review_columns(),
        "review_column_labels": {normalize(c) for c in review_columns()},
        # the review table's one row of figures: every group's columns
        "review_width": len(review_groups()) * len(review_columns()),
    }


def application_row_order() -> list[str]:
    """Row keys of the applications table that carry figures, in template order."""
    return application_figure_rows()


# --- the reader -----------------------------------------------------------------------


@dataclass
class _Pending:
    table: str
    key: str
    columns: list[str] | None  # None: an active_disclosure row with no header seen


@dataclass
class _Keyed:
    """An applications row read under its label."""

    key: str


@dataclass
class _Orphan:
    """Figures of a grid row whose label did not match: a row split by a page break (its
    label finished on the next page: `adopt_orphan`), or a label nobody can read
    (`place_by_position`)."""

    cells: list[str]
    row: Row
    first: int
    labels: str
    table: str
    adopted: bool = False


@dataclass
class _ActiveEntry:
    """An active_disclosure row: its figures wait until the template is known."""

    key: str
    columns: list[str] | None
    cells: list[str]
    row: Row
    first: int


class _Reader:
    def __init__(self, rows: list[Row]):
        self.rows = rows
        self.v = _v()
        self.table: str | None = None
        self.pending: _Pending | None = None
        self.columns: list[str] = []          # current active_disclosure header
        self.last_was_column = False
        self.templates_seen: Counter = Counter()
        self.group: str | None = None         # current applications group (三.三 …)
        self.review_header = False
        self.review_values: list[str] = []
        self.review_rows: dict[str, list[str]] = {}
        self.active_entries: list[_ActiveEntry] = []
        self.orphan: _Orphan | None = None
        # applications rows in reading order
        self.sequence: list[_Keyed | _Orphan] = []
        self.row_is_header = False
        self.apps: dict[str, dict] = {}
        self.warnings: list[str] = []
        self.rows_named: Counter = Counter()  # row labels matched, per table
        self.block_value_start = _block_value_starts(rows)
        self.units: dict[str, dict] = {}
        self.header_units: dict[str, str] = {}  # active_disclosure column -> its header's unit

    # labels ---------------------------------------------------------------------------

    def label(self, text: str, joined: str) -> None:
        norm = normalize(text)
        if not norm or len(norm) > MAX_LABEL_CHARS:
            return
        bare = strip_numbering(norm)
        for marker, table in self.v["markers"]:
            if marker in norm:
                self.switch(table, reset_columns=marker in self.v["active_header_markers"])
                break
        if self.table == ACTIVE:
            self.active_label(norm, bare)
        elif self.table == APPLICATIONS:
            self.applications_label(norm, bare, joined)
        elif self.table == REVIEW:
            self.review_label(norm, bare)

    def switch(self, table: str, reset_columns: bool) -> None:
        if table != self.table:
            self.pending = None
            self.orphan = None
        self.table = table
        if reset_columns:
            self.columns, self.last_was_column = [], False

    def active_label(self, norm: str, bare: str) -> None:
        key = self.v["active_rows"].get(bare) or self.v["active_rows"].get(norm)
        if key:
            self.rows_named[ACTIVE] += 1
            self.pending = _Pending(ACTIVE, key, list(self.columns) or None)
            self.last_was_column = False
            return
        for label, column, template in self.v["active_columns"]:
            if norm.startswith(label):
                if not self.last_was_column:
                    self.columns = []
                if column not in self.columns:
                    self.columns.append(column)
                unit = header_unit(norm)
                if unit:
                    self.header_units[column] = unit
                self.templates_seen[template] += 1
                self.last_was_column = True
                self.pending = None
                return

    def applications_label(self, norm: str, bare: str, joined: str) -> None:
        if bare in self.v["apps_header_words"]:
            self.row_is_header, self.pending = True, None
            return
        for word, group in self.v["apps_groups"]:
            if word in norm or word in joined:
                self.group = group
        key = self.applications_key(norm, bare)
        if key:
            self.rows_named[APPLICATIONS] += 1
            self.pending = _Pending(APPLICATIONS, key, self.v["apps_columns"])

    def applications_key(self, norm: str, bare: str) -> str | None:
        for key, contains, equals, group in self.v["apps_rows"]:
            if group and group != self.group:
                continue
            if any(w in norm for w in contains):
                return key
            # 总计 and 其他 alone are row labels only outside the header
            if bare in equals and not self.row_is_header:
                return key
        return None

    def review_label(self, norm: str, bare: str) -> None:
        if bare in self.v["review_column_labels"]:
            self.review_header = True
            self.rows_named[REVIEW] += 1
        for word, group in self.v["review_groups"]:
            if norm == word or bare == word:
                self.pending = _Pending(REVIEW, group, self.v["review_columns"])
                return
        self.pending = None

    # figures --------------------------------------------------------------------------

    def values(self, cells: list[str], row: Row, first: int, labels: str = "") -> None:
        pending, self.pending = self.pending, None
        self.last_was_column = False
        self.orphan = None
        if pending is None and row.block is not None and self.table in (ACTIVE, APPLICATIONS):
            self.orphan = _Orphan(cells, row, first, labels, self.table)
            if self.table == APPLICATIONS:
                self.sequence.append(self.orphan)
        elif pending and pending.table == ACTIVE:
            self.active_entries.append(_ActiveEntry(pending.key, pending.columns, cells, row, first))
        elif pending and pending.table == APPLICATIONS:
            figures = self.assign(cells, len(pending.columns), row, first, pending.key)
            if figures is not None:
                self.store(self.apps, pending.key, dict(zip(pending.columns, figures)),
                           APPLICATIONS)
                self.sequence.append(_Keyed(pending.key))
        elif self.table == REVIEW and pending and sum(1 for c in cells if c) == len(self.v["review_columns"]):
            # a review table printed one group per row
            self.review_rows[pending.key] = [c for c in cells if c]
        elif self.table == REVIEW and self.review_header and len(self.review_values) < self.v["review_width"]:
            if row.block is None:
                self.review_values.extend(c for c in cells if c)
            elif len(cells) == self.v["review_width"]:  # the whole grid row: its blanks stay in place
                self.review_values.extend(cells)
            else:
                self.review_values.extend(_trim_blank_ends(cells))

    def adopt_orphan(self, labels: str) -> None:
        """A grid row with labels and no figures, right after a row with figures and no
        matching label: the two are one row split by a page break."""
        if not self.orphan or self.row_is_header:
            return
        orphan = self.orphan
        if orphan.table != self.table:
            return  # a row of another table cannot finish it
        if self.pending is None and self.table == APPLICATIONS:
            joined = orphan.labels + labels
            key = self.applications_key(joined, strip_numbering(joined))
            if key:
                self.pending = _Pending(APPLICATIONS, key, self.v["apps_columns"])
        if self.pending:
            orphan.adopted = True
            self.values(orphan.cells, orphan.row, orphan.first)

    def place_by_position(self) -> None:
        """Applications rows whose figures came without a readable label (an OCR
        misreading, a typo outside the vocabulary) take the template rows missing between
        their neighbours, in order, when as many are missing as there are such rows."""
        order = application_row_order()

        def unplaced(entry) -> bool:
            return isinstance(entry, _Orphan) and not entry.adopted

        keyed = [i for i, entry in enumerate(self.sequence) if isinstance(entry, _Keyed)]
        for index, entry in enumerate(self.sequence):
            if not unplaced(entry):
                continue
            before = max((i for i in keyed if i < index), default=None)
            after = min((i for i in keyed if i > index), default=None)
            span = self.sequence[(before + 1 if before is not None else 0):after]
            orphans = [e for e in span if unplaced(e)]
            # before the first readable row and after the last, the template's ends bound
            low = order.index(self.sequence[before].key) if before is not None else -1
            high = order.index(self.sequence[after].key) if after is not None else len(order)
            missing = [k for k in order[low + 1:high] if k not in self.apps and self._printable(k)]
            # 其他处理 is one row or three: whichever form leaves as many rows as are unread
            forms = [missing, [k for k in missing if not k.startswith("三.六.")],
                     [k for k in missing if k != "三.六"]]
            missing = next((form for form in forms if len(form) == len(orphans)), None)
            if missing is None:
                continue
            key = missing[orphans.index(entry)]
            figures = self.assign(entry.cells, len(self.v["apps_columns"]), entry.row, entry.first, key)
            if figures is not None:
                self.store(self.apps, key, dict(zip(self.v["apps_columns"], figures)), APPLICATIONS)
                entry.adopted = True  # placed: not counted again for the rows after it
                self.warnings.append(
                    f"{APPLICATIONS} {key}: its label could not be read; placed by its position "
                    f"after {self.sequence[before].key if before is not None else 'the header'}")

    def _printable(self, key: str) -> bool:
        """三.六 and its sub-rows are two forms of one row: a report prints one of them."""
        if key == "三.六":
            return not any(k.startswith("三.六.") for k in self.apps)
        if key.startswith("三.六."):
            return "三.六" not in self.apps
        return True

    def assign(self, cells: list[str], expected: int, row: Row, first: int, key: str):
        """The `expected` cells of a row's figures, or None when they cannot be placed."""
        filled = [c for c in cells if c]
        if len(filled) == expected:
            return filled
        start = self.block_value_start.get(row.block)
        if start is not None and start >= first:
            own = [c for i, c in enumerate(row.cells) if i >= start and i not in row.merged]
            if len(own) >= expected:
                return own[:expected]
        if len(filled) > expected:
            self.warnings.append(
                f"{key}: {len(filled)} cells under {expected} columns; the extra "
                f"{len(filled) - expected} at the end were left out")
            return filled[:expected]
        self.warnings.append(
            f"{key}: {len(filled)} cells for {expected} columns; the row was left out "
            "because its cells cannot be placed")
        return None

    def store(self, table: dict, key: str, figures: dict, name: str) -> None:
        cells = {}
        for column, cell in figures.items():
            number = parse_number(cell) if cell else None
            if number is None:
                shown = cell or "blank"
                if not is_blank_mark(cell) and cell:
                    shown = f"unreadable {cell!r}"
                self.warnings.append(f"{name} {key} {column}: {shown} cell left out")
                continue
            if abs(number) > MAX_FIGURE or (number < 0 and column not in SIGNED_COLUMNS):
                self.warnings.append(f"{name} {key} {column}: {cell!r} is not a figure a report "
                                     "can hold; cell left out")
                continue
            cells[column] = number
            unit = unit_of(cell) or (self.header_units.get(column) if name == ACTIVE else None)
            if unit and unit != "%":
                self.units.setdefault(name, {}).setdefault(key, {})[column] = unit
        if key in table:
            if table[key] != cells:
                self.warnings.append(f"{name} {key}: printed twice with different figures; "
                                     "the first was kept")
            return
        table[key] = cells

    # the walk -------------------------------------------------------------------------

    def read(self) -> TablesResult:
        for row in self.rows:
            cells = [c.strip() for c in row.cells]
            labels = [i for i, c in enumerate(cells)
                      if c and not is_value(c) and i not in row.merged]
            last = labels[-1] if labels else -1
            joined = ""
            self.row_is_header = False
            for i in labels:
                joined += normalize(cells[i])
                self.label(cells[i], joined[-MAX_LABEL_CHARS:])
            figures = [c for i, c in enumerate(cells) if i > last and i not in row.merged]
            if any(figures):
                self.values(figures, row, last + 1, joined)
            elif labels and row.block is not None:
                self.adopt_orphan(joined)
        return self.finish()

    def finish(self) -> TablesResult:
        self.place_by_position()
        template = self.decide_template()
        active: dict[str, dict] = {}
        defaults = self.v["active_defaults"].get(template or "2019", {})
        for entry in self.active_entries:
            columns = entry.columns or defaults.get(entry.key)
            default = defaults.get(entry.key) or []
            filled = sum(1 for c in entry.cells if c)
            if len(columns or []) < len(default) == filled and set(columns or []) <= set(default):
                # a header read in part (an OCR misreading): the template's columns, as
                # many as the row's figures
                columns = default
            if not columns:
                self.warnings.append(f"{ACTIVE} {entry.key}: no columns known for this row; left out")
                continue
            figures = self.assign(entry.cells, len(columns), entry.row, entry.first, entry.key)
            if figures is not None:
                self.store(active, entry.key, dict(zip(columns, figures)), ACTIVE)
        tables = {
            ACTIVE: {k: active[k] for k in self.v["active_order"] if k in active},
            APPLICATIONS: {k: self.apps[k] for k in application_row_order() if k in self.apps},
            REVIEW: self.review_table(),
        }
        for name in (ACTIVE, APPLICATIONS, REVIEW):
            if not tables[name]:
                self.warnings.append(f"{name}: the table prints no figures" if self.rows_named[name]
                                     else f"{name}: table not found")
        return TablesResult({k: v for k, v in tables.items()}, template, self.warnings, self.units)

    def decide_template(self) -> str | None:
        if self.templates_seen:
            if self.templates_seen["2021"] and self.templates_seen["2019"]:
                self.warnings.append("active_disclosure: columns of both templates printed; "
                                     "taken as the 2021 template")
            return "2021" if self.templates_seen["2021"] else "2019"
        # no header printed: the rows' shape tells (parsers/template.yaml): a row only one
        # template has, else a row the templates print with different numbers of figures
        shapes = self.v["active_defaults"]
        keys = {entry.key for entry in self.active_entries}
        for name, rows in shapes.items():
            elsewhere = {row for other, its in shapes.items() if other != name for row in its}
            if keys & (set(rows) - elsewhere):
                return name
        for entry in self.active_entries:
            counts = {name: len(rows[entry.key]) for name, rows in shapes.items() if entry.key in rows}
            if len(set(counts.values())) > 1:
                filled = sum(1 for c in entry.cells if c)
                exact = [name for name, count in counts.items() if count == filled]
                return exact[0] if len(exact) == 1 else max(counts, key=counts.get)
        return None

    def review_table(self) -> dict:
        columns, groups = self.v["review_columns"], self.v["review_group_order"]
        result: dict[str, dict] = {}
        if self.review_values:
            values, width = self.review_values, self.v["review_width"]
            if len(values) > width:
                self.warnings.append(f"{REVIEW}: {len(values)} cells under {width} headers; "
                                     "the extra at the end were left out")
            elif len(values) < width:
                self.warnings.append(f"{REVIEW}: {len(values)} cells for {width} columns; "
                                     "the missing ones at the end were left out")
            size = len(columns)
            for index, group in enumerate(groups):
                chunk = values[index * size:(index + 1) * size]
                if chunk:
                    self.store(result, group, dict(zip(columns, chunk)), REVIEW)
        for group, cells in self.review_rows.items():
            self.store(result, group, dict(zip(columns, cells)), REVIEW)
        return {g: result[g] for g in groups if g in result}


def _trim_blank_ends(cells: list[str]) -> list[str]:
    start, end = 0, len(cells)
    while start < end and not cells[start]:
        start += 1
    while end > start and not cells[end - 1]:
        end -= 1
    return cells[start:end]


def _block_value_starts(rows: list[Row]) -> dict:
    """For each table grid, the column where its figures usually start."""
    starts: dict[int, Counter] = {}
    for row in rows:
        if row.block is None:
            continue
        positions = [i for i, c in enumerate(row.cells) if c.strip() and is_value(c)]
        if len(positions) >= 2:
            starts.setdefault(row.block, Counter())[positions[0]] += 1
    return {block: counts.most_common(1)[0][0] for block, counts in starts.items()}


def read_tables(rows: list[Row]) -> TablesResult:
    return _Reader(rows).read()
