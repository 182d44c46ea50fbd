"""The published archive, through Datasette's own test client: pages, saved queries, the
archive route, search, charts and exports, over the archive `nianbao demo` makes."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import shutil
import sqlite3
import unicodedata
from urllib.parse import quote

import pytest
from datasette.utils import tilde_encode

from nianbao.publish import datasette_app

BOM = "\ufeff".encode("utf-8")


@pytest.fixture(scope="module")
def get(demo_archive):
    app = datasette_app(demo_archive)

    def fetch(path: str):
        return asyncio.run(app.client.get(path))

    return fetch


def rows_of(get, path: str) -> list[dict]:
    """The rows a page shows, through its JSON."""
    page, _, query = path.partition("?")
    if not page.endswith(".json"):
        page += ".json"
    response = get(f"{page}?{query}&_shape=array")
    assert response.status_code == 200, response.text[:500]
    return response.json()


def report_urls(db, where: str = "1", params=()) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute(
            f"select url from reports where {where} order by url", params)]


# --- pages and metadata ----------------------------------------------------------------------


def test_home_page_names_the_archive(get):
    response = get("/")
    assert response.status_code == 200
    assert "政府信息公开工作年度报告档案" in response.text


def test_reports_table_has_its_chinese_title(get):
    response = get("/archive/reports")
    assert response.status_code == 200
    assert "年报 (reports)" in response.text
    assert "芝罘区只楚街道办事处2020年政府信息公开工作年度报告" in response.text
    # the full text is left out of the list, not out of the data
    assert 'class="col-text' not in response.text and "列表中不显示正文" in response.text


def test_every_table_is_described(demo_archive):
    from nianbao.schema import SCHEMA
    from nianbao.publish import metadata_for

    tables = metadata_for(demo_archive)["databases"]["archive"]["tables"]
    for name, spec in SCHEMA.items():
        assert tables[name]["title"] and tables[name]["description"], name
        assert set(spec["columns"]) <= set(tables[name]["columns"]), name


def test_about_page_explains_templates_and_checks(get):
    response = get("/about")
    assert response.status_code == 200
    for words in ("两种表格模板", "勾稽关系", "2021 版", "/archive/checks_failed"):
        assert words in response.text
    assert 'href="/about"' in get("/").text  # the menu and the footer link to it


def test_search_tables_are_hidden(get):
    listed = get("/archive.json").json()
    visible = {t["name"] for t in listed["tables"] if not t["hidden"]}
    assert "figures" in visible and not any(name.startswith("reports_fts") for name in visible)


# --- one row per report, figures as columns ----------------------------------------------------


def test_figures_have_one_row_per_report_with_region_and_default_facets(get, demo_archive):
    response = get("/archive/figures.json?_shape=objects")
    data = response.json()
    assert len(data["rows"]) == len(report_urls(demo_archive))
    facets = data["facet_results"]
    assert {"年度", "模板", "发布机构", "省", "市", "县"} <= set(facets)
    assert {v["value"] for v in facets["年度"]["results"]} == {2020, 2021, 2022}
    assert [v["value"] for v in facets["县"]["results"]] == ["示例区"]
    kykou = [r for r in data["rows"] if r["发布机构"] == "张店区人民政府科苑街道办事处" and r["年度"] == 2021]
    assert len(kykou) == 1
    row = kykou[0]
    # the 2021 report's printed figures (seed 003's variant): summed groups, and the
    # 行政复议 check that does not add up
    assert (row["新收申请"], row["予以公开"], row["不予公开"], row["行政复议"]) == (728, 112, 175, 20)
    assert row["勾稽关系成立"] == "否" and row["不成立条数"] == 1


def test_a_report_with_no_page_names_its_body_from_the_title(get):
    rows = rows_of(get, "/archive/figures?模板=2019&年度=2021&发布机构=跃进街道办事处")
    assert len(rows) == 1 and rows[0]["年报"].endswith(".pdf")


# --- saved queries ---------------------------------------------------------------------------


def test_checks_failed_lists_the_rule_and_the_figures_of_a_year(get):
    rows = rows_of(get, "/archive/checks_failed?年度=2021")
    assert len(rows) == 1
    assert rows[0]["发布机构"] == "张店区人民政府科苑街道办事处" and rows[0]["检查范围"] == "行政复议"
    assert rows[0]["代入的数字"] == "20 ≠ 0+9+1+7=17"
    # left empty: the archive's latest year (2022), whose reports all add up
    assert rows_of(get, "/archive/checks_failed") == []


def test_requests_ranked_by_year(get):
    rows = rows_of(get, "/archive/requests_ranked?年度=2021")
    assert [(r["名次"], r["发布机构"], r["新收申请"]) for r in rows[:3]] == [
        (1, "跃进街道办事处", 900), (2, "张店区人民政府科苑街道办事处", 728),
        (3, "芝罘区只楚街道办事处", 722)]
    latest = rows_of(get, "/archive/requests_ranked")
    assert {r["年度"] for r in latest} == {2022} and latest[0]["名次"] == 1


def test_year_on_year_pairs_a_body_with_its_previous_year(get):
    rows = rows_of(get, "/archive/year_on_year?发布机构=跃进")
    change = {r["年度"]: (r["上年新收申请"], r["新收申请"], r["新收申请变化"], r["变化百分比"])
              for r in rows}
    assert change == {2021: (0, 900, 900, None), 2022: (900, 768, -132, -14.7)}


def test_secrets_and_stability_grounds_year_by_year(get, demo_archive):
    with sqlite3.connect(demo_archive) as connection:
        expected = connection.execute(
            "select distinct c.report_url, f.年度 from cells c join figures f on f.年报 = c.report_url "
            "where c.tbl = 'applications' and c.col = '总计' and c.row in ('三.三.1', '三.三.3') "
            "and c.value > 0").fetchall()
    years = {year for _, year in expected}
    assert len(years) > 1
    for year in years:
        rows = rows_of(get, f"/archive/secrets_and_stability?年度={year}")
        assert rows and all((r["国家秘密"] or 0) + (r["三安全一稳定"] or 0) > 0 for r in rows)
        assert {r["年报"] for r in rows} == {url for url, y in expected if y == year}
        grounds = [(r["国家秘密"] or 0) + (r["三安全一稳定"] or 0) for r in rows]
        assert grounds == sorted(grounds, reverse=True)  # the most refused first
    latest = rows_of(get, "/archive/secrets_and_stability")
    assert {r["年报"] for r in latest} == {url for url, y in expected if y == max(years)}


def test_refusals_by_reason_adds_up_to_the_figures(get):
    reasons = ["国家秘密", "法律法规禁止", "三安全一稳定", "第三方权益", "内部事务", "过程性信息",
               "行政执法案卷", "行政查询事项"]
    figures = {r["年报"]: r["不予公开"] for r in rows_of(get, "/archive/figures?_size=max")}
    for row in rows_of(get, "/archive/refusals_by_reason"):
        assert sum(row[name] for name in reasons) == figures[row["年报"]], row["年报"]


def test_saved_queries_link_reports_to_their_page(get):
    html = get("/archive/checks_failed?年度=2021").text
    assert re.search(r'<a href="/archive/reports/http~3A[^"]+">年报页面</a>', html)


# --- search --------------------------------------------------------------------------------

# (query, reports expected): one-, two- and longer terms, several terms, none
SEARCHES = [
    ("秦", 2), ("复", 11), ("复议", 11), ("只楚", 2), ("咨询", 5), ("天水郡", 2),
    ("依申请公开", 11), ("三安全一稳定", 8), ("申请 只楚", 2), ("芝罘 2021", 1), ("核电站", 0),
]


def _normal(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "").lower())


@pytest.mark.parametrize("query,expected", SEARCHES)
def test_search_finds_every_report_holding_the_terms(get, demo_archive, query, expected):
    rows = rows_of(get, f"/archive/reports.json?_search={query}&_size=max&_col=title")
    with sqlite3.connect(demo_archive) as connection:
        truth = {url for url, title, text in connection.execute("select url, title, text from reports")
                 if all(_normal(term) in _normal(title) + "|" + _normal(text) for term in query.split())}
    assert {r["url"] for r in rows} == truth
    assert len(truth) == expected


def _search_results(get, query: str) -> tuple[set, dict]:
    answer = get(f"/archive/reports.json?_search={query}&_size=max&_col=title").json()
    facets = {name: {(v["value"], v["count"]) for v in facet["results"]}
              for name, facet in answer["facet_results"].items()}
    return {r[0] for r in answer["rows"]}, {**facets, "count": answer["filtered_table_rows_count"]}


def test_search_by_a_list_of_ids_finds_what_running_it_finds(get, monkeypatch):
    """A table search filters by the ids it finds or misses (the shorter list); with no list
    short enough it runs the search in every query: rows, count and facets are the same."""
    from datasette.plugins import pm

    plugin = pm.get_plugin("search.py")
    monkeypatch.setattr(plugin, "_ids_kept", {})
    by_list = {query: _search_results(get, query) for query, _ in SEARCHES}
    relations = {kept[1][0] for kept in plugin._ids_kept.values() if kept[1]}
    assert relations == {"in", "not in"}  # found (秦: 2 of 11) and missed (三安全一稳定: 8 of 11)
    monkeypatch.setattr(plugin, "_ids_kept", {})
    monkeypatch.setattr(plugin, "MAX_IDS", 0)  # no list but an empty one is short enough
    for query, _ in SEARCHES:
        assert _search_results(get, query) == by_list[query], query
    assert any(kept[1] is None for kept in plugin._ids_kept.values())


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the 'or' below
def test_a_search_keeps_its_list_of_ids_out_of_links_and_answers(get, monkeypatch):
    from datasette.plugins import pm

    answer = get("/archive/reports.json?_search=三安全一稳定").json()
    assert set(answer["query"]["params"]) == {"nianbao_search"}
    assert "nianbao_ids(:nianbao_search, 'not in')" in answer["query"]["sql"]
    # the SQL of a page, followed once the list is no longer kept, makes it again, and keeps it
    plugin = pm.get_plugin("search.py")
    monkeypatch.setattr(plugin, "_ids_kept", {})
    for relation, count in (("not in", 8), ("in", 3)):
        sql = (f"select count(*) as n from reports where id {relation} (select value from "
               f"json_each(nianbao_ids(nianbao_match('三安全一稳定'), 'not in')))")
        assert rows_of(get, "/archive.json?sql=" + quote(sql)) == [{"n": count}]
    assert [(relation, len(json.loads(ids))) for _, (relation, ids) in plugin._ids_kept.values()] \
        == [("not in", 3)]
    assert get("/archive.json?sql=" + quote("select nianbao_ids('复', 'or')")).status_code == 400


def test_ranked_search_puts_title_matches_first(get):
    rows = rows_of(get, "/archive/search?检索词=天水郡")
    assert [r["标题"][:8] for r in rows] == ["秦州区天水郡街道"] * 2
    rows = rows_of(get, "/archive/search?检索词=街道")
    assert all("街道" in r["标题"] for r in rows)
    assert all(set(r) == {"年报", "标题", "年度", "发布机构", "摘录", "检索词"} for r in rows)  # no raw score
    assert "咨询" in rows_of(get, "/archive/search?检索词=咨询")[0]["摘录"]


def test_search_page_explains_itself_and_links_the_ranking(get):
    html = get("/archive/reports?_search=复议").text
    assert "全文包含" in html and "/archive/search?检索词=%E5%A4%8D%E8%AE%AE" in html


# --- the report page and the archived copies ---------------------------------------------------


def _failing_report(demo_archive) -> str:
    return report_urls(demo_archive, "checks_ok = 0")[0]


def test_report_page_lays_out_the_tables_and_marks_failed_checks(get, demo_archive):
    html = get("/archive/reports/" + tilde_encode(_failing_report(demo_archive))).text
    for title in ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                  "四、政府信息公开行政复议、行政诉讼情况", "存档副本", "原文网址"):
        assert title in html
    # the five 行政复议 cells of the failing rule, and no other
    assert len(re.findall(r'<td[^>]*class="[^"]*\bfailed\b', html)) == 5
    assert "20 ≠ 0+9+1+7=17" in html


def test_report_page_links_every_archived_copy(get, demo_archive):
    url = report_urls(demo_archive, "url like '%t20220119_1009.html'")[0]
    html = get("/archive/reports/" + tilde_encode(url)).text
    with sqlite3.connect(demo_archive) as connection:
        digests = [d for (d,) in connection.execute(
            "select sha256 from documents where report_url = ?", [url])]
    assert len(digests) == 3
    for digest in digests:
        assert f"/-/archive/{digest}" in html


def _document(demo_archive, kind: str) -> dict:
    with sqlite3.connect(demo_archive) as connection:
        connection.row_factory = sqlite3.Row
        return dict(connection.execute(
            "select * from documents where kind = ? order by filename is null limit 1", [kind]).fetchone())


def test_archived_pdf_is_served_with_its_type_and_name(get, demo_archive):
    document = _document(demo_archive, "pdf")
    response = get(f"/-/archive/{document['sha256']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(response.content).hexdigest() == document["sha256"]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("inline;")
    assert "filename*=UTF-8''" + quote(document["filename"]) in disposition
    download = get(f"/-/archive/{document['sha256']}?download=1")
    assert download.headers["content-disposition"].startswith("attachment;")


def test_archived_html_cannot_run_script_in_the_archive_origin(get, demo_archive):
    document = _document(demo_archive, "html")
    response = get(f"/-/archive/{document['sha256']}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert policy.startswith("sandbox") and "script-src" not in policy and "default-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    # a report's page is saved under the report's title, not its digest
    page = _document_page(demo_archive)
    named = get(f"/-/archive/{page['sha256']}?download=1").headers["content-disposition"]
    assert named.startswith("attachment;") and named.endswith(quote(page["title"] + ".html"))


def _document_page(demo_archive) -> dict:
    with sqlite3.connect(demo_archive) as connection:
        connection.row_factory = sqlite3.Row
        return dict(connection.execute(
            "select d.sha256, r.title from documents d join reports r on r.url = d.url "
            "where d.kind = 'html' limit 1").fetchone())


@pytest.mark.parametrize("path", [
    "/-/archive/" + "0" * 64,                       # not in the archive
    "/-/archive/../archive.db",                     # traversal
    "/-/archive/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/-/archive/" + "A" * 64,                       # not a lower-case hex digest
    "/-/archive/" + "0" * 63,
])
def test_archive_route_serves_only_stored_digests(get, path):
    response = get(path)
    assert response.status_code in (302, 404)   # Datasette redirects some odd paths
    assert b"root:" not in response.content and b"SQLite format" not in response.content


# --- charts ------------------------------------------------------------------------------------


def test_charts_page_draws_requests_and_outcomes_by_year(get):
    html = get("/charts").text
    data = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>',
                                html, re.S).group(1))
    assert [row["年度"] for row in data] == [2020, 2021, 2022]
    assert data[1]["新收申请"] == 2350 and data[1]["年报数"] == 5
    for script in ("vega-6.2.0.min.js", "vega-lite-6.4.0.min.js", "vega-embed-7.1.0.min.js"):
        assert f"/static/vendor/{script}" in html
        assert get(f"/static/vendor/{script}").status_code == 200


def test_charts_follow_the_filter(get):
    html = get("/charts?发布机构=跃进街道办事处").text
    data = json.loads(re.search(r'id="chart-data">(.*?)</script>', html, re.S).group(1))
    assert [(row["年度"], row["新收申请"]) for row in data] == [(2020, 0), (2021, 900), (2022, 768)]


# --- exports -----------------------------------------------------------------------------------


def test_filtered_csv_opens_in_excel(get):
    response = get("/archive/figures.csv?年度=2021&_size=max")
    assert response.status_code == 200 and response.content.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 5 and {"年度", "新收申请", "发布机构"} <= set(rows[0])
    # one click downloads it, named after its view
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"export.csv\"; filename*=UTF-8''" + quote("年报数字_年度2021.csv"))
    download = get("/archive/figures.csv?年度=2021&_dl=1")
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.content.startswith(BOM)
    named = get(f"/archive/late_reports.csv?年度=2021&省={quote('示例 省')}").headers["content-disposition"]
    assert named.endswith(quote("逾期发布的年报_年度2021_省示例_省.csv"))
    searched = get("/archive/reports.csv?_search=复议&_col=title").headers["content-disposition"]
    assert searched.endswith(quote("年报_检索复议.csv"))


def test_the_same_rows_as_an_excel_workbook(get, demo_archive):
    from openpyxl import load_workbook

    response = get("/archive/figures.xlsx?年度=2021")
    assert response.status_code == 200 and response.headers["content-type"].endswith("spreadsheetml.sheet")
    assert response.headers["content-disposition"].endswith(quote("年报数字_年度2021.xlsx"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    header, body = rows[0], rows[1:]
    with sqlite3.connect(demo_archive) as connection:
        expected = dict(connection.execute("select 年报, 新收申请 from figures where 年度 = 2021"))
    assert {row[header.index("年报")]: row[header.index("新收申请")] for row in body} == expected
    # a table's English columns under their Chinese names; every row, not one page
    reports = list(load_workbook(io.BytesIO(get("/archive/reports.xlsx?_size=2").content)).active.values)
    assert reports[0][:3] == ("网址", "标题", "年度") and len(reports) - 1 == rows_of(
        get, "/archive.json?sql=select+count(*)+as+n+from+reports")[0]["n"]
    ranked = list(load_workbook(io.BytesIO(get("/archive/requests_ranked.xlsx?年度=2021").content)).active.values)
    assert ranked[0][:2] == ("年度", "名次") and ranked[1][1] == 1


def test_saved_query_exports_csv_and_json(get):
    response = get("/archive/requests_ranked.csv?年度=2022")
    assert response.content.startswith(BOM) and "名次" in response.content.decode("utf-8-sig")
    assert len(rows_of(get, "/archive/requests_ranked.json?年度=2022")) == 3


def test_search_results_export(get):
    response = get("/archive/reports.csv?_search=只楚&_col=title")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and all("只楚" in line for line in lines[1:])


# --- safe publication ----------------------------------------------------------------------------


def test_the_archive_is_published_read_only(get):
    response = get("/archive/-/query?sql=delete+from+reports")
    assert response.status_code == 400
    assert get("/archive.db").status_code in (403, 404)


def test_a_runaway_query_is_stopped(get):
    sql = "with recursive n(x) as (select 1 union all select x + 1 from n) select count(*) from n"
    response = get("/archive.json?sql=" + quote(sql))
    assert response.status_code == 400 and "too long" in response.json()["error"]


def _plugin():
    """The site's search plugin, as Datasette loads it from nianbao/site/plugins."""
    import importlib.util

    from nianbao.publish import SITE_DIR

    spec = importlib.util.spec_from_file_location("nianbao_site_under_test",
                                                  SITE_DIR / "plugins" / "search.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_excerpt_function_reads_capped_inputs_whoever_calls_it(monkeypatch):
    plugin = _plugin()
    # white space inside the term, as the search allows it
    assert plugin.excerpt("本年度收到行政复 议申请共3件", "复议申请") == "本年度收到行政复 议申请共3件…"
    searched = []

    def spy(pattern, text, *args):
        searched.append((pattern, len(text)))
        return None

    monkeypatch.setattr(plugin.re, "search", spy)
    plugin.excerpt("申 " * 5_000_000, "申" * 100_000 + "请")  # what ?sql= could ask
    (pattern, length), = searched
    assert length <= plugin.EXCERPT_TEXT_CHARS
    assert pattern.count("申") + pattern.count("请") <= plugin.EXCERPT_TERM_CHARS


def test_a_query_cannot_hold_unbounded_memory(get):
    too_long = get("/archive.json?sql=" + quote("select length(zeroblob(100000000))"))
    assert too_long.status_code == 400 and "too big" in too_long.json()["error"]
    many = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000) "
            "select zeroblob(1000000) from n")
    response = get("/archive.json?sql=" + quote(many))
    assert response.status_code == 400 and "the result is larger than" in response.json()["error"]
    assert get("/archive.json?sql=" + quote("select text from reports")).status_code == 200


