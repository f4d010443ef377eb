"""What the tests of the read in pieces (workbook._Runs) share: forcing the pieces on small workbooks,
watching what _Runs.read gives, reading a workbook whole or as it comes, and writing one part by part."""

from __future__ import annotations

import zipfile
from pathlib import Path

import lqip.workbook as workbook
from lqip.workbook import Limits, Unreadable, open_book

_READ = workbook._Runs.read  # (the method itself, however often a test watches it)


def force_pieces(monkeypatch, cores: int = 2) -> None:
    """Every sheet part is read in pieces, on `cores` cores: the size threshold down to a byte, nothing
    repacked, the shared strings counted as small, LQIP_PIECES unset."""
    monkeypatch.setattr(workbook, "_PIECEWISE", 1)
    monkeypatch.delenv("LQIP_PIECES", raising=False)
    monkeypatch.setattr(workbook, "_small_beside", lambda info, names: True)  # (tiny sheets, tiny strings)
    monkeypatch.setattr(workbook, "_REPACK_LIMIT", -1)  # (a small workbook is otherwise repacked whole)
    monkeypatch.setattr(workbook, "usable_cores", lambda: cores)


def watch_reads(monkeypatch) -> list:
    """A list that gets what each _Runs.read gives from now on: True (the pieces), False (read whole)
    or "refused"."""
    outcomes: list = []

    def spy(self):
        try:
            result = _READ(self)
        except Unreadable:
            outcomes.append("refused")
            raise
        outcomes.append(result is not None)
        return result

    monkeypatch.setattr(workbook._Runs, "read", spy)
    return outcomes


def outcome(path: Path, limits: Limits | None = None):
    """Every sheet's rows as open_book gives them, or the refusal code (an unexpected exception is kept
    as its type, so that a crash on one side only is a difference too)."""
    try:
        book = open_book(path, limits)
        return {name: book.sheet(name).rows for name in book.sheet_names}
    except Unreadable as exc:
        return exc.code
    except Exception as exc:  # noqa: BLE001
        return f"crash {type(exc).__name__}"


def whole(path: Path, limits: Limits | None = None):
    """outcome() with the pieces off."""
    saved = workbook._PIECEWISE
    workbook._PIECEWISE = float("inf")
    try:
        return outcome(path, limits)
    finally:
        workbook._PIECEWISE = saved


def row(r: int, cells: str, attrs: str = "") -> str:
    return f'<row r="{r}"{attrs}>{cells}</row>'


def num(ref: str, value) -> str:
    return f'<c r="{ref}"><v>{value}</v></c>'


def write_parts(path: Path, parts: list[tuple[str, str | bytes]]) -> Path:
    """A zip of the parts (name, text), deflated, in their order."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts:
            z.writestr(name, text)
    return path
