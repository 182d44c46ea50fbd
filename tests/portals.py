"""Local fixture portals, one per CMS family, served on 127.0.0.1 for the crawl tests.

Each serves a few sample reports the way that family's portals do: its listing shape,
its pagination or list API, its detail pages and attachment links, its encodings and
its traps. The crawler is pointed at a listing (or a home page) and must walk it from
nothing but that URL.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlparse

from tools.samples.render import page_html, sample_named

from .conftest import CORPUS

PDF = "application/pdf"
DOC = "application/msword"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Answer:
    body: bytes
    content_type: str = "text/html"
    status: int = 200
    headers: dict = field(default_factory=dict)


class Portal:
    """A site: static answers by path, and `dynamic` for what a server script answers.
    With `validators`, it sends an ETag and a Last-Modified with every answer and answers
    304 to a request whose If-None-Match names the current ETag, as real servers do."""

    validators = False

    def __init__(self):
        self.answers: dict[str, Answer] = {}
        self.reports: list[dict] = []   # what the portal publishes: name, url, attachments
        self.base = ""
        self.requests: list[tuple[str, str, dict]] = []
        # (path, status, bytes of body sent) for every answer
        self.answered: list[tuple[str, int, int]] = []
        # (began, ended, path) of every answer, monotonic seconds: the access log
        self.timings: list[tuple[float, float, str]] = []
        # paths whose answer waits until the test opens their gate
        self.gates: dict[str, threading.Event] = {}

    def add(self, path: str, body: bytes | str, content_type: str = "text/html", **kwargs):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.answers[path] = Answer(body, content_type, **kwargs)

    def dynamic(self, method: str, path: str, query: dict, form: dict) -> Answer | None:
        return None

    def serve(self, address: str = "127.0.0.1"):
        """Serve on `address` (any of 127.0.0.0/8: each portal a host of its own), on a
        free port."""
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, method):
                began = time.monotonic()
                try:
                    self._answer(method)
                finally:
                    portal.timings.append((began, time.monotonic(), self.path))

            def _answer(self, method):
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
                form = {}
                if method == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8"),
                                                          keep_blank_values=True).items()}
                portal.requests.append((method, self.path, form))
                path = parsed.path
                if path in portal.gates:
                    portal.gates[path].wait(timeout=120)
                if path == "/robots.txt":
                    found = Answer(b"User-agent: *\nDisallow: /private/\n", "text/plain")
                else:
                    found = portal.dynamic(method, path, query, form) or \
                        portal.answers.get(path + ("?" + parsed.query if parsed.query else "")) or \
                        portal.answers.get(path) or Answer(b"<h1>404</h1>", status=404)
                status, body, extra = found.status, found.body, dict(found.headers)
                if portal.validators and status == 200:
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    extra.update({"ETag": etag, "Last-Modified": "Mon, 16 Jan 2023 08:00:00 GMT"})
                    if self.headers.get("If-None-Match") == etag:
                        status, body = 304, b""
                portal.answered.append((self.path, status, len(body)))
                self.send_response(status)
                self.send_header("Content-Type", found.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self.answer("GET")

            def do_POST(self):
                self.answer("POST")

        server = _QuietServer((address, 0), Handler)
        self.base = f"http://{address}:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class _QuietServer(ThreadingHTTPServer):
    """ThreadingHTTPServer without its reverse DNS lookup of the address it binds (a
    tenth of a second for each 127.0.0.x)."""

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def corpus_file(sample: str, name: str) -> bytes:
    return (CORPUS / sample / name).read_bytes()


def styled(name: str, style: str):
    sample = copy.deepcopy(sample_named(name))
    sample.page_style = style
    return sample


# --- Hanweb 大汉 jpage ----------------------------------------------------------------------


class HanwebPortal(Portal):
    """/col/col1234/index.html?uid=5678: two records inline, the rest from dataproxy.jsp,
    which answers only when the form carries the fields the page gives. Detail pages at
    /art/…, attachments through /module/download/downfile.jsp with Content-Disposition."""

    SAMPLES = ["seed-000", "seed-002", "variant-000", "variant-001", "variant-003",
               "variant-004", "variant-005"]
    PER_PAGE, GROUP = 2, 1
    FORM = {"col": "1", "appid": "1", "webid": "3", "path": "/", "columnid": "1234",
            "sourceContentType": "1", "unitid": "5678", "webname": "示例市人民政府",
            "permissiontype": "0"}

    def build(self):
        self.records = []
        for number, name in enumerate(self.SAMPLES, start=1):
            sample = styled(name, "hanweb")
            date = sample.metadata.get("发布时间", "2022-01-20")
            y, m, d = (int(x) for x in date.split("-"))
            path = f"/art/{y}/{m}/{d}/art_1234_{100 + number}.html"
            kind = "pdf" if number % 2 else "docx"
            file_name = f"{sample.title}.{kind}"
            download = f"/module/download/downfile.jsp?classid=0&fileid={number}"
            body = page_html(sample, [(download, file_name)])
            self.add(path, body)
            disposition = (f"attachment; filename*=UTF-8''{quote(file_name)}" if number % 2 else
                           'attachment; filename="' + file_name + '"')
            self.add(download, corpus_file(name, f"report.{kind}"), PDF if kind == "pdf" else DOCX,
                     headers={"Content-Disposition": disposition.encode("gbk").decode("latin-1")})
            self.records.append(f'<li><a href="{path}" target="_blank" title="{html.escape(sample.title)}">'
                                f'{html.escape(sample.title)}</a><b readlabel="{date}">{date}</b></li>')
            self.reports.append({"name": name, "path": path, "attachments": [download],
                                 "file_name": file_name})
        inline = "".join(f"<record><![CDATA[{r}]]></record>" for r in self.records[:self.PER_PAGE])
        nextgroup = ("/module/web/jpage/dataproxy.jsp?page=1&webid=3&path=/&columnid=1234&unitid=5678"
                     f"&webname={quote('示例市人民政府')}&permissiontype=0")
        self.add("/col/col1234/index.html", f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>政府信息公开年报 示例市人民政府</title></head><body>
<div class="bt-position">首页 &gt; 政府信息公开年报</div>
<div id="5678"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup>
<recordset>{inline}</recordset></datastore></script></div>
<script type="text/javascript">
$(document).ready(function(){{ $('#5678').jpage({{ dataStore: dataStore, perPage: {self.PER_PAGE},
  groupSize: {self.GROUP}, totalRecord: {len(self.records)}, proxyUrl: '/module/web/jpage/dataproxy.jsp',
  barPosition: 'bottom', ajaxParam: {{ }} }}); }});
</script></body></html>""")
        return self

    def dynamic(self, method, path, query, form):
        if path != "/module/web/jpage/dataproxy.jsp":
            return None
        if method != "POST" or any(form.get(k) != v for k, v in self.FORM.items()):
            return Answer(b"<datastore><totalrecord>0</totalrecord></datastore>", "text/xml", status=400)
        start, end = int(query["startrecord"]), int(query["endrecord"])
        chosen = self.records[start - 1:end]
        records = "".join(f"<record><![CDATA[{r}]]></record>" for r in chosen)
        return Answer(f"<?xml version='1.0' encoding='UTF-8'?><datastore><totalrecord>"
                      f"{len(self.records)}</totalrecord><totalpage>{len(self.records) // self.PER_PAGE + 1}"
                      f"</totalpage><recordset>{records}</recordset></datastore>".encode(), "text/xml")


