"""Load `vocabulary.yaml` and match labels and values against it.

Everything that decides whether a printed label is a known one goes through `normalize`,
so the tolerance for spaces, full-width forms and quotes lives in one function.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

import yaml

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")

_DROP = str.maketrans("", "", "“”\"'‘’「」『』[]【】〔〕")
_SPACE = re.compile(r"\s+")
# 一、 （一） (1) 1. 1、 ① … at the start of a label
_NUMBERING = re.compile(
    r"^(?:\(?[一二三四五六七八九十]+\)|[一二三四五六七八九十]+[、.]|\(?\d{1,2}\)|\d{1,2}[、.](?!\d)|[①-⑳])"
)


@functools.lru_cache(maxsize=1)
def vocabulary() -> dict:
    return yaml.safe_load(VOCABULARY_PATH.read_text(encoding="utf-8"))


# a table's cells and labels repeat (0, 1, 总计, the template's rows) across a report and
# across reports: short ones are read once per process (a few MB at most)
_SHORT = 64


def _kept_when_short(function):
    """`function` of a string, its answers for strings of up to _SHORT characters kept
    (the 4,096 latest); None is read as the empty string."""
    kept = functools.lru_cache(maxsize=1 << 12)(function)

    @functools.wraps(function)
    def call(text):
        return kept(text) if text and len(text) <= _SHORT else function(text or "")
    return call


@_kept_when_short
def normalize(text: str) -> str:
    """Canonical form of a printed label: NFKC, no white space, no quotes or brackets."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).translate(_DROP)


def strip_numbering(label: str) -> str:
    """`（三）不予公开` -> `不予公开`; `1.属于国家秘密` -> `属于国家秘密` (normalised input)."""
    previous = None
    while previous != label:
        previous, label = label, _NUMBERING.sub("", label, count=1)
    return label


# --- values ---------------------------------------------------------------------------

_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$")


@functools.lru_cache(maxsize=1)
def _units() -> tuple[str, ...]:
    return tuple(sorted(vocabulary()["value_units"], key=len, reverse=True))


@functools.lru_cache(maxsize=1)
def _blank_marks() -> frozenset[str]:
    return frozenset(normalize(m) for m in vocabulary()["blank_marks"])


def unit_of(cell: str) -> str | None:
    """The unit a figure's cell prints after it (`251000元` → 元), if any."""
    text = normalize(cell)
    return next((unit for unit in _units() if text.endswith(unit) and len(text) > len(unit)), None)


_HEADER_UNIT = re.compile(r"[（(]\s*(?:单位\s*[:：]?\s*)?(万元|元)\s*[)）]|单位\s*[:：]\s*(万元|元)")


def header_unit(label: str) -> str | None:
    """The unit a column header names (`本年收费金额（单位：万元）` → 万元), if any."""
    match = _HEADER_UNIT.search(normalize(label))
    return (match.group(1) or match.group(2)) if match else None


@_kept_when_short
def parse_number(cell: str) -> int | float | None:
    """The number a table cell prints, or None when the cell is not a number.

    `0%` is 0, `1,234` is 1234, `7730.28` stays a float, `12件` is 12.
    """
    text = normalize(cell)
    for unit in _units():
        if text.endswith(unit) and len(text) > len(unit):
            text = text[: -len(unit)]
            break
    match = _NUMBER.match(text)
    if not match:
        return None
    sign, whole, fraction = match.groups()
    whole = whole.replace(",", "")
    if fraction and fraction.strip(".0"):
        return float(f"{sign}{whole}{fraction}")
    return int(f"{sign}{whole}")



def format_number(value: int | float) -> str:
    """A figure as a report prints it: 0, 7730.28, 96171.6 (no exponent, no rounding)."""
    if isinstance(value, float):
        return format(value, "f").rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def is_blank_mark(cell: str) -> bool:
    """`/`, `-`, `—` and the like: printed where a table has no figure."""
    return normalize(cell) in _blank_marks()


# --- metadata labels ------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def metadata_labels() -> list[tuple[str, str]]:
    """(label, canonical key) pairs, longest label first so 信息来源 wins over 来源."""
    pairs = [
        (normalize(label), key)
        for key, labels in vocabulary()["metadata"].items()
        for label in labels
    ]
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def metadata_label_rank(key: str, label: str) -> int:
    """Position of `label` among the labels of `key`: 0 is the strongest."""
    labels = [normalize(x) for x in vocabulary()["metadata"][key]]
    return labels.index(label) if label in labels else len(labels)
