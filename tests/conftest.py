"""Shared pytest setup: the `slow` marker (deselect with `-m "not slow"`), and a private plan cache.

The persistent plan cache (`lqip.plan.cache_dir`) points at a temporary directory for the whole
session, so the suite (and every `lqip` subprocess it starts, which inherits the environment)
never writes into the real ~/.cache/lqip. `LQIP_CACHE_DIR=off` set by the caller is kept.
"""

from __future__ import annotations

import os
import shutil
import tempfile

_SESSION_CACHE: str | None = None


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a test that takes more than a few seconds (long fuzz, big hostile files); "
                   'deselect with -m "not slow"')
    global _SESSION_CACHE
    if os.environ.get("LQIP_CACHE_DIR", "x").strip().lower() not in ("", "off"):
        _SESSION_CACHE = tempfile.mkdtemp(prefix="lqip-test-cache-")
        os.environ["LQIP_CACHE_DIR"] = _SESSION_CACHE


def pytest_unconfigure(config):
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)