def test_search_reads_a_reader_sized_query(get):
    from nianbao.search import MAX_QUERY_CHARS, match_expression

    assert match_expression("申请" * 100_000) == match_expression(("申请" * 100_000)[:MAX_QUERY_CHARS])
    assert get("/archive/reports.json?_search=" + quote("申请 " * 2_000)).status_code == 200


def test_no_page_reveals_where_the_archive_lives(get, demo_archive):
    folder = str(demo_archive.parent)
    databases = get("/-/databases.json")
    assert databases.status_code == 200 and databases.json()[0]["name"] == "archive"
    assert "path" not in databases.json()[0] and folder not in databases.text
    listed = get("/archive.json?sql=" + quote("select name, file from pragma_database_list") + "&_shape=array")
    assert listed.status_code == 200 and listed.json() == [{"name": "main", "file": None}]
    for page in ("/-/versions.json", "/-/plugins.json", "/-/settings.json", "/-/metadata.json",
                 "/-/threads.json", "/archive.json"):
        assert folder not in get(page).text, page


def test_any_archive_file_gets_the_description(archive_copy, tmp_path):
    other = tmp_path / "other.db"
    archive_copy.rename(other)
    app = datasette_app(other)
    response = asyncio.run(app.client.get("/other/reports"))
    assert response.status_code == 200 and "年报 (reports)" in response.text


