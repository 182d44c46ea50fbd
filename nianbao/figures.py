"""A report's headline figures: one row per report, the numbers journalists compare.

Each figure is a column of the template rows it names (parsers/template.yaml, `headline`),
summed where it covers a group (不予公开 is 三.三.1 … 三.三.8 when a report prints the
reasons). A figure with any part missing is left empty: it is never made up from the
parts that were printed. Adding a figure is one entry in the template.
"""

from __future__ import annotations

import datetime
import re

from parsers.template import headline as headline_figures
from parsers.template import parts_of

# the figures table's columns, in order (parsers/template.yaml, `headline`)
HEADLINE = [figure.name for figure in headline_figures()]


def headline(cells: list[tuple[str, str, str, int | float]]) -> dict:
    """Each figure: its rows as printed, a group printed as its parts summed (三.六 is
    one row in the 2019 template, three in 2021's)."""
    values = {(table, row, column): value for table, row, column, value in cells}
    figures = {}
    for figure in headline_figures():
        keys = []
        for row in figure.rows:
            parts = parts_of(row) if figure.table == "applications" else ()
            if (figure.table, row, figure.column) in values or not parts:
                keys.append((figure.table, row, figure.column))
            else:
                keys += [(figure.table, part, figure.column) for part in parts]
        found = [values.get(key) for key in keys]
        figures[figure.name] = sum(found) if None not in found else None
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


# 《政府信息公开条例》第五十条: each body publishes its report for a year by 31 January of
# the next (month, day)
DEADLINE = (1, 31)


def lateness(year: int | None, published: str | None) -> tuple[int | None, int | None]:
    """(days after the deadline it was published, 0 when on time; 1 when its date cannot
    be right: published before the year it reports on had ended). Both None when the year
    or the date is unknown; the days None when the date is doubtful."""
    try:
        date = datetime.date.fromisoformat((published or "")[:10])
    except ValueError:
        return None, None
    if not year:
        return None, None
    if date <= datetime.date(year, 12, 31):
        return None, 1
    deadline = datetime.date(year + 1, *DEADLINE)
    return max(0, (date - deadline).days), 0
