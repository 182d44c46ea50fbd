"""A report's headline figures: sums of the template's rows, never made up."""

from __future__ import annotations

import pytest

from nianbao.figures import body_of, headline


def cells(rows: dict) -> list[tuple]:
    return [("applications", row, "总计", value) for row, value in rows.items()]


def test_groups_are_summed_and_a_missing_part_leaves_the_figure_empty():
    rows = {"一": 10, "三.一": 4, **{f"三.三.{n}": n for n in range(1, 9)},
            "三.四.1": 1, "三.四.2": 1}                 # 三.四.3 missing
    figures = headline(cells(rows))
    assert figures["新收申请"] == 10 and figures["予以公开"] == 4
    assert figures["不予公开"] == 36
    assert figures["无法提供"] is None and figures["部分公开"] is None


def test_other_handling_is_one_row_or_the_2021_templates_three():
    assert headline(cells({"三.六": 5}))["其他处理"] == 5
    assert headline(cells({"三.六.1": 1, "三.六.2": 2, "三.六.3": 3}))["其他处理"] == 6


def test_litigation_adds_both_kinds_of_suit():
    rows = [("review_litigation", "未经复议直接起诉", "总计", 3),
            ("review_litigation", "复议后起诉", "总计", 4),
            ("review_litigation", "未经复议直接起诉", "结果纠正", 1),
            ("review_litigation", "复议后起诉", "结果纠正", 0)]
    figures = headline(rows)
    assert (figures["行政诉讼"], figures["诉讼纠正"]) == (7, 1)


def test_a_body_is_its_publisher_or_the_one_its_title_names():
    assert body_of("天水郡街道", "秦州区天水郡街道2021年政府信息公开工作年度报告") == "天水郡街道"
    assert body_of(None, "跃进街道办事处2021 年政府信息公开工作年度报告") == "跃进街道办事处"
    assert body_of(None, "政府信息公开工作年度报告") is None


def test_a_report_without_a_printed_publisher_is_one_body_in_reports_and_figures():
    from nianbao.archive import DocumentRecord, figures_row
    from nianbao.assemble import build_report

    from .conftest import ROOT

    pdf = (ROOT / "tests/corpus/seed-000/report.pdf").read_bytes()
    url = "http://a.gov.cn/P0001.pdf"  # linked straight from the listing: no page, no 发布机构
    record = build_report(url, [(DocumentRecord(url=url, kind="pdf", sha256="0" * 64, size=len(pdf)), pdf)])
    assert record.fields["publisher"] == "芝罘区只楚街道办事处"
    assert record.fields["publisher_from"] == "标题"  # said on the report page
    assert figures_row({"url": url, **record.fields}, record.cells)["发布机构"] == "芝罘区只楚街道办事处"
    page = (ROOT / "tests/corpus/seed-000/page.html").read_bytes()
    printed = build_report("http://a.gov.cn/t1.html", [(DocumentRecord(
        url="http://a.gov.cn/t1.html", kind="html", sha256="1" * 64, size=len(page)), page)])
    assert printed.fields["publisher_from"] == "页面"


@pytest.mark.parametrize("year, published, late", [
    (2021, "2022-01-31", (0, 0)),        # on the last day
    (2022, "2023-01-20", (0, 0)),
    (2021, "2022-03-02", (30, 0)),       # February 2022 has 28 days
    (2023, "2024-03-01", (30, 0)),       # 2024 is a leap year
    (2021, "2021-06-01", (None, 1)),     # before the year ended: not a real publishing date
    (2021, "2021-12-31", (None, 1)),
    (2021, None, (None, None)),
    (None, "2022-02-01", (None, None)),
    (2021, "2022年2月1日", (None, None)),  # not ISO: unknown, not guessed
])
def test_a_report_is_late_after_31_january_of_the_next_year(year, published, late):
    from nianbao.figures import lateness

    assert lateness(year, published) == late