# --- who reported late ------------------------------------------------------------------------


def test_late_reports_are_counted_from_31_january_of_the_next_year(get, demo_archive):
    from nianbao.figures import lateness

    with sqlite3.connect(demo_archive) as connection:
        figures = connection.execute("select 年报, 年度, 发布时间, 逾期天数, 发布日期存疑 from figures").fetchall()
    yes_no = {1: "是", 0: "否", None: None}
    assert figures and all((late, doubtful) == (lambda d, q: (d, yes_no[q]))(*lateness(year, published))
                           for _, year, published, late, doubtful in figures)
    late = sorted(url for url, _, _, days, _ in figures if days and days > 0)
    listed = rows_of(get, "/archive/late_reports?年度=&省=")
    assert sorted(row["年报"] for row in listed) == late
    by_region = rows_of(get, "/archive/late_by_region")
    assert sum(row["年报数"] for row in by_region) == len(figures)
    assert sum(row["逾期"] for row in by_region) == len(late)


def test_a_saved_question_is_titled_in_chinese_and_shows_its_results_not_its_sql(get):
    html = get("/archive/late_by_region").text
    assert re.search(r"<title>按地区和年度：按时、逾期、日期存疑的年报：政府信息公开年报档案</title>", html)
    assert "sum(逾期天数 = 0)" not in html and '<textarea id="sql-editor"' not in html
    assert "年报数" in html  # the results are there
    shown = get("/archive/late_by_region?_show_sql=1").text
    assert "sum(逾期天数 = 0)" in shown  # one click away


