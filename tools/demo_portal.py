"""Build the demo portal that `nianbao demo` serves: a TRS-style 政府信息公开 site with a
年报 column, written into the package (`nianbao/demo/portal/`, with its `manifest.json`).

    python -m tools.demo_portal            # rebuild nianbao/demo/portal from tests/corpus

    /index.html                              home page, links to 政府信息公开
    /xxgk/index.html                         政府信息公开 page, links to the 年报 column
    /xxgk/zfxxgknb/index.html, index_1.html … the column, pages announced by
                                             createPageHTML(pages, current, "index", "html")
    /xxgk/zfxxgknb/YYYYMM/tYYYYMMDD_N.html   detail pages, GBK, metadata table
    /xxgk/zfxxgknb/YYYYMM/P0….pdf, W0….doc   attachments, named as TRS names them

The reports are the samples (seeds and variants); their DOCX, PDF and DOC files come
from the corpus. `build_site` returns a manifest of what the site holds, for the tests;
the test suite checks that the shipped portal is what this builds.
"""

from __future__ import annotations

import hashlib
import html
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from nianbao.demo import LISTING_PATH, MANIFEST, PORTAL_DIR, PORTAL_NAME

from .samples.render import page_html, samples

COLUMN = LISTING_PATH.rsplit("/", 1)[0] + "/"
PER_PAGE = 4
CORPUS_DIR = Path(__file__).resolve().parents[1] / "tests" / "corpus"


@dataclass
class Plan:
    """How the portal publishes one report."""

    attachments: tuple[str, ...]       # corpus files linked from the page, by kind
    shell: bool = False                # the page only introduces the report
    direct: bool = False               # the listing links the PDF itself, no page
    link_texts: tuple[str, ...] = ()   # texts of the attachment links
    dead_link: bool = False            # the page also links a file the server lacks


PLANS = {
    "seed-000": Plan(("pdf",)),
    "seed-001": Plan(("docx", "pdf"), link_texts=("【下载Word】", "【下载PDF】")),
    "seed-002": Plan(("pdf",), shell=True),
    "seed-003": Plan(("docx",), shell=True),
    "seed-004": Plan(("doc",), shell=True),
    "variant-000": Plan(("doc",)),
    "variant-001": Plan(("wps",), shell=True),
    "variant-002": Plan(("pdf",), direct=True),
    "variant-003": Plan(("pdf", "docx")),
    "variant-004": Plan(("pdf",), shell=True, dead_link=True),
    "variant-005": Plan(("docx",)),
}
_CORPUS_FILE = {"pdf": "report.pdf", "docx": "report.docx", "doc": "report.doc",
                "wps": "report.doc"}  # Kingsoft WPS writes Word 97 files under .wps
_PREFIX = {"pdf": "P0", "docx": "W0", "doc": "W0", "wps": "W0"}


def _listing_page(number: int, pages: int, items: list[tuple[str, str, str]]) -> bytes:
    rows = "\n".join(
        f'<li><a href="{html.escape(href)}" title="{html.escape(title)}" target="_blank">'
        f'{html.escape(title)}</a><span>{date}</span></li>' for href, title, date in items)
    document = f"""<!DOCTYPE html>
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<title>政府信息公开年报_{PORTAL_NAME}</title>
</head><body>
<div class="header"><a href="/index.html">首页</a> | <a href="/xxgk/index.html">政府信息公开</a></div>
<div class="position">当前位置：<a href="/index.html">首页</a> &gt; <a href="/xxgk/index.html">政府信息公开</a> &gt; 政府信息公开年报</div>
<div class="list"><ul class="xxgk_list">
{rows}
</ul></div>
<div class="page"><script type="text/javascript">
var currentPage = {number};//所在页从0开始
var countPage = {pages}//共多少页
createPageHTML({pages}, {number}, "index", "html");
</script></div>
</body></html>
"""
    return document.encode("gbk", errors="xmlcharrefreplace")


def _plain_page(title: str, links: list[tuple[str, str]]) -> bytes:
    items = "\n".join(f'<li><a href="{href}">{html.escape(text)}</a></li>' for href, text in links)
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"</head><body><h1>{html.escape(title)}</h1><ul>{items}</ul></body></html>"
            ).encode("utf-8")


def build_site(out: Path, corpus: Path = CORPUS_DIR) -> dict:
    """Write the site into `out` (emptied first) and return its manifest."""
    if out.exists():
        shutil.rmtree(out)
    (out / COLUMN.strip("/")).mkdir(parents=True)
    entries: list[tuple[str, str, str]] = []  # (href from the column, title, date)
    manifest: dict = {"portal": PORTAL_NAME, "listing": LISTING_PATH, "reports": []}
    for number, sample in enumerate(samples(), start=1):
        plan = PLANS[sample.name]
        date = sample.metadata["发布时间"]
        month, day = date[:7].replace("-", ""), date.replace("-", "")
        folder = out / COLUMN.strip("/") / month
        folder.mkdir(exist_ok=True)
        files = []
        for index, kind in enumerate(plan.attachments):
            body = (corpus / sample.name / _CORPUS_FILE[kind]).read_bytes()
            name = f"{_PREFIX[kind]}{day}{number:03d}{index}.{kind}"
            (folder / name).write_bytes(body)
            text = plan.link_texts[index] if plan.link_texts else f"{sample.title}.{kind}"
            files.append({"path": f"{COLUMN}{month}/{name}", "href": f"./{name}", "text": text,
                          "kind": kind, "sha256": hashlib.sha256(body).hexdigest()})
        if plan.direct:
            page_path = files[0]["path"]
            files = []
        else:
            links = [(f["href"], f["text"]) for f in files]
            if plan.dead_link:
                links.append((f"./W0{day}{number:03d}9.docx", "政策解读.docx"))
            page_path = f"{COLUMN}{month}/t{day}_{1000 + number}.html"
            body = page_html(sample, links, shell=plan.shell, site=PORTAL_NAME)
            (out / page_path.lstrip("/")).write_bytes(body)
        entries.append((page_path.replace(COLUMN, "./", 1), sample.title, date))
        manifest["reports"].append({
            "name": sample.name, "path": page_path, "title": sample.title,
            "year": sample.year, "template": sample.template, "direct": plan.direct,
            "metadata": {} if plan.direct else sample.metadata, "published": date,
            "attachments": files, "dead_link": plan.dead_link, "shell": plan.shell})
    entries.sort(key=lambda entry: entry[2], reverse=True)
    pages = (len(entries) + PER_PAGE - 1) // PER_PAGE
    for page in range(pages):
        name = "index.html" if page == 0 else f"index_{page}.html"
        chunk = entries[page * PER_PAGE:(page + 1) * PER_PAGE]
        (out / COLUMN.strip("/") / name).write_bytes(_listing_page(page, pages, chunk))
    (out / "index.html").write_bytes(_plain_page(PORTAL_NAME, [("/xxgk/index.html", "政府信息公开")]))
    (out / "xxgk" / "index.html").write_bytes(_plain_page("政府信息公开", [
        ("/xxgk/zfxxgkzn/index.html", "政府信息公开指南"),
        ("/xxgk/zfxxgkzd/index.html", "政府信息公开制度"),
        (LISTING_PATH, "政府信息公开年报")]))
    (out / "robots.txt").write_text("User-agent: *\nDisallow: /admin/\n", encoding="ascii")
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                encoding="utf-8")
    return manifest


if __name__ == "__main__":
    build_site(Path(sys.argv[1]) if len(sys.argv) > 1 else PORTAL_DIR)
