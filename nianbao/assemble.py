"""From a report's captured files to the archive's record of it.

A report is its detail page plus the attachments the page links. Every file is parsed
(`parsers.parse_report`, the only parser entry point); the file that yields the most
table cells carries the report's figures and text, the page carries its metadata, and
what the listing said about the link fills what the page does not print. The crawler's
pipeline and `nianbao reparse` both come through here, so a re-parse gives exactly what
a crawl would have.

A report is made of every file it has ever been made of, each in its latest stored
version: a crawl replaces the versions it fetched fine, and a file that failed this
time (404, 5xx, a timeout, a challenge) is read from the bytes the archive already
holds, so that an outage never replaces figures with fewer.
"""

from __future__ import annotations

import hashlib
import json

import parsers
from parsers.template import earlier_template, first_year
from parsers.formats import BY_KIND

from .records import DocumentRecord, ReportRecord
from .figures import body_of
from .search import index_row

# report columns filled from metadata keys
_METADATA_FIELDS = {"publisher": "发布机构", "published": "发布时间", "index_no": "索引号",
                    "topic": "主题分类", "doc_no": "文号"}
# report columns filled from the sources-registry entry's region
REGION = ("province", "city", "county", "region_code")


def source_fields(source: dict | None) -> dict:
    """The report columns a sources-registry entry fills (its name and region); none for
    a crawl of bare URLs, which leaves what an earlier registry crawl wrote."""
    if not source:
        return {}
    return {"source": source.get("name"), "source_id": source.get("id"),
            **{key: source.get(key) for key in REGION}}


def content_hash(documents: list[DocumentRecord]) -> str:
    """One digest for the set of files a report is made of: it changes when any does."""
    lines = sorted(f"{d.url} {d.sha256}" for d in documents)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def current_documents(fetched: list[DocumentRecord],
                      stored: list[DocumentRecord]) -> list[DocumentRecord]:
    """The report's files now: those this crawl fetched, then every stored one it did not
    (their failures noted on them by the caller). The page stays first. A fetched file
    with the bytes already stored keeps what its parse found (kind, parse error)."""
    by_url = {doc.url: doc for doc in stored}
    for doc in fetched:
        known = by_url.get(doc.url)
        if known and known.sha256 == doc.sha256:
            doc.kind, doc.parse_error = known.kind, known.parse_error
    fetched_urls = {doc.url for doc in fetched}
    return list(fetched) + [doc for doc in stored if doc.url not in fetched_urls]


def is_unchanged(state: dict | None, documents: list[DocumentRecord]) -> bool:
    """Nothing to parse: the same files, the same parser, and every derived row stored."""
    return bool(state and state["complete"]
                and state["content_hash"] == content_hash(documents)
                and state["parser_version"] == parsers.PARSER_VERSION)


def _rank(kind: str) -> int:
    """Which file to trust when two carry the same number of cells (parsers/formats)."""
    fmt = BY_KIND.get(kind)
    return fmt.rank if fmt else 0


def _cell_count(result: dict) -> int:
    return sum(len(cols) for rows in result["tables"].values() for cols in rows.values())


def parse_documents(files: list[tuple[DocumentRecord, bytes]]) -> list[tuple[DocumentRecord, dict | None]]:
    """Parse every file; a file that is not a report keeps the reason in `parse_error`.
    The pictures of the page (`files[0]`) are read with it, never alone."""
    pictures = [body for document, body in files[1:] if document.kind == "image"]
    parsed = []
    for index, (document, body) in enumerate(files):
        if index and document.kind == "image":
            document.parse_error = None
            parsed.append((document, None))
            continue
        try:
            result = parsers.parse_report(body, document.content_type, document.url,
                                          images=pictures if index == 0 else ())
            document.parse_error = None
            document.kind = result["format"]  # what the bytes are, whatever the name said
        except parsers.ReportParseError as error:
            result, document.parse_error = None, str(error)
        parsed.append((document, result))
    return parsed


def assemble(url: str, parsed: list[tuple[DocumentRecord, dict | None]], *,
             listing_url: str | None = None, hints: dict | None = None,
             source: dict | None = None) -> ReportRecord:
    """The report record; `parsed[0]` is the detail page itself."""
    hints = hints or {}
    page_document, page_result = parsed[0]
    readable = [(doc, result) for doc, result in parsed if result]
    best_document, best = max(
        readable, default=(page_document, None),
        key=lambda pair: (_cell_count(pair[1]), -len(pair[1]["warnings"]),
                          _rank(pair[0].kind)))
    # the page's own metadata block, else what the listing said (same keys)
    metadata = {**hints, **{k: v for k, v in (page_result or {}).get("metadata", {}).items() if v}}
    title = ((page_result or {}).get("title") or (best or {}).get("title")
             or metadata.get("标题"))
    year = (best or {}).get("year") or (page_result or {}).get("year")
    template = (best or {}).get("template")
    if best is None:
        status = "unreadable"
    elif _cell_count(best):
        status = "ok"
    elif year and year < first_year():
        # before the national tables existed: not a failure to read them
        status = template = earlier_template()
    else:
        status = "no_tables"
    checks = (best or {}).get("checks", [])
    warnings = list((best or {}).get("warnings", []))
    warnings += [f"{doc.url}: {doc.parse_error}" for doc, _ in parsed if doc.parse_error]
    fields = {
        "title": title,
        "year": year,
        "template": template,
        "status": status,
        **{column: metadata.get(key) or None for column, key in _METADATA_FIELDS.items()},
        # the body its title names where no page prints a 发布机构 (a report linked straight
        # to its PDF): the same body as figures.发布机构, for facets and exports alike
        "publisher": body_of(metadata.get("发布机构"), title),
        # where the publisher was read: the page's (or the listing's) 发布机构, else the title
        "publisher_from": ("页面" if metadata.get("发布机构") else
                           "标题" if body_of(None, title) else None),
        **source_fields(source),
        "checks_ok": int(all(c["ok"] for c in checks)) if checks else None,
        # the figures were read by OCR (a scan, or tables pasted as pictures)
        "ocr": int(bool((best or {}).get("ocr"))) if best else None,
        "checks_failed": sum(1 for c in checks if not c["ok"]),
        "warnings": json.dumps(warnings, ensure_ascii=False),
        "report_document": best_document.url if best else None,
        "listing_url": listing_url,
        "content_hash": content_hash([doc for doc, _ in parsed]),
        "parser_version": parsers.PARSER_VERSION,
        "listing_hints": json.dumps(hints, ensure_ascii=False, sort_keys=True),
        "text": (best or {}).get("text"),
    }
    cells = [(table, row, column, value)
             for table, rows in (best or {}).get("tables", {}).items()
             for row, columns in rows.items() for column, value in columns.items()]
    check_rows = [{"rule": c["rule"], "tbl": c["table"],
                   "scope": c.get("row") or c.get("column") or "", "ok": int(c["ok"]),
                   "detail": c["detail"],
                   "cells": json.dumps(c.get("cells", []), ensure_ascii=False)} for c in checks]
    return ReportRecord(url, fields, cells, check_rows, (best or {}).get("sections", []),
                        [doc for doc, _ in parsed], index_row(fields["title"], fields["text"]))


def build_report(url: str, files: list[tuple[DocumentRecord, bytes]], **context) -> ReportRecord:
    """Parse a report's files and assemble its record (`files[0]` is the page)."""
    return assemble(url, parse_documents(files), **context)
