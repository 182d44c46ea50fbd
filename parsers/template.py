"""The national template (`template.yaml`), typed, and its tables laid out as it prints
them. Everything that needs the template's rows, columns, labels, sections or headline
figures reads them here: the reader and the checks, the archive's figures table, the
site's report page and saved queries, and the sample generator.

    >>> application_rows()[:3]
    ['一', '二', '三']
    >>> layout("review_litigation", {"review_litigation": {}}, "2021")[0][0].text
    '行政复议'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from .vocabulary import format_number

TEMPLATE_PATH = Path(__file__).with_name("template.yaml")
ACTIVE, APPLICATIONS, REVIEW = "active_disclosure", "applications", "review_litigation"


@functools.lru_cache(maxsize=1)
def template() -> dict:
    return yaml.safe_load(TEMPLATE_PATH.read_text(encoding="utf-8"))


def first_year() -> int:
    """The first reporting year printed with the national tables."""
    return int(template()["first_year"])


def earlier_template() -> str:
    """The `template` (and `status`) of a report for a year before `first_year`."""
    return template()["earlier"]


def section_titles() -> dict[str, str]:
    """一 -> 一、总体情况 … 六 -> 六、其他需要报告的事项."""
    return dict(template()["sections"])


def table_sections() -> dict[str, str]:
    """The three tables, in the order a report prints them, and the section each is in."""
    return {name: spec["section"] for name, spec in template()["tables"].items()}


# --- the active disclosure table ------------------------------------------------------------


def active_columns_by_template() -> dict[str, dict[str, list[str]]]:
    """Per template, each row of the active disclosure table and its columns, in order."""
    items = template()["tables"][ACTIVE]["items"]
    return {name: {row: list(block["columns"]) for block in blocks for row in block["rows"]}
            for name, blocks in items.items()}


# --- the applications table -------------------------------------------------------------------


def application_rows() -> list[str]:
    """Row keys of the applications table in template order."""
    return list(template()["tables"][APPLICATIONS]["rows"])


def application_figure_rows() -> list[str]:
    """The rows that carry figures (all but the 三 heading), in template order."""
    rows = template()["tables"][APPLICATIONS]["rows"]
    return [key for key, spec in rows.items() if not spec.get("heading")]


def application_columns() -> list[str]:
    """自然人 … 其他, 总计."""
    return list(template()["tables"][APPLICATIONS]["columns"])


@functools.lru_cache(maxsize=None)
def parts_of(row: str) -> tuple[str, ...]:
    """The rows directly under a group: 三.三 -> 三.三.1 … 三.三.8; 三 -> 三.一 … 三.七."""
    depth = row.count(".") + 1
    return tuple(key for key in application_rows()
                 if key.startswith(row + ".") and key.count(".") == depth)


def total_parts() -> list[str]:
    """What 三.七 (总计) sums: the other rows of 三."""
    rows = template()["tables"][APPLICATIONS]["rows"]
    return [key for key in parts_of("三") if not rows[key].get("total")]


def refusal_reasons() -> dict[str, str]:
    """Row key -> short name of every reason for not giving the information."""
    spec = template()["tables"][APPLICATIONS]
    return {key: spec["rows"][key]["short"] for group in spec["refusals"] for key in parts_of(group)}


def row_by_short_name() -> dict[str, str]:
    """A reason's short name (国家秘密) -> its row key (三.三.1)."""
    return {short: key for key, short in refusal_reasons().items()}


# --- the review and litigation table -------------------------------------------------------


def review_groups() -> list[str]:
    return list(template()["tables"][REVIEW]["groups"])


def review_columns() -> list[str]:
    return list(template()["tables"][REVIEW]["columns"])


# --- headline figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """A column of the archive's figures table: the sum of `column` over `rows`."""

    name: str
    table: str
    rows: tuple[str, ...]
    column: str
    about: str


@functools.lru_cache(maxsize=1)
def headline() -> tuple[Headline, ...]:
    return tuple(Headline(name, spec["table"], tuple(spec["rows"]), spec["column"], spec["about"])
                 for name, spec in template()["headline"].items())


# --- the tables as printed ------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    # (table, row, column) of a figure's cell; None for labels
    key: tuple[str, str, str] | None = None


# a table's width in grid columns and its header rows, for writers that need them (Word)
GRID = {ACTIVE: (4, 2), APPLICATIONS: (10, 3), REVIEW: (15, 3)}


