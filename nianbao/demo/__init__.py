"""The bundled demo portal: a TRS-style static site carrying the sample reports, shipped
built in `portal/` (made by `python -m tools.demo_portal` from the test corpus) and served
on 127.0.0.1. The crawler walks it as it would walk any portal: it does not know it is
the demo."""

from __future__ import annotations

import json
from pathlib import Path

PORTAL_DIR = Path(__file__).with_name("portal")
# what the portal holds (reports, their files and metadata), for the tests
MANIFEST = "manifest.json"
PORTAL_NAME = "示例区人民政府"
# where the demo portal's body sits (its registry entry's region)
PORTAL_REGION = {"province": "示例省", "city": "示例市", "county": "示例区"}
LISTING_PATH = "/xxgk/zfxxgknb/index.html"


def manifest() -> dict:
    return json.loads((PORTAL_DIR / MANIFEST).read_text(encoding="utf-8"))
