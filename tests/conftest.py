"""Shared pytest setup: the `slow` marker (deselect with `-m "not slow"`)."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a test that takes more than a few seconds (long fuzz, big hostile files); "
                   'deselect with -m "not slow"')
