"""Render sample reports in the forms offices publish them.

A `Sample` is a report's title, metadata, prose and tables (the contract's JSON). From it:

- `page_html`: a TRS-style detail page, GBK with a gb2312 meta tag, a metadata block, the
  report's tables with rowspan/colspan as the national template prints them (or, like
  seed 001's page, one cell per line);
- `report_docx`: a Word file made with python-docx, the same tables with real merged
  cells, the header rows of the long table repeated on a new page;
- `report_pdf`, `report_doc`: that Word file converted by LibreOffice, as offices do;
- `scanned_pdf`: the PDF's pages as images, with no text layer.

The five seeds become samples with their hand-checked gold tables; `variant` makes more
samples with many non-zero figures, so that a figure read into the wrong row is caught.
"""

from __future__ import annotations

import functools
import html
import io
import json
import random
import re
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path

import docx
import yaml
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from parsers.report import find_sections
from parsers.template import (APPLICATIONS, GRID, Cell, application_columns, layout, review_columns,
                              review_groups, section_titles, table_sections)
from parsers.template import template as template_data
from parsers.vocabulary import format_number, parse_number

SEEDS_DIR = Path(__file__).with_name("seeds")
# how a careless office prints labels (the "messy" sample): spaces inside, full-width
# numbering, the forms the parsers must still read
MESSY_LABELS = yaml.safe_load(Path(__file__).with_name("messy_labels.yaml").read_text(encoding="utf-8"))
APPLICANTS = application_columns()
RESULTS = review_columns()
REVIEW_GROUPS = review_groups()
_PROSE = re.compile(r"[。，；：]")
_SUBHEAD = re.compile(r"^[（(][一二三四五六七八九十]+[）)]|^\d+[、.]")


@dataclass
class Sample:
    name: str
    title: str
    year: int
    template: str
    tables: dict
    metadata: dict
    intro: list[str] = field(default_factory=list)
    # section number -> (heading as printed, paragraphs)
    sections: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    # how the page prints its metadata and its tables, and which CMS drew the page
    metadata_style: str = "table"
    table_style: str = "grid"
    page_style: str = "trs"
    # cells printed otherwise than as their figure: blank marks ('/', '—', '') for
    # cells the gold leaves out, '0%', full-width digits; keyed "table|row|column"
    printed: dict = field(default_factory=dict)
    # labels with spaces and full-width numbering, empty spacer rows in Word tables
    messy: bool = False
    # labels as this office prints them (template label -> printed; "\n" a line break)
    labels: dict = field(default_factory=dict)

    @property
    def publisher(self) -> str:
        return self.metadata.get("发布机构") or self.title.split(str(self.year))[0]

    def gold(self) -> dict:
        """The report JSON a parser must produce from this sample's files."""
        return {"title": self.title, "year": self.year, "template": self.template,
                "metadata": self.metadata, "tables": self.tables}


# --- samples from the seeds ------------------------------------------------------------------


def _prose(lines: list[str], subheadings: bool = True) -> list[str]:
    """The running text of a seed's lines: sentences, and short subheadings where asked;
    never a line of a table."""
    kept = []
    for raw in lines:
        line = raw.strip().lstrip("#").strip()
        if "\t" in raw or not line or line.startswith("[bookmark"):
            continue
        if _PROSE.search(line) and len(line) >= 15 or \
                subheadings and _SUBHEAD.match(line) and len(line) <= 40:
            kept.append(line)
    return kept


def seed_names() -> list[str]:
    return sorted(p.name[: -len(".gold.json")] for p in SEEDS_DIR.glob("*.gold.json"))


def seed_text(name: str) -> str:
    return (SEEDS_DIR / f"{name}.txt").read_text(encoding="utf-8")


def sample_from_seed(name: str, number: int) -> Sample:
    gold = json.loads((SEEDS_DIR / f"{name}.gold.json").read_text(encoding="utf-8"))
    text = seed_text(name)
    sections = find_sections(text)
    first = text.find(sections[0]["title"]) if sections else len(text)
    intro = [line for line in _prose(text[:first].splitlines())
             if "年度报告" not in line or len(line) > 40]
    year = gold["year"]
    metadata = gold.get("metadata") or made_up_metadata(gold["title"], year, number)
    return Sample(
        name=f"seed-{name[:3]}", title=gold["title"], year=year, template=gold["template"],
        tables=gold["tables"], metadata=metadata, intro=intro,
        sections={s["number"]: (s["title"], _prose(s["text"].splitlines(),
                                                   subheadings=s["number"] not in LAYOUTS))
                  for s in sections})


