"""The sources registry: the portals a scheduled crawl walks, with the region each report
of theirs belongs to. Load it, check every entry, and refuse a bad one in one line.

Two files are read by default: `sources.yaml`, kept by hand, and `sources-imported.yaml`,
written by `scripts/import_registry.py` from a list of real 年报 columns (rerun it when
the list grows; do not edit the file by hand). An entry of the hand-kept file wins over an
imported one with the same id or start URL.

An entry that is not valid (a URL template such as `…/{Y}/`, a host outside gov.cn, the
same portal twice, a missing region) is refused with one line naming the file, the entry
and why; the others are crawled. A file that cannot be read at all is an error.

It sits below the crawler: the archive and the command read it too. Which CMS families
exist is the crawler's knowledge (`crawler.families`): the crawler passes their names in
to check an entry's `family` pin."""

from __future__ import annotations

import datetime
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

REGISTRY_PATH = Path(__file__).with_name("sources.yaml")
IMPORTED_PATH = Path(__file__).with_name("sources-imported.yaml")
DEFAULT_PATHS = (REGISTRY_PATH, IMPORTED_PATH)

_KEYS = {"id", "name", "region", "level", "listing", "home", "family", "browser", "verified",
         "file_hosts", "note", "origin"}
_REGION_KEYS = ("province", "city", "county", "code")
LEVELS = ("省", "市", "县", "部门", "乡镇街道")
_TEMPLATE = re.compile(r"[{}]|\$\{|<[A-Za-z]+>")


class RegistryError(ValueError):
    """A registry file that cannot be read; the message names the file."""


@dataclass
class Source:
    name: str
    province: str
    city: str = ""
    county: str = ""
    code: str = ""                  # GB/T 2260: the 县, 市 or 省 the body belongs to
    listing: str | None = None
    home: str | None = None
    family: str = "auto"
    browser: bool = False
    verified: bool = False
    verified_on: str | None = None  # the date someone (or `sources check`) saw it answer
    file_hosts: list[str] = field(default_factory=list)
    note: str = ""
    level: str = ""
    origin: str = ""
    id: str = ""

    def __post_init__(self):
        if not self.id:
            self.id = default_id(self.start_url)

    @property
    def start_url(self) -> str:
        return self.listing or self.home

    def as_item_source(self) -> dict:
        """What each report from this source carries into the archive."""
        return {"id": self.id, "name": self.name, "province": self.province,
                "city": self.city or None, "county": self.county or None,
                "region_code": self.code or None}


@dataclass
class Registry:
    sources: list[Source]
    refused: list[str]   # one line per entry left out: file, entry, why
    paths: list[Path]


def default_id(url: str | None) -> str:
    """An entry's id when it gives none: its start URL's host and path (renaming the body
    keeps it; moving the column to a new URL makes a new source unless `id` is kept)."""
    parsed = urlparse(url or "")
    path = parsed.path.rstrip("/")
    for index in ("/index.html", "/index.htm", "/index.shtml", "/list.shtml"):
        if path.endswith(index):
            path = path[: -len(index)]
    # the fragment too: gkmlpt's annual reports of two bodies differ only there (#2629)
    return (parsed.netloc.lower() + path + (f"?{parsed.query}" if parsed.query else "")
            + (f"#{parsed.fragment}" if parsed.fragment else "")) or "?"


def is_government_host(host: str) -> bool:
    """gov.cn and its subdomains (政府网站 must use them), or an IP address (portals served
    by address, and the local test portals)."""
    host = (host or "").lower().split(":")[0].strip("[]")
    if host == "gov.cn" or host.endswith(".gov.cn") or host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


class _Refused(ValueError):
    pass


def _url(value, key: str) -> str:
    text = str(value)
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise _Refused(f"{key!r} is not an http(s) URL: {value!r}")
    if _TEMPLATE.search(unquote(text)):
        raise _Refused(f"{key!r} is a URL template, not a page: {text}")
    if not is_government_host(parsed.hostname or ""):
        raise _Refused(f"{key!r} is not on a government host (gov.cn): {parsed.hostname}")
    return text


def _verified(value) -> tuple[bool, str | None]:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, datetime.date):
        return True, value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return True, value
    raise _Refused("'verified' must be true, false or the date it was seen (2026-11-24)")


