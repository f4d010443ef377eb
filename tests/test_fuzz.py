"""Byte-level fuzzing (scripts/fuzz.py): a short deterministic run in the normal suite, the kept
regression inputs, and the long run behind the `slow` marker (or `python scripts/fuzz.py -n 20000`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import fuzz  # noqa: E402

REGRESSIONS = ROOT / "tests" / "regressions"


def test_seeds_are_valid_returns(tmp_path):
    seeds = fuzz.seed_returns(tmp_path)
    outcome = fuzz.run_batch(seeds)
    assert not outcome.problems and not outcome.soft
    report = json.loads(outcome.stdout)
    for file in report["files"]:
        assert not [i for i in file["issues"] if i["severity"] == "error"], file
        assert file["scores"], file


def test_mutants_are_reproducible(tmp_path):
    seeds = fuzz.seed_returns(tmp_path / "seeds")
    first = fuzz.mutants(seeds, tmp_path / "a", seed=3, start=10, count=20)
    again = fuzz.mutants(fuzz.seed_returns(tmp_path / "seeds2"), tmp_path / "b", seed=3, start=10, count=20)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert len({p.read_bytes() for p in first}) > 15


def test_short_fuzz(tmp_path):
    """600 mutants of the seeds (a few seconds), each held to the invariant, in batches run in-process
    so that a crash is seen rather than absorbed by worker isolation."""
    result = fuzz.fuzz(600, seed=20240601, batch=100, work=tmp_path, keep=None, log=lambda *_: None)
    assert result.iterations == 600
    assert result.failures == {} and result.soft == {}
    assert result.max_rss < fuzz.MEMORY_BOUND


def test_regression_inputs(tmp_path):
    inputs = sorted(p for p in REGRESSIONS.iterdir() if p.suffix in (".xlsx", ".xlsm", ".xls", ".ods"))
    assert inputs, "tests/regressions/ holds the inputs that once broke lqip"
    outcome = fuzz.run_batch(inputs, timeout=120)
    assert not outcome.problems and not outcome.soft, outcome.problems + outcome.soft
    assert outcome.max_rss < 400 * 2**20
    first = {Path(f["path"]).name: (f["issues"][0]["code"] if f["issues"] else None)
             for f in json.loads(outcome.stdout)["files"]}
    for path in inputs:
        expected = path.stem.rsplit("__", 1)[-1]
        if expected == "read":
            assert first[path.name] is None or not first[path.name].startswith("F"), (path.name, first[path.name])
        else:
            assert first[path.name] == expected, (path.name, first[path.name])


def test_regression_inputs_with_worker_isolation(tmp_path):
    inputs = sorted(p for p in REGRESSIONS.iterdir() if p.suffix in (".xlsx", ".xlsm", ".xls", ".ods"))
    outcome = fuzz.run_batch(inputs, timeout=120, isolate=True)
    assert not outcome.problems and not outcome.soft, outcome.problems + outcome.soft


@pytest.mark.slow
def test_long_fuzz(tmp_path):
    result = fuzz.fuzz(3000, seed=7, batch=100, work=tmp_path, keep=None, log=lambda *_: None)
    assert result.failures == {} and result.soft == {}
    assert result.max_rss < fuzz.MEMORY_BOUND
