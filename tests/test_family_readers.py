"""Each CMS family's reader on recorded answers: `tests/fixtures/families/<family>/<case>/`
holds an answer as the portal sent it (`body.*`, with its URL, status, headers and the
request's meta in `case.json`) and what the reader must make of it (`expected.json`:
report links with their hints and files, further pages, the family's own requests).
The readers are pure functions of a response, so no portal is served; the folders are
recorded by `python -m tests.record_families`."""

from __future__ import annotations

import json

import pytest
from scrapy import Request
from scrapy.responsetypes import responsetypes

from crawler.families import FAMILIES, ReportLink
from crawler.pages import decoded, page_text

from .conftest import FIXTURES

CASES = sorted((FIXTURES / "families").glob("*/*/case.json"))


def response_of(spec: dict, body: bytes):
    """(response, text) as the crawl hands them to a family: typed by its headers and
    decoded by its bytes, as AnswerMiddleware does."""
    request = Request(spec["url"], meta=dict(spec.get("meta") or {}))
    cls = responsetypes.from_args(headers=spec["headers"], url=spec["url"], body=body)
    response = decoded(cls(url=spec["url"], status=spec["status"], headers=spec["headers"],
                           body=body, request=request))
    return response, page_text(response)


def describe(output) -> dict:
    """A reader's output as JSON: a report link, a further page, or a request of its own."""
    if isinstance(output, ReportLink):
        return {"report": output.url, "hints": output.hints, "files": output.files}
    if isinstance(output, str):
        return {"page": output}
    return {"request": output.url, "method": output.method,
            "body": output.body.decode("utf-8"), "meta": output.meta}


def test_every_family_has_recorded_cases():
    assert {case.parent.parent.name for case in CASES} >= set(FAMILIES) - {"browser"}


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.parent.parent.name}/{case.parent.name}")
def test_a_family_reads_its_recorded_answer(case):
    spec = json.loads(case.read_text(encoding="utf-8"))
    body = (case.parent / spec["body"]).read_bytes()
    outputs = getattr(FAMILIES[spec["family"]], spec["call"])(*response_of(spec, body))
    expected = json.loads((case.parent / "expected.json").read_text(encoding="utf-8"))
    assert [describe(output) for output in outputs] == expected
