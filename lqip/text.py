"""Text normalisation shared by every name match (units, indicators, headers, statuses).

Matching ignores width (full-width ↔ half-width), white space and the kind of quotes, so
"发明专利授权量（件）", "发明专利 授权量(件)" and "发明专利授权量" compare equal once the trailing
unit bracket is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_QUOTES = str.maketrans({c: '"' for c in "“”„‟〝〞＂「」『』'‘’‚‛"})
_SPACE = re.compile(r"\s+")
# A trailing bracket such as （件） or (家） or （亿元） — a measurement unit or a short note.
_TRAILING_BRACKET = re.compile(r"[(（][^()（）]{0,12}[)）]$")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Width-fold (NFKC), unify quotes, drop all white space, lower-case Latin letters."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACE.sub("", text).lower()


@lru_cache(maxsize=65536)
def name_key(text: str) -> str:
    """The key a name is matched by: folded, without a trailing unit bracket or '*' markers."""
    key = fold(text).replace("*", "").replace('"', "")
    for _ in range(3):  # "…（含分支机构）（家）": a unit bracket after a bracket of the name
        stripped = _TRAILING_BRACKET.sub("", key)
        if not stripped or stripped == key:
            break
        key = stripped
    return key


def cell_text(value: object) -> str:
    """A cell value as display text ('' for empty); floats that are whole print without '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
