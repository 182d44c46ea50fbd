"""Chinese full-text search without a segmenter: what is indexed and what a query means."""

from __future__ import annotations

import sqlite3

import pytest

from nianbao.search import NOTHING, grams, index_row, match_expression


def test_han_text_is_indexed_as_characters_and_pairs():
    assert grams("行政复议") == ("行 政 复 议", "行政 政复 复议")


def test_line_breaks_and_spaces_inside_words_do_not_split_them():
    # PDF text breaks lines inside words; typesetters space out labels (申 请)
    assert "申请" in grams("依申\n请公开")[1].split()
    assert "申请" in grams("依 申 请")[1].split()
    # punctuation does
    assert "议咨" not in grams("复议，咨询")[1].split()


def test_numbers_and_latin_words_are_tokens_of_both_kinds():
    assert grams("2021年 PDF") == ("2021 年 pdf", "2021 pdf")


def test_query_terms_are_separated_by_spaces_and_all_required():
    assert match_expression("依申请 复") == (
        '{title_pairs body_pairs} : "依申 申请" AND {title_chars body_chars} : "复"')
    assert match_expression("  ，。 ") == NOTHING
    assert match_expression('"复议" OR') == '{title_pairs body_pairs} : "复议" AND "or"'


@pytest.mark.parametrize("query,hits", [
    ("复", {1, 2}), ("复议", {1}), ("议复", set()), ("依申请公开", {2}), ("申请 复", {2}),
    ("复议 咨询", set()), ("国家秘密", set()), ("2021", {1}),
])
def test_a_term_matches_exactly_where_it_is_a_substring(query, hits):
    db = sqlite3.connect(":memory:")
    db.execute("create virtual table t using fts5(title_chars, title_pairs, body_chars, body_pairs)")
    texts = {1: ("行政复议情况", "2021年度"), 2: ("依申请公开", "重复申请")}
    for rowid, (title, body) in texts.items():
        db.execute("insert into t (rowid, title_chars, title_pairs, body_chars, body_pairs) "
                   "values (?, ?, ?, ?, ?)", [rowid, *index_row(title, body).values()])
    found = {r for (r,) in db.execute("select rowid from t where t match ?", [match_expression(query)])}
    assert found == hits
