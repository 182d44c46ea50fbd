"""The 勾稽关系 and totals a report's own figures must satisfy.

A check compares printed figures only; it never changes one. A check whose figures are
not all printed is not made (the missing cells are already named in `warnings`).
"""

from __future__ import annotations

from .tables import APPLICATIONS, REVIEW
from .template import application_columns, review_columns, total_parts
from .vocabulary import format_number as _fmt

TOLERANCE = 1e-6


def _spelled(parts: list, total) -> str:
    """3+4=7, or just 7 for a single figure."""
    if len(parts) == 1:
        return _fmt(total)
    return f"{'+'.join(map(_fmt, parts))}={_fmt(total)}"


def _check(rule: str, table: str, left: list, right: list, where: dict, cells: list) -> dict:
    """`sum(left) == sum(right)`, with the figures spelled out in `detail` and the cells
    they come from in `cells` ([row, column] pairs of `table`)."""
    lsum, rsum = sum(left), sum(right)
    ok = abs(lsum - rsum) <= TOLERANCE
    detail = f"{_spelled(left, lsum)} {'=' if ok else '≠'} {_spelled(right, rsum)}"
    return {"rule": rule, "table": table, **where, "ok": ok, "detail": detail, "cells": cells}


def _parts_of_total(apps: dict, column: str) -> list[str] | None:
    """The rows that 三.七 sums in `column`: 三.一 … 三.六 as the report prints them."""
    rows = []
    for part in total_parts():
        if part in apps:  # a row printed whole (三.一, 三.二, 三.六 in the 2019 form)
            rows.append(part)
        else:  # a group printed as its sub-rows (三.三.1 …)
            rows += [k for k in apps if k.startswith(part + ".")]
    if not rows or any(column not in apps[key] for key in rows):
        return None
    return rows


def run_checks(tables: dict) -> list[dict]:
    checks: list[dict] = []
    apps = tables.get(APPLICATIONS) or {}
    columns = application_columns()
    for column in columns:
        if all(column in apps.get(k, {}) for k in ("一", "二", "三.七", "四")):
            checks.append(_check(
                "一+二=三.七+四", APPLICATIONS,
                [apps["一"][column], apps["二"][column]],
                [apps["三.七"][column], apps["四"][column]], {"column": column},
                [[row, column] for row in ("一", "二", "三.七", "四")]))
        parts = _parts_of_total(apps, column)
        if column in apps.get("三.七", {}) and parts:
            checks.append(_check("三.七=三.一+…+三.六", APPLICATIONS, [apps["三.七"][column]],
                                 [apps[row][column] for row in parts], {"column": column},
                                 [[row, column] for row in ["三.七", *parts]]))
    applicants = columns[:-1]
    for key, row in apps.items():
        if "总计" in row and all(c in row for c in applicants):
            checks.append(_check("总计=自然人+…+其他", APPLICATIONS, [row["总计"]],
                                 [row[c] for c in applicants], {"row": key},
                                 [[key, c] for c in columns]))
    results = review_columns()
    for group, row in (tables.get(REVIEW) or {}).items():
        if all(c in row for c in results):
            checks.append(_check("总计=维持+纠正+其他+尚未审结", REVIEW, [row["总计"]],
                                 [row[c] for c in results[:-1]], {"row": group},
                                 [[group, c] for c in results]))
    return checks

