"""Record the family fixture folders that `tests/test_family_readers.py` replays:

    python -m tests.record_families

Each case is one answer a family reader reads — a listing page, or the answer to one of
the family's own requests (a dataproxy window, a JSON page) — as recorded bytes from the
fixture portals (`tests/portals.py`, served on 127.0.0.1), with what the reader made of
it when recorded: `tests/fixtures/families/<family>/<case>/{case.json, body.*,
expected.json}`. Look the expected outputs over before committing them: they are the
readers' contract from then on.
"""

from __future__ import annotations

import json
import shutil
import urllib.request

from scrapy import Request

from crawler.families import FAMILIES
from nianbao.demo import LISTING_PATH, PORTAL_DIR
from nianbao.demo.server import serve_portal

from . import portals
from .conftest import FIXTURES
from .test_family_readers import describe, response_of

FOLDER = FIXTURES / "families"
_SUFFIX = {"text/html": "html", "application/json": "json", "text/xml": "xml"}


def fetch(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, dict(answer.headers), answer.read()


def record(family: str, case: str, url: str, call: str = "start", method: str = "GET",
           body: bytes | None = None, headers: dict | None = None, meta: dict | None = None) -> list:
    """Fetch one answer, store it, run the reader on it and store what it made."""
    status, answer_headers, content = fetch(url, method, body, headers)
    content_type = answer_headers.get("Content-Type", "text/html")
    folder = FOLDER / family / case
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    name = "body." + _SUFFIX.get(content_type.split(";")[0].strip(), "bin")
    (folder / name).write_bytes(content)
    spec = {"family": family, "call": call, "url": url, "status": status, "body": name,
            "headers": {"Content-Type": content_type}, "meta": meta or {}}
    (folder / "case.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    outputs = list(getattr(FAMILIES[family], call)(*response_of(spec, content)))
    (folder / "expected.json").write_text(
        json.dumps([describe(o) for o in outputs], ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return outputs


def own_request(outputs) -> Request:
    return next(o for o in outputs if isinstance(o, Request))


def main() -> None:
    server, base = serve_portal(PORTAL_DIR)
    record("trs", "createpagehtml-listing", base + LISTING_PATH)
    server.shutdown()

    portal, server = portals.serve(portals.HanwebPortal)
    column = portal.base + "/col/col1234/index.html?uid=5678&pageNum=1"
    window = own_request(record("hanweb", "column-with-inline-records", column))
    record("hanweb", "dataproxy-window", window.url, "follow", window.method, window.body,
           {k.decode(): v[0].decode() for k, v in window.headers.items()}, window.meta)
    server.shutdown()

    portal, server = portals.serve(portals.GkmlptPortal)
    page = own_request(record("gkmlpt", "config-tree-listing", portal.base + "/gkmlpt/annualreport"))
    record("gkmlpt", "api-page-1", page.url, "follow", meta=page.meta)
    server.shutdown()

    portal, server = portals.serve(portals.JsonListPortal)
    page = own_request(record("json", "endpoint-in-script", portal.base + "/xxgk/nb/index.html"))
    record("json", "api-page-1", page.url, "follow", meta=page.meta)
    server.shutdown()

    portal, server = portals.serve(portals.PlainPortal)
    record("plain", "next-page-links", portal.base + "/zwgk/nb/list.html")
    server.shutdown()


if __name__ == "__main__":
    main()
