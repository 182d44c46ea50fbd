"""索引号 / 发布机构 / 发布时间 / 主题分类 / 标题 from the forms detail pages print them."""

from __future__ import annotations

import pytest

from parsers.formats.html import read_html
from parsers.metadata import extract_metadata, normalize_date

from .conftest import shared


def page(block: str, encoding: str = "utf-8") -> bytes:
    charset = "gb2312" if encoding == "gbk" else encoding
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"</head><body>{block}<div class='TRS_Editor'><p>正文</p></div></body></html>"
            ).encode(encoding)


@pytest.mark.parametrize("block, expected", [
    ("<table><tr><td>索引号：</td><td>000014348/2020-35147</td><td>主题分类：</td><td>综合政务</td></tr>"
     "<tr><td>发布机构：</td><td>邯郸市教育局</td><td>发布日期：</td><td>2020年08月02日</td></tr>"
     "<tr><td>名　　称：</td><td colspan=3>某某2020年政府信息公开工作年度报告</td></tr></table>",
     {"索引号": "000014348/2020-35147", "主题分类": "综合政务", "发布机构": "邯郸市教育局",
      "发布时间": "2020-08-02", "标题": "某某2020年政府信息公开工作年度报告"}),
    ("<ul><li><b>索 引 号：</b>ABC/2021-1</li><li><b>发布机构：</b>天水郡街道</li>"
     "<li><b>生成日期：</b>2021-12-31</li><li><b>分类：</b>年报</li></ul>",
     {"索引号": "ABC/2021-1", "发布机构": "天水郡街道", "发布时间": "2021-12-31", "主题分类": "年报"}),
    ("<div>发布时间: 2021-12-31</div><div>来源：区政府办公室</div>",
     {"发布时间": "2021-12-31", "发布机构": "区政府办公室"}),
    ("<dl><dt>索引号</dt><dd>X-1</dd><dt>发文机关</dt><dd>某局</dd><dt>成文日期</dt><dd>2019年2月15日</dd>"
     "<dt>发布日期</dt><dd>2019-02-20 10:00</dd></dl>",
     {"索引号": "X-1", "发布机构": "某局", "成文日期": "2019-02-15", "发布时间": "2019-02-20"}),
    ('<div class="title"><span>[ 索引号 ]</span></div><div class="content"><span>115/2024-00857</span></div>'
     '<div class="title"><span>[ 主题分类 ]</span></div><div class="content"><span>工业</span></div>',
     {"索引号": "115/2024-00857", "主题分类": "工业"}),
    ("<p><strong>索引号</strong>：000014348/2020-35147</p><p><strong>文号</strong>：冀教〔2020〕1号</p>",
     {"索引号": "000014348/2020-35147", "文号": "冀教〔2020〕1号"}),
    # a label whose value cell is empty keeps an empty value, not the next label
    ("<table><tr><td>文号</td><td></td><td>关键词</td><td>年报</td></tr>"
     "<tr><td>发布机构</td><td>某局</td></tr></table>",
     {"文号": "", "发布机构": "某局"}),
    # labels and values in adjacent spans, as Fujian's pages print them
    ('<div><span class="article_source">来源：平潭综合实验区管委会办公室</span>'
     '<span class="article_time">时间：2024-03-08 15:34</span></div>',
     {"发布机构": "平潭综合实验区管委会办公室", "发布时间": "2024-03-08"}),
])
def test_metadata_blocks(block, expected):
    for encoding in ("utf-8", "gbk"):
        assert read_html(page(block, encoding)).metadata == expected


def test_sentences_that_start_with_a_weak_label_are_not_metadata():
    assert extract_metadata(["分类推进政务公开标准化规范化工作，取得成效。", "来源于群众的意见"]) == {}


def test_the_strongest_label_wins():
    segments = ["主办单位：某区人民政府办公室", "发布机构：某街道办事处"]
    assert extract_metadata(segments)["发布机构"] == "某街道办事处"


def test_trs_meta_tags_stand_in_for_a_missing_label():
    body = ('<html><head><meta name="PubDate" content="2024-01-17 09:30">'
            '<meta name="ContentSource" content="某局"></head><body><p>正文</p></body></html>').encode()
    assert read_html(body).metadata == {"发布时间": "2024-01-17", "发布机构": "某局"}


@pytest.mark.parametrize("value, date", [
    ("2019年02月15日", "2019-02-15"), ("2024-03-08 15:34", "2024-03-08"),
    ("2021/12/31", "2021-12-31"), ("20211231", "2021-12-31"), ("2021.1.5", "2021-01-05"),
    ("不详", "不详"),
])
def test_dates(value, date):
    assert normalize_date(value) == date


# --- real saved pages, read in place ----------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    ("hd_gov_cn_xxgk_detail_trs.jsp.html",
     {"索引号": "000014348/2020-35147", "发布机构": "邯郸市教育局", "主题分类": "教育",
      "发布时间": "2020-08-02"}),
    ("cq_jjxxw_detail_trs_suoyinhao_doc_attachment.html",
     {"索引号": "11500000009276281J/2024-00857", "文号": "渝经信发〔2024〕58号"}),
    ("govcn_zhengce_content_5365945_bd1_fragment.html", {"索引号": "000014349/2019-00007"}),
    ("shuyang_fgj_2023_annual_report_ucap_metadata.EXCERPT.html",
     {"索引号": "014314799/2024-00002", "发布机构": "沭阳县发展和改革局", "发布时间": "2024-01-17",
      "文号": "", "主题分类": "信息公开年报 其他 报告"}),
    ("pingtan_2023_annual_report_fujian_trs_detail.EXCERPT.html",
     {"发布机构": "平潭综合实验区管委会办公室", "发布时间": "2024-03-08"}),
])
def test_real_detail_pages(name, expected):
    metadata = read_html(shared("real", "pages", name).read_bytes()).metadata
    assert {k: metadata.get(k) for k in expected} == expected
