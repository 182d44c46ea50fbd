"""HTML detail pages: report tables as rowspan/colspan grids, running text with
trafilatura, and the page's metadata block."""

from __future__ import annotations

import html
import json
import re

import lxml.html
import trafilatura
from lxml import etree
from lxml.cssselect import CSSSelector

from ..errors import ReportParseError
from ..limits import MAX_TEXT_CHARS
from ..metadata import extract_metadata, normalize_date
from ..rows import Extracted, Row, grid_rows, merge_cell_runs
from ..textdecode import decode
from ..vocabulary import vocabulary

BLOCK_TAGS = frozenset(
    "p div li td th dt dd h1 h2 h3 h4 h5 h6 section article header footer blockquote pre "
    "center ul ol dl form table tr tbody thead tfoot caption address main nav aside".split())
SKIP_TAGS = frozenset("script style noscript template iframe select option button head svg".split())
# rowspan/colspan beyond these are typos or attacks, not tables
MAX_SPAN = 200


def _text(element, separator: str = "") -> str:
    """Text of an element, <br> and nested blocks as line breaks; `separator` goes
    between inline elements (so that `<span>来源：X</span><span>时间：Y</span>` keeps
    its two labels apart)."""
    parts: list[str] = []

    def visit(node) -> None:
        if node.tag == "br":
            parts.append("\n")
        elif node is not element:
            parts.append("\n" if node.tag in BLOCK_TAGS else separator)
        if node.text:
            parts.append(node.text)
        for child in node:
            if isinstance(child.tag, str) and child.tag not in SKIP_TAGS:
                visit(child)
            if child.tail:
                parts.append(child.tail)

    visit(element)
    return "".join(parts)


def _has_block_inside(element) -> bool:
    return any(d.tag in BLOCK_TAGS for d in element.iterdescendants() if isinstance(d.tag, str))


def table_grid(table) -> list[list[tuple[str, bool, bool]]]:
    """The table as a grid of (text, continues_left, continues_up), spans expanded."""
    grid: dict[tuple[int, int], tuple[str, bool, bool]] = {}
    trs = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    width = 0
    for r, tr in enumerate(trs):
        c = 0
        for cell in tr.xpath("./td|./th"):
            while (r, c) in grid:
                c += 1
            text = _text(cell).strip()
            rowspan = _span(cell.get("rowspan"))
            colspan = _span(cell.get("colspan"))
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = (text, dc > 0, dr > 0)
            c += colspan
            width = max(width, c)
    height = len(trs)
    return [[grid.get((r, c), ("", False, False)) for c in range(width)] for r in range(height)]


def _span(value) -> int:
    try:
        return max(1, min(int(str(value).strip() or 1), MAX_SPAN))
    except ValueError:
        return 1


class _Walker:
    """Rows and metadata segments of a page, in document order."""

    def __init__(self):
        self.rows: list[Row] = []
        self.segments: list[str] = []
        self.blocks = 0

    def lines(self, text: str) -> None:
        for line in text.split("\n"):
            if line.strip():
                self.rows.append(Row([line.strip()]))

    def walk(self, element) -> None:
        if element.text and element.text.strip():
            self.lines(element.text)
        for child in element:
            if not isinstance(child.tag, str) or child.tag in SKIP_TAGS:
                pass
            elif child.tag == "table" and not child.xpath(".//table"):
                grid = table_grid(child)
                self.rows.extend(grid_rows(grid, self.blocks))
                self.blocks += 1
                for cell in child.xpath(".//td|.//th"):
                    self.segments.append(_text(cell, " ").strip())
            elif child.tag in BLOCK_TAGS and not _has_block_inside(child):
                text = _text(child)
                self.lines(text)
                self.segments.append(_text(child, " ").strip())
            else:
                self.walk(child)
            if isinstance(child.tag, str) and child.tail and child.tail.strip():
                self.lines(child.tail)


def _content_root(root):
    for selector in vocabulary()["content_selectors"]:
        for element in CSSSelector(selector)(root):
            if len(element.text_content().strip()) > 200:
                return element
    return root.find("body") if root.find("body") is not None else root


def embedded_detail(text: str) -> dict | None:
    """The article a page keeps as JSON in a script (`window._CONFIG = {DETAIL: {…}}`)."""
    spec = vocabulary()["embedded_detail"]
    for match in re.finditer(rf"\b{spec['marker']}\s*[:=]\s*(?=\{{)", text):
        try:
            detail, _ = json.JSONDecoder().raw_decode(text, match.end())
        except ValueError:
            continue
        if isinstance(detail, dict) and isinstance(detail.get(spec["content"]), str):
            return detail
    return None


def read_html(body: bytes, content_type: str | None = None) -> Extracted:
    text, _encoding = decode(body, content_type)
    text = text[:MAX_TEXT_CHARS]
    detail = embedded_detail(text)
    if detail:
        return _read_embedded(detail)
    return _read_page(text)


def _read_embedded(detail: dict) -> Extracted:
    spec = vocabulary()["embedded_detail"]
    title = html.escape(str(detail.get("title") or ""))
    page = f"<html><body><h1>{title}</h1><div id='zoom'>{detail[spec['content']]}</div></body></html>"
    extracted = _read_page(page)
    for key, label in spec["metadata"].items():
        if detail.get(key) and not extracted.metadata.get(label):
            value = str(detail[key])
            extracted.metadata[label] = normalize_date(value) if label in vocabulary()["metadata_dates"] else value
    return extracted


def _read_page(text: str) -> Extracted:
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as error:
        raise ReportParseError(f"HTML cannot be parsed: {error}", "html") from None
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    body_element = root.find("body") if root.find("body") is not None else root
    walker = _Walker()
    walker.walk(body_element)

    voc = vocabulary()
    metadata = extract_metadata(walker.segments)
    metas = {m.get("name"): (m.get("content") or "").strip()
             for m in root.xpath("//meta[@name]") if m.get("content")}
    for name, key in voc["metadata_meta_tags"].items():
        if metas.get(name) and not metadata.get(key):
            value = metas[name]
            metadata[key] = normalize_date(value) if key in voc["metadata_dates"] else value

    hints = [metas[name] for name in voc["title_meta_tags"] if metas.get(name)]
    hints += [_text(h).strip() for h in root.xpath("//h1|//h2")[:3]]
    hints += [t.text_content().strip() for t in root.xpath("//title")]

    # the article body where the page marks it (.TRS_Editor, #zoom …), else the page
    content = _content_root(root)
    scope = lxml.html.tostring(content, encoding="unicode") if content is not body_element else text
    main = trafilatura.extract(scope, include_tables=True, include_comments=False,
                               favor_recall=True, deduplicate=False) or ""
    if len(main) < 200:
        main = _text(content).strip()
    return Extracted("html", merge_cell_runs(walker.rows), main, metadata,
                     [h for h in hints if h])
