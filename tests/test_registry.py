"""The sources registry: its import from a list of real columns, its region codes, what its
loader refuses, `nianbao sources check` against local portals, and each source's health
in the archive."""

from __future__ import annotations

import datetime
import sqlite3
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from nianbao.cli import main
from nianbao.registry import load_registry, mark_verified

from . import portals
from .conftest import ROOT, rows, shared

CANDIDATES = "registry-candidates.tsv"


def write_registry(path, entries: list[dict]) -> None:
    path.write_text(yaml.safe_dump({"sources": entries}, allow_unicode=True), encoding="utf-8")


# --- the loader --------------------------------------------------------------------------


def test_the_loader_refuses_templates_foreign_hosts_and_duplicates_one_line_each(tmp_path):
    region = {"province": "北京"}
    registry = tmp_path / "sources.yaml"
    write_registry(registry, [
        {"name": "甲", "region": region, "listing": "https://www.a.gov.cn/zfxxgknb/"},
        {"name": "乙", "region": region, "listing": "https://www.b.gov.cn/zfxxgknb/{Y}/"},
        {"name": "丙", "region": region, "listing": "https://www.example.com/nb/"},
        {"name": "丁", "region": region, "listing": "https://www.a.gov.cn/zfxxgknb/index.html"},
        {"name": "甲", "region": region, "listing": "https://www.c.gov.cn/nb/"},
        {"name": "戊", "region": region, "home": "http://127.0.0.1:8080/", "id": "wu"},
        {"name": "己", "region": {**region, "code": "11"}, "home": "http://www.d.gov.cn/"},
    ])
    loaded = load_registry([registry])
    assert [s.name for s in loaded.sources] == ["甲", "戊"]
    assert loaded.refused == [
        "sources.yaml entry 2 (乙): 'listing' is a URL template, not a page: "
        "https://www.b.gov.cn/zfxxgknb/{Y}/",
        "sources.yaml entry 3 (丙): 'listing' is not on a government host (gov.cn): www.example.com",
        "sources.yaml entry 4 (丁): the same id as sources.yaml entry 1 (甲): www.a.gov.cn/zfxxgknb",
        "sources.yaml entry 5 (甲): the same name as sources.yaml entry 1 (甲): 甲",
        "sources.yaml entry 7 (己): region code '11' is not six digits (GB/T 2260)",
    ]
    assert loaded.sources[1].id == "wu"
    result = CliRunner().invoke(main, ["sources", "--registry", str(registry)])
    assert result.exit_code == 1
    assert "refused: sources.yaml entry 3 (丙): 'listing' is not on a government host" in result.output


def test_the_default_registry_is_the_hand_kept_file_and_the_imported_one():
    loaded = load_registry()
    assert [p.name for p in loaded.paths] == ["sources.yaml", "sources-imported.yaml"]
    assert loaded.refused == []
    assert len(loaded.sources) > 100
    assert all(not s.verified for s in loaded.sources)


def test_marking_an_entry_verified_keeps_the_file_s_comments(tmp_path):
    registry = tmp_path / "sources.yaml"
    registry.write_text("# kept by hand\nsources:\n  - name: 甲  # the county\n"
                        "    region: {province: 北京}\n    listing: http://www.a.gov.cn/nb/\n"
                        "    verified: false\n  - name: 乙\n    region: {province: 北京}\n"
                        "    listing: http://www.b.gov.cn/nb/\n", encoding="utf-8")
    assert mark_verified(registry, {"www.a.gov.cn/nb", "www.b.gov.cn/nb"}, "2026-11-24") == 2
    text = registry.read_text(encoding="utf-8")
    assert "# kept by hand" in text and "# the county" in text
    assert [(s.verified, s.verified_on) for s in load_registry([registry]).sources] == [
        (True, "2026-11-24"), (True, "2026-11-24")]


# --- region codes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regions():
    from nianbao.regions import RegionTable

    return RegionTable.installed()


@pytest.mark.parametrize("names, code, warned", [
    (("北京", "", "朝阳区"), "110105", None),
    (("吉林", "长春", "朝阳区"), "220104", None),
    (("", "", "朝阳区"), None, "'朝阳区' is ambiguous"),           # never guessed
    (("江苏", "", "鼓楼区"), "320000", "give the city"),           # the province is certain
    (("江苏", "南京", "鼓楼区"), "320106", None),
    (("广西", "", ""), "450000", None),                              # 广西壮族自治区
    (("湖北", "恩施", ""), "422800", None),                          # 恩施土家族苗族自治州
    (("吉林", "长春", "长春经济技术开发区"), "220100", "not found"),  # a zone: the city's
    (("中央", "", ""), None, None),                                  # a ministry: no code
])
def test_region_codes_are_settled_or_left_with_a_warning(regions, names, code, warned):
    suggestion = regions.suggest(*names)
    assert suggestion.code == code
    assert (suggestion.warning is None) if warned is None else (warned in suggestion.warning)