# --- Guangdong gkmlpt ----------------------------------------------------------------------


class GkmlptPortal(Portal):
    """/gkmlpt/annualreport: SID and the category TREE in window._CONFIG; the list as JSON
    from /gkmlpt/api/all/7?page=N&sid=…; detail pages whose content is in _CONFIG.DETAIL;
    attachments named only by the API."""

    SAMPLES = ["seed-003", "variant-002", "variant-004"]
    SID = "a1b2c3"

    def build(self):
        self.articles = []
        for number, name in enumerate(self.SAMPLES, start=1):
            sample = sample_named(name)
            date = sample.metadata.get("发布时间", "2022-01-20")
            path = f"/gkmlpt/content/0/{number}/post_{3000 + number}.html"
            body = page_html(copy.deepcopy(sample), shell=False).decode("gbk")
            content = body[body.index('<div class="TRS_Editor">') + 24:body.index('<div class="fujian">')]
            content = content.rsplit("</div>", 1)[0]
            detail = {"id": 3000 + number, "title": sample.title, "identifier": sample.metadata.get("索引号"),
                      "publisher": sample.metadata.get("发布机构"), "date": date, "content": content}
            self.add(path, "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + html.escape(sample.title)
                     + "</title></head><body><div id='app'></div><script>window._CONFIG = {SID: '"
                     + self.SID + "', DETAIL: " + json.dumps(detail, ensure_ascii=False)
                     + "};</script></body></html>")
            attachment = f"/gkmlpt/file/{number}.pdf"
            self.add(attachment, corpus_file(name, "report.pdf"), PDF)
            self.articles.append({
                "id": 3000 + number, "title": sample.title, "identifier": sample.metadata.get("索引号"),
                "publisher": sample.metadata.get("发布机构"), "document_number": "",
                "display_publish_time": 1700000000 + number * 86400, "date": date,
                "url": "{base}" + path, "attachment": [{"name": sample.title + ".pdf", "url": attachment}]})
            self.reports.append({"name": name, "path": path, "attachments": [attachment]})
        self.add("/gkmlpt/annualreport", """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>政府信息公开年报</title></head><body><div id="app"></div><script>
window._CONFIG = {SID: '""" + self.SID + """', SERVICE_AREA_ID: 1,
  TREE: [{id: 2, name: '政策文件', children: []}, {id: 7, name: '政府信息公开年报', children: []}]};
</script><script src="/gkmlpt/static/app.js"></script></body></html>""")
        return self

    def dynamic(self, method, path, query, form):
        if path != "/gkmlpt/api/all/7":
            return None
        if query.get("sid") != self.SID:
            return Answer(b'{"error": "sid"}', "application/json", status=403)
        page = int(query.get("page", 1))
        chosen = self.articles[(page - 1) * 2:page * 2]
        articles = [{**a, "url": a["url"].format(base=self.base)} for a in chosen]
        return Answer(json.dumps({"classify": {"id": 7, "name": "年报", "post_count": len(self.articles)},
                                  "articles": articles}, ensure_ascii=False).encode(), "application/json")


