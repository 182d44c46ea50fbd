"""Bodies: the government bodies that publish reports, one row each, so that a journalist
finds a body's history in one place and compares bodies.

A body is known by its region and its core name. The core name is the name it prints as
publisher, white space removed, with the names of its own region at the front taken off
(秦州区天水郡街道 in 秦州区 is 天水郡街道) and 街道办事处 read as 街道 (the office of the
街道 is the body). Nothing else is merged: two names that differ otherwise stay two bodies,
and without a region a body is its whole printed name. Conservative on purpose: a wrong
merge would put one body's figures under another's name.
"""

from __future__ import annotations

import re

from .figures import HEADLINE

# the headline figures a body's row shows for its latest year
LATEST = ("新收申请", "办理总计", "行政复议", "行政诉讼")
COLUMNS = {"编号": str, "名称": str, "印过的名称": str, "省": str, "市": str, "县": str,
           "区划代码": str, "有年报的年度": str, "缺少的年度": str, "年报数": int,
           "最新年度": int, **{name: int for name in LATEST}}
assert set(LATEST) <= set(HEADLINE)

_SPACE = re.compile(r"[\s\u3000\xa0]+")


def core_name(name: str, region: tuple[str | None, ...]) -> str:
    """The printed name without white space, its own region's names in front, and 办事处
    after 街道."""
    name = _SPACE.sub("", name)
    changed = True
    while changed:
        changed = False
        for place in region:
            if place and name.startswith(place) and len(name) > len(place) + 1:
                name, changed = name[len(place):], True
    return re.sub(r"街道办事处$", "街道", name)


def body_key(publisher: str | None, province: str | None = None, city: str | None = None,
             county: str | None = None, region_code: str | None = None) -> str | None:
    """The body a report belongs to: its region (code, else names) and core name."""
    if not publisher or not publisher.strip():
        return None
    region = region_code or "/".join(p for p in (province, city, county) if p)
    if not region:
        return _SPACE.sub("", publisher)
    return f"{region}/{core_name(publisher, (province, city, county))}"


def body_row(key: str, reports: list[dict]) -> dict | None:
    """A body's row from its reports, oldest first (each with its year and publisher, the
    latest also with its region and headline figures); None when it has none left."""
    if not reports:
        return None
    latest = reports[-1]
    years = sorted({r["year"] for r in reports if r["year"]})
    names: list[str] = []
    for report in reports:
        if report["publisher"] and report["publisher"] not in names:
            names.append(report["publisher"])
    missing = [year for year in range(years[0], years[-1] + 1) if year not in years] if years else []
    region = (latest["province"], latest["city"], latest["county"])
    return {"编号": key, "名称": core_name(latest["publisher"] or key, region),
            "印过的名称": "、".join(names), "省": latest["province"], "市": latest["city"],
            "县": latest["county"], "区划代码": latest["region_code"],
            "有年报的年度": "、".join(map(str, years)), "缺少的年度": "、".join(map(str, missing)),
            "年报数": len(reports), "最新年度": years[-1] if years else None,
            **{name: latest.get(name) for name in LATEST}}


# what a body's row is made of: of each report, these columns and the figures in LATEST
# (a report whose own are as they were leaves its body's row as it was)
REPORT_COLUMNS = ("body", "year", "published", "publisher", "province", "city", "county", "region_code")

# a body's reports, oldest first: what its row needs of each (the names it printed, its
# years) and of the latest, everything (its region and headline figures). The latest is
# the first in the reverse order, which puts NULLs last as the forward order puts them first
NAMES_AND_YEARS_OF_BODY = """select publisher, year from reports where body = ?
    order by year, published, url"""
LATEST_OF_BODY = f"""select r.*, {", ".join(f"f.[{name}]" for name in LATEST)}
    from (select url, year, publisher, province, city, county, region_code from reports
          where body = ? order by year desc, published desc, url desc limit 1) r
      left join figures f on f.[年报] = r.url"""


def refresh(db, keys) -> None:
    """Make the rows of these bodies again from their reports (in the caller's
    transaction): a body with no report left loses its row."""
    for key in {k for k in keys if k}:
        reports = [{"publisher": publisher, "year": year}
                   for publisher, year in db.execute(NAMES_AND_YEARS_OF_BODY, [key]).fetchall()]
        if reports:
            cursor = db.execute(LATEST_OF_BODY, [key])
            names = [d[0] for d in cursor.description]
            reports[-1] = dict(zip(names, cursor.fetchone()))
        row = body_row(key, reports)
        db.execute("delete from bodies where [编号] = ?", [key])
        if row:
            db.execute(f"insert into bodies ({', '.join(f'[{c}]' for c in row)}) "
                       f"values ({', '.join('?' * len(row))})", list(row.values()))


def backfill(db) -> None:
    """An archive made before bodies existed: every report's body, every body's row."""
    rows = db.execute("select url, publisher, province, city, county, region_code from reports "
                      "where body is null and publisher is not null").fetchall()
    if not rows:
        return
    db.conn.executemany("update reports set body = ? where url = ?",
                        [(body_key(*row[1:]), row[0]) for row in rows])
    refresh(db, [key for (key,) in db.execute("select distinct body from reports")])