def test_the_host_settles_a_name_found_in_several_provinces(regions):
    assert regions.suggest("", "", "朝阳区", "www.bjchy.beijing.gov.cn").code == "110105"
    assert regions.suggest("", "", "鼓楼区", "www.gl.jiangsu.gov.cn").warning.endswith(
        "give the city to settle it")


# --- the import --------------------------------------------------------------------------


def test_the_candidates_import_into_listing_and_home_entries(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    from import_registry import import_candidates

    output = tmp_path / "sources-imported.yaml"
    done = import_candidates(shared(CANDIDATES), output)
    assert done["rows"] == 155
    assert done["kinds"] == {"listing (high)": 35, "listing (medium)": 74,
                             "home (listing of low confidence)": 18, "home (listing unknown)": 27}
    assert done["left_out"] == ["line 5 (ccxi.gov.cn, 管委会(ccxi.gov.cn,不明)): no province given"]
    assert done["refused"] == [] and done["loaded"] == 154
    assert done["coded"] >= 145
    entries = {s.name: s for s in load_registry([output]).sources}
    pinglu = entries["朔州市平鲁区(区直单位,市政服务)"]
    assert (pinglu.code, pinglu.listing, pinglu.family, pinglu.verified) == (
        "140603", "http://www.szpinglu.gov.cn/xxgk/plzfxxgk/zfxxgknb/", "trs", False)
    # a template listing ({Y}) is not crawled as such: the portal's home is
    fengtai = next(s for s in entries.values() if s.start_url.startswith("https://www.bjft.gov.cn"))
    assert fengtai.home == "https://www.bjft.gov.cn/" and "{Y}" in fengtai.note
    # a gkmlpt column is pinned only where its URL shows it
    assert entries["广东省文化和旅游厅"].family == "gkmlpt"
    assert entries["清远市清新区人民政府办公室"].family == "auto"
    # rerun: the ids stay, whatever the listing URL becomes
    first = {s.name: s.id for s in load_registry([output]).sources}
    text = output.read_text(encoding="utf-8").replace(
        "id: www.szpinglu.gov.cn/xxgk/plzfxxgk/zfxxgknb", "id: pinglu-kept")
    output.write_text(text, encoding="utf-8")
    import_candidates(shared(CANDIDATES), output)
    again = {s.name: s.id for s in load_registry([output]).sources}
    assert again == {**first, "朔州市平鲁区(区直单位,市政服务)": "pinglu-kept"}


# --- checking the registry, and each source's health -------------------------------------


@pytest.fixture(scope="module")
def nation():
    """Local portals of every family but the browser's, and three that fail: a column that
    moved (404), one robots.txt forbids, one redesigned (no report links)."""
    served = {name: portals.serve(kind) for name, kind in (
        ("trs", portals.ArchivePortal), ("hanweb", portals.HanwebPortal),
        ("gkmlpt", portals.GkmlptPortal), ("json", portals.JsonListPortal),
        ("plain", portals.PlainPortal))}
    trs = served["trs"][0]
    trs.add("/redesigned/index.html", "<html><body><p>网站改版中</p></body></html>")
    yield {name: portal for name, (portal, _) in served.items()}
    for _, server in served.values():
        server.shutdown()


def nation_registry(nation, path, renamed: str = "") -> None:
    trs = nation["trs"]
    write_registry(path, [
        {"id": "trs", "name": renamed or "示例区人民政府", "level": "县",
         "region": {"province": "北京", "county": "朝阳区", "code": "110105"},
         "listing": trs.listing},
        {"id": "hanweb", "name": "示例市人民政府", "region": {"province": "江苏", "code": "320000"},
         "listing": f"{nation['hanweb'].base}/col/col1234/index.html?uid=5678&pageNum=1"},
        {"id": "gkmlpt", "name": "示例厅", "region": {"province": "广东", "code": "440000"},
         "listing": f"{nation['gkmlpt'].base}/gkmlpt/annualreport"},
        {"id": "json", "name": "示例局", "region": {"province": "浙江"},
         "listing": f"{nation['json'].base}/xxgk/nb/index.html"},
        {"id": "plain", "name": "示例县人民政府", "region": {"province": "山东"},
         "home": f"{nation['plain'].base}/index.html"},
        {"id": "moved", "name": "已迁移的栏目", "region": {"province": "北京"},
         "listing": f"{trs.base}/gone/index.html"},
        {"id": "blocked", "name": "禁止抓取的栏目", "region": {"province": "北京"},
         "listing": f"{trs.base}/private/nb/index.html"},
        {"id": "redesigned", "name": "改版的栏目", "region": {"province": "北京"},
         "listing": f"{trs.base}/redesigned/index.html"},
    ])


LOOPBACK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "NIANBAO_BROWSER_FALLBACK=False"]