def made_up_metadata(title: str, year: int, number: int) -> dict:
    """A metadata block as TRS portals print it, for seeds that came without one."""
    publisher = re.split(r"\d{4}", title)[0]
    return {"索引号": f"11370{number:03d}MB28{year % 100:02d}5{number:03d}/{year + 1}-{number:05d}",
            "发布机构": publisher, "发布时间": f"{year + 1}-01-{10 + number:02d}",
            "主题分类": "政府信息公开年报", "标题": title}


# --- variants with many figures ---------------------------------------------------------------


def _row(rng: random.Random, scale: int, sparse: bool = True) -> dict:
    values = [rng.randint(0, scale) if not sparse or rng.random() < 0.6 else 0 for _ in range(6)]
    return dict(zip(APPLICANTS, values + [sum(values)]))


def variant(base: Sample, name: str, *, year: int, template: str, seed: int,
            other_as_one_row: bool = False, scale: int = 12, big: bool = False,
            broken_review_total: bool = False, messy: bool = False) -> Sample:
    """A sample like `base` for another year, its tables filled with random figures that
    obey every 勾稽关系 (unless `broken_review_total`, as some real reports print)."""
    rng = random.Random(seed)
    leaves = (["三.一", "三.二"] + [f"三.三.{i}" for i in range(1, 9)]
              + [f"三.四.{i}" for i in range(1, 4)] + [f"三.五.{i}" for i in range(1, 6)]
              + (["三.六"] if template == "2019" or other_as_one_row else
                 [f"三.六.{i}" for i in range(1, 4)]))
    apps = {key: _row(rng, scale * (8 if key in ("三.一", "三.四.1") else 1)) for key in leaves}
    total = {c: sum(apps[k][c] for k in leaves) for c in APPLICANTS}
    carried_in = {c: rng.randint(0, 3) for c in APPLICANTS[:-1]}
    carried_out = {c: rng.randint(0, 3) for c in APPLICANTS[:-1]}
    new = {c: total[c] + carried_out[c] - carried_in[c] for c in APPLICANTS[:-1]}
    for c in APPLICANTS[:-1]:
        if new[c] < 0:
            carried_in[c] += new[c]
            new[c] = 0
    for row in (carried_in, carried_out, new):
        row["总计"] = sum(row[c] for c in APPLICANTS[:-1])
    applications = {"一": new, "二": carried_in, **apps, "三.七": total, "四": carried_out}

    review = {}
    for group in REVIEW_GROUPS:
        results = [rng.randint(0, 9) for _ in range(4)]
        review[group] = dict(zip(RESULTS, results + [sum(results)]))
    if broken_review_total:
        review["行政复议"]["总计"] += 3

    active = {}
    for block in template_data()["tables"]["active_disclosure"]["items"][template]:
        for row in block["rows"]:
            active[row] = {}
            for column in block["columns"]:
                if column == "本年收费金额":
                    value = round(rng.uniform(10, 99999), 2 if rng.random() < 0.5 else 1)
                elif column == "本年增/减":
                    value = rng.randint(-20, 40)
                elif big and row in ("行政许可", "行政处罚"):
                    value = rng.randint(100000, 4000000)
                else:
                    value = rng.randint(0, 400 if row in ("行政许可", "行政处罚") else 60)
                active[row][column] = value
    title = base.title.replace(str(base.year), str(year), 1)
    metadata = {**base.metadata, "标题": title, "发布时间": f"{year + 1}-01-{15 + seed % 10:02d}"}
    if "索引号" in metadata:
        metadata["索引号"] = re.sub(r"/\d{4}-", f"/{year + 1}-", metadata["索引号"])
    sample = deepcopy(base)
    sample.name, sample.title, sample.year, sample.template = name, title, year, template
    # the prose speaks of the variant's year (统计期限 自…年1月1日 included)
    shift = year - base.year
    sample.intro = [_shift_years(p, shift) for p in sample.intro]
    sample.sections = {n: (h, [_shift_years(p, shift) for p in ps])
                       for n, (h, ps) in sample.sections.items()}
    sample.metadata = metadata
    sample.tables = {"active_disclosure": active, "applications": applications,
                     "review_litigation": review}
    if messy:
        _make_messy(sample, rng)
    return sample


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _make_messy(sample: Sample, rng: random.Random) -> None:
    """Print the sample as careless offices do: some cells blank ('/', '—', empty),
    which the gold leaves out; 本年增/减 of 0 as '0%'; some figures in full-width digits."""
    sample.messy = True
    tables = sample.tables
    blanks = [("applications", "三.三.7", "科研机构", "/"), ("applications", "三.五.3", "其他", "—"),
              ("active_disclosure", "政府集中采购", "采购总金额", "/"),
              ("review_litigation", "复议后起诉", "尚未审结", "-")]
    for table, row, column, mark in blanks:
        if column in tables[table].get(row, {}):
            del tables[table][row][column]
            sample.printed[f"{table}|{row}|{column}"] = mark
    for row, columns in tables["active_disclosure"].items():
        if "本年增/减" in columns:
            columns["本年增/减"] = 0
            sample.printed[f"active_disclosure|{row}|本年增/减"] = "0%"
    for key in ("一", "三.一", "三.七"):
        for column, value in tables["applications"][key].items():
            if rng.random() < 0.5:
                sample.printed[f"applications|{key}|{column}"] = str(value).translate(_FULL_WIDTH)


