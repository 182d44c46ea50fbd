"""What changed: every crawl records its events (新增, 更新 with the figures that changed,
消失, 恢复) in `changes`; the site lists the latest and serves them as an Atom feed."""

from __future__ import annotations

import asyncio
import json

import pytest

from nianbao.publish import datasette_app

from .conftest import rows


@pytest.fixture(scope="module")
def crawled_twice(crawled_thrice):
    return crawled_thrice.db, crawled_thrice.portal, crawled_thrice.shell, crawled_thrice.vanished


def test_each_crawl_records_what_changed(crawled_twice):
    db, portal, shell, vanished = crawled_twice
    events = rows(db, "select run_id, kind, report_url, what, figures from changes order by id")
    assert [(e["run_id"], e["kind"]) for e in events if e["run_id"] == 1] == [(1, "新增")] * 6
    second = [(e["kind"], e["report_url"]) for e in events if e["run_id"] == 2]
    assert sorted(second) == sorted([("更新", portal.url(shell["path"])),
                                     ("消失", portal.url(vanished["path"]))])
    update = next(e for e in events if e["kind"] == "更新")
    figures = json.loads(update["figures"])
    assert figures["新收申请"][0] != figures["新收申请"][1]
    assert "换了新内容" in update["what"] and f"新收申请 {figures['新收申请'][0]:,} → " in update["what"]
    assert [(e["kind"], e["report_url"]) for e in events if e["run_id"] == 3] == \
        [("恢复", portal.url(vanished["path"]))]


def test_an_unchanged_recrawl_records_nothing(crawled_twice):
    db, *_ = crawled_twice
    assert rows(db, "select count(*) n from changes where run_id = 3 and kind != '恢复'") == [{"n": 0}]


def test_the_latest_changes_page_and_its_atom_feed(crawled_twice):
    db, portal, shell, vanished = crawled_twice
    app = datasette_app(db)
    page = asyncio.run(app.client.get("/archive/latest_changes")).text
    assert "最新变化" in page and "更新" in page and "消失" in page and "恢复" in page
    assert "changes_feed.atom" in page
    feed = asyncio.run(app.client.get("/archive/changes_feed.atom"))
    assert feed.status_code == 200 and "<feed xmlns=\"http://www.w3.org/2005/Atom\"" in feed.text
    assert feed.text.count("<entry>") == 6 + 2 + 1
    assert "更新：" in feed.text and portal.url(shell["path"]) in feed.text
    only = asyncio.run(app.client.get("/archive/latest_changes.json?变化=消失&_shape=array")).json()
    assert [r["变化"] for r in only] == ["消失"]
