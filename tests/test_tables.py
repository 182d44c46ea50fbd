"""The table interpreter on rows built by hand: what it does with the forms reports take."""

from __future__ import annotations

import pytest

import parsers
from parsers.checks import run_checks
from parsers.rows import Row, text_rows
from parsers.tables import read_tables

from .conftest import shared

APPLICANT_HEADER = [Row(["（本列数据的勾稽关系为：…）", "", "", "申请人情况"] + [""] * 6, 0),
                    Row(["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"], 0),
                    Row(["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""], 0)]


def figures(*values):
    return [str(v) for v in values]


def test_a_row_split_by_a_page_break_is_joined():
    rows = APPLICANT_HEADER + [
        Row(["", "（四）", "1.本机", *figures(5, 0, 0, 0, 0, 0, 5)], 0),
        *[Row(r.cells, 1) for r in APPLICANT_HEADER],  # the header again on the next page
        Row(["", "无法提供", "关不掌握相关政府信息", *[""] * 7], 1),
        Row(["", "", "2.没有现成信息需要另行制作", *figures(1, 0, 0, 0, 0, 0, 1)], 1),
    ]
    tables = read_tables(rows).tables["applications"]
    assert tables["三.四.1"]["自然人"] == 5 and tables["三.四.2"]["总计"] == 1


def test_an_unreadable_label_takes_the_missing_row_between_its_neighbours():
    rows = APPLICANT_HEADER + [
        Row(["", "（三）不予公开", "2.其他法律行政法规禁止公开", *figures(1, 0, 0, 0, 0, 0, 1)], 0),
        Row(["", "", "3.危及“三芠全—稳走”", *figures(2, 0, 0, 0, 0, 0, 2)], 0),
        Row(["", "", "4.保护第三方合法权益", *figures(3, 0, 0, 0, 0, 0, 3)], 0),
    ]
    result = read_tables(rows)
    assert result.tables["applications"]["三.三.3"]["总计"] == 2
    assert any("三.三.3: its label could not be read" in w for w in result.warnings)


@pytest.mark.parametrize("unread, expected", [
    (["（去）芮他处到"], ["三.六"]),                       # 其他处理 printed as one row
    (["1.申请人无正当", "2.申请人逾", "3.其他"], ["三.六.1", "三.六.2", "三.六.3"]),  # or three
])
def test_an_unreadable_other_handling_row_takes_its_place_in_either_form(unread, expected):
    last = Row(["", "（五）不予处理", "5.要求行政机关确认或重新出具已获取信息", *figures(1, 0, 0, 0, 0, 0, 1)], 0)
    garbled = [Row(["", "", label.replace("其他", "甘他").replace("申请人", "申谓人"),
                    *figures(n, 0, 0, 0, 0, 0, n)], 0) for n, label in enumerate(unread, 2)]
    total = Row(["", "（七）总计", "", *figures(9, 0, 0, 0, 0, 0, 9)], 0)
    result = read_tables(APPLICANT_HEADER + [last, *garbled, total])
    assert [k for k in result.tables["applications"] if k.startswith("三.六")] == expected
    assert result.tables["applications"][expected[0]]["总计"] == 2


def test_blank_marks_are_left_out_and_named():
    rows = [Row(["第二十条第（一）项", "", "", ""], 0),
            Row(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], 0),
            Row(["规章", "/", "—", "3"], 0),
            Row(["行政规范性文件", "", "2", "4"], 0)]
    result = read_tables(rows)
    assert result.tables["active_disclosure"] == {"规章": {"现行有效件数": 3},
                                                  "规范性文件": {"本年废止件数": 2, "现行有效件数": 4}}
    assert "active_disclosure 规章 本年制发件数: / cell left out" in result.warnings
    assert "active_disclosure 规范性文件 本年制发件数: blank cell left out" in result.warnings


def test_cells_that_cannot_be_placed_are_never_guessed():
    text = "申请人情况\n一、本年新收政府信息公开申请数量\n4\n0\n4\n"  # 3 figures for 7 columns
    result = read_tables(text_rows(text))
    assert "一" not in result.tables["applications"]
    assert any("3 cells for 7 columns" in w for w in result.warnings)


def test_the_template_comes_from_the_columns_not_the_year():
    rows = [Row(["第二十条第（一）项"]), Row(["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"]),
            Row(["规章", "1", "2", "3"])]
    assert read_tables(rows).template == "2019"
    rows[1] = Row(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"])
    assert read_tables(rows).template == "2021"


def test_other_handling_is_keyed_as_printed():
    one_row = APPLICANT_HEADER + [Row(["", "（六）其他处理", "", *figures(1, 0, 0, 0, 0, 0, 1)], 0)]
    assert list(read_tables(one_row).tables["applications"]) == ["三.六"]
    three_rows = APPLICANT_HEADER + [
        Row(["", "（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
             *figures(1, 0, 0, 0, 0, 0, 1)], 0),
        Row(["", "（六）其他处理", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
             *figures(0, 0, 0, 0, 0, 0, 0)], 0),
        Row(["", "（六）其他处理", "3.其他", *figures(2, 0, 0, 0, 0, 0, 2)], 0)]
    assert list(read_tables(three_rows).tables["applications"]) == ["三.六.1", "三.六.2", "三.六.3"]


def test_checks_spell_out_the_figures():
    tables = {"applications": {}, "review_litigation": {
        "行政复议": {"结果维持": 10, "结果纠正": 1, "其他结果": 0, "尚未审结": 0, "总计": 0}}}
    (check,) = run_checks(tables)
    assert check == {"rule": "总计=维持+纠正+其他+尚未审结", "table": "review_litigation",
                     "row": "行政复议", "ok": False, "detail": "0 ≠ 10+1+0+0=11",
                     "cells": [["行政复议", c] for c in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")]}


def test_the_national_template_has_tables_but_no_figures():
    report = parsers.parse_report(shared("real", "zfxxgk_annual_report_format_template.docx").read_bytes())
    assert report["template"] == "2021"
    assert not any(report["tables"].values())
    assert "applications: the table prints no figures" in report["warnings"]


# --- printing as offices do it (FIELD-NOTES: real reports seen since) ----------------------------

def _quirk_page(edit):
    """variant-003's page (the 2021 tables, many non-zero figures), printed with a quirk."""
    import json

    from .conftest import ROOT

    folder = ROOT / "tests" / "corpus" / "variant-003"
    html = (folder / "page.html").read_bytes().decode("gbk")
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    return edit(html, gold), gold


def _fee_printed(html: str, gold: dict, text: str) -> str:
    import re

    fee = gold["tables"]["active_disclosure"]["行政事业性收费"]["本年收费金额"]
    start = html.index("行政事业性收费")
    cell = re.compile(r"(<td[^>]*>)\s*" + re.escape(str(fee)) + r"\s*(</td>)")
    found = cell.search(html, start)
    return html[:found.start()] + found.group(1) + text + found.group(2) + html[found.end():]


@pytest.mark.parametrize("quirk, edit, fee", [
    ("labels broken by <br />", lambda h, g: h.replace("社会公益组织", "社会公益<br />组织")
     .replace("本年度办理结果", "本年度办<br />理结果"), None),
    ("labels with stray spaces", lambda h, g: h.replace("社会公益组织", "社会公益 组织")
     .replace("法律服务机构", "法律服务 机构"), None),
    ("&nbsp;-padded headers", lambda h, g: __import__("re").sub(
        r">(自然人|商业企业|总计)<", r">&nbsp;\1&nbsp;<", h), None),
    ("a header that says more", lambda h, g: h.replace("现行有效件数", "现行有效件数（历史累计）"), None),
    ("a unit inside the cell", lambda h, g: _fee_printed(h, g, "45381.99元"), 45381.99),
    ("a unit in 万元 inside the cell", lambda h, g: _fee_printed(h, g, "45381.99万元"), 45381.99),
    ("six decimals", lambda h, g: _fee_printed(h, g, "5949.088667"), 5949.088667),
])
def test_reports_printed_with_office_quirks_read_every_cell(quirk, edit, fee):
    html, gold = _quirk_page(edit)
    report = parsers.parse_report(html.encode("gbk"), "text/html; charset=gbk", "http://a.gov.cn/t.html")
    expected = {(t, r, c): v for t, rows in gold["tables"].items() for r, cols in rows.items()
                for c, v in cols.items()}
    if fee is not None:
        expected["active_disclosure", "行政事业性收费", "本年收费金额"] = fee
    read = {(t, r, c): v for t, rows in report["tables"].items() for r, cols in rows.items()
            for c, v in cols.items()}
    assert read == expected, quirk


@pytest.mark.parametrize("name", ["report.pdf", "page.html", "report.docx", "report.ofd", "report.xlsx"])
def test_blank_cells_and_missing_totals_never_fail_a_check_and_units_are_recorded(name):
    """quirks-2021 prints zeros as &nbsp; and no 总计 column; its fee as 45381.99万元 under
    a header that names the unit (tests/corpus, tools/samples/render.py quirk_samples)."""
    from .conftest import CORPUS

    report = parsers.parse_report((CORPUS / "quirks-2021" / name).read_bytes(), url=name)
    assert report["checks"] and all(check["ok"] for check in report["checks"])
    assert not any("总计" in row for row in report["tables"]["applications"].values())
    assert report["units"] == {"active_disclosure": {"行政事业性收费": {"本年收费金额": "万元"}}}
    assert report["tables"]["active_disclosure"]["行政事业性收费"]["本年收费金额"] == 45381.99


def test_amounts_keep_their_decimals_and_the_2019_increase_may_be_negative():
    from .conftest import CORPUS

    report = parsers.parse_report((CORPUS / "quirks-2019" / "report.pdf").read_bytes())
    active = report["tables"]["active_disclosure"]
    assert active["政府集中采购"]["采购总金额"] == 5949.088667
    assert (active["行政许可"]["本年增/减"], active["行政处罚"]["本年增/减"]) == (-7, -12)
    assert all(check["ok"] for check in report["checks"])