# --- Chinese throughout ------------------------------------------------------------------------

# Datasette's own chrome, as it prints it in English; none may reach a reader
DATASETTE_ENGLISH = ["rows", "row", "sorted by", "Apply", "View and edit SQL", "Suggested facets",
                     "This data as", "advanced", "Advanced export", "Data license", "Data source",
                     "Powered by", "Custom SQL query", "Query parameters", "Run SQL", "Edit SQL",
                     "hidden table", "hidden tables", "Next page", "CSV options", "download file",
                     "expand labels", "Export CSV", "remove filter", "column", "descending",
                     "Sort by", "Format SQL", "Links from other tables", "Queries took", "Menu",
                     "home", "Search", "records", "results", "Error", "not found", "Tables",
                     "Views", "Queries", "returning", "show", "hide", "view", "About"]


def visible_text(html: str) -> str:
    """What a reader sees: no scripts, styles, tags or attribute values."""
    html = re.sub(r"(?s)<(script|style|title)\b.*?</\1>", " ", html)
    return re.sub(r"&[a-z]+;|&#\d+;", " ", re.sub(r"(?s)<[^>]+>", " ", html))


def test_no_english_word_of_datasettes_chrome_reaches_a_reader(get, demo_archive):
    url = report_urls(demo_archive)[0]
    pages = ["/", "/archive", "/archive/reports", "/archive/reports?_search=复议",
             "/archive/figures?年度=2021&_facet=省", "/archive/figures?年度=1900",
             f"/archive/reports/{tilde_encode(url)}", "/archive/documents", "/archive/errors",
             "/archive/sources", "/archive/late_reports", "/archive/search?检索词=复议",
             "/archive/year_on_year", "/archive/crawl_runs/1", "/charts", "/coverage", "/about",
             "/no-such-page", "/archive/no_such_table"]
    found = {}
    for path in pages:
        text = visible_text(get(path).text)
        words = [w for w in DATASETTE_ENGLISH if re.search(rf"(?<![A-Za-z_]){re.escape(w)}(?![A-Za-z_])", text)]
        if words:
            found[path] = words
    assert found == {}


