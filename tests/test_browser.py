"""A journalist's path through the published demo archive, in a real Chromium driven by
Playwright: home page, search 复议, a facet, a report, its archived PDF, a filtered CSV.
Screenshots and the downloaded files are kept in tests/artifacts/browser/."""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3

import pytest
from datasette.utils import tilde_encode

from tests.conftest import ARTIFACTS, unavailable

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "browser"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import Error, sync_playwright

    from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        except Error as error:  # neither Debian's chromium nor Playwright's own browser
            unavailable(f"no Chromium to drive: {error.message.splitlines()[0]}")
        yield chromium
        chromium.close()


def test_search_facet_report_pdf_and_csv(browser, published):
    page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)

    page.goto(published.base + "/")
    assert "政府信息公开工作年度报告档案" in page.content()
    page.screenshot(path=SHOTS / "1-home.png", full_page=True)

    page.fill("#start-search", "复议")
    page.press("#start-search", "Enter")
    page.wait_for_url("**/archive/search?*")
    assert page.locator("td.col-摘录 mark, td mark").first.inner_text() == "复议"
    page.screenshot(path=SHOTS / "2-search.png")

    page.goto(published.base + "/archive/reports?_search=复议")
    assert "全文包含" in page.content()

    page.click("#facet-year >> a:text-is('2021')")
    page.wait_for_url("**year=2021*")
    assert page.locator("table.rows-and-columns tbody tr").count() == 5
    page.screenshot(path=SHOTS / "3-facet.png")

    with sqlite3.connect(published.db) as connection:
        report, digest, filename = connection.execute(
            "select r.url, d.sha256, d.filename from reports r join documents d on d.report_url = r.url "
            "where r.year = 2021 and d.kind = 'pdf' and r.url <> d.url order by r.url limit 1").fetchone()
    page.click(f"td.report-title a[href$='{tilde_encode(report)}']")
    page.wait_for_selector("h2:text('存档副本')")
    assert page.locator("table.report-table").count() == 3
    page.screenshot(path=SHOTS / "4-report.png", full_page=True)

    with page.expect_download() as pdf:
        page.click(f"a[href$='/-/archive/{digest}?download=1']")
    saved = SHOTS / "archived.pdf"
    pdf.value.save_as(saved)
    assert pdf.value.suggested_filename == filename
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest

    page.go_back()
    page.wait_for_url("**year=2021*")
    with page.expect_download() as table:  # one click on the CSV link downloads the file
        page.click("p.export-links a:text('CSV')")
    exported = SHOTS / "filtered.csv"
    table.value.save_as(exported)
    data = exported.read_bytes()
    assert data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 5 and {row["year"] for row in rows} == {"2021"}
    assert all("复议" in row["text"] for row in rows)
    page.close()


def test_charts_are_drawn(browser, published):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(published.base + "/charts")
    for chart in ("#chart-requests", "#chart-outcomes", "#chart-review"):
        page.wait_for_selector(f"{chart} svg .mark-rect, {chart} svg .mark-line, {chart} svg .mark-symbol")
    page.screenshot(path=SHOTS / "5-charts.png", full_page=True)
    page.close()


def test_a_bodys_history_compared_and_the_late_reports_of_a_year(browser, published):
    """Find 跃进街道's history from the bodies list, compare it with 世纪街道; list the
    late reports of 2021; every page in Chinese."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(20_000)
    page.goto(published.base + "/archive/bodies")
    page.click("a:text-is('跃进街道')")
    page.wait_for_selector("h1.body-title:text('跃进街道')")
    years = page.locator("table.body-history tbody tr td:first-child").all_inner_texts()
    assert years == ["2020", "2021", "2022"]
    assert page.locator("figure.bars svg rect").count() >= 2
    page.screenshot(path=SHOTS / "6-body.png", full_page=True)

    page.click("a:text('与其他机构比较')")
    page.wait_for_selector("form.compare-form")
    page.select_option("select[name=机构] >> nth=1", label="世纪街道（示例区）")
    page.click("input[type=submit][value='比较']")
    page.wait_for_selector("table.compare")
    text = page.locator("table.compare").inner_text()
    assert "跃进街道" in text and "世纪街道" in text and "没有年报" in text
    page.screenshot(path=SHOTS / "7-compare.png", full_page=True)

    page.goto(published.base + "/archive/late_reports")
    page.select_option("select[name=年度]", "2021")
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "=2021" in url)
    body = page.locator("body").inner_text()
    assert "逾期发布的年报" in body and ("没有符合条件的结果" in body or "共 " in body)
    with sqlite3.connect(published.db) as connection:
        late = connection.execute("select count(*) from figures where 年度 = 2021 and 逾期天数 > 0").fetchone()[0]
    assert page.locator("table.rows-and-columns tbody tr").count() == late
    page.screenshot(path=SHOTS / "8-late-2021.png", full_page=True)
    page.close()


def test_the_latest_changes_after_a_second_crawl(browser, crawled_thrice):
    """A second crawl replaced one report's PDF and found one page gone: the latest
    changes say so, with the figures old → new, and lead to the report's page."""
    from tests.conftest import publishing

    with publishing(crawled_thrice.after_second) as site:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(20_000)
        page.goto(site.base + "/")
        page.click("a:text('最新变化')")
        page.wait_for_selector("table.rows-and-columns")
        kinds = page.locator("table.rows-and-columns tbody td:nth-child(2)").all_inner_texts()  # 变化
        assert kinds[:2] and sorted(kinds[:2]) == ["更新", "消失"] and kinds[2:] == ["新增"] * 6
        update = page.locator("table.rows-and-columns tbody tr", has_text="更新")
        assert "新收申请" in update.inner_text() and "→" in update.inner_text()
        page.screenshot(path=SHOTS / "9-latest-changes.png", full_page=True)

        page.select_option("select[name=变化]", "消失")
        page.click("input[type=submit]")
        page.wait_for_url(lambda url: "%E6%B6%88%E5%A4%B1" in url or "消失" in url)
        assert page.locator("table.rows-and-columns tbody tr").count() == 1
        gone = crawled_thrice.portal.url(crawled_thrice.vanished["path"])
        assert gone in page.locator("table.rows-and-columns tbody").inner_text()

        page.go_back()
        page.wait_for_selector("table.rows-and-columns")
        page.locator("table.rows-and-columns tbody tr", has_text="更新").locator("a:text('年报页面')").click()
        page.wait_for_selector("h2:text('存档副本')")
        assert page.url.endswith(tilde_encode(crawled_thrice.portal.url(crawled_thrice.shell["path"])))
        page.screenshot(path=SHOTS / "10-changed-report.png", full_page=True)
        page.close()


def test_every_headline_figure_is_on_screen_at_1400_px(browser, published):
    from nianbao.figures import HEADLINE

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(published.base + "/archive/figures")
    edges = page.evaluate("""() => Object.fromEntries(Array.from(
        document.querySelectorAll('table.rows-and-columns th')).map(
        th => [th.dataset.column, th.getBoundingClientRect().right]))""")
    assert set(HEADLINE) <= set(edges)
    assert {name: edges[name] for name in HEADLINE if edges[name] > 1400} == {}
    page.screenshot(path=SHOTS / "11-figures-1400.png")
    page.close()