# --- a JSON list endpoint with pageNo/pageSize -------------------------------------------


class JsonListPortal(Portal):
    """/xxgk/nb/index.html draws its list from /api/xxgk/list?channelId=nb&pageNo=N&pageSize=2.
    Its pages are GBK but the server says UTF-8 (declared wrongly)."""

    SAMPLES = ["seed-001", "variant-000", "variant-003"]

    def build(self):
        self.items = []
        for number, name in enumerate(self.SAMPLES, start=1):
            sample = styled(name, "trs")
            path = f"/xxgk/nb/2022/c{500 + number}.html"
            # GBK bytes under a header that says UTF-8
            self.add(path, page_html(sample, [(f"/files/{number}.doc", "附件：年报.doc")]),
                     "text/html; charset=utf-8")
            self.add(f"/files/{number}.doc", corpus_file(name, "report.doc"), DOC)
            self.items.append({"title": sample.title, "url": path,
                               "publishDate": sample.metadata.get("发布时间", "") + " 09:00:00",
                               "indexNo": sample.metadata.get("索引号"), "source": sample.metadata.get("发布机构")})
            self.reports.append({"name": name, "path": path, "attachments": [f"/files/{number}.doc"]})
        self.add("/xxgk/nb/index.html", """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>年度报告</title></head><body><ul id="list"></ul><div id="pager"></div>
<script>
function load(n) {
  $.getJSON('/api/xxgk/list', {channelId: 'nb', pageNo: n, pageSize: 2}, function (data) { render(data); });
}
load(1);
</script></body></html>""")
        return self

    def dynamic(self, method, path, query, form):
        if path != "/api/xxgk/list":
            return None
        page, size = int(query.get("pageNo", 1)), int(query.get("pageSize", 10))
        chosen = self.items[(page - 1) * size:page * size]
        return Answer(json.dumps({"code": 0, "data": {"total": len(self.items), "pageNo": page,
                                                      "list": chosen}}, ensure_ascii=False).encode(),
                      "application/json; charset=utf-8")


