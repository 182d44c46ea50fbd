"""Rebuild every parsed table from the archived bytes, without fetching anything."""

from __future__ import annotations

import json

import parsers

from .archive import Archive, DocumentRecord
from .assemble import REGION, build_report

_DOCUMENT_FIELDS = ("url", "kind", "sha256", "size", "content_type", "filename",
                    "http_status", "fetched_at")


def reparse(db_path, *, outdated_only: bool = False, log=print) -> dict:
    """Parse each report's stored files again and replace its rows. Returns counts."""
    archive = Archive(db_path)
    reports = list(archive.db.query(
        f"select url, listing_url, listing_hints, source, {', '.join(REGION)}, "
        "parser_version from reports order by url"))
    counts = {"reparsed": 0, "skipped": 0, "missing_files": 0}
    for number, report in enumerate(reports, start=1):
        if outdated_only and report["parser_version"] == parsers.PARSER_VERSION:
            counts["skipped"] += 1
            continue
        documents = [DocumentRecord(**{k: row[k] for k in _DOCUMENT_FIELDS})
                     for row in archive.documents_of(report["url"])]
        documents.sort(key=lambda doc: doc.url != report["url"])  # the page first
        try:
            files = [(doc, archive.store.read(doc.sha256)) for doc in documents]
        except OSError as error:
            counts["missing_files"] += 1
            log(f"[{number}/{len(reports)}] {report['url']}: stored file missing ({error})")
            continue
        source = {"name": report["source"], **{k: report[k] for k in REGION}}
        record = build_report(report["url"], files, listing_url=report["listing_url"],
                              hints=json.loads(report["listing_hints"] or "{}"), source=source)
        archive.save_parse_results(documents)
        archive.save_report(record, seen=False)
        counts["reparsed"] += 1
        log(f"[{number}/{len(reports)}] {record.fields['title']}: {record.fields['status']}, "
            f"{len(record.cells)} cells")
    return counts
