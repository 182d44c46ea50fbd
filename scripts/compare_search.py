"""Measure ways of searching Chinese report text with SQLite, on an archive's reports.

    python scripts/compare_search.py [--db archive.db] [--copies 40] [--terms 40]

Not a test: prints one table measured in one run. For each approach, every query term is
checked against the truth (the reports whose title or text holds the term as a substring,
white space ignored), and the script prints recall and precision by term length (1, 2,
3+ characters), the index's size and build time, and the mean query time. The reports are
repeated `--copies` times (as distinct rows) so that query times are measured on an
archive of a realistic size rather than on eleven rows.

Approaches:
  unicode61      SQLite's default tokenizer: a run of Han characters is one token
  trigram        the trigram tokenizer; terms under three characters fall back to LIKE
  jieba          jieba's search segmentation at index and at query time (a phrase of the
                 query's words); needs `pip install jieba` (in the test extras)
  chars+pairs    nianbao's index (nianbao/search.py): characters, and character pairs
                 matched as a phrase
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nianbao.search import index_row, match_expression  # noqa: E402

# what a journalist types, beside the terms sampled from the texts
JOURNALIST_TERMS = ["复", "秦", "复议", "咨询", "诉讼", "依申请公开", "国家秘密", "三安全一稳定",
                    "行政复议", "不予公开", "政府信息公开", "过程性信息", "只楚", "天水郡"]
_HAN = re.compile(r"[\u4e00-\u9fff]+")


def normal(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "").lower())


def sample_terms(texts: list[str], per_length: int, seed: int = 7) -> list[str]:
    """Terms of 1, 2, 3, 4 and 6 Han characters cut at random from the texts."""
    rng = random.Random(seed)
    runs = [run for text in texts for run in _HAN.findall(normal(text)) if len(run) >= 6]
    terms = []
    for length in (1, 2, 3, 4, 6):
        chosen: set[str] = set()
        while len(chosen) < per_length:
            run = rng.choice(runs)
            start = rng.randrange(0, len(run) - length + 1)
            chosen.add(run[start:start + length])
        terms += sorted(chosen)
    return terms + JOURNALIST_TERMS


class Approach:
    name = ""

    def build(self, db: sqlite3.Connection, rows: list[tuple[int, str, str]]) -> None: ...

    def search(self, db: sqlite3.Connection, term: str) -> set[int]: ...


class Unicode61(Approach):
    name = "unicode61"

    def build(self, db, rows):
        db.execute("create virtual table fts using fts5(title, body)")
        db.executemany("insert into fts (rowid, title, body) values (?, ?, ?)", rows)

    def search(self, db, term):
        return {r for (r,) in db.execute("select rowid from fts where fts match ?", [f'"{term}"'])}


class Trigram(Approach):
    name = "trigram"

    def build(self, db, rows):
        db.execute("create virtual table fts using fts5(title, body, tokenize = 'trigram')")
        db.executemany("insert into fts (rowid, title, body) values (?, ?, ?)",
                       [(rowid, normal(title), normal(body)) for rowid, title, body in rows])

    def search(self, db, term):
        if len(term) >= 3:
            sql, value = "select rowid from fts where fts match ?", f'"{term}"'
        else:  # trigram cannot match shorter terms: a LIKE over every row
            sql, value = "select rowid from fts where title like ? or body like ?", f"%{term}%"
        return {r for (r,) in db.execute(sql, [value] * sql.count("?"))}


class Jieba(Approach):
    name = "jieba"

    def __init__(self):
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.jieba = jieba

    def words(self, text: str) -> str:
        return " ".join(w for w in self.jieba.cut_for_search(normal(text)) if w.strip())

    def build(self, db, rows):
        db.execute("create virtual table fts using fts5(title, body)")
        db.executemany("insert into fts (rowid, title, body) values (?, ?, ?)",
                       [(rowid, self.words(title), self.words(body)) for rowid, title, body in rows])

    def search(self, db, term):
        phrase = " ".join(w for w in self.jieba.cut(term) if w.strip())
        return {r for (r,) in db.execute("select rowid from fts where fts match ?", [f'"{phrase}"'])}


class CharsAndPairs(Approach):
    name = "chars+pairs"

    def build(self, db, rows):
        db.execute("create virtual table fts using fts5(title_chars, title_pairs, body_chars, body_pairs)")
        for rowid, title, body in rows:
            index = index_row(title, body)
            db.execute("insert into fts (rowid, title_chars, title_pairs, body_chars, body_pairs) "
                       "values (?, ?, ?, ?, ?)", [rowid, *index.values()])

    def search(self, db, term):
        return {r for (r,) in db.execute("select rowid from fts where fts match ?",
                                         [match_expression(term)])}


def measure(approach: Approach, rows, terms, truth) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "search.db"
        db = sqlite3.connect(path)
        started = time.perf_counter()
        approach.build(db, rows)
        db.commit()
        build = time.perf_counter() - started
        db.execute("vacuum")
        size = path.stat().st_size
        found, timings = {}, []
        for term in terms:
            started = time.perf_counter()
            found[term] = approach.search(db, term)
            timings.append(time.perf_counter() - started)
        db.close()
    by_length: dict[str, list] = {"1": [], "2": [], "3+": []}
    for term in terms:
        key = "1" if len(term) == 1 else "2" if len(term) == 2 else "3+"
        hits, expected = found[term], truth[term]
        recall = len(hits & expected) / len(expected) if expected else 1.0
        precision = len(hits & expected) / len(hits) if hits else 1.0
        by_length[key].append((recall, precision))
    return {"build": build, "size": size, "query_ms": statistics.mean(timings) * 1000,
            "slowest_ms": max(timings) * 1000,
            **{f"recall {k}": statistics.mean(r for r, _ in v) for k, v in by_length.items()},
            **{f"precision {k}": statistics.mean(p for _, p in v) for k, v in by_length.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="archive.db", help="an archive (default: archive.db)")
    parser.add_argument("--copies", type=int, default=40, help="times each report is indexed")
    parser.add_argument("--terms", type=int, default=40, help="sampled terms per length")
    options = parser.parse_args()
    if not Path(options.db).exists():
        parser.error(f"{options.db} not found: make one with `nianbao demo --no-serve`")
    with sqlite3.connect(options.db) as connection:
        reports = connection.execute("select title, text from reports where text <> ''").fetchall()
    if not reports:
        parser.error(f"{options.db} holds no report text")
    rows = [(copy * len(reports) + i + 1, title or "", text or "")
            for copy in range(options.copies) for i, (title, text) in enumerate(reports)]
    terms = sample_terms([text for _, text in reports], options.terms)
    normalised = {rowid: normal(title) + "|" + normal(text) for rowid, title, text in rows}
    truth = {term: {rowid for rowid, text in normalised.items() if term in text} for term in terms}
    text_mb = sum(len((t + x).encode()) for _, t, x in rows) / 1e6
    print(f"{len(rows)} reports ({len(reports)} distinct × {options.copies}), {text_mb:.1f} MB of "
          f"text; {len(terms)} terms ({options.terms} each of 1, 2, 3, 4, 6 characters, "
          f"and {len(JOURNALIST_TERMS)} a journalist would type)\n")
    approaches = [Unicode61(), Trigram()]
    try:
        approaches.append(Jieba())
    except ImportError:
        print("jieba not installed: left out (pip install jieba)\n")
    approaches.append(CharsAndPairs())
    columns = ["recall 1", "recall 2", "recall 3+", "precision 1", "precision 2", "precision 3+",
               "size", "build", "query_ms", "slowest_ms"]
    print(f"{'approach':<12} " + " ".join(f"{c:>12}" for c in columns))
    for approach in approaches:
        result = measure(approach, rows, terms, truth)
        cells = []
        for column in columns:
            value = result[column]
            if column == "size":
                cells.append(f"{value / 1e6:>10.1f}MB")
            elif column == "build":
                cells.append(f"{value:>11.1f}s")
            elif column.endswith("_ms"):
                cells.append(f"{value:>10.2f}ms")
            else:
                cells.append(f"{value:>12.3f}")
        print(f"{approach.name:<12} " + " ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
