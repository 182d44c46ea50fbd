"""索引号 / 发布机构 / 发布时间 / 主题分类 / 标题 … from a detail page's metadata block.

Input is the page as a list of text segments in reading order (table cells, list items,
paragraphs, text lines). A label is found at the start of a segment, or after white
space when a colon follows it; its value is the rest of the segment up to the next label,
or, when the label stands alone in its cell, the next segment (`<td>索引号：</td><td>…</td>`).
"""

from __future__ import annotations

import functools
import re

from .vocabulary import metadata_label_rank, metadata_labels, normalize, vocabulary

_GAP = r"[\s\u3000\xa0]*"
_BULLET = re.compile(r"^[\s\u3000\xa0•·●▪◆■\-\*>]+")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?!\d)")
# labels that also start ordinary sentences are only taken with a colon after them
_WEAK = {"来源", "分类", "名称", "标题", "时效", "时间", "日期"}


@functools.lru_cache(maxsize=1)
def _label_pattern() -> re.Pattern:
    labels = [label for label, _ in metadata_labels()]
    alternatives = "|".join(_GAP.join(map(re.escape, label)) for label in labels)
    return re.compile(
        rf"(?:^|(?<=[\s\u3000\xa0|｜;；,，]))[\[【〔]?{_GAP}(?P<label>{alternatives})"
        rf"{_GAP}[\]】〕]?{_GAP}(?P<colon>[:：])?")


def find_date(text: str) -> str | None:
    """The date a text prints, as `YYYY-MM-DD`: `2019年02月15日`, `2024-03-08 15:34`,
    `2021/12/31`, `20220115`; None when it prints none. The one reading of dates, for
    metadata blocks and for listings alike."""
    match = _DATE.search(text) or _COMPACT_DATE.search(text.strip())
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def normalize_date(value: str) -> str:
    """A value's date as `YYYY-MM-DD`, else the value unchanged."""
    return find_date(value) or value


def _clean(value: str) -> str:
    return re.sub(r"[\s\u3000\xa0]+", " ", value).strip(" :：")


def _labels_in(segment: str) -> list[tuple[int, int, str, bool]]:
    """(start, end, label, has_colon) for each label the segment prints."""
    found = []
    by_label = dict(metadata_labels())
    for match in _label_pattern().finditer(segment):
        label = normalize(match.group("label"))
        colon = bool(match.group("colon"))
        at_start = match.start() == 0
        if not colon and not at_start:
            continue
        if not colon and label in _WEAK and segment[match.end():].strip():
            continue  # 分类推进… is a sentence, not a label
        found.append((match.start(), match.end(), by_label[label], colon))
    return found


def _is_label_only(segment: str) -> bool:
    found = _labels_in(_BULLET.sub("", segment))
    return bool(found) and found[0][0] == 0


def extract_metadata(segments: list[str]) -> dict:
    """Canonical metadata keys to values, as the page prints them (dates as ISO)."""
    best: dict[str, tuple[int, int, str]] = {}  # key -> (empty?, rank, value)
    voc = vocabulary()
    for index, raw in enumerate(segments):
        segment = _BULLET.sub("", raw or "")
        if not segment or len(segment) > 300:
            continue
        found = _labels_in(segment)
        if not found or found[0][0] != 0:
            continue
        for position, (start, end, key, _colon) in enumerate(found):
            stop = found[position + 1][0] if position + 1 < len(found) else len(segment)
            value = _clean(segment[end:stop])
            if not value and len(found) == 1 and index + 1 < len(segments):
                following = segments[index + 1] or ""
                if len(following) <= 300 and not _is_label_only(following):
                    value = _clean(following)
            label = normalize(re.sub(r"[\[【〔\]】〕]", "", segment[start:end]).rstrip(":："))
            rank = (0 if value else 1, metadata_label_rank(key, label))
            if key not in best or rank < best[key][:2]:
                best[key] = (*rank, value)
    result = {}
    for key in voc["metadata"]:
        if key in best:
            value = best[key][2]
            result[key] = normalize_date(value) if key in voc["metadata_dates"] else value
    return result