def test_sources_check_reads_every_listing_and_marks_those_that_answered(nation, tmp_path):
    registry = tmp_path / "sources.yaml"
    nation_registry(nation, registry)
    result = CliRunner().invoke(main, ["sources", "check", "--registry", str(registry), "--write",
                                       *LOOPBACK])
    assert result.exit_code == 1, result.output
    checked = {line.split("\t")[3]: line.split("\t")[:3] for line in result.output.splitlines()
               if line.count("\t") >= 4}
    assert checked == {
        "trs": ["ok", "plain", str(len(nation["trs"].reports))],  # pages linked by 下一页
        "hanweb": ["ok", "hanweb", str(len(nation["hanweb"].reports))],
        "gkmlpt": ["ok", "gkmlpt", str(len(nation["gkmlpt"].reports))],
        "json": ["ok", "json", str(len(nation["json"].reports))],
        # its listing links two more pages: a challenge and a soft 404
        "plain": ["ok", "plain", str(len(nation["plain"].reports) + 2)],
        "moved": ["moved", "-", "0"], "blocked": ["blocked", "-", "0"],
        "redesigned": ["empty listing", "plain", "0"]}
    assert "8 sources checked: 5 ok, 1 blocked, 1 empty listing, 1 moved, " in result.output
    # no report page was fetched: the listings alone
    assert not any("/xxgk/nb/1/" in path for _, path, _ in nation["trs"].requests)
    today = datetime.date.today().isoformat()
    assert {s.id: s.verified_on for s in load_registry([registry]).sources} == {
        "trs": today, "hanweb": today, "gkmlpt": today, "json": today, "plain": today,
        "moved": None, "blocked": None, "redesigned": None}


def test_every_crawl_keeps_each_source_s_health_and_its_failure_streak(nation, tmp_path):
    registry, db = tmp_path / "sources.yaml", tmp_path / "archive.db"
    nation_registry(nation, registry)

    def crawl(*settings):
        run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "annual_reports", "-a",
                              f"registry={registry}", "-s", f"ARCHIVE_DB={db}", *LOOPBACK,
                              *settings], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]

    def health():
        return {r["id"]: r for r in rows(db, "select * from sources")}

    crawl()
    first = health()
    assert {i: (r["outcome"], r["reports_listed"], r["reports_new"], r["failing_runs"])
            for i, r in first.items()} == {
        "trs": ("ok", 12, 12, 0), "hanweb": ("ok", 7, 7, 0), "gkmlpt": ("ok", 3, 3, 0),
        "json": ("ok", 3, 3, 0), "plain": ("ok", 6, first["plain"]["reports_new"], 0),
        "moved": ("moved", 0, 0, 1), "blocked": ("blocked", 0, 0, 1),
        "redesigned": ("empty listing", 0, 0, 1)}
    assert first["moved"]["detail"] == "HTTP 404"
    assert first["blocked"]["detail"] == "forbidden by robots.txt"
    assert rows(db, "select region_code, source_id, count(*) n from reports where source_id = 'trs' "
                    "group by 1, 2") == [{"region_code": "110105", "source_id": "trs", "n": 12}]
    assert rows(db, "select count(*) n from figures where 区划代码 = '110105'") == [{"n": 12}]

    # the TRS column goes away; the body is renamed; an entry leaves the registry
    trs = nation["trs"]
    trs.dynamic = lambda method, path, *rest: (
        portals.Answer(b"<h1>404</h1>", status=404) if path.startswith("/xxgk/nb/index") else None)
    nation_registry(nation, registry, renamed="示例区政府")
    entries = yaml.safe_load(registry.read_text(encoding="utf-8"))["sources"]
    write_registry(registry, [e for e in entries if e["id"] != "json"])
    try:
        crawl()
        crawl()
    finally:
        del trs.dynamic
    third = health()
    assert (third["trs"]["name"], third["trs"]["outcome"], third["trs"]["failing_runs"],
            third["trs"]["reports_new"]) == ("示例区政府", "moved", 2, 0)
    assert third["trs"]["failing_since"] < third["trs"]["last_checked"]
    assert third["trs"]["last_ok"] == first["trs"]["last_checked"]
    assert third["moved"]["failing_runs"] == 3
    assert third["moved"]["failing_since"] == first["moved"]["failing_since"]
    assert third["hanweb"]["reports_new"] == 0 and third["hanweb"]["outcome"] == "ok"
    # an entry taken out of the registry keeps its row and its last health
    assert (third["json"]["in_registry"], third["json"]["outcome"]) == (0, "ok")
    assert third["trs"]["in_registry"] == 1
    # the column is back: the streak ends
    crawl()
    assert (health()["trs"]["outcome"], health()["trs"]["failing_runs"]) == ("ok", 0)