def test_pages_are_titled_and_labelled_in_chinese(get):
    figures = get("/archive/figures?年度=2021").text
    assert "共 " in figures and "年度等于“2021”" in figures and "<title>年报数字" in figures
    reports = get("/archive/reports?_facet=year").text
    assert ">年度</a>" in reports or "年度\n" in visible_text(reports)
    assert 'class="facet-info-name"' in reports and "<strong>年度" in reports
    assert "首页" in reports and "年报档案" in reports
    empty = get("/archive/figures?年度=1900").text
    assert "没有符合条件的行" in empty


def test_the_home_page_orients_and_says_the_demo_is_made_up(get, demo_archive):
    home = visible_text(get("/").text)
    count = len(report_urls(demo_archive))
    assert f"档案中有 {count} 份年报" in " ".join(home.split())
    assert "北京时间" in home and "示例数据（合成）" in home
    for title in ("勾稽关系不成立的年报", "逾期发布的年报"):
        assert title in home


# --- bodies and comparisons ----------------------------------------------------------------------


def test_each_body_has_a_page_with_its_reports_year_by_year(get, demo_archive):
    bodies = rows_of(get, "/archive/bodies?_sort=编号")
    yuejin = next(b for b in bodies if b["名称"] == "跃进街道")
    assert yuejin["印过的名称"] == "跃进街道办事处" and yuejin["年报数"] == 3
    page = get(f"/archive/bodies/{tilde_encode(yuejin['编号'])}")
    assert page.status_code == 200
    text = visible_text(page.text)
    for year in (2020, 2021, 2022):
        assert f"{year}" in text
    assert page.text.count("/archive/reports/") >= 3 and "/-/archive/" in page.text
    assert "<svg" in page.text and "与其他机构比较" in text
    # every report page links to its body
    url = report_urls(demo_archive, "publisher = ?", ["跃进街道办事处"])[0]
    report = get(f"/archive/reports/{tilde_encode(url)}").text
    assert f"/archive/bodies/{tilde_encode(yuejin['编号'])}" in report


