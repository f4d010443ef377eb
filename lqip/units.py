"""Unit-name resolution: the one function every command uses to read a 责任单位 / 填报单位.

Matching ignores white space, width and quotes, and the plan's region prefixes (乐清市, 乐清):
"乐清市人民法院", "乐清市法院" and "市法院" are one unit. A single township (柳市镇) matches a
collective unit's `members` pattern and speaks for that collective (各乡镇（街道）…).
"""

from __future__ import annotations

import difflib
import re
from typing import NamedTuple

from lqip.text import fold

# A remark in brackets after a unit's name: （盖章）, (公章), （牵头）. Aliases with brackets of their
# own (市委宣传部（市新闻出版局）) match whole first.
_TRAILING_REMARK = re.compile(r"\s*[(（][^()（）]{1,8}[)）]\s*$")


class Resolved(NamedTuple):
    """A reporting unit: its display name and the plan units whose duties it carries.

    A named tuple rather than a frozen dataclass: a consolidated workbook names thousands of
    townships, and a tuple is built and hashed in C."""

    name: str
    units: tuple[str, ...]  # canonical plan units (the unit itself, or the collectives it belongs to)

    @property
    def is_member(self) -> bool:
        """True for a township standing for a collective unit."""
        return self.units != (self.name,)


class UnitResolver:
    def __init__(self, plan):
        prefixes = sorted((fold(p) for p in plan.meta.unit_prefixes), key=len, reverse=True)
        self._prefixes = prefixes
        self._index: dict[str, str] = {}
        ambiguous: set[str] = set()
        exact: dict[str, str] = {}
        for unit in plan.units:
            for spelling in [unit.name, *unit.aliases]:
                exact[fold(spelling)] = unit.name
                for key in self._variants(spelling):
                    other = self._index.get(key)
                    if other is not None and other != unit.name:
                        ambiguous.add(key)
                    self._index[key] = unit.name
        for key in ambiguous:
            del self._index[key]
        self._index.update(exact)  # a full spelling always wins over a prefix-stripped variant
        self._collectives = [
            (re.compile(u.members), u.name) for u in plan.units if u.collective and u.members
        ]
        self._choices = {fold(s): u.name for u in plan.units for s in [u.name, *u.aliases]}

    def _variants(self, text: str) -> list[str]:
        key = fold(text)
        return [key, *self._unprefixed(key)]

    def _unprefixed(self, key: str):
        """The folded name without each region prefix it starts with (longest prefix first)."""
        for prefix in self._prefixes:
            if key.startswith(prefix) and len(key) > len(prefix):
                yield key[len(prefix):]

    def resolve(self, text: object) -> Resolved | None:
        """The unit a name means, or None when it is unknown (see `suggest`)."""
        if text is None:
            return None
        raw = str(text).strip().replace("*", "")
        if not raw:
            return None
        key = fold(raw)
        name = self._lookup(key)
        if name is None and raw.rstrip()[-1:] in (")", "）"):  # "乐清市人民法院（盖章）"
            bare = _TRAILING_REMARK.sub("", raw)
            if bare != raw:
                key = fold(bare or raw)
                name = self._lookup(key)
        if name is not None:
            return Resolved(name, (name,))
        members = tuple(name for pattern, name in self._collectives if pattern.search(key))
        if members:
            return Resolved(next(self._unprefixed(key), key), members)
        return None

    def _lookup(self, key: str) -> str | None:
        """The unit a folded name means, as written or without a region prefix."""
        name = self._index.get(key)
        if name is None:
            name = next(filter(None, map(self._index.get, self._unprefixed(key))), None)
        return name

    def suggest(self, text: object, n: int = 3) -> list[str]:
        """The closest known unit names, for a 'did you mean' hint."""
        key = fold(str(text or ""))
        found: list[str] = []
        for variant in self._variants(key) or [key]:
            for match in difflib.get_close_matches(variant, list(self._choices), n=n * 2, cutoff=0.4):
                name = self._choices[match]
                if name not in found:
                    found.append(name)
        return found[:n]
