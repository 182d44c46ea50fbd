"""A report's headline figures: one row per report, the numbers journalists compare.

Each figure is the 总计 column of the template rows it names, summed where it covers a
group (不予公开 is 三.三.1 … 三.三.8, as the parsers' vocabulary lists the rows). A figure
with any part missing is left empty: it is never made up from the parts that were printed.
"""

from __future__ import annotations

import functools
import re

from parsers.vocabulary import vocabulary

# column of the `figures` table -> (table, rows, column) summed
HEADLINE = {
    "新收申请": ("applications", ["一"], "总计"),
    "上年结转": ("applications", ["二"], "总计"),
    "予以公开": ("applications", ["三.一"], "总计"),
    "部分公开": ("applications", ["三.二"], "总计"),
    "不予公开": ("applications", ["三.三"], "总计"),
    "无法提供": ("applications", ["三.四"], "总计"),
    "不予处理": ("applications", ["三.五"], "总计"),
    "其他处理": ("applications", ["三.六"], "总计"),
    "办理总计": ("applications", ["三.七"], "总计"),
    "结转下年": ("applications", ["四"], "总计"),
    "行政复议": ("review_litigation", ["行政复议"], "总计"),
    "复议纠正": ("review_litigation", ["行政复议"], "结果纠正"),
    "行政诉讼": ("review_litigation", ["未经复议直接起诉", "复议后起诉"], "总计"),
    "诉讼纠正": ("review_litigation", ["未经复议直接起诉", "复议后起诉"], "结果纠正"),
}


@functools.lru_cache(maxsize=None)
def _sub_rows(row: str) -> tuple[str, ...]:
    """The template's rows under a group (三.三 -> 三.三.1 … 三.三.8), from the vocabulary."""
    keys = [entry["key"] for entry in vocabulary()["applications"]["rows"]]
    return tuple(key for key in keys if key.startswith(row + "."))


def headline(cells: list[tuple[str, str, str, int | float]]) -> dict:
    """Each figure: its rows as printed, a group printed as its sub-rows summed (三.六 is
    one row in the 2019 template, three in 2021's)."""
    values = {(table, row, column): value for table, row, column, value in cells}
    figures = {}
    for name, (table, rows, column) in HEADLINE.items():
        keys = []
        for row in rows:
            subs = _sub_rows(row)
            if (table, row, column) in values or not subs:
                keys.append((table, row, column))
            else:
                keys += [(table, sub, column) for sub in subs]
        parts = [values.get(key) for key in keys]
        figures[name] = sum(parts) if None not in parts else None
    return figures


# a report's title names its body before the year: 跃进街道办事处2021年政府信息公开…
_BODY_IN_TITLE = re.compile(r"^\s*(.+?)\s*(?:19|20)\d\d\s*年")


def body_of(publisher: str | None, title: str | None) -> str | None:
    """The body a report belongs to: its printed 发布机构, else the one its title names
    (a report linked straight to a PDF has no page to print a 发布机构 on)."""
    if publisher:
        return publisher
    found = _BODY_IN_TITLE.match(title or "")
    return found.group(1) if found else None