def _shift_years(text: str, shift: int) -> str:
    return re.sub(r"(20[12]\d)(?=\s*年)", lambda m: str(int(m.group(1)) + shift), text)


def samples() -> list[Sample]:
    """The seeds and their variants, in a fixed order: the corpus and the demo portal."""
    seeds = [sample_from_seed(name, number) for number, name in enumerate(seed_names(), 1)]
    by_number = {s.name[-3:]: s for s in seeds}
    seeds[1].metadata_style, seeds[1].table_style = "text", "flat"   # seed 001 as printed
    seeds[2].metadata_style = "list"
    seeds[4].metadata_style = "list"
    variants = [
        variant(by_number["000"], "variant-000", year=2021, template="2021", seed=1),
        variant(by_number["001"], "variant-001", year=2022, template="2021", seed=2,
                other_as_one_row=True),
        variant(by_number["002"], "variant-002", year=2021, template="2019", seed=3),
        variant(by_number["003"], "variant-003", year=2021, template="2021", seed=4,
                broken_review_total=True),
        variant(by_number["004"], "variant-004", year=2022, template="2021", seed=5,
                scale=60, big=True),
        variant(by_number["002"], "variant-005", year=2022, template="2019", seed=6,
                messy=True),
    ]
    variants[-1].page_style = "hanweb"  # a Zhejiang-style page: no 标题 row, 文号 and 有效性
    metadata = variants[-1].metadata
    metadata.pop("标题")
    metadata.update({"文号": "跃办发〔2023〕3号", "有效性": "有效"})
    variants[1].metadata_style = "text"
    variants[3].metadata_style = "list"
    return seeds + variants


# --- table layouts as the template prints them (parsers/template.py) -------------------------


def _cell(sample: Sample, table: str, row: str, column: str) -> str:
    printed = sample.printed.get(f"{table}|{row}|{column}")
    if printed is not None:
        return printed
    value = sample.tables[table].get(row, {}).get(column)
    return "" if value is None else format_number(value)


def sample_layout(sample: Sample, table: str) -> list[list[Cell]]:
    """A sample's table as its office prints it: the template's layout, with the
    sample's own cell texts and, for a careless office, its labels and spacer rows."""
    messy = MESSY_LABELS if sample.messy else {}
    return layout(table, sample.tables, sample.template,
                  text=lambda t, r, c: _cell(sample, t, r, c),
                  label=lambda words: sample.labels.get(words, messy.get(words, words)),
                  spacers=sample.messy)


# section number -> the table printed in it
LAYOUTS = {section: table for table, section in table_sections().items()}
SECTION_TITLES = section_titles()


def _body(sample: Sample):
    """(heading, paragraphs, table or None) for each of the six sections, in order."""
    for number, default in SECTION_TITLES.items():
        heading, paragraphs = sample.sections.get(number, (default, []))
        yield heading, paragraphs, LAYOUTS.get(number)


# --- HTML --------------------------------------------------------------------------------------