# --- coverage on the site ----------------------------------------------------------------


def test_the_coverage_page_shows_sources_bodies_by_year_and_who_is_missing(demo_archive, tmp_path):
    import asyncio
    import re
    import shutil

    from nianbao.publish import datasette_app

    db = tmp_path / "archive.db"
    shutil.copy(demo_archive, db)
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "insert into sources (id, name, level, province, in_registry, outcome, detail, "
            "failing_runs, failing_since, start_url) values (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            [("a", "甲县人民政府", "县", "甘肃", "moved", "HTTP 404", 4, "2026-10-01T00:00:00Z",
              "http://a.gov.cn/nb/"),
             ("b", "乙县人民政府", "县", "甘肃", "unreachable", "unreachable (TimeoutError)", 1,
              "2026-11-20T00:00:00Z", "http://b.gov.cn/nb/")])
        bodies = {row[0]: set(map(int, row[1].split(","))) for row in connection.execute(
            "select 发布机构, group_concat(distinct 年度) from figures group by 发布机构")}
        latest = max(year for years in bodies.values() for year in years)
    app = datasette_app(db)

    def get(path):
        return asyncio.run(app.client.get(path))

    home = get("/").text
    assert 'href="/coverage"' in home
    page = get("/coverage")
    assert page.status_code == 200
    html = page.text
    reports = len(rows(db, "select url from reports"))
    assert f"档案中有 <strong>{reports}</strong> 份年报，来自 <strong>{len(bodies)}</strong> 个发布机构" in html
    # the grid: a row per body, a cell per year it has a report for
    grid = html[html.index('class="rows-and-columns coverage-grid"'):]
    for body, years in bodies.items():
        row = re.search(re.escape(body) + r"</a></td><td>[^<]*</td>(.*?)</tr>", grid, re.S)
        assert row, body
        held = len(re.findall(r'class="held"', row.group(1)))
        assert held == len(years), body
    # who reported last year and not this one
    missing = {b for b, years in bodies.items() if latest - 1 in years and latest not in years}
    section = html[html.index('id="missing"'):html.index('id="grid"')]
    assert {b for b in bodies if f"<td>{b}</td>" in section} == missing
    # sources failing for 3 runs or more (the default), then 1 or more
    failing = html[html.index('id="failing"'):html.index('id="missing"')]
    assert "甲县人民政府" in failing and "乙县人民政府" not in failing
    assert "乙县人民政府" in get("/coverage?连续失败至少=1").text
    regions = rows_of_query(get, "/archive/sources_by_region")
    assert {"省": "甘肃", "层级": "县", "来源数": 2, "正常": 0, "失败": 2, "未抓取": 0,
            "已核实": 0, "列出年报": 0} in regions
    for query in ("sources_failing", "bodies_by_year", "missing_this_year"):
        assert get(f"/archive/{query}").status_code == 200


def rows_of_query(get, path):
    response = get(f"{path}.json?_shape=array")
    assert response.status_code == 200, response.text[:300]
    return response.json()


# --- a registry crawl of many portals ------------------------------------------------------


def test_a_nation_of_200_portals_is_crawled_in_parallel_each_at_its_own_pace(tmp_path):
    delay = 0.5
    nation = portals.Nation(200, reports=1).serve()
    try:
        registry, db = tmp_path / "sources.yaml", tmp_path / "archive.db"
        nation.write_registry(registry)
        run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "annual_reports", "-a",
                              f"registry={registry}", "-s", f"ARCHIVE_DB={db}",
                              "-s", f"DOWNLOAD_DELAY={delay}", "-s", f"AUTOTHROTTLE_START_DELAY={delay}"],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        nation.shutdown()
    assert run.returncode == 0, run.stderr[-3000:]
    assert "200 portals: up to 200 requests at once, one per portal" in run.stderr
    seen = nation.politeness(delay)
    assert seen["visited"] == 200
    assert seen["most_at_once"] == 1                     # never two requests at once to a host
    # never faster than its delay (± 50 %: 0.25 s at least), as the servers saw it: 200 of
    # them answer in this process's threads, and one request noticed up to 0.1 s late (a
    # busy machine) shortens the gap to the next; an impolite crawl's gaps are milliseconds
    assert seen["shortest_gap"] >= delay * (1 - 0.5) - 0.1
    assert rows(db, "select count(*) n from reports") == [{"n": 200}]
    assert rows(db, "select outcome, count(*) n from sources group by 1") == [{"outcome": "ok", "n": 200}]