def _figure_text(tables: dict) -> Callable[[str, str, str], str]:
    def text(table: str, row: str, column: str) -> str:
        value = tables.get(table, {}).get(row, {}).get(column)
        return "" if value is None else format_number(value)
    return text


def layout(table: str, tables: dict, template_name: str | None, *,
           text: Callable[[str, str, str], str] | None = None,
           label: Callable[[str], str] | None = None, spacers: bool = False) -> list[list[Cell]]:
    """`table` of a report as the template prints it: rows of cells with their spans.
    `tables`: the report's figures (which parts of a group it prints); `text`: a figure
    cell's text (default: the figure); `label`: a label as this office prints it
    (default: as the template does); `spacers`: empty rows between blocks, as some
    offices leave them."""
    text = text or _figure_text(tables)
    printed = {**template()["tables"][ACTIVE]["printed"].get(template_name or "", {})}

    def shown(key: str) -> str:
        words = printed.get(key, key)
        return label(words) if label else words

    make = {ACTIVE: _active, APPLICATIONS: _applications, REVIEW: _review}[table]
    return make(tables, template_name or "2021", text, shown, spacers)


def _spacer(width: int, spacers: bool) -> list[list[Cell]]:
    return [[Cell("", colspan=width)]] if spacers else []


def _spread(count: int) -> list[int]:
    """Column spans that fill the active table's three figure columns."""
    return {1: [3], 2: [1, 2], 3: [1, 1, 1]}[count]


def _active(tables, template_name, text, shown, spacers) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for block in template()["tables"][ACTIVE]["items"][template_name]:
        columns, spans = block["columns"], _spread(len(block["columns"]))
        rows.append([Cell(block["item"], colspan=4)])
        rows.append([Cell("信息内容")] + [Cell(shown(c), colspan=s) for c, s in zip(columns, spans)])
        for row in block["rows"]:
            rows.append([Cell(shown(row))] + [Cell(text(ACTIVE, row, c), colspan=s, key=(ACTIVE, row, c))
                                               for c, s in zip(columns, spans)])
        rows += _spacer(4, spacers)
    return rows


def _applications(tables, template_name, text, shown, spacers) -> list[list[Cell]]:
    spec = template()["tables"][APPLICATIONS]
    labels = {key: shown(row["label"]) for key, row in spec["rows"].items()}
    columns = spec["columns"]
    printed_rows = tables.get(APPLICATIONS, {})

    def figures(key):
        return [Cell(text(APPLICATIONS, key, c), key=(APPLICATIONS, key, c)) for c in columns]

    rows = [
        [Cell(spec["caption"], rowspan=3, colspan=3), Cell("申请人情况", colspan=7)],
        [Cell(shown(columns[0]), rowspan=2), Cell(spec["column_group"], colspan=5),
         Cell(shown(columns[-1]), rowspan=2)],
        [Cell(shown(c)) for c in columns[1:-1]],
        *_spacer(10, spacers),
        [Cell(labels["一"], colspan=3)] + figures("一"),
        [Cell(labels["二"], colspan=3)] + figures("二"),
    ]
    results: list[list[Cell]] = []
    for key in parts_of("三"):
        children = [k for k in parts_of(key) if k in printed_rows]
        if not children:  # a row of its own, or a group printed as one row (三.六 in 2019)
            results.append([Cell(labels[key], colspan=2)] + figures(key))
            continue
        for index, child in enumerate(children):
            head = [Cell(labels[key], rowspan=len(children))] if index == 0 else []
            results.append(head + [Cell(labels[child])] + figures(child))
    results[0].insert(0, Cell(labels["三"], rowspan=len(results)))
    rows += results
    rows.append([Cell(labels["四"], colspan=3)] + figures("四"))
    return rows


def _review(tables, template_name, text, shown, spacers) -> list[list[Cell]]:
    spec = template()["tables"][REVIEW]
    results = [shown(c) for c in spec["columns"]]
    (heading, under), = spec["group_heading"].items()
    first = [g for g in spec["groups"] if g not in under]
    return [
        [Cell(g, colspan=5) for g in first] + [Cell(heading, colspan=5 * len(under))],
        [Cell(c, rowspan=2) for c in results] * len(first) + [Cell(g, colspan=5) for g in under],
        [Cell(c) for c in results * len(under)],
        [Cell(text(REVIEW, g, c), key=(REVIEW, g, c)) for g in spec["groups"] for c in spec["columns"]],
    ]
