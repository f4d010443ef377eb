"""Which files a path argument means: files as given, directories walked for spreadsheets."""

from __future__ import annotations

import os
import re
from pathlib import Path

from lqip.workbook import SPREADSHEET_SUFFIXES

NULL_REF = re.compile(r"^0{40}$|^0{64}$")  # GitHub's `before` for a branch's first push


def _skipped(name: str) -> bool:
    return name.startswith(("~$", ".", "~"))


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # permission denied on a parent, a name too long…: the reader will say so
        return False


def _spreadsheet_name(name: str) -> bool:
    return not _skipped(name) and Path(name).suffix.lower() in SPREADSHEET_SUFFIXES


def expand(paths: list[str | os.PathLike]) -> list[Path]:
    """Files as given (whatever their type: the reader reports what they are), and every
    .xlsx/.xlsm/.xls/.ods under a directory, recursively, without lock (~$*) or hidden files.

    Symbolic links to directories are not followed (no loops); a directory that is itself named like
    a workbook (x.xlsx/) is listed as an entry, not walked, so it gets a finding (F001) instead of
    vanishing. Order is stable and duplicates go."""
    out: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        if _is_dir(path) and path.suffix.lower() not in SPREADSHEET_SUFFIXES:
            found = []
            for root, dirs, files in os.walk(path, followlinks=False):
                kept = []
                for name in sorted(dirs):
                    if _skipped(name):
                        continue
                    if Path(name).suffix.lower() in SPREADSHEET_SUFFIXES:
                        found.append(Path(root) / name)  # a directory named like a workbook
                    else:
                        kept.append(name)
                dirs[:] = kept
                found.extend(Path(root) / name for name in files if _spreadsheet_name(name))
            for file in sorted(found):
                out.setdefault(str(file), file)
        else:
            out.setdefault(str(path), path)
    return list(out.values())


def stdin_paths(stream) -> list[str]:
    """Paths from standard input: one per line (blank lines and #comments skipped), or separated by
    NUL bytes as `git diff -z` and `find -print0` write them."""
    if stream is None or stream.closed:
        return []
    text = stream.read()
    if "\0" in text:
        return [p for p in text.split("\0") if p.strip()]
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _git(*args: str) -> str:
    import subprocess

    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    except FileNotFoundError:
        raise RuntimeError("git is not installed") from None
    except subprocess.CalledProcessError as exc:
        raise RuntimeError((exc.stderr or "").strip() or f"git {args[0]} failed") from None
    return done.stdout


def changed_files(ref: str, within: list[str]) -> list[str]:
    """Spreadsheets added, copied, modified or renamed since git `ref` (and not deleted), limited to
    the given paths. A null ref (forty zeros: GitHub's `before` on a new branch) means every
    spreadsheet git tracks there. Raises RuntimeError when git or the ref is not there."""
    if not ref.strip() or ref.lstrip().startswith("-"):  # never let a ref be read as a git option
        raise RuntimeError(f"{ref!r} is not a git ref")
    top = Path(_git("rev-parse", "--show-toplevel").strip())
    if NULL_REF.match(ref.strip()):
        listing = _git("-c", "core.quotepath=off", "ls-files", "-z", "--full-name", "--", *within)
    else:
        try:
            _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except RuntimeError:
            raise RuntimeError(f"{ref!r} is not a commit of this repository (in CI, fetch the history: "
                               "actions/checkout with fetch-depth: 0)") from None
        listing = _git("-c", "core.quotepath=off", "diff", "--name-only", "--diff-filter=ACMR", "-z", ref,
                       "--", *within)
    cwd = Path.cwd()
    out = []
    for name in listing.split("\0"):
        if name and _spreadsheet_name(Path(name).name):
            path = top / name
            if path.exists():
                try:
                    out.append(str(path.relative_to(cwd)))
                except ValueError:
                    out.append(str(path))
    return out