def test_two_bodies_compared_on_the_same_years_and_figures(get):
    page = get("/compare?机构=跃进街道&机构=世纪街道")
    assert page.status_code == 200
    text = " ".join(visible_text(page.text).split())
    assert "跃进街道" in text and "世纪街道" in text and "没有年报" in text  # 世纪街道 has no 2020
    assert "2020 年度" in text and "新收申请" in text and "<svg" in page.text
    region = " ".join(visible_text(get("/compare?地区=示例区&机构=跃进街道").text).split())
    assert "示例区（地区合计）" in region
    unknown = visible_text(get("/compare?机构=没有这个机构").text)
    assert "档案里没有：没有这个机构" in unknown and "请选两个或更多机构" in unknown


def test_the_home_search_leads_to_excerpts_with_the_term_marked(get):
    home = get("/").text
    assert 'action="/archive/search"' in home and 'name="检索词"' in home
    results = get("/archive/search?检索词=复议").text
    assert "<mark>复议</mark>" in results


def test_a_facet_asked_for_again_is_counted_and_drawn_once(get):
    facets = get("/archive/figures.json?_facet=年度&_facet=年度&_facet=标题&_facet=标题").json()["facet_results"]
    assert "年度" in facets and "标题" in facets  # configured, and asked for
    assert not [name for name in facets if name.endswith("_2")]
    page = get("/archive/figures?_facet=年度&_facet=省").text
    drawn = re.findall(r'class="facet-info [^"]*"[^>]*data-column="([^"]+)"', page)
    assert drawn.count("年度") == 1 and drawn.count("省") == 1


