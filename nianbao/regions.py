"""GB/T 2260 region codes for the registry: which 省, 市 or 县 a body belongs to, as the
six-digit code the archive's region facets group by.

`RegionTable.suggest` settles a (province, city, county) as written in a list of portals
("广东", "清远", "清新区") on the most precise code it can be sure of, and says in a warning
what it could not settle (a county name found in two cities of the province, a city not
found). It never picks one of several candidates: an ambiguous name keeps the code of the
level above it, and the warning names the candidates, for a person to decide.

The table is the `cpca` package's (installed with the `registry` extra), read as a file:
cpca's own matcher needs pandas, and only its list of codes is wanted here.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import yaml

_VOCABULARY = Path(__file__).with_name("regions.yaml")


@functools.lru_cache(maxsize=1)
def vocabulary() -> dict:
    return yaml.safe_load(_VOCABULARY.read_text(encoding="utf-8"))


def province_of_host(host: str) -> str | None:
    """The two-digit province code of a host under a provincial portal's domain."""
    host = (host or "").lower().split(":")[0]
    for domain, code in vocabulary()["province_domains"].items():
        if host == domain or host.endswith("." + domain):
            return code
    return None


def _stem(name: str) -> str:
    """The name without its administrative suffix: 广西壮族自治区 -> 广西, 清新区 -> 清新."""
    name = (name or "").strip()
    for suffix in vocabulary()["suffixes"]:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Division:
    code: str   # six digits
    name: str

    @property
    def level(self) -> int:
        """0 province, 1 city (or prefecture), 2 county."""
        return 0 if self.code.endswith("0000") else 1 if self.code.endswith("00") else 2

    def within(self, other: "Division") -> bool:
        return self.code.startswith(other.code[: 2 * (other.level + 1)])


@dataclass
class Suggestion:
    code: str | None
    name: str | None = None       # the division the code is
    warning: str | None = None    # what could not be settled, for a person


class RegionTable:
    def __init__(self, divisions: list[Division]):
        self.divisions = divisions
        self.by_code = {d.code: d for d in divisions}
        self.stems = {d.code: _stem(d.name) for d in divisions}  # each name's, once

    @classmethod
    def from_csv(cls, path: str | Path) -> "RegionTable":
        """A table of `adcode,name` rows (cpca's adcodes.csv: 12-digit codes)."""
        with open(path, encoding="utf-8") as file:
            rows = [(row["adcode"][:6], row["name"]) for row in csv.DictReader(file)]
        return cls(sorted({Division(code, name) for code, name in rows if len(code) == 6},
                          key=lambda d: d.code))

    @classmethod
    def installed(cls) -> "RegionTable":
        """The table of the installed `cpca` package."""
        spec = importlib.util.find_spec("cpca")
        if spec is None or not spec.submodule_search_locations:
            raise LookupError("region codes need the cpca package: "
                              "pip install 'nianbao[registry]'")
        return cls.from_csv(Path(spec.submodule_search_locations[0]) / "resources" / "adcodes.csv")

    def _named(self, name: str, level: int, within: Division | None) -> list[Division]:
        stem = _stem(name)
        found = [d for d in self.divisions if d.level == level
                 and (d.name == name or self.stems[d.code] == stem)
                 and (within is None or d.within(within))]
        exact = [d for d in found if d.name == name]
        if not found and len(stem) >= 2:  # 恩施 for 恩施土家族苗族自治州
            found = [d for d in self.divisions if d.level == level and d.name.startswith(stem)
                     and (within is None or d.within(within))]
        return exact or found

    def suggest(self, province: str = "", city: str = "", county: str = "",
                host: str = "") -> Suggestion:
        """The most precise code the names (and the host) settle, with a warning for
        what they leave open."""
        if (province or "").strip() in vocabulary()["national"]:
            return Suggestion(None)
        scope: Division | None = None
        host_province = province_of_host(host)
        if province:
            found = self._named(province, 0, None)
            if len(found) != 1:
                return Suggestion(None, warning=f"province {province!r} not found in the table")
            scope = found[0]
        elif host_province:
            scope = self.by_code.get(host_province + "0000")
        best = Suggestion(scope.code, scope.name) if scope else Suggestion(None)
        # municipalities (北京市) have their counties straight under them in the table
        for level, name in ((1, city), (2, county)):
            if not name or (level == 1 and scope is not None and scope.level == 0
                            and _stem(name) == _stem(scope.name)):
                continue
            found = self._named(name, level, scope)
            if level == 2 and not found:  # a county-level city filed under its province
                found = self._named(name, 1, scope)
            if len(found) == 1:
                scope = found[0]
                best = Suggestion(scope.code, scope.name)
                continue
            where = f" in {scope.name}" if scope else ""
            if not found:
                best.warning = f"{name!r} not found{where}; the code stops at {best.name or 'nothing'}"
            else:
                candidates = ", ".join(f"{d.code} ({self._parent_name(d)})" for d in found[:6])
                best.warning = (f"{name!r} is ambiguous{where}: {candidates}; give the "
                                f"{'province' if scope is None else 'city'} to settle it")
            break
        return best

    def _parent_name(self, division: Division) -> str:
        parent = self.by_code.get(division.code[:4] + "00") if division.level == 2 else None
        province = self.by_code.get(division.code[:2] + "0000")
        return "".join(d.name for d in (province, parent) if d and d is not division)