def _html_table(rows: list[list[Cell]]) -> str:
    out = ['<table border="1" cellspacing="0" cellpadding="2" style="border-collapse:collapse">']
    for row in rows:
        out.append("<tr>" + "".join(
            "<td"
            + (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "")
            + (f' colspan="{c.colspan}"' if c.colspan > 1 else "")
            + f">{html.escape(c.text).replace(chr(10), '<br />')}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _flat_table(rows: list[list[Cell]]) -> str:
    """A table as some portals' editors leave it: every cell its own paragraph."""
    return "\n".join(f"<p>{html.escape(c.text)}</p>" for row in rows for c in row if c.text)


_METADATA_ORDER = ["索引号", "主题分类", "发布机构", "发布时间", "标题"]


def _metadata_html(sample: Sample) -> str:
    md = sample.metadata
    if sample.metadata_style == "list":
        labels = {"索引号": "索 引 号", "主题分类": "分类", "发布机构": "发布机构",
                  "发布时间": "生成日期", "标题": "名　　称"}
        items = "".join(f"<li><b>{labels[k]}：</b>{html.escape(_display_date(k, md[k]))}</li>"
                        for k in _METADATA_ORDER if k in md)
        return f'<ul class="xxgk_info">{items}</ul>'
    if sample.metadata_style == "text":
        items = "".join(f"<li>• {k}: {html.escape(md[k])}</li>" for k in _METADATA_ORDER if k in md)
        return f'<div class="info">时间:{md.get("发布时间", "")} 点击: </div><ul>{items}</ul>'
    cells = [(k, md[k]) for k in _METADATA_ORDER if k in md and k != "标题"]
    rows = "".join(
        "<tr>" + "".join(f'<td class="label">{"发布日期" if k == "发布时间" else k}：</td>'
                         f"<td>{html.escape(_display_date(k, v))}</td>" for k, v in pair) + "</tr>"
        for pair in (cells[i:i + 2] for i in range(0, len(cells), 2)))
    if "标题" in md:
        rows += f'<tr><td class="label">名　　称：</td><td colspan="3">{html.escape(md["标题"])}</td></tr>'
    return f'<table class="xxgk_table">{rows}</table>'


def _display_date(key: str, value: str) -> str:
    """Dates printed as portals print them: 2021年01月26日."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value or "")
    if key == "发布时间" and match:
        return "{}年{}月{}日".format(*match.groups())
    return value


def page_html(sample: Sample, attachments: list[tuple[str, str]] = (), *, shell: bool = False,
              site: str = "示例区人民政府", tables: dict[str, str] | None = None) -> bytes:
    """A detail page as the sample's CMS draws it (TRS: GBK, `.TRS_Editor`; Hanweb: UTF-8,
    `#zoom` between ZJEG_RSS markers). `shell`: the page only introduces the report and
    links it (`attachments`: (href, link text)), as many portals publish them. `tables`:
    HTML printed in each table's place instead of the table (its pictures)."""
    parts = [f"<p>{html.escape(p)}</p>" for p in sample.intro]
    if shell:
        parts.append("<p>" + html.escape(f"现将{sample.title}予以公布，全文见附件。") + "</p>")
    else:
        render = _flat_table if sample.table_style == "flat" else _html_table
        for heading, paragraphs, table in _body(sample):
            parts.append(f"<p><strong>{html.escape(heading)}</strong></p>")
            parts += [f"<p>{html.escape(p)}</p>" for p in paragraphs]
            if table and tables is not None:
                parts.append(tables.get(table, ""))
            elif table:
                parts.append(render(sample_layout(sample, table)))
    links = "".join(f'<p>附件：<a href="{html.escape(href)}">{html.escape(text)}</a></p>'
                    for href, text in attachments)
    page = _hanweb_page if sample.page_style == "hanweb" else _trs_page
    return page(sample, "\n".join(parts), links, site)


def _trs_page(sample: Sample, body: str, links: str, site: str) -> bytes:
    title = html.escape(sample.title)
    published = sample.metadata.get("发布时间", "")
    document = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<title>{title}_{html.escape(site)}</title>
<meta name="ArticleTitle" content="{title}" />
<meta name="PubDate" content="{html.escape(published)} 09:30" />
<meta name="ColumnName" content="政府信息公开年报" />
</head>
<body>
<div class="header"><a href="/index.html">首页</a> | <a href="/xxgk/index.html">政府信息公开</a> | <a href="/xxgk/zfxxgknb/index.html">政府信息公开年报</a></div>
<div class="xxgk_detail">
{_metadata_html(sample)}
<h1 class="title">{title}</h1>
<div class="TRS_Editor">
{body}
</div>
<div class="fujian">{links}</div>
</div>
<div class="footer">主办单位：{html.escape(site)}办公室　<a href="/xxgk/zfxxgknb/index.html">返回列表</a></div>
</body>
</html>
"""
    return document.encode("gbk", errors="xmlcharrefreplace")


def _hanweb_page(sample: Sample, body: str, links: str, site: str) -> bytes:
    md = sample.metadata
    title = html.escape(sample.title)
    labels = [("索引号", "索引号"), ("组配分类", "主题分类"), ("发布机构", "发布机构"),
              ("生成日期", "发布时间"), ("文件编号", "文号"), ("有效性", "有效性")]
    cells = "".join(f"<tr><th>{label}</th><td>{html.escape(md[key])}</td></tr>"
                    for label, key in labels if key in md)
    document = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>{title}</title>
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{html.escape(md.get('发布时间', ''))} 10:00">
<meta name="ContentSource" content="{html.escape(md.get('发布机构', ''))}">
</head><body>
<div class="bt-position">您当前的位置：<a href="/">首页</a> &gt; 政府信息公开年报</div>
<table class="xxgk_table">{cells}</table>
<div class="article"><h2 class="title">{title}</h2>
<!--ZJEG_RSS.content.begin--><meta name="ContentStart"/>
<div id="zoom">
{body}
</div>
<meta name="ContentEnd"/><!--ZJEG_RSS.content.end-->
<div class="fujian">{links}</div>
</div>
<div class="footer">{html.escape(site)} 版权所有</div>
</body></html>
"""
    return document.encode("utf-8")


# --- Word ------------------------------------------------------------------------------------------


def _east_asian_font(run_or_style, name: str = "宋体") -> None:
    element = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _placed(rows: list[list[Cell]]):
    """(row, column, cell) of each cell of a layout on its grid: a cell starts at the first
    position that a cell merged down from above does not already fill."""
    occupied: set[tuple[int, int]] = set()
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in occupied:
                c += 1
            yield r, c, cell
            occupied.update((r + dr, c + dc) for dr in range(cell.rowspan)
                            for dc in range(cell.colspan))
            c += cell.colspan


def _docx_table(document, rows: list[list[Cell]], columns: int, header_rows: int) -> None:
    table = document.add_table(rows=len(rows), cols=columns)
    table.style = "Table Grid"
    for r, c, cell in _placed(rows):
        target = table.cell(r, c)
        if cell.rowspan > 1 or cell.colspan > 1:
            target = target.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
        target.text = cell.text
        for paragraph in target.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(9)
    for r in range(header_rows):
        properties = table.rows[r]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        properties.append(repeat)


def report_docx(sample: Sample) -> bytes:
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(11)
    _east_asian_font(normal)
    document.core_properties.title = sample.title
    document.core_properties.author = sample.publisher
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(sample.title)
    run.bold, run.font.size = True, Pt(16)
    for paragraph in sample.intro:
        document.add_paragraph(paragraph)
    for title, paragraphs, table in _body(sample):
        document.add_paragraph().add_run(title).bold = True
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
        if table:
            columns, header_rows = GRID[table]
            # the long applications table repeats its header rows on a new page
            _docx_table(document, sample_layout(sample, table), columns,
                        header_rows if table == APPLICATIONS else 0)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- spreadsheets ------------------------------------------------------------------------------


def report_xlsx(sample: Sample, *, one_sheet: bool = True) -> bytes:
    """The three tables as an office attaches them in Excel: on one sheet under the title and
    the section headings (each a row merged across the table's width), or one sheet per
    table; merged cells as the template prints them, figures as numbers."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "年报附表"
    row_at = 1

    def line(text: str, columns: int) -> None:
        nonlocal row_at
        sheet.cell(row_at, 1, text)
        sheet.merge_cells(start_row=row_at, start_column=1, end_row=row_at, end_column=columns)
        row_at += 1

    tables = [(title, table) for title, _, table in _body(sample) if table]
    for index, (title, table) in enumerate(tables):
        columns, _ = GRID[table]
        if not one_sheet and index:
            sheet, row_at = book.create_sheet(title[:2].strip("、")), 1
        if index == 0:
            line(sample.title, columns)
        line(title, columns)
        rows = sample_layout(sample, table)
        for r, c, cell in _placed(rows):
            number = parse_number(cell.text) if cell.text.strip() else None
            sheet.cell(row_at + r, c + 1, number if number is not None and cell.key else cell.text)
            if cell.rowspan > 1 or cell.colspan > 1:
                sheet.merge_cells(start_row=row_at + r, start_column=c + 1,
                                  end_row=row_at + r + cell.rowspan - 1, end_column=c + cell.colspan)
        row_at += len(rows) + 1
    book.properties.title = sample.title
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- LibreOffice and scans ----------------------------------------------------------------------------


def report_pdf(docx_bytes: bytes) -> bytes:
    from parsers.formats.office import convert
    return convert(docx_bytes, ".docx", "pdf")


def report_doc(docx_bytes: bytes) -> bytes:
    from parsers.formats.office import convert
    return convert(docx_bytes, ".docx", "doc")


def report_xls(xlsx_bytes: bytes) -> bytes:
    from parsers.formats.office import convert
    return convert(xlsx_bytes, ".xlsx", "xls")


def scanned_pdf(pdf_bytes: bytes, dpi: int = 200) -> bytes:
    """The PDF as a scanner would make it: every page an image, no text layer."""
    import pymupdf

    source = pymupdf.open(stream=pdf_bytes, filetype="pdf")
    scan = pymupdf.open()
    for page in source:
        image = page.get_pixmap(dpi=dpi, colorspace="GRAY").tobytes("png")
        target = scan.new_page(width=page.rect.width, height=page.rect.height)
        target.insert_image(target.rect, stream=image)
    return scan.tobytes(garbage=3, deflate=True)


def quirk_samples() -> list[Sample]:
    """Reports printed as offices really print them (FIELD-NOTES, real reports seen since),
    for the corpus only: every form of each must still read right.

    quirks-2021: zeros printed as blank cells (&nbsp;), which the gold leaves out; the
    总计 column left empty on every applications row; the fee printed with its unit
    (45381.99万元) under a header that names it; labels broken by a line break
    (社会公益<br />组织, 本年度办<br />理结果) or a stray space (法律服务 机构);
    现行有效件数（历史累计）; headers padded with non-breaking spaces; 其他处理 in three rows.
    quirks-2019: a six-decimal amount (采购总金额 5949.088667); legitimately negative 本年增/减; 其他处理
    as one row; zeros of the 主动公开 table printed blank."""
    seeds = {s.name[-3:]: s for s in (sample_from_seed(n, i) for i, n in enumerate(seed_names(), 1))}
    nbsp = "\xa0"
    modern = variant(seeds["003"], "quirks-2021", year=2023, template="2021", seed=11)
    apps = modern.tables["applications"]
    for key, row in apps.items():
        row.pop("总计")
        modern.printed[f"applications|{key}|总计"] = ""
        for column, value in list(row.items()):
            if value == 0:
                del row[column]
                modern.printed[f"applications|{key}|{column}"] = nbsp
    fee = modern.tables["active_disclosure"]["行政事业性收费"]
    fee["本年收费金额"] = 45381.99
    modern.printed["active_disclosure|行政事业性收费|本年收费金额"] = "45381.99万元"
    modern.labels = {"社会公益组织": "社会公益\n组织", "三、本年度办理结果": "三、本年度办\n理结果",
                     "法律服务机构": "法律服务 机构", "现行有效件数": "现行有效件数（历史累计）",
                     "自然人": f"{nbsp}自然人{nbsp}", "商业企业": f"{nbsp}商业企业{nbsp}"}
    older = variant(seeds["002"], "quirks-2019", year=2020, template="2019", seed=12)
    active = older.tables["active_disclosure"]
    active["政府集中采购"]["采购总金额"] = 5949.088667
    active["行政许可"]["本年增/减"], active["行政处罚"]["本年增/减"] = -7, -12
    for key, row in active.items():
        for column, value in list(row.items()):
            if value == 0:
                del row[column]
                older.printed[f"active_disclosure|{key}|{column}"] = nbsp
    return [modern, older]


@functools.lru_cache(maxsize=None)
def sample_named(name: str) -> Sample:
    return {s.name: s for s in samples() + quirk_samples()}[name]