# --- plain pagination, home page, attachments of every kind, traps ---------------------------


class PlainPortal(Portal):
    """A home page leading to 政府信息公开 and on to the 年报 column; the column paged by
    "下一页" links (list.html, list_2.html) with GB18030 pages declared only in the
    header; detail pages with a dl/dt/dd metadata block and attachments linked every way:
    relative, protocol-relative, by link text to a download script (GBK file name), and
    one on another site (not followed). One report page answers 412 with a script
    challenge, one is a soft 404."""

    SAMPLES = ["seed-004", "variant-001", "variant-005", "seed-002"]

    def build(self):
        links = []
        self.pages: list[tuple[str, str]] = []  # written once the port (for // links) is known
        for number, name in enumerate(self.SAMPLES, start=1):
            sample = sample_named(name)
            path = f"/zwgk/nb/{number}/index.html"
            md = sample.metadata
            meta = "".join(f"<dt>{label}：</dt><dd>{html.escape(md.get(key, ''))}</dd>"
                           for label, key in (("索引号", "索引号"), ("发文机关", "发布机构"),
                                              ("成文日期", None), ("发布日期", "发布时间"),
                                              ("名称", "标题")) if key is None or key in md)
            meta = meta.replace("<dd></dd>", f"<dd>{int(sample.year) + 1}-01-01</dd>", 1) if "成文日期" in meta else meta
            attachments = [("../../../files/%d.pdf" % number, "年报全文.pdf"),
                           ("//{host}/files/%d.docx" % number, "【下载Word】"),
                           ("/getfile?id=%d" % number, "【下载PDF】"),
                           ("http://files.elsewhere.test/%d.pdf" % number, "镜像下载.pdf")]
            body = (f"<html><head><title>{html.escape(sample.title)}</title></head><body>"
                    f"<h1>{html.escape(sample.title)}</h1><dl class='xxgk'>{meta}</dl>"
                    f"<div id='zoom'><p>{html.escape(sample.intro[0] if sample.intro else '')}</p>"
                    f"<p>现将{html.escape(sample.title)}全文公布如下（见附件）。</p></div>"
                    + "".join(f"<p><a href='{href}'>{text}</a></p>" for href, text in attachments)
                    + "</body></html>")
            self.pages.append((path, body))
            self.add(f"/files/{number}.pdf", corpus_file(name, "report.pdf"), PDF)
            self.add(f"/files/{number}.docx", corpus_file(name, "report.docx"), DOCX)
            self.add(f"/getfile?id={number}", corpus_file(name, "report.pdf"), "application/octet-stream",
                     headers={"Content-Disposition": ('attachment; filename="%s.pdf"' % sample.title)
                              .encode("gbk").decode("latin-1")})
            links.append((path, sample.title, md.get("发布时间", "")))
            self.reports.append({"name": name, "path": path,
                                 "attachments": [f"/files/{number}.pdf", f"/files/{number}.docx",
                                                 f"/getfile?id={number}"]})
        links.append(("/zwgk/nb/blocked.html", "某街道2021年政府信息公开工作年度报告", "2022-01-30"))
        links.append(("/zwgk/nb/gone.html", "某镇2020年政府信息公开工作年度报告", "2021-01-30"))
        self.add("/zwgk/nb/blocked.html", b"<html><head><script>var $_ts=window['$_ts'];"
                 b"</script><script src='/x.js'></script></head><body></body></html>", status=412)
        self.add("/zwgk/nb/gone.html", "<html><body><div class='err'>对不起，您访问的页面不存在或已删除！"
                 "</div><a href='/'>返回首页</a></body></html>".encode("gb18030"), "text/html; charset=gb18030")
        pages = [links[i:i + 2] for i in range(0, len(links), 2)]
        for index, chunk in enumerate(pages):
            name = "list.html" if index == 0 else f"list_{index + 1}.html"
            items = "".join(f"<li><a href='{p}'>{html.escape(t)}</a><span>{d}</span></li>" for p, t, d in chunk)
            pager = "".join(f"<a href='{'list.html' if i == 0 else f'list_{i + 1}.html'}'>{i + 1}</a> "
                            for i in range(len(pages)) if i != index)
            if index + 1 < len(pages):
                pager += f"<a href='list_{index + 2}.html'>下一页</a> <a href='list_{len(pages)}.html'>尾页</a>"
            self.add(f"/zwgk/nb/{name}", f"<html><head><title>年报</title></head><body><ul class='list'>{items}"
                     f"</ul><div class='pager'>{pager}</div></body></html>".encode("gb18030"),
                     "text/html; charset=gb18030")
        self.add("/index.html", "<html><body><a href='/zwgk/index.html'>政府信息公开</a>"
                 "<a href='/news/index.html'>新闻动态</a></body></html>")
        self.add("/zwgk/index.html", "<html><body><ul><li><a href='/zwgk/zn.html'>政府信息公开指南</a></li>"
                 "<li><a href='/zwgk/nb/list.html'>政府信息公开年报</a></li></ul></body></html>")
        return self

    def serve(self):
        server = super().serve()
        host = self.base.split("//", 1)[1]
        for path, body in self.pages:
            self.add(path, body.replace("{host}", host).encode("gb18030"), "text/html; charset=gb18030")
        return server


