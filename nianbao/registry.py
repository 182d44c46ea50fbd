"""The sources registry (`sources.yaml`): the portals a scheduled crawl walks, with the
region each report of theirs belongs to. Load it, check every entry, say which is bad.

It sits below the crawler: the archive and the command read it too. Which CMS families
exist is the crawler's knowledge (`crawler.families`): the crawler passes their names in
to check an entry's `family` pin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import yaml

REGISTRY_PATH = Path(__file__).with_name("sources.yaml")
_KEYS = {"name", "region", "listing", "home", "family", "browser", "verified", "file_hosts", "note"}
_REGION_KEYS = ("province", "city", "county")


class RegistryError(ValueError):
    """The registry file is not valid; the message names the file and the entry."""


@dataclass
class Source:
    name: str
    province: str
    city: str = ""
    county: str = ""
    listing: str | None = None
    home: str | None = None
    family: str = "auto"
    browser: bool = False
    verified: bool = False
    file_hosts: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def start_url(self) -> str:
        return self.listing or self.home

    def as_item_source(self) -> dict:
        """What each report from this source carries into the archive."""
        return {"name": self.name, "province": self.province, "city": self.city or None,
                "county": self.county or None}


def _is_url(value) -> bool:
    parsed = urlparse(str(value))
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _source(entry, where: str, families) -> Source:
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: expected a mapping of name, region, listing …")
    unknown = set(entry) - _KEYS
    if unknown:
        raise RegistryError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                            f"(allowed: {', '.join(sorted(_KEYS))})")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RegistryError(f"{where}: 'name' is required")
    where = f"{where} ({name})"
    region = entry.get("region")
    if not isinstance(region, dict) or not region.get("province"):
        raise RegistryError(f"{where}: 'region' needs at least a province, as "
                            "{province: …, city: …, county: …}")
    if set(region) - set(_REGION_KEYS):
        raise RegistryError(f"{where}: region keys are {', '.join(_REGION_KEYS)}")
    urls = {key: entry.get(key) for key in ("listing", "home") if entry.get(key)}
    if not urls:
        raise RegistryError(f"{where}: give 'listing' (the 年报 column) or 'home'")
    for key, value in urls.items():
        if not _is_url(value):
            raise RegistryError(f"{where}: {key!r} is not an http(s) URL: {value!r}")
    family = entry.get("family", "auto")
    if not isinstance(family, str) or (families is not None and family not in ("auto", *families)):
        known = ", ".join(("auto", *families)) if families is not None else "a family name"
        raise RegistryError(f"{where}: family {family!r} is not one of {known}")
    for key in ("browser", "verified"):
        if key in entry and not isinstance(entry[key], bool):
            raise RegistryError(f"{where}: {key!r} must be true or false")
    hosts = entry.get("file_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise RegistryError(f"{where}: 'file_hosts' must be a list of host names")
    return Source(name=name.strip(), province=str(region["province"]),
                  city=str(region.get("city") or ""), county=str(region.get("county") or ""),
                  listing=urls.get("listing"), home=urls.get("home"), family=family,
                  browser=entry.get("browser", False), verified=entry.get("verified", False),
                  file_hosts=hosts, note=str(entry.get("note") or ""))


def load_sources(path: str | Path = REGISTRY_PATH, families=None) -> list[Source]:
    """Every entry of the registry, checked; `families`: the CMS family names an entry may
    pin (the crawler's), else any name passes."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RegistryError(f"{path}: cannot be read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise RegistryError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("sources"), list):
        raise RegistryError(f"{path}: expected a top-level 'sources:' list")
    sources, names = [], set()
    for number, entry in enumerate(document["sources"], start=1):
        source = _source(entry, f"{path.name} entry {number}", families)
        if source.name in names:
            raise RegistryError(f"{path.name} entry {number} ({source.name}): name used twice")
        names.add(source.name)
        sources.append(source)
    return sources