def test_past_ten_thousand_hits_the_search_shows_the_newest_first(tmp_path):
    from nianbao.archive import open_archive
    from nianbao.search import COLUMNS, FTS_TABLE, index_row

    db = open_archive(tmp_path / "archive.db")  # the archive's schema, search index included
    hits = 10_001
    db.conn.executemany("insert into reports (url, id, title) values (?, ?, ?)",
                        [(f"https://example.gov.cn/{i}.html", i, f"第{i}号") for i in range(1, hits + 2)])
    db.conn.executemany(f"insert into [{FTS_TABLE}] (rowid, {', '.join(COLUMNS)}) values (?, ?, ?, ?, ?)",
                        [(i, *index_row("复议年报" if i <= hits else "年报", "").values())
                         for i in range(1, hits + 2)])
    db.conn.commit()
    db.close()
    app = datasette_app(tmp_path / "archive.db")
    rows = asyncio.run(app.client.get("/archive/search.json?检索词=复议&_shape=array")).json()
    assert [row["标题"] for row in rows] == [f"第{i}号" for i in range(hits, hits - 200, -1)]


def test_the_figures_csv_names_the_title_once(get):
    page = get("/archive/figures?年度=2021").text
    link = re.search(r'<p class="export-links">下载这些行：<a href="([^"]+)"', page).group(1)
    header = get(link.replace("&amp;", "&")).content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header.count("标题") == 1 and not any(c.endswith("_label") for c in header)


def test_each_archived_copy_says_where_when_and_what_for_citation(get, demo_archive):
    url = report_urls(demo_archive)[0]
    page = get(f"/archive/reports/{tilde_encode(url)}").text
    with sqlite3.connect(demo_archive) as connection:
        digests = [d for (d,) in connection.execute("select sha256 from documents where report_url = ?", [url])]
    assert digests and all(digest in page for digest in digests)
    text = " ".join(visible_text(page).split())
    assert "首次抓取" in text and "最近确认" in text and "北京时间" in text
    assert f"原文 {url}" in text and "抓取存档于" in text


def test_a_table_of_reports_leads_with_the_title_and_says_shared_values_once(get, demo_archive):
    page = get("/archive/figures?年度=2021").text
    headers = re.findall(r'<th [^>]*data-column="([^"]+)"', page)
    assert headers[0] == "标题" and headers[-1] == "年报"
    assert "年度" not in headers and "省" not in headers  # the same on every row of the page
    assert "发布机构" in headers  # differs from row to row
    assert re.search(r"这一页每行都相同：[^<]*年度＝2021", page)
    first = re.search(r'<td class="[^"]*report-title"><a href="([^"]+)">', page).group(1)
    assert first.startswith("/archive/reports/")