# --- a list only a browser draws -----------------------------------------------------------


# draws page `page` of `data` ({t: title, u: url, d: date}, `size` a page) into #list, and
# hides 下一页 on the last page: the lists only a browser sees
DRAW_LIST_JS = """function drawList(data, page, size) {
  var list = document.getElementById('list');
  list.innerHTML = '';
  data.slice(page * size, page * size + size).forEach(function (item) {
    var li = document.createElement('li');
    li.innerHTML = '<a href="' + item.u + '">' + item.t + '</a><span>' + item.d + '</span>';
    list.appendChild(li);
  });
  document.getElementById('next').style.display = (page + 1) * size < data.length ? '' : 'none';
}"""


class BrowserPortal(Portal):
    """/nb/index.html: the list is drawn by script from data in the page, three to a
    page, with a 下一页 button that has no URL."""

    SAMPLES = ["seed-000", "seed-003", "variant-002", "variant-004"]

    def build(self):
        items = []
        for number, name in enumerate(self.SAMPLES, start=1):
            sample = sample_named(name)
            path = f"/nb/detail/{number}.html"
            self.add(path, page_html(styled(name, "trs"), [(f"/nb/files/{number}.pdf", "附件.pdf")]))
            self.add(f"/nb/files/{number}.pdf", corpus_file(name, "report.pdf"), PDF)
            items.append({"t": sample.title, "u": path, "d": sample.metadata.get("发布时间", "")})
            self.reports.append({"name": name, "path": path, "attachments": [f"/nb/files/{number}.pdf"]})
        self.add("/nb/index.html", """<!DOCTYPE html><html><head><meta charset="utf-8"><title>年报</title></head>
<body><ul id="list"></ul><div id="pager"><span id="next" class="btn">下一页</span></div>
<script>
var data = """ + json.dumps(items, ensure_ascii=False) + """;
var page = 0, size = 3;
""" + DRAW_LIST_JS + """
function render() { drawList(data, page, size); }
document.getElementById('next').addEventListener('click', function () { page += 1; render(); });
render();
</script></body></html>""")
        return self


