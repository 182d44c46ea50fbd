"""The published site's speed on a large archive, measured in one run: an archive grown to
N reports from a real one (each report copied under a new URL, id and body, its cells,
checks, sections, figures and search row with it), then each page a journalist opens,
requested through Datasette's own client, and the first request after start-up. A script,
not a test: it prints, it asserts nothing.

    .venv/bin/python scripts/benchmark_site.py --from archive.db [--reports 100000] [--rounds 20]
    .venv/bin/python scripts/benchmark_site.py --keep DIR      # measure a kept one again

The source archive is not changed (the grown one is written beside it, or to --keep). A
kept archive measured again is first brought up to this version's schema.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from nianbao.schema import ensure_schema  # noqa: E402
from nianbao.search import COLUMNS, FTS_TABLE, index_row  # noqa: E402

# what a journalist opens, in the order of the issue that asked for it
PAGES = ["/", "/archive/figures?_facet=年度&_facet=发布机构&_facet=省",
         "/archive/search?检索词=复", "/archive/search?检索词=复议", "/archive/search?检索词=依申请公开",
         "/archive/reports?_search=复", "/archive/reports?_search=复议", "/archive/reports?_search=依申请公开",
         "/charts", "/archive/figures.csv?年度=2021"]


def _columns(db, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"pragma table_info([{table}])")]


def grow(source: Path, target: Path, reports: int, log=print) -> int:
    """Copy `source` to `target` and add copies of its reports until it holds `reports`."""
    shutil.copyfile(source, target)
    db = sqlite3.connect(target)
    base = db.execute("select count(*), max(id) from reports").fetchone()
    count, step = base[0], base[1]
    bodies = db.execute("select max(rowid) from bodies").fetchone()[0] or 0
    texts = {rid: index_row(title, text) for rid, title, text in
             db.execute("select id, title, text from reports")}
    copies = max(0, -(-reports // count) - 1)
    started = time.perf_counter()
    report_cols = _columns(db, "reports")
    figure_cols = _columns(db, "figures")
    body_cols = _columns(db, "bodies")
    for n in range(1, copies + 1):
        offset, tag = n * step, f"#copy{n}"
        swap = {"url": f"url || '{tag}'", "id": f"id + {offset}",
                "publisher": f"publisher || '{n}'", "body": f"body || '{n}'"}
        db.execute(f"insert into reports ({', '.join(report_cols)}) select "
                   + ", ".join(swap.get(c, c) for c in report_cols) + f" from reports where id <= {step}")
        swap = {"年报": f"年报 || '{tag}'", "发布机构": f"发布机构 || '{n}'"}
        db.execute(f"insert into figures ({', '.join(f'[{c}]' for c in figure_cols)}) select "
                   + ", ".join(swap.get(c, f"[{c}]") for c in figure_cols)
                   + f" from figures where [年报] in (select url from reports where id <= {step})")
        for table in ("report_cells", "report_checks", "report_sections"):
            cols = _columns(db, table)
            db.execute(f"insert into {table} ({', '.join(cols)}) select "
                       + ", ".join(f"report_id + {offset}" if c == "report_id" else c for c in cols)
                       + f" from {table} where report_id <= {step}")
        swap = {"编号": f"[编号] || '{n}'", "名称": f"[名称] || '{n}'"}
        db.execute(f"insert or ignore into bodies ({', '.join(f'[{c}]' for c in body_cols)}) select "
                   + ", ".join(swap.get(c, f"[{c}]") for c in body_cols)
                   + f" from bodies where rowid <= {bodies}")
        db.executemany(f"insert into [{FTS_TABLE}] (rowid, {', '.join(COLUMNS)}) values "
                       f"(?, {', '.join('?' * len(COLUMNS))})",
                       [(rid + offset, *row.values()) for rid, row in texts.items()])
        db.commit()
        if n % 500 == 0:
            log(f"  {count * (n + 1):,} reports ({time.perf_counter() - started:.0f} s)")
    db.commit()
    total = db.execute("select count(*) from reports").fetchone()[0]
    db.close()
    up_to_date(target)
    return total


def up_to_date(target: Path) -> None:
    """The schema's indexes, made once over the grown rows (a source archive made by an
    older version lacks the newer ones), and the planner's statistics."""
    archive = sqlite_utils.Database(target)
    ensure_schema(archive)
    archive.execute("analyze")
    archive.close()


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def measure(db: Path, rounds: int) -> None:
    from datasette.utils import tilde_encode

    from nianbao.publish import datasette_app

    started = time.perf_counter()
    app = datasette_app(db)
    first = asyncio.run(app.client.get("/"))
    print(f"first request after start-up: {time.perf_counter() - started:.2f} s (HTTP {first.status_code})")
    with sqlite3.connect(db) as connection:
        body = connection.execute("select [编号] from bodies limit 1").fetchone()
    pages = list(PAGES)
    if body:
        pages.append(f"/archive/bodies/{tilde_encode(body[0])}")
    metadata = app.metadata()
    queries = (metadata.get("databases", {}).get(db.stem, {}) or {}).get("queries", {})
    pages += [f"/{db.stem}/{name}" for name in queries]
    # first: the page's first answer, before what the site keeps until the archive changes
    # (a parameter's choices, a table search's list of ids) is made
    print(f"\n{'page':60} {'status':>6} {'first ms':>9} {'median ms':>10} {'p95 ms':>8}")
    for path in pages:
        path = path.replace("/archive/", f"/{db.stem}/", 1) if db.stem != "archive" else path
        times, status = [], None
        for _ in range(rounds):
            begun = time.perf_counter()
            response = asyncio.run(app.client.get(path))
            times.append((time.perf_counter() - begun) * 1000)
            status = response.status_code
        print(f"{path[:60]:60} {status:>6} {times[0]:9.0f} {statistics.median(times):10.0f} "
              f"{p95(times):8.0f}")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--from", dest="source", type=Path,
                         help="an archive to grow (without it: measure the one kept in --keep again)")
    options.add_argument("--reports", type=int, default=100_000)
    options.add_argument("--rounds", type=int, default=20)
    options.add_argument("--keep", type=Path, help="write the grown archive here and keep it")
    args = options.parse_args()
    if args.source is None:  # a kept archive, measured again
        if not args.keep or not (args.keep / "archive.db").exists():
            options.error("give --from ARCHIVE to grow, or --keep DIR holding a grown archive.db")
        target = args.keep / "archive.db"
        up_to_date(target)
        with sqlite3.connect(target) as connection:
            total = connection.execute("select count(*) from reports").fetchone()[0]
        print(f"measuring {target} again: {total:,} reports ({target.stat().st_size / 1e6:,.0f} MB)")
    else:
        folder = args.keep or Path(tempfile.mkdtemp(prefix="nianbao-site-"))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "archive.db"
        started = time.perf_counter()
        total = grow(args.source, target, args.reports)
        print(f"grown to {total:,} reports in {time.perf_counter() - started:.0f} s "
              f"({target.stat().st_size / 1e6:,.0f} MB)")
    measure(target, args.rounds)
    if not args.keep:
        shutil.rmtree(target.parent)


if __name__ == "__main__":
    main()