def _source(entry, families) -> Source:
    if not isinstance(entry, dict):
        raise _Refused("expected a mapping of name, region, listing …")
    unknown = set(entry) - _KEYS
    if unknown:
        raise _Refused(f"unknown key(s) {', '.join(sorted(unknown))} "
                       f"(allowed: {', '.join(sorted(_KEYS))})")
    region = entry.get("region")
    if not isinstance(region, dict) or not region.get("province"):
        raise _Refused("'region' needs at least a province, as "
                       "{province: …, city: …, county: …, code: …}")
    if set(region) - set(_REGION_KEYS):
        raise _Refused(f"region keys are {', '.join(_REGION_KEYS)}")
    code = str(region.get("code") or "")
    if code and not re.fullmatch(r"\d{6}", code):
        raise _Refused(f"region code {code!r} is not six digits (GB/T 2260)")
    urls = {key: _url(entry[key], key) for key in ("listing", "home") if entry.get(key)}
    if not urls:
        raise _Refused("give 'listing' (the 年报 column) or 'home'")
    family = entry.get("family", "auto")
    if not isinstance(family, str) or (families is not None and family not in ("auto", *families)):
        known = ", ".join(("auto", *families)) if families is not None else "a family name"
        raise _Refused(f"family {family!r} is not one of {known}")
    if "browser" in entry and not isinstance(entry["browser"], bool):
        raise _Refused("'browser' must be true or false")
    verified, verified_on = _verified(entry.get("verified", False))
    level = str(entry.get("level") or "")
    if level and level not in LEVELS:
        raise _Refused(f"level {level!r} is not one of {', '.join(LEVELS)}")
    hosts = entry.get("file_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise _Refused("'file_hosts' must be a list of host names")
    return Source(name=entry["name"].strip(), province=str(region["province"]),
                  city=str(region.get("city") or ""), county=str(region.get("county") or ""),
                  code=code, listing=urls.get("listing"), home=urls.get("home"), family=family,
                  browser=entry.get("browser", False), verified=verified,
                  verified_on=verified_on, file_hosts=hosts, note=str(entry.get("note") or ""),
                  level=level, origin=str(entry.get("origin") or ""),
                  id=str(entry.get("id") or ""))


def read_entries(path: Path) -> list:
    """The raw entries of one registry file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RegistryError(f"{path}: cannot be read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise RegistryError(f"{path}: not valid YAML: {error}") from None
    if document is None:
        return []
    if not isinstance(document, dict) or not isinstance(document.get("sources"), list):
        raise RegistryError(f"{path}: expected a top-level 'sources:' list")
    return document["sources"]


def load_registry(paths=None, families=None) -> Registry:
    """Every valid entry of the registry files (default: the hand-kept file and the
    imported one, where it exists), and one line for each entry refused.

    `families`: the CMS family names an entry may pin (the crawler's), else any name."""
    paths = [Path(p) for p in (paths or [p for p in DEFAULT_PATHS
                                        if p == REGISTRY_PATH or p.exists()])]
    sources, refused = [], []
    seen: dict[tuple, str] = {}  # (id / name / start URL, its value) -> where first given
    for path in paths:
        for number, entry in enumerate(read_entries(path), start=1):
            name = entry.get("name") if isinstance(entry, dict) else None
            where = f"{path.name} entry {number}" + (f" ({name})" if name else "")
            try:
                if not isinstance(name, str) or not name.strip():
                    raise _Refused("'name' is required")
                source = _source(entry, families)
                keys = (("id", source.id), ("name", source.name),
                        ("start URL", default_id(source.start_url)))
                for key, value in keys:
                    if (key, value) in seen:
                        raise _Refused(f"the same {key} as {seen[key, value]}: {value}")
                seen.update({key: where for key in keys})
            except _Refused as why:
                refused.append(f"{where}: {why}")
                continue
            sources.append(source)
    return Registry(sources, refused, paths)


def mark_verified(path: str | Path, ids: set[str], date: str) -> int:
    """Set `verified: DATE` on the entries of one registry file whose id is in `ids`,
    editing the file's text in place (its comments and layout stay). Returns how many."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"\s*- \w", line)]
    indent = min((len(lines[i]) - len(lines[i].lstrip()) for i in starts), default=0)
    starts = [i for i in starts if len(lines[i]) - len(lines[i].lstrip()) == indent]
    marked = 0
    for start, end in reversed(list(zip(starts, starts[1:] + [len(lines)]))):
        block = "".join(lines[start:end])
        entry = (yaml.safe_load(block) or [None])[0]
        if not isinstance(entry, dict):
            continue
        entry_id = str(entry.get("id") or default_id(entry.get("listing") or entry.get("home")))
        if entry_id not in ids:
            continue
        key_indent = " " * (indent + 2)
        line = f"{key_indent}verified: {date}\n"
        for i in range(start, end):
            if re.match(rf"{key_indent}verified:", lines[i]) or (
                    i == start and re.match(r"\s*- verified:", lines[i])):
                lines[i] = lines[i][: lines[i].index("verified:")] + f"verified: {date}\n"
                break
        else:
            last = max(i for i in range(start, end) if lines[i].strip())
            lines.insert(last + 1, line if lines[last].endswith("\n") else "\n" + line)
        marked += 1
    path.write_text("".join(lines), encoding="utf-8")
    return marked