def serve(portal_class):
    portal = portal_class().build()
    server = portal.serve()
    return portal, server


# --- a county's 年报 column, for the reliability tests ---------------------------------------


class ArchivePortal(Portal):
    """A 年报 column of `count` reports, five to a listing page with 下一页 links. Every
    other report prints its tables on its page; the rest are shell pages whose figures
    are in an attached PDF. `listed` reports are on the listing (it can grow between
    crawls), and any answer can be replaced while it serves (outages, redirects)."""

    SAMPLES = ["seed-000", "seed-001", "variant-000", "variant-003", "variant-005", "seed-002"]
    PER_PAGE = 5
    validators = True

    def __init__(self, count: int = 12):
        super().__init__()
        self.count = self.listed = count

    def build(self):
        for number in range(1, self.count + 1):
            name = self.SAMPLES[(number - 1) % len(self.SAMPLES)]
            sample = styled(name, "trs")
            path = f"/xxgk/nb/{number}/t2022_{number}.html"
            attachments = []
            if number % 2 == 0:
                attachments = [f"/xxgk/nb/{number}/P0{number}.pdf"]
                self.add(attachments[0], corpus_file(name, "report.pdf"), PDF)
            self.add(path, page_html(sample, [(a, f"{sample.title}.pdf") for a in attachments],
                                     shell=bool(attachments)))
            self.reports.append({"name": name, "path": path, "title": sample.title,
                                 "attachments": attachments})
        return self

    def dynamic(self, method, path, query, form):
        if not path.startswith("/xxgk/nb/index"):
            return None
        stem = path.rsplit("/", 1)[1].removesuffix(".html")
        page = int(stem.split("_")[1]) if "_" in stem else 0
        chosen = self.reports[:self.listed][page * self.PER_PAGE:(page + 1) * self.PER_PAGE]
        items = "".join(f"<li><a href='{r['path']}'>{html.escape(r['title'])}</a>"
                        f"<span>2022-01-{10 + i:02d}</span></li>" for i, r in enumerate(chosen))
        more = (page + 1) * self.PER_PAGE < self.listed
        pager = f"<a href='index_{page + 1}.html'>下一页</a>" if more else ""
        return Answer(f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head>"
                      f"<body><ul class='list'>{items}</ul><div class='pager'>{pager}</div>"
                      "</body></html>".encode())

    @property
    def listing(self) -> str:
        return self.base + "/xxgk/nb/index.html"

    def url(self, path: str) -> str:
        return self.base + path

    def fetches(self, path: str) -> int:
        return sum(1 for _, requested, _ in self.requests if requested == path)


class HostilePortal(Portal):
    """What a hostile or broken portal does: report pages and attachments that redirect
    off the site (to another host, and to this server under the name `localhost`), one
    that moves within the site, a figure no report can hold, and a second listing of
    100,000 report links."""

    def build(self):
        sample = styled("seed-000", "trs")
        self.page = page_html(sample)
        huge = copy.deepcopy(sample)
        huge.tables["applications"]["一"]["自然人"] = 99999999999999999999
        self.add("/nb/new-place.html", self.page)
        self.add("/nb/huge.html", page_html(huge))
        self.add("/nb/file-away.html", page_html(sample, [("/nb/files/1.pdf", "年报.pdf")], shell=True))
        for path, target in (("/nb/moved.html", "/nb/new-place.html"),
                             ("/nb/away.html", "http://evil.invalid/nb/away.html"),
                             ("/nb/files/1.pdf", "http://evil.invalid/files/1.pdf")):
            self.add(path, b"", status=302, headers={"Location": target})
        links = ["/nb/moved.html", "/nb/away.html", "/nb/alias.html", "/nb/file-away.html",
                 "/nb/huge.html"]
        self.add("/nb/index.html", "<html><body><ul>" + "".join(
            f"<li><a href='{link}'>某区2022年政府信息公开工作年度报告</a></li>" for link in links)
            + "</ul></body></html>")
        self.add("/big/index.html", "<html><body><ul>" + "".join(
            f"<li><a href='/big/{i}.html'>某镇{2000 + i % 25}年政府信息公开工作年度报告</a></li>"
            for i in range(100_000)) + "</ul></body></html>")
        return self

    def dynamic(self, method, path, query, form):
        if path == "/nb/alias.html":  # the same server under another name
            port = self.base.rsplit(":", 1)[1]
            return Answer(b"", status=302, headers={"Location": f"http://localhost:{port}/nb/new-place.html"})
        return None


