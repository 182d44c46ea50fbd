"""From what a format reader extracted to the report JSON of the contract."""

from __future__ import annotations

import re

from .checks import run_checks
from .errors import ReportParseError
from .rows import Extracted
from .tables import read_tables
from .vocabulary import normalize, vocabulary

_SPACE = re.compile(r"[\s\u3000\xa0]+")
_SENTENCE = re.compile(r"[。，；,;：:|]")
_TITLE_CONTINUES = re.compile(r"^(?:\d{4}\s*年|政府信息公开|政务公开|信息公开)")
_SITE_SUFFIX = re.compile(r"[_|\-—–]+[^_|\-—–]*(?:网|政府|门户|平台)[^_|\-—–]*$")
_SECTION_HEAD = re.compile(r"^#*(?:([一二三四五六])[、.]|([1-6])[、.])?(.+)$")
NUMERALS = "一二三四五六"


def _clean_title(text: str) -> str:
    return _SPACE.sub("", text).strip("#").strip()


def _title_like(text: str) -> bool:
    norm = normalize(text)
    voc = vocabulary()
    return (len(norm) <= 60 and not _SENTENCE.search(text)
            and any(s in norm for s in voc["title_subjects"])
            and any(m in norm for m in voc["title_markers"]))


def _short(line: str) -> bool:
    return 0 < len(_clean_title(line)) <= 40 and not _SENTENCE.search(line)


def find_title(extracted: Extracted) -> str | None:
    """The title as the report prints it, white space removed. Titles wrap: a line that
    is not a title by itself is joined with the next one or two. An HTML page names its
    title in its head and headings; a PDF's own Title is often generic, so its first
    lines come first."""
    given = extracted.metadata.get("标题")
    if given and _title_like(given):
        return _clean_title(given)
    hints = [_clean_title(_SITE_SUFFIX.sub("", hint)) for hint in extracted.title_hints]
    hints = [hint for hint in hints if _title_like(hint)]
    if extracted.format == "html" and hints:
        return hints[0]
    title = _title_from_lines(extracted.text)
    if title:
        return title
    if hints:
        return hints[0]
    return _clean_title(given) if given else None


def _title_from_lines(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()][:15]
    for index, line in enumerate(lines):
        for span in (1, 2, 3):
            window = lines[index:index + span]
            if len(window) < span or not all(_short(part) for part in window):
                break
            if span > 1 and (_title_like(window[0]) or _title_like(window[-1])):
                break  # the title stands on a line of its own
            title = _clean_title("".join(window))
            if not _title_like(title):
                continue
            if span == 1 and index and _TITLE_CONTINUES.match(title):
                previous = lines[index - 1]
                if _short(previous) and not _title_like(previous):
                    title = _clean_title(previous) + title
            return title
    return None


def find_year(title: str | None, text: str) -> int | None:
    """The statistical year: from the title, else from the 统计期限 sentence."""
    match = re.search(r"((?:19|20)\d{2})年", title or "")
    if match:
        return int(match.group(1))
    flat = _SPACE.sub("", text)
    match = re.search(r"自((?:19|20)\d{2})年1月1日", flat) or \
        re.search(r"((?:19|20)\d{2})年度政府信息公开", flat)
    return int(match.group(1)) if match else None


def find_sections(text: str) -> list[dict]:
    """一、总体情况 … 六、其他需要报告的事项, found in order, with the text under each."""
    aliases = {n: [normalize(a) for a in names] for n, names in vocabulary()["sections"].items()}
    lines = text.splitlines()
    heads: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        norm = normalize(line)
        if not norm or len(norm) > 40:
            continue
        match = _SECTION_HEAD.match(norm)
        body = match.group(3) if match else norm
        start = NUMERALS.index(heads[-1][1]) + 1 if heads else 0
        for numeral in NUMERALS[start:]:
            if any(body.startswith(alias) for alias in aliases[numeral]):
                heads.append((index, numeral))
                break
    sections = []
    for position, (index, numeral) in enumerate(heads):
        end = heads[position + 1][0] if position + 1 < len(heads) else len(lines)
        sections.append({"number": numeral, "title": lines[index].strip().lstrip("#").strip(),
                         "text": "\n".join(lines[index + 1:end]).strip()})
    return sections


def build(extracted: Extracted, parser_version: str) -> dict:
    found = read_tables(extracted.rows)
    title = find_title(extracted)
    has_tables = any(found.tables.values())
    if not has_tables and not (title and _title_like(title)):
        raise ReportParseError(
            "not a 政府信息公开工作年度报告: no report title and none of the template tables",
            extracted.format)
    return {
        "title": title,
        "year": find_year(title, extracted.text),
        "template": found.template,
        "metadata": extracted.metadata,
        "tables": found.tables,
        # the units printed with figures or in their column's header (figures are kept as
        # printed: 45381.99万元 is 45381.99)
        "units": found.units,
        "checks": run_checks(found.tables),
        "warnings": extracted.warnings + found.warnings,
        "format": extracted.format,
        "ocr": extracted.ocr,
        "sections": find_sections(extracted.text),
        "text": extracted.text,
        "parser_version": parser_version,
    }
