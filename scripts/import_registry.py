"""Import a list of real 年报 columns (a TSV) into the sources registry's imported file.

    .venv/bin/python scripts/import_registry.py CANDIDATES.tsv [-o nianbao/sources-imported.yaml]

The TSV has one row per column or report page found on a government portal, with the
columns host, body, province, city, county, level, family, listing_url, listing_confidence
(high, medium, low), report_urls, years, evidence and notes. Each row becomes:

- a `listing` entry, when its listing URL is of high or medium confidence;
- a `home` entry (the crawl finds the 年报 column from the portal's home page), when the
  listing is of low confidence or unknown and the host's home page is not already an entry;
- nothing, with the reason printed, otherwise (no region, the body unknown, …).

Every entry is `verified: false`, carries its region with the GB/T 2260 code the region
table settles (an ambiguous or unknown name is printed as a warning and noted on the entry,
never guessed), its family pin where the row names one the crawler knows, and where it came
from. The file is then loaded as the crawl loads it, so that what the loader refuses
(URL templates, hosts outside gov.cn, the same portal twice) is printed too.

Ids are kept across reruns: an entry of the same host and body keeps the id it was given,
so that its health in the archives already crawled stays its own.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.families import FAMILIES  # noqa: E402
from nianbao.registry import IMPORTED_PATH, LEVELS, default_id, load_registry, read_entries  # noqa: E402
from nianbao.regions import RegionTable  # noqa: E402

# a family is pinned only where the listing's URL shows it (a wrong pin is worse than none:
# the crawl recognises the family from the page); TRS columns are static pages, which its
# reader walks whatever drew them
FAMILY_SIGNS = {"gkmlpt": "/gkmlpt/", "hanweb": "/col/col", "trs": ""}

HEADER = """\
# Sources imported from a list of real 年报 columns by scripts/import_registry.py:
# rerun it when the list grows (ids are kept); do not edit by hand, correct the list, or
# copy an entry into sources.yaml (kept by hand), which wins over this file.
# Nothing here was fetched when it was written: every entry is unverified until
# `nianbao sources check --write` (with a network) sees its listing answer with reports.
"""


def _home(host: str, listing_url: str, report_urls: str) -> str:
    """The portal's home page, in the scheme its pages were seen with."""
    seen = next((u for u in (listing_url, *report_urls.split()) if u.startswith("http")), "")
    scheme = urlparse(seen).scheme or "http"
    return f"{scheme}://{host}/"


def entry_of(row: dict, regions: RegionTable, kept_ids: dict) -> tuple[dict | None, str, list[str]]:
    """(the registry entry or None, why / what kind, warnings) for one row of the TSV."""
    warnings = []
    body, host = row["body"].strip(), row["host"].strip()
    if not row["province"].strip():
        return None, "no province given", warnings
    if "不明" in body or not body:
        return None, "the body is not known", warnings
    confident = row["listing_confidence"] in ("high", "medium") and row["listing_url"].strip()
    suggestion = regions.suggest(row["province"], row["city"], row["county"], host)
    region = {key: row[key].strip() for key in ("province", "city", "county") if row[key].strip()}
    if suggestion.code:
        region["code"] = suggestion.code
    notes = [row["notes"].strip()] if row["notes"].strip() else []
    if suggestion.warning:
        warnings.append(f"{body}: region code: {suggestion.warning}")
        notes.append(f"region code left for a person: {suggestion.warning}")
    entry = {"id": None, "name": body, "region": region}
    if row["level"] in LEVELS:
        entry["level"] = row["level"]
    if confident:
        entry["listing"] = row["listing_url"].strip()
        kind = f"listing ({row['listing_confidence']})"
    else:
        entry["home"] = _home(host, row["listing_url"], row["report_urls"])
        kind = "home (listing " + ("of low confidence" if row["listing_url"].strip()
                                   else "unknown") + ")"
        if row["listing_url"].strip():
            notes.append(f"a listing of low confidence: {row['listing_url'].strip()}")
    sign = FAMILY_SIGNS.get(row["family"])
    if confident and row["family"] in FAMILIES and sign is not None and sign in entry["listing"]:
        entry["family"] = row["family"]
    elif row["family"] not in ("", "unknown", "other"):
        notes.append(f"family seen as {row['family']}")
    entry["verified"] = False
    entry["origin"] = f"registry candidates: {row['evidence'].strip()}"
    if notes:
        entry["note"] = "; ".join(notes)
    entry["id"] = kept_ids.get((host, body)) or default_id(entry.get("listing") or entry["home"])
    return entry, kind, warnings


def import_candidates(tsv: Path, output: Path, regions: RegionTable | None = None) -> dict:
    """Write the imported registry file from the TSV; return what was done, for printing
    and for tests: counts by kind, every row left out with why, warnings, refusals."""
    regions = regions or RegionTable.installed()
    with open(tsv, encoding="utf-8") as file:
        rows = list(csv.DictReader(file, delimiter="\t"))
    kept_ids = {}
    if output.exists():
        for old in read_entries(output):
            host = urlparse(old.get("listing") or old.get("home") or "").netloc
            kept_ids[(host, old.get("name"))] = old.get("id")
    entries, kinds, left_out, warnings = [], Counter(), [], []
    homes = set()  # home pages already entries
    for number, row in enumerate(rows, start=2):  # line numbers, after the header
        entry, kind, row_warnings = entry_of(row, regions, kept_ids)
        warnings += row_warnings
        if entry is not None and "home" in entry and entry["home"] in homes:
            entry, kind = None, "its host's home page is already an entry"
        if entry is None:
            left_out.append(f"line {number} ({row['host']}, {row['body']}): {kind}")
            continue
        if "home" in entry:
            homes.add(entry["home"])
        kinds[kind] += 1
        entries.append(entry)
    output.write_text(HEADER + yaml.safe_dump({"sources": entries}, allow_unicode=True,
                                              sort_keys=False, width=100), encoding="utf-8")
    registry = load_registry([output], families=list(FAMILIES))
    return {"rows": len(rows), "kinds": dict(kinds), "written": len(entries),
            "loaded": len(registry.sources), "left_out": left_out, "warnings": warnings,
            "refused": registry.refused,
            "coded": sum(1 for s in registry.sources if s.code)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tsv", type=Path, help="the list of candidates (TSV)")
    parser.add_argument("-o", "--output", type=Path, default=IMPORTED_PATH,
                        help=f"the registry file to write (default: {IMPORTED_PATH.relative_to(ROOT)})")
    arguments = parser.parse_args()
    try:
        done = import_candidates(arguments.tsv, arguments.output)
    except LookupError as error:
        sys.exit(str(error))
    for line in done["warnings"]:
        print(f"warning: {line}")
    for line in done["left_out"]:
        print(f"left out: {line}")
    for line in done["refused"]:
        print(f"refused by the loader: {line}")
    print(f"{done['rows']} rows: " + ", ".join(f"{n} {k}" for k, n in sorted(done["kinds"].items()))
          + f"; {len(done['left_out'])} left out; {len(done['refused'])} refused by the loader; "
          f"{done['loaded']} entries in {arguments.output} ({done['coded']} with a region code)")


if __name__ == "__main__":
    main()