# --- a nation of small portals, each on a loopback address of its own ------------------------


class TinyPortal(Portal):
    """A county's 年报 column of `count` reports on one listing page, each report a page
    with its tables (the four pages shared by every portal of a nation)."""

    SAMPLES = ["seed-000", "seed-001", "variant-000", "variant-003"]

    def __init__(self, pages: list[bytes], number: int):
        super().__init__()
        self.number = number
        for index, body in enumerate(pages, start=1):
            path = f"/xxgk/nb/t2022_{index}.html"
            self.add(path, body)
            self.reports.append({"path": path})
        self.add("/xxgk/nb/index.html", "<html><head><meta charset='utf-8'><title>政府信息公开年报"
                 "</title></head><body><ul class='list'>" + "".join(
                     f"<li><a href='{r['path']}'>第{number}县{2019 + i}年政府信息公开工作年度报告</a>"
                     f"<span>2022-01-{10 + i:02d}</span></li>" for i, r in enumerate(self.reports))
                 + "</ul></body></html>")

    @property
    def listing(self) -> str:
        return self.base + "/xxgk/nb/index.html"


class Nation:
    """`count` portals on 127.0.0.2, 127.0.0.3, … (each its own host, so that the crawl's
    per-host politeness applies to each), and the registry that lists them."""

    def __init__(self, count: int = 200, reports: int = 4):
        pages = [page_html(styled(name, "trs")) for name in TinyPortal.SAMPLES[:reports]]
        self.portals = [TinyPortal(pages, n) for n in range(1, count + 1)]
        self.servers = []

    def serve(self) -> "Nation":
        for portal in self.portals:
            number = portal.number + 1  # 127.0.0.2 …
            self.servers.append(portal.serve(f"127.0.{number // 250}.{number % 250 + 1}"))
        return self

    def shutdown(self) -> None:
        # all at once: each server takes up to half a second to notice
        stopping = [threading.Thread(target=server.shutdown) for server in self.servers]
        for thread in stopping:
            thread.start()
        for thread, server in zip(stopping, self.servers):
            thread.join()
            server.server_close()

    def write_registry(self, path) -> None:
        import yaml

        path.write_text(yaml.safe_dump({"sources": [
            {"id": f"county-{p.number}", "name": f"第{p.number}县人民政府", "level": "县",
             "region": {"province": "示例省", "city": "示例市", "county": f"第{p.number}县"},
             "listing": p.listing} for p in self.portals]}, allow_unicode=True), encoding="utf-8")

    def politeness(self, delay: float) -> dict:
        """From the access logs: portals visited, the most requests one host was answering
        at once, the shortest gap between two requests to one host (from one's start to
        the next's), and the politeness floor: the busiest host's requests one `delay`
        apart."""
        overlapping, gaps, busiest = 0, [], 0
        for portal in self.portals:
            times = sorted(portal.timings)
            busiest = max(busiest, len(times))
            for index, (began, ended, _) in enumerate(times):
                overlapping = max(overlapping, 1 + sum(1 for later, _, _ in times[index + 1:]
                                                       if later < ended))
            gaps += [b - a for (a, _, _), (b, _, _) in zip(times, times[1:])]
        return {"visited": sum(1 for p in self.portals if p.timings),
                "requests": sum(len(p.timings) for p in self.portals),
                "most_at_once": overlapping, "shortest_gap": min(gaps, default=None),
                "floor": (busiest - 1) * delay}