def test_saved_questions_offer_the_values_the_archive_holds(get, demo_archive):
    page = get("/archive/late_reports").text
    years = re.search(r'<select id="qp\d+" name="年度">(.*?)</select>', page, re.S).group(1)
    with sqlite3.connect(demo_archive) as connection:
        held = [str(y) for (y,) in connection.execute(
            "select distinct 年度 from figures where 年度 is not null order by 年度 desc")]
    assert re.findall(r'<option value="(\d+)"', years) == held
    narrowed = get("/archive/by_year?省=示例省").text
    cities = re.search(r'<select id="qp\d+" name="市"[^>]*>(.*?)</select>', narrowed, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)"', cities) == ["示例市"]
    assert re.findall(r'<option value="([^"]*)"', re.search(
        r'<select id="qp\d+" name="市"[^>]*>(.*?)</select>', get("/archive/by_year?省=别的省").text, re.S).group(1)) == [""]


def test_robots_may_index_pages_but_not_unbounded_urls(get):
    robots = get("/robots.txt")
    assert robots.status_code == 200
    lines = robots.text.splitlines()
    assert "User-agent: *" in lines and "Disallow: /*?" in lines and "Disallow: /-/" in lines
    assert "Disallow: /" not in lines  # the report and body pages stay findable


def test_chart_filters_offer_values_and_an_empty_choice_says_so(get):
    page = get("/charts").text
    provinces = re.search(r'<select name="省"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)"', provinces) == ["示例省"]
    assert "no-match" not in page
    empty = get("/charts?省=别的省").text
    assert "没有符合这些条件的年报" in empty and "别的省（档案中没有）" in empty
    assert 'width: "container"' in page and 'order: {field: "顺序"' in page


# --- at scale ------------------------------------------------------------------------------


def test_kept_answers_follow_the_archive_when_it_changes(demo_archive, tmp_path):
    """The home page's coverage and a parameter's choices are kept between requests, and
    made again after any write to the archive."""
    db = tmp_path / "archive.db"
    shutil.copyfile(demo_archive, db)
    app = datasette_app(db)
    fetch = (lambda path: asyncio.run(app.client.get(path)).text)
    bodies = (lambda page: int(re.search(r"<strong>([\d,]+)</strong> 个发布机构", page).group(1).replace(",", "")))
    before = bodies(fetch("/"))
    assert bodies(fetch("/")) == before
    assert '<option value="2020"' in fetch("/archive/late_reports")
    with sqlite3.connect(db) as connection:
        connection.execute("delete from bodies where rowid = (select min(rowid) from bodies)")
        connection.execute("update figures set 年度 = 2019 where 年度 = 2020")
    assert bodies(fetch("/")) == before - 1
    choices = fetch("/archive/late_reports")
    assert '<option value="2019"' in choices and '<option value="2020"' not in choices


def test_a_saved_question_asks_for_the_rows_its_page_draws_and_downloads_them_all(demo_archive, tmp_path):
    db = tmp_path / "archive.db"
    shutil.copyfile(demo_archive, db)
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "insert into figures (年报, 标题, 年度, 发布机构, 新收申请) values (?, ?, 2021, ?, ?)",
            [(f"https://portal.invalid/{n}.html", f"年报{n}", f"机关{n}", n) for n in range(300)])
        ranked = connection.execute("select count(*) from figures where 年度 = 2021 and 新收申请 is not null").fetchone()[0]
    app = datasette_app(db)
    fetch = (lambda path: asyncio.run(app.client.get(path)))
    page = fetch("/archive/requests_ranked?年度=2021").text
    assert "超过 200 行，这里列出前 200 行，下载的文件里是全部" in page
    assert page.split("<tbody>")[1].count("<tr>") == 200
    assert len(list(csv.reader(io.StringIO(fetch("/archive/requests_ranked.csv?年度=2021").text)))) == ranked + 1
    assert len(fetch("/archive/requests_ranked.json?年度=2021&_shape=array").json()) == ranked
    # its SQL, in the editor, without the page's limit and with the year chosen
    editor = re.search(r'href="([^"]+)" class="canned-query-edit-sql"', page).group(1).replace("&amp;", "&")
    edited = fetch(editor).text
    assert f"共 {ranked} 行，这里列出前 200 行" in edited and "_page_rows" not in edited


def test_a_long_answer_lists_its_first_rows_and_downloads_them_all(get):
    sql = "with recursive n(i) as (select 1 union all select i + 1 from n where i < 300) select i from n"
    page = get(f"/archive?sql={quote(sql)}").text
    assert "共 300 行，这里列出前 200 行" in page
    assert page.count('<td class="col-i">') == 200
    assert get(f"/archive.csv?sql={quote(sql)}").text.count("\n") == 301
