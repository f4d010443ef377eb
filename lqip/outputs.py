"""Writing outputs safely: atomically (temp file + rename) and never over an existing file unless asked."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


class OutputExists(Exception):
    """The output path exists and --force was not given."""

    def __init__(self, path: Path):
        super().__init__(f"{path} exists; use --force to overwrite / 文件已存在，如需覆盖请加 --force")
        self.path = path


def atomic_save(path: str | os.PathLike, save: Callable[[Path], None], force: bool = False) -> Path:
    """Call `save(tmp)` to write a temp file beside `path`, then rename it into place.

    An interrupted write leaves no half file at `path`; an existing `path` is only replaced with
    `force`. The temp file keeps the suffix of `path` (openpyxl and friends look at it).
    """
    target = Path(path)
    if target.exists() and not force:
        raise OutputExists(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix or ".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        save(tmp)
        if not force and target.exists():  # appeared meanwhile: do not clobber it
            raise OutputExists(target)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an output is an ordinary file
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str, force: bool = False) -> Path:
    return atomic_save(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force)