class ShortListingPortal(Portal):
    """A 福建 集约化-style column (平潭): the first ten reports in the HTML, and a script that
    announces twenty (`listModel({… pagebar: {prepage: 10, recordCount: '20'} …})`) and draws
    the next ten when "下一页" (a control with no URL) is clicked."""

    SAMPLES = ["seed-000", "seed-001", "variant-000", "variant-003"]
    TOTAL, PER_PAGE = 20, 10

    def build(self):
        pages = [page_html(styled(name, "trs")) for name in self.SAMPLES]
        items = []
        for number in range(1, self.TOTAL + 1):
            path = f"/zfxxgk/zfxxgknb/202{number % 4}/t2023{number:04d}_{number}.htm"
            self.add(path, pages[number % len(pages)])
            items.append({"t": f"平潭综合实验区{number}号机关2022年政府信息公开工作年度报告", "u": path,
                          "d": f"2023-01-{number:02d}"})
            self.reports.append({"path": path})
        static = "".join(f"<li><a href='{i['u']}' title='{i['t']}'>{i['t']}</a><span>{i['d']}</span></li>"
                         for i in items[:self.PER_PAGE])
        self.add("/zfxxgk/zfxxgknb/index.htm", """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>政府信息公开年报</title></head><body><ul id="list">""" + static + """</ul>
<div id="pager"><span id="next" class="btn">下一页</span></div>
<script>
var data = """ + json.dumps(items, ensure_ascii=False) + """;
function listModel(options) {
  var page = 0, size = options.pagebar.prepage;
  document.getElementById('next').addEventListener('click', function () {
    page += 1;
    drawList(data, page, size);
  });
}
""" + DRAW_LIST_JS + """
listModel({quickMode: "动静结合", maxStaticIndex: 1,
           pagebar: {prepage: 10, recordCount: '20', pgCountMode: "recordCount"}});
</script></body></html>""")
        return self

    @property
    def listing(self) -> str:
        return self.base + "/zfxxgk/zfxxgknb/index.htm"


class PicturedPortal(Portal):
    """A town's 年报 column whose pages paste the report's tables as screenshots (the
    corpus's images-* pages): one picture per table, one tall picture; a page that prints
    its tables as HTML and also shows a chart picture; the site's logo in every header."""

    PAGES = [("seed-004", "images-tables"), ("variant-004", "images-tall"), ("seed-000", None)]

    def build(self):
        logo = (CORPUS / "seed-004" / "images-tall" / "1.png").read_bytes()
        self.add("/images/logo.png", logo, "image/png")
        for number, (name, layout) in enumerate(self.PAGES, start=1):
            folder = f"/xxgk/nb/{number}"
            if layout:
                page = (CORPUS / name / layout / "page.html").read_bytes()
                pictures = sorted((CORPUS / name / layout).glob("*.png"), key=lambda p: int(p.stem))
                for picture in pictures:
                    self.add(f"{folder}/{picture.name}", picture.read_bytes(), "image/png")
            else:
                page = corpus_file(name, "page.html")
                pictures = []
                self.add(f"{folder}/chart.png", logo, "image/png")
                page = page.replace(b"</table>", b"</table><p><img src='chart.png' /></p>", 1)
            page = page.replace(b"<body>", b"<body><div class='header'><img src='/images/logo.png' /></div>", 1)
            path = f"{folder}/t2022_{number}.html"
            self.add(path, page)
            self.reports.append({"name": name, "path": path, "pictures": len(pictures)})
        self.add("/xxgk/nb/index.html", "<html><head><meta charset='utf-8'><title>政府信息公开年报"
                 "</title></head><body><ul class='list'>" + "".join(
                     f"<li><a href='{r['path']}'>{sample_named(r['name']).title}</a>"
                     f"<span>2022-01-{10 + i:02d}</span></li>" for i, r in enumerate(self.reports))
                 + "</ul></body></html>")
        return self

    @property
    def listing(self) -> str:
        return self.base + "/xxgk/nb/index.html"

    def fetched(self, path: str) -> bool:
        return any(requested == path for _, requested, _ in self.requests)
