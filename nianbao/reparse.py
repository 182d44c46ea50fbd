"""Rebuild every parsed table from the archived bytes, without fetching anything."""

from __future__ import annotations

import json

import parsers

from .archive import Archive
from .assemble import REGION
from .parsing import ParsePool


def reparse(db_path, *, outdated_only: bool = False, workers: int | None = None, log=print) -> dict:
    """Parse each report's stored files again, in a pool of worker processes (`workers`,
    default one per core), and replace its rows, one transaction per report.
    `outdated_only`: only reports parsed by an older parser version, or left incomplete.
    A report that fails is rolled back, recorded in `errors` (stage `archive`) and
    counted; the others go on. Returns counts."""
    with Archive(db_path, "reparse") as archive, ParsePool(workers) as pool:
        reports = list(archive.db.query(
            f"select url, listing_url, listing_hints, source, source_id, {', '.join(REGION)}, "
            "parser_version from reports order by url"))
        counts = {"reparsed": 0, "skipped": 0, "missing_files": 0, "failed": 0}

        def jobs():
            """(url, url, files, context) for each report to parse, its bytes read as it is
            handed to the pool (only a window of reports is in memory at once)."""
            for report in reports:
                if outdated_only and report["parser_version"] == parsers.PARSER_VERSION \
                        and archive.report_state(report["url"])["complete"]:
                    counts["skipped"] += 1
                    continue
                documents = archive.stored_documents(report["url"])
                try:
                    files = [(doc, archive.store.read(doc.sha256)) for doc in documents]
                except OSError as error:
                    counts["missing_files"] += 1
                    log(f"{report['url']}: stored file missing ({error})")
                    continue
                source = {"name": report["source"], "id": report["source_id"],
                          **{k: report[k] for k in REGION}}
                yield report["url"], report["url"], files, {
                    "listing_url": report["listing_url"], "source": source,
                    "hints": json.loads(report["listing_hints"] or "{}")}

        done = 0
        for url, outcome in pool.build_all(jobs()):
            done += 1
            try:
                if isinstance(outcome, Exception):
                    raise outcome
                archive.save_report(outcome, outcome.documents, seen=False)
            except Exception as error:  # rolled back: the report keeps its earlier rows
                counts["failed"] += 1
                message = f"{type(error).__name__}: {error}"
                archive.record_error(None, url, "archive", f"reparse: {message}")
                log(f"[{done}] {url}: failed, left as it was ({message})")
                continue
            counts["reparsed"] += 1
            log(f"[{done}/{len(reports)}] {outcome.fields['title']}: "
                f"{outcome.fields['status']}, {len(outcome.cells)} cells")
    return counts