def test_a_source_over_its_budget_stops_alone_and_says_so(nation, tmp_path):
    registry, db = tmp_path / "sources.yaml", tmp_path / "archive.db"
    nation_registry(nation, registry)
    entries = yaml.safe_load(registry.read_text(encoding="utf-8"))["sources"]
    write_registry(registry, [e for e in entries if e["id"] in ("trs", "gkmlpt")])
    run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "annual_reports", "-a",
                          f"registry={registry}", "-s", f"ARCHIVE_DB={db}", *LOOPBACK,
                          "-s", "NIANBAO_SOURCE_MAX_REQUESTS=6"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    archived = dict((r["source_id"], r["n"]) for r in rows(
        db, "select source_id, count(*) n from reports group by 1"))
    # the TRS column: its first listing page and five of its twelve reports, then it stops
    assert 0 < archived["trs"] < len(nation["trs"].reports)
    assert archived["gkmlpt"] == len(nation["gkmlpt"].reports)   # within its own budget
    assert rows(db, "select url, stage, message from errors where stage = 'budget'") == [
        {"url": nation["trs"].listing, "stage": "budget",
         "message": "stopped after 6 requests (NIANBAO_SOURCE_MAX_REQUESTS); the rest is not "
                    "fetched this crawl"}]
    health = {r["id"]: r for r in rows(db, "select * from sources")}
    assert health["trs"]["outcome"] == "ok" and "NIANBAO_SOURCE_MAX_REQUESTS" in health["trs"]["detail"]


# --- listings that hold more than they link ------------------------------------------------


def crawl_short_listing(tmp_path, *settings):
    portal, server = portals.serve(portals.ShortListingPortal)
    registry, db = tmp_path / "sources.yaml", tmp_path / "archive.db"
    write_registry(registry, [{"id": "pingtan", "name": "平潭综合实验区管委会",
                               "region": {"province": "福建"}, "listing": portal.listing}])
    try:
        run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "annual_reports", "-a",
                              f"registry={registry}", "-s", f"ARCHIVE_DB={db}",
                              "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", *settings],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr[-2000:]
    return db, rows(db, "select * from sources")[0]


def test_a_listing_that_announces_more_than_it_links_is_short(tmp_path):
    db, health = crawl_short_listing(tmp_path, "-s", "NIANBAO_BROWSER_FALLBACK=False")
    assert rows(db, "select count(*) n from reports") == [{"n": 10}]
    assert (health["outcome"], health["detail"], health["reports_listed"],
            health["reports_announced"]) == ("short", "found 10 of 20 announced", 10, 20)


@pytest.mark.browser
def test_the_browser_clicks_through_what_a_short_listing_announces(tmp_path):
    db, health = crawl_short_listing(tmp_path)
    assert rows(db, "select count(*) n from reports") == [{"n": 20}]
    assert (health["outcome"], health["reports_listed"], health["reports_announced"]) == ("ok", 20, 20)


def test_a_source_s_time_budget_counts_from_its_first_request(monkeypatch):
    from scrapy import Request

    from crawler import middlewares
    from crawler.middlewares import OverBudget, SourceBudgetMiddleware, scope

    clock = [1000.0]
    monkeypatch.setattr(middlewares.time, "monotonic", lambda: clock[0])
    budget = SourceBudgetMiddleware(max_requests=0, max_seconds=60)

    def request(source, stage="detail"):
        return Request(f"http://{source}.gov.cn/nb/1.html",
                       meta={middlewares.SCOPE: scope(f"http://{source}.gov.cn/nb/", (), source),
                             "nianbao_stage": stage})

    assert budget.process_request(request("a")) is None
    clock[0] += 59
    assert budget.process_request(request("b")) is None       # b's time starts now
    clock[0] += 2
    with pytest.raises(OverBudget, match="stopped after 60 s"):
        budget.process_request(request("a"))
    assert budget.process_request(request("b")) is None
    assert budget.process_request(request("a", "attachment")) is None  # a fetched page's files
