"""The parser accuracy gate: every form of every sample in tests/corpus is parsed and
scored against its gold; no figure may fall below its pinned floor."""

from __future__ import annotations

import json

import pytest

from tools.evaluation import evaluate, summarize

from .conftest import CORPUS, ROOT

FLOORS = json.loads((ROOT / "tests" / "accuracy_floors.json").read_text(encoding="utf-8"))
GROUPS = [name for name in FLOORS if not name.startswith("_")]


@pytest.fixture(scope="module")
def scores():
    return evaluate(CORPUS)


@pytest.fixture(scope="module")
def summary(scores):
    return summarize(scores)


@pytest.mark.parametrize("group", GROUPS)
def test_no_figure_below_its_floor(scores, summary, group):
    assert group in summary, f"the corpus no longer has {group} documents"
    measured = summary[group]
    wrong = {f"{s.sample}/{s.format}": s.error or s.wrong[:5] for s in scores
             if not s.exact and group in ("all", s.format)}
    for metric, floor in FLOORS[group].items():
        assert measured[metric] >= floor, (
            f"{group} {metric} fell to {measured[metric]} (floor {floor}); wrong: {wrong}")


def test_every_format_of_the_corpus_is_gated(summary):
    assert set(summary) == set(GROUPS)


def test_only_scans_and_pictured_tables_are_read_by_ocr(scores):
    assert all(s.ocr == (s.format in ("scan", "image")) for s in scores)


def test_the_corpus_has_every_form(scores):
    formats = {s.format for s in scores}
    assert formats >= {"text", "html", "docx", "pdf", "doc", "scan", "xlsx", "xls", "ofd", "image"}
    assert len({s.sample for s in scores}) >= 11

