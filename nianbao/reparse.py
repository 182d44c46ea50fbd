"""Rebuild every parsed table from the archived bytes, without fetching anything."""

from __future__ import annotations

import json

import parsers

from .archive import Archive
from .assemble import REGION, build_report


def reparse(db_path, *, outdated_only: bool = False, log=print) -> dict:
    """Parse each report's stored files again and replace its rows, one transaction per
    report. `outdated_only`: only reports parsed by an older parser version, or left
    incomplete. A report that fails is rolled back, recorded in `errors` (stage
    `archive`) and counted; the others go on. Returns counts."""
    with Archive(db_path, "reparse") as archive:
        reports = list(archive.db.query(
            f"select url, listing_url, listing_hints, source, {', '.join(REGION)}, "
            "parser_version from reports order by url"))
        counts = {"reparsed": 0, "skipped": 0, "missing_files": 0, "failed": 0}
        for number, report in enumerate(reports, start=1):
            where = f"[{number}/{len(reports)}] {report['url']}"
            if outdated_only and report["parser_version"] == parsers.PARSER_VERSION \
                    and archive.report_state(report["url"])["complete"]:
                counts["skipped"] += 1
                continue
            documents = archive.stored_documents(report["url"])
            try:
                files = [(doc, archive.store.read(doc.sha256)) for doc in documents]
            except OSError as error:
                counts["missing_files"] += 1
                log(f"{where}: stored file missing ({error})")
                continue
            source = {"name": report["source"], **{k: report[k] for k in REGION}}
            try:
                record = build_report(report["url"], files, listing_url=report["listing_url"],
                                      hints=json.loads(report["listing_hints"] or "{}"),
                                      source=source)
                archive.save_report(record, documents, seen=False)
            except Exception as error:  # rolled back: the report keeps its earlier rows
                counts["failed"] += 1
                message = f"{type(error).__name__}: {error}"
                archive.record_error(None, report["url"], "archive", f"reparse: {message}")
                log(f"{where}: failed, left as it was ({message})")
                continue
            counts["reparsed"] += 1
            log(f"[{number}/{len(reports)}] {record.fields['title']}: "
                f"{record.fields['status']}, {len(record.cells)} cells")
    return counts
