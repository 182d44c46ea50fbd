"""Each CMS family, end to end: a fixture portal served on 127.0.0.1 (tests/portals.py),
crawled by `scrapy crawl annual_reports` from nothing but its listing (or home) URL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tools.samples.render import sample_named

from . import portals
from .conftest import rows, run_scrapy


def crawl(tmp_path_factory, portal_class, listing: str | None = None, home: str | None = None):
    portal, server = portals.serve(portal_class)
    db = tmp_path_factory.mktemp(portal_class.__name__) / "archive.db"
    run = run_scrapy(db, [portal.base + listing] if listing else (),
                     home=portal.base + home if home else None)
    server.shutdown()
    return SimpleNamespace(portal=portal, db=db, run=run)


def assert_every_report_archived(result):
    base = result.portal.base
    assert result.run.returncode == 0, result.run.stderr[-3000:]
    archived = {r["url"]: r for r in rows(result.db, "select * from reports")}
    for report in result.portal.reports:
        url = base + report["path"]
        assert url in archived, (url, result.run.stderr[-3000:])
        gold = sample_named(report["name"]).gold()
        assert archived[url]["title"] == gold["title"]
        cells = {(r["tbl"], r["row"], r["col"]): r["value"] for r in rows(
            result.db, "select tbl, row, col, value from cells where report_url = ?", [url])}
        expected = {(t, r, c): v for t, rows_ in gold["tables"].items()
                    for r, cols in rows_.items() for c, v in cols.items()}
        assert cells == pytest.approx(expected), report["name"]
        documents = {d["url"] for d in rows(result.db, "select url from documents where report_url = ?", [url])}
        assert {base + a for a in report["attachments"]} <= documents
    return archived


@pytest.fixture(scope="module")
def hanweb(tmp_path_factory):
    return crawl(tmp_path_factory, portals.HanwebPortal, "/col/col1234/index.html?uid=5678&pageNum=1")


def test_hanweb_inline_records_and_dataproxy_windows(hanweb):
    assert_every_report_archived(hanweb)
    posts = [(path, form) for method, path, form in hanweb.portal.requests if method == "POST"]
    starts = sorted(int(path.split("startrecord=")[1].split("&")[0]) for path, _ in posts)
    assert starts == [3, 5, 7]  # two records inline, then windows of perPage × groupSize
    assert all(form == portals.HanwebPortal.FORM for _, form in posts)


def test_hanweb_attachment_names_come_from_content_disposition(hanweb):
    names = {d["url"]: d["filename"] for d in rows(hanweb.db, "select url, filename from documents")}
    for report in hanweb.portal.reports:
        url = hanweb.portal.base + report["attachments"][0]
        assert names[url] == report["file_name"]  # RFC 5987 and GBK-encoded names alike


@pytest.fixture(scope="module")
def gkmlpt(tmp_path_factory):
    return crawl(tmp_path_factory, portals.GkmlptPortal, "/gkmlpt/annualreport")


def test_gkmlpt_pages_its_json_to_post_count(gkmlpt):
    archived = assert_every_report_archived(gkmlpt)
    api = [path for method, path, _ in gkmlpt.portal.requests if path.startswith("/gkmlpt/api/")]
    assert api == ["/gkmlpt/api/all/7?page=1&sid=a1b2c3", "/gkmlpt/api/all/7?page=2&sid=a1b2c3"]
    for report in gkmlpt.portal.reports:
        row = archived[gkmlpt.portal.base + report["path"]]
        assert row["index_no"] == sample_named(report["name"]).metadata["索引号"]


@pytest.fixture(scope="module")
def json_list(tmp_path_factory):
    return crawl(tmp_path_factory, portals.JsonListPortal, "/xxgk/nb/index.html")


def test_json_list_endpoint_found_in_the_script(json_list):
    archived = assert_every_report_archived(json_list)
    api = sorted(path for _, path, _ in json_list.portal.requests if path.startswith("/api/"))
    assert api == ["/api/xxgk/list?channelId=nb&pageNo=1&pageSize=2",
                   "/api/xxgk/list?channelId=nb&pageNo=2&pageSize=2"]
    # GBK pages served as UTF-8: read right all the same
    for report in json_list.portal.reports:
        row = archived[json_list.portal.base + report["path"]]
        assert row["publisher"] == sample_named(report["name"]).metadata["发布机构"]


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return crawl(tmp_path_factory, portals.PlainPortal, home="/index.html")


def test_plain_column_found_from_the_home_page_and_paged(plain):
    archived = assert_every_report_archived(plain)
    assert {r["listing_url"] for r in archived.values()} == {plain.portal.base + "/zwgk/nb/list.html"}
    pages = {path for _, path, _ in plain.portal.requests if "/zwgk/nb/list" in path}
    assert pages == {"/zwgk/nb/list.html", "/zwgk/nb/list_2.html", "/zwgk/nb/list_3.html"}


def test_plain_attachments_relative_protocol_relative_and_scripted(plain):
    base = plain.portal.base
    documents = {d["url"]: d for d in rows(plain.db, "select * from documents")}
    assert not any("elsewhere.test" in url for url in documents)  # another site: not followed
    named = documents[base + "/getfile?id=1"]
    assert named["filename"] == "世纪街道2021年政府信息公开工作报告.pdf" and named["kind"] == "pdf"


def test_plain_metadata_from_a_definition_list(plain):
    row = rows(plain.db, "select * from reports where url = ?", [plain.portal.base + "/zwgk/nb/1/index.html"])[0]
    metadata = sample_named("seed-004").metadata
    assert (row["index_no"], row["publisher"], row["published"]) == (
        metadata["索引号"], metadata["发布机构"], metadata["发布时间"])  # 成文日期 is not 发布时间


def test_blocked_and_gone_pages_are_recorded_as_such(plain):
    errors = {e["url"].rsplit("/", 1)[1]: e for e in rows(plain.db, "select * from errors")}
    assert errors["blocked.html"]["stage"] == "blocked"
    assert "HTTP 412" in errors["blocked.html"]["message"] and "$_ts" in errors["blocked.html"]["message"]
    assert errors["gone.html"]["stage"] == "detail" and "soft 404" in errors["gone.html"]["message"]
    assert "blocked: a script challenge" in plain.run.stderr


@pytest.mark.browser
def test_browser_drawn_list_is_rendered_and_clicked_through(tmp_path_factory):
    result = crawl(tmp_path_factory, portals.BrowserPortal, "/nb/index.html")
    assert_every_report_archived(result)
    assert "rendering it in a browser" in result.run.stderr


# --- the families on real saved pages, read in place ----------------------------------------

from scrapy import Request as _Request  # noqa: E402
from scrapy.http import HtmlResponse, Response  # noqa: E402

from crawler.families import FAMILIES, recognise  # noqa: E402
from crawler.families.gkmlpt import report_link  # noqa: E402
from crawler.families.hanweb import proxy_form, records  # noqa: E402
from crawler.families.trs import trs_pages  # noqa: E402
from crawler.pages import blocked_reason, is_soft_404  # noqa: E402

from .conftest import shared  # noqa: E402


def html_response(url: str, body: bytes, status: int = 200) -> HtmlResponse:
    return HtmlResponse(url=url, body=body, status=status, request=_Request(url),
                        headers={"Content-Type": "text/html"})


@pytest.mark.parametrize("script, url, expected", [
    ('createPageHTML(3, 0, "index", "html");', "http://a.gov.cn/nb/index.html",
     ["index.html", "index_1.html", "index_2.html"]),
    ('createPageHTML(42, 3, 0, "index", "shtml");', "http://a.gov.cn/nb/index.shtml",
     ["index.shtml", "index_1.shtml", "index_2.shtml"]),
    ("createPageHTML('page_div',3, 1,'zwgklist','shtml',25)", "http://a.gov.cn/jyt/c1/zwgklist.shtml",
     ["zwgklist.shtml", "zwgklist_1.shtml", "zwgklist_2.shtml"]),
    ("var countPage = 2//共多少页", "http://a.gov.cn/nb/index_1.htm", ["index.htm", "index_1.htm"]),
])
def test_trs_page_announcements(script, url, expected):
    base = url.rsplit("/", 1)[0] + "/"
    assert trs_pages(f"<script>{script}</script>", url) == [base + name for name in expected]


def test_trs_count_page_on_a_real_listing():
    text = shared("real", "pages", "hd_gov_cn_xxgk_list_trs_countPage.jsp.html").read_text("utf-8")
    pages = trs_pages(text, "http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index.html")
    assert len(pages) == 56 and pages[-1].endswith("/jinqixxgk/index_55.html")
    response = html_response("http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index.html", text.encode())
    assert recognise(response, text).name == "trs"


def test_gansu_year_columns_are_walked_as_listings():
    text = shared("real", "pages", "gansu_jyt_zwgklist_listing_with_nianbao_year_columns.html").read_text("utf-8")
    url = "http://jyt.gansu.gov.cn/jyt/c110634/zwgklist.shtml"
    outputs = list(FAMILIES["trs"].start(html_response(url, text.encode()), text))
    assert "http://jyt.gansu.gov.cn/jyt/c250121/zwgklist.shtml" in outputs  # 2024's column
    assert "http://jyt.gansu.gov.cn/jyt/c011901/zwgklist.shtml" in outputs  # 2021's


def test_hanweb_records_from_a_real_dataproxy_answer():
    text = shared("real", "pages", "jiangsu_gxt_jpage_dataproxy_response_page1.xml").read_text("utf-8")
    links = records(text, "https://gxt.jiangsu.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1")
    assert len(links) == text.count("<record>")
    assert links[0].url == "https://gxt.jiangsu.gov.cn/art/2025/10/29/art_80179_11664839.html"
    assert links[0].hints["发布时间"] == "2025-10-29"


def test_hanweb_form_fields_read_from_the_page():
    page = ('<div id="402134"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="'
            '/module/web/jpage/dataproxy.jsp?page=1&webid=14&path=/&columnid=84025&unitid=402134'
            '&webname=%E6%B1%9F%E8%8B%8F&permissiontype=0"></a>]]></nextgroup></datastore></script></div>')
    proxy, form = proxy_form(page, "https://sthjt.jiangsu.gov.cn/col/col84025/index.html?uid=402134&pageNum=1")
    assert proxy == "https://sthjt.jiangsu.gov.cn/module/web/jpage/dataproxy.jsp"
    assert form == {"col": "1", "appid": "1", "sourceContentType": "1", "webid": "14", "path": "/",
                    "columnid": "84025", "unitid": "402134", "webname": "江苏", "permissiontype": "0"}


def test_gkmlpt_article_hints():
    link = report_link({"url": "/gkmlpt/content/1/2/post_3.html", "title": "某区2023年政府信息公开工作年度报告",
                        "identifier": "1144/2024-001", "publisher": "某区政府办", "display_publish_time": 1705450000,
                        "attachment": [{"name": "年报.pdf", "url": "/attachment/0/1/1.pdf"}]},
                       "http://www.a.gov.cn/gkmlpt/api/all/7?page=1")
    assert link.url == "http://www.a.gov.cn/gkmlpt/content/1/2/post_3.html"
    assert link.hints == {"标题": "某区2023年政府信息公开工作年度报告", "索引号": "1144/2024-001",
                          "发布机构": "某区政府办", "发布时间": "2024-01-17"}
    assert link.files == {"http://www.a.gov.cn/attachment/0/1/1.pdf": "年报.pdf"}


@pytest.mark.parametrize("status, body, blocked", [
    (412, b"<html><script>$_ts=window['$_ts']</script></html>", "script challenge"),
    (403, b"<html><body>Forbidden</body></html>", "access refused"),
    (521, b"<html><script>document.cookie='__jsluid_s=1'</script></html>", "cookie challenge"),
    (200, "<html><body><p>请输入验证码</p><img src='/captcha.jpg'></body></html>".encode(), "captcha"),
    (200, "<html><body><a href='/'>首页</a><a href='/a'>a</a><a href='/b'>b</a><a href='/c'>c</a>"
          "<a href='/d'>d</a><form>登录 验证码</form></body></html>".encode(), None),
])
def test_anti_bot_answers_are_recognised(status, body, blocked):
    reason = blocked_reason(Response("http://a.gov.cn/x", status=status, body=body, request=_Request("http://a.gov.cn/x")))
    assert (blocked in reason) if blocked else reason is None


def test_soft_404():
    gone = html_response("http://a.gov.cn/x.html", "<p>您访问的页面不存在</p>".encode())
    assert is_soft_404(gone)
    assert not is_soft_404(html_response("http://a.gov.cn/y.html", "<p>2021年年度报告</p>".encode()))


def test_registry_pins_a_family_and_the_browser(tmp_path):
    from crawler.spiders.annual_reports import AnnualReportsSpider
    from scrapy.utils.test import get_crawler

    registry = tmp_path / "sources.yaml"
    registry.write_text("sources:\n  - name: 甲\n    region: {province: 广东省, city: 某市}\n"
                        "    listing: http://www.a.gov.cn/gkmlpt/annualreport#7\n    family: gkmlpt\n"
                        "  - name: 乙\n    region: {province: 浙江省}\n    listing: http://www.b.gov.cn/nb/\n"
                        "    browser: true\n", encoding="utf-8")
    spider = AnnualReportsSpider.from_crawler(get_crawler(AnnualReportsSpider), registry=str(registry))
    first, second = spider.listings
    assert first.family == "gkmlpt" and first.source == {
        "id": "www.a.gov.cn/gkmlpt/annualreport#7", "name": "甲", "province": "广东省",
        "city": "某市", "county": None, "region_code": None}
    assert second.browser and spider.listing_request(second).meta["playwright"] is True


def test_a_registry_crawl_carries_each_source_s_region(tmp_path):
    import subprocess
    import sys

    from .conftest import ROOT

    hanweb, hanweb_server = portals.serve(portals.HanwebPortal)
    plain, plain_server = portals.serve(portals.PlainPortal)
    hanweb_listing = f"{hanweb.base}/col/col1234/index.html?uid=5678&pageNum=1"
    registry = tmp_path / "sources.yaml"

    def register(city: str) -> None:
        registry.write_text(
            "sources:\n"
            f"  - name: 示例市人民政府\n    region: {{province: 江苏省, city: {city}}}\n"
            f"    listing: {hanweb_listing}\n    family: hanweb\n"
            f"  - name: 示例县人民政府\n    region: {{province: 山东省, city: 烟台市, county: 示例县}}\n"
            f"    home: {plain.base}/index.html\n", encoding="utf-8")

    db = tmp_path / "archive.db"

    def crawl(argument: str) -> None:
        run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "annual_reports", "-a",
                              argument, "-s", f"ARCHIVE_DB={db}", "-s", "DOWNLOAD_DELAY=0",
                              "-s", "AUTOTHROTTLE_ENABLED=False"], cwd=ROOT, capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]

    def regions(table: str = "reports") -> dict:
        columns = "source, province, city, county" if table == "reports" else "null, 省, 市, 县"
        return {tuple(r.values())[:4]: r["n"] for r in rows(
            db, f"select {columns}, count(*) n from {table} group by 1, 2, 3, 4")}

    register("示例市")
    crawl(f"registry={registry}")
    assert regions() == {("示例市人民政府", "江苏省", "示例市", None): len(hanweb.reports),
                         ("示例县人民政府", "山东省", "烟台市", "示例县"): len(plain.reports)}
    # a region corrected in the registry reaches the unchanged reports and their figures
    register("苏州市")
    crawl(f"registry={registry}")
    assert regions()[("示例市人民政府", "江苏省", "苏州市", None)] == len(hanweb.reports)
    assert regions("figures")[(None, "江苏省", "苏州市", None)] == len(hanweb.reports)
    assert rows(db, "select reports_unchanged from crawl_runs order by id desc limit 1")[0][
        "reports_unchanged"] == len(hanweb.reports) + len(plain.reports)
    # a crawl of the bare listing URL leaves the registry's region alone
    crawl(f"urls={hanweb_listing}")
    assert regions()[("示例市人民政府", "江苏省", "苏州市", None)] == len(hanweb.reports)
    hanweb_server.shutdown()
    plain_server.shutdown()


def test_plain_pagination_by_query_parameter():
    page = ("<ul><li><a href='/nb/1.html'>甲街道2021年政府信息公开工作年度报告</a></li></ul>"
            "<div><a href='?page=2'>2</a><a href='?page=3'>3</a><a href='?page=2'>下一页</a></div>")
    outputs = list(FAMILIES["plain"].start(html_response("http://a.gov.cn/nb/list?page=1", page.encode()), page))
    assert [o.url for o in outputs if not isinstance(o, str)] == ["http://a.gov.cn/nb/1.html"]
    assert [o for o in outputs if isinstance(o, str)] == ["http://a.gov.cn/nb/list?page=2",
                                                          "http://a.gov.cn/nb/list?page=3"]


def test_attachments_on_a_host_the_registry_allows():
    from parsel import Selector

    from crawler.links import attachment_links

    page = Selector(text="<a href='https://files.cdn.example.com/nb/1.pdf'>年报.pdf</a>"
                         "<a href='https://other.example.net/2.pdf'>2.pdf</a>")
    assert attachment_links(page, "http://www.a.gov.cn/nb/t1.html") == {}
    assert attachment_links(page, "http://www.a.gov.cn/nb/t1.html", ("files.cdn.example.com",)) == {
        "https://files.cdn.example.com/nb/1.pdf": "年报.pdf"}
