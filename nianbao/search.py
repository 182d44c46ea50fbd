"""Chinese full-text search over the archive, with SQLite FTS5 and no segmenter.

SQLite's tokenizers do not segment Chinese: unicode61 takes a run of Han characters as
one token, trigram cannot find terms shorter than three characters. Here every text is
indexed twice, as its single characters and as its overlapping character pairs, each
kind in its own columns, so that:

- a one-character term (复) is a token of the character columns;
- a term of two or more characters (复议, 依申请公开) is the phrase of its pairs
  (依申 申请 请公 公开) in the pair columns: consecutive pairs, so an exact substring;
- Latin words and numbers are tokens of both.

`README.md` gives the measurement behind this choice (scripts/compare_search.py).
"""

from __future__ import annotations

import re
import unicodedata

# the FTS5 table (its rowid is the report's `id` in `reports`) and its columns, in order
# (the ranked search in datasette/metadata.yml weighs the two title columns 10 to 1)
FTS_TABLE = "reports_fts"
COLUMNS = ("title_chars", "title_pairs", "body_chars", "body_pairs")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# a run of Han characters goes on across white space: a PDF's line breaks and the
# spaces typesetters put inside words (申 请) do not split Chinese words
_TOKENS = re.compile(rf"[{_HAN}](?:\s*[{_HAN}])*|[0-9a-z]+")
_SPACE = re.compile(r"\s+")
# what a query with no searchable character matches: nothing
NOTHING = '"\u2400"'
# a reader's query is read up to this many characters (a search box, not a document)
MAX_QUERY_CHARS = 200


def _runs(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return [_SPACE.sub("", run) for run in _TOKENS.findall(text)]


def _is_han(run: str) -> bool:
    return "\u3400" <= run[0] <= "\ufaff"


def grams(text: str) -> tuple[str, str]:
    """(characters, pairs) of a text, space-separated, for the two kinds of column."""
    chars, pairs = [], []
    for run in _runs(text):
        if _is_han(run):
            chars.extend(run)
            pairs.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            chars.append(run)
            pairs.append(run)
    return " ".join(chars), " ".join(pairs)


def index_row(title: str | None, text: str | None) -> dict:
    title_chars, title_pairs = grams(title or "")
    body_chars, body_pairs = grams(text or "")
    return dict(zip(COLUMNS, (title_chars, title_pairs, body_chars, body_pairs)))


def match_expression(query: str) -> str:
    """The FTS5 MATCH expression for a reader's query: every term must occur. Only the
    first MAX_QUERY_CHARS characters are read."""
    parts = []
    for run in (run for term in query[:MAX_QUERY_CHARS].split() for run in _runs(term)):
        if _is_han(run) and len(run) == 1:
            parts.append(f'{{title_chars body_chars}} : "{run}"')
        elif _is_han(run):
            phrase = " ".join(run[i:i + 2] for i in range(len(run) - 1))
            parts.append(f'{{title_pairs body_pairs}} : "{phrase}"')
        else:
            parts.append(f'"{run}"')
    return " AND ".join(parts) if parts else NOTHING


def reports_matching(parameter: str) -> str:
    """SQL for the ids (`reports.id`) of the reports whose title or text matches the MATCH expression
    bound to :parameter (see match_expression)."""
    return f"select rowid from [{FTS_TABLE}] where [{FTS_TABLE}] match :{parameter}"
