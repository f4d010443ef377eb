"""The persistent plan cache (lqip.plan): hit across processes, keyed by content, safe, never wrong.

Most tests call `plan._load_uncached`, which bypasses the in-process `_CACHE`; `cached()` does so
with the YAML parser and the validator replaced by a tripwire: a load that succeeds then must have
come from the cache file, and one that trips must have ignored it.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lqip import plan as plan_mod
from lqip.plan import DEFAULT_CONFIG_DIR, ConfigError, Plan, load_plan


class Tripped(Exception):
    """Raised by the tripwire: the config was parsed, so the cache was not used."""


def trip(*args, **kwargs):
    raise Tripped


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("LQIP_CACHE_DIR", str(directory))
    return directory


@pytest.fixture()
def config(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("plan-*.pickle"))


def the_entry(cache: Path) -> Path:
    found = entries(cache)
    assert len(found) == 1, found
    return found[0]


def fresh(directory: Path, monkeypatch) -> Plan:
    """The plan as a normal load makes it, with the persistent cache off."""
    with monkeypatch.context() as m:
        m.setenv("LQIP_CACHE_DIR", "off")
        return plan_mod._load_uncached(directory)


def cached(directory: Path, monkeypatch) -> Plan:
    """The plan from the cache file; fails when the load would parse the YAML."""
    with monkeypatch.context() as m:
        m.setattr(plan_mod, "_parse_yaml", trip)
        m.setattr(plan_mod, "_validate", trip)
        return plan_mod._load_uncached(directory)


def run(code: str, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return proc


# --- hits ------------------------------------------------------------------------------------------


def test_a_second_process_loads_the_plan_from_the_cache(config, cache):
    env = {"LQIP_CACHE_DIR": str(cache)}
    run(f"from lqip.plan import load_plan; load_plan({str(config)!r})", env)
    entry = the_entry(cache)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert sorted(p.name for p in cache.iterdir()) == [entry.name]  # no temporary file left behind

    probe = f"""
        import json
        import sys
        import lqip.plan as p
        def trip(*args):
            raise SystemExit("the YAML was parsed")
        p._parse_yaml = p._validate = trip
        plan = p.load_plan({str(config)!r})
        print(json.dumps({{
            "indicators": len(plan.indicators),
            "source": str(plan.source),
            "pydantic": "pydantic" in sys.modules,
            "court": plan.resolver.resolve("乐清市人民法院").name,
        }}))
    """
    out = json.loads(run(probe, env).stdout)
    assert out == {"indicators": 18, "source": str(config), "pydantic": False, "court": "市法院"}


def test_importing_the_plan_imports_no_pydantic():
    out = run("import sys, lqip.plan; print('pydantic' in sys.modules)", {}).stdout
    assert out.strip() == "False"


def test_the_records_have_the_schema_fields():
    """lqip/schema.py validates into lqip.plan's records of the same names: the fields must agree."""
    from dataclasses import fields

    from lqip import schema

    for record in plan_mod._RECORDS:
        model = getattr(schema, record.__name__)
        assert {f.name for f in fields(record)} == set(model.model_fields), record.__name__


def test_a_hit_in_process_needs_no_parsing(config, cache, monkeypatch):
    first = plan_mod._load_uncached(config)
    assert isinstance(cached(config, monkeypatch), Plan)
    assert the_entry(cache).is_file()
    assert first.source == config


def test_a_copy_of_the_config_hits_but_keeps_its_own_source(config, cache, tmp_path, monkeypatch):
    plan_mod._load_uncached(config)
    copy = tmp_path / "elsewhere"
    shutil.copytree(config, copy)
    plan = cached(copy, monkeypatch)
    assert plan.source == copy
    from lqip import plan_views

    assert plan_views.config_report(plan) == plan_views.config_report(fresh(copy, monkeypatch))


# --- the key ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["targets.yaml", "responsibilities.yaml"])
def test_a_changed_byte_misses(config, cache, monkeypatch, name):
    plan_mod._load_uncached(config)
    path = config / name
    path.write_bytes(path.read_bytes() + b"#")  # a comment: the plan is the same, the bytes are not
    with pytest.raises(Tripped):
        cached(config, monkeypatch)
    plan_mod._load_uncached(config)
    assert len(entries(cache)) == 2
    cached(config, monkeypatch)


def test_a_changed_format_or_version_misses(config, cache, monkeypatch):
    plan_mod._load_uncached(config)
    with monkeypatch.context() as m:
        m.setattr(plan_mod, "_CACHE_FORMAT", plan_mod._CACHE_FORMAT + 1)
        with pytest.raises(Tripped):
            cached(config, monkeypatch)
    with monkeypatch.context() as m:
        m.setattr("lqip.__version__", "0.0.0")
        with pytest.raises(Tripped):
            cached(config, monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(plan_mod, "_own_source", lambda: b"an edited schema")
        with pytest.raises(Tripped):
            cached(config, monkeypatch)
    cached(config, monkeypatch)


# --- failures fall back ------------------------------------------------------------------------------


def _not_a_plan(config: Path) -> bytes:
    return pickle.dumps(plan_mod._load_uncached(config).units[0])  # a model of the plan, not a Plan


def _runs_code(marker: Path) -> bytes:
    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps(Evil())


@pytest.mark.parametrize("spoil", ["garbage", "empty", "truncated", "not a plan", "foreign code"])
def test_a_corrupt_entry_falls_back_and_is_rewritten(config, cache, tmp_path, monkeypatch, spoil):
    good = fresh(config, monkeypatch)
    plan_mod._load_uncached(config)
    entry = the_entry(cache)
    marker = tmp_path / "code-ran"
    bad = {
        "garbage": b"\x00not a pickle at all",
        "empty": b"",
        "truncated": entry.read_bytes()[: entry.stat().st_size // 2],
        "not a plan": _not_a_plan(config),
        "foreign code": _runs_code(marker),
    }[spoil]
    entry.write_bytes(bad)
    with pytest.raises(Tripped):
        cached(config, monkeypatch)
    assert not marker.exists()
    plan = plan_mod._load_uncached(config)  # falls back to a normal load ...
    assert plan.indicators == good.indicators
    assert entry.read_bytes() != bad  # ... and rewrites the entry
    assert cached(config, monkeypatch).indicators == good.indicators


def _foreign_owner(entry: Path, monkeypatch) -> None:
    if os.geteuid() == 0:
        os.chown(entry, 4242, 4242)
        return
    real = os.fstat

    def fstat(fd):
        st = real(fd)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid + 1, st.st_gid,
                               st.st_size, st.st_atime, st.st_mtime, st.st_ctime))

    monkeypatch.setattr(plan_mod.os, "fstat", fstat)


@pytest.mark.parametrize("how", ["group-writable", "world-writable", "foreign owner", "symlink"])
def test_an_untrusted_entry_is_ignored(config, cache, tmp_path, monkeypatch, how):
    plan_mod._load_uncached(config)
    entry = the_entry(cache)
    if how == "group-writable":
        entry.chmod(0o620)
    elif how == "world-writable":
        entry.chmod(0o602)
    elif how == "foreign owner":
        _foreign_owner(entry, monkeypatch)
    else:
        elsewhere = tmp_path / "planted.pickle"
        shutil.copy2(entry, elsewhere)
        elsewhere.chmod(0o600)
        entry.unlink()
        entry.symlink_to(elsewhere)
    with pytest.raises(Tripped):
        cached(config, monkeypatch)
    monkeypatch.undo()  # the real os.fstat again; the cache directory again
    monkeypatch.setenv("LQIP_CACHE_DIR", str(cache))
    plan_mod._load_uncached(config)  # the normal load replaces the entry with a trusted one
    assert not entry.is_symlink()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    cached(config, monkeypatch)


def test_an_unsafe_cache_directory_is_not_used(config, cache, monkeypatch):
    cache.mkdir(mode=0o700)
    cache.chmod(0o777)
    plan_mod._load_uncached(config)
    assert entries(cache) == []


# --- off, errors, where ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["off", "OFF", ""])
def test_cache_off_writes_nothing(config, tmp_path, monkeypatch, value):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg"))
    monkeypatch.setenv("LQIP_CACHE_DIR", value)
    assert plan_mod.cache_dir() is None
    plan_mod._load_uncached(config)
    assert list(home.rglob("*")) == []


def test_where_the_cache_lives(tmp_path, monkeypatch):
    monkeypatch.delenv("LQIP_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert plan_mod.cache_dir() == tmp_path / "xdg" / "lqip"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert plan_mod.cache_dir() == tmp_path / ".cache" / "lqip"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert plan_mod.cache_dir() == tmp_path / ".cache" / "lqip"
    monkeypatch.setenv("LQIP_CACHE_DIR", str(tmp_path / "mine"))
    assert plan_mod.cache_dir() == tmp_path / "mine"


SPOILS = {
    "cross check": ("targets.yaml", "total: 950", "total: 951"),
    "schema": ("targets.yaml", "end_year: 2025", "end_year: [2025]"),
    "unknown unit": ("responsibilities.yaml", "leads: [市市场监管局]", "leads: [市无此局]"),
}


@pytest.mark.parametrize("name", list(SPOILS))
def test_a_config_with_errors_is_never_cached(config, cache, monkeypatch, name):
    file, old, new = SPOILS[name]
    path = config / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with monkeypatch.context() as m:
        m.setenv("LQIP_CACHE_DIR", "off")
        with pytest.raises(ConfigError) as uncached_error:
            plan_mod._load_uncached(config)
    for _ in range(2):
        with pytest.raises(ConfigError) as caught:
            plan_mod._load_uncached(config)
        assert caught.value.problems == uncached_error.value.problems
    assert entries(cache) == []


def test_old_entries_are_pruned(config, cache, monkeypatch):
    cache.mkdir(mode=0o700)
    for i in range(plan_mod._CACHE_KEEP + 5):
        old = cache / f"plan-{i:064x}.pickle"
        old.write_bytes(b"old")
        os.utime(old, ns=(10**18 + i, 10**18 + i))
    plan_mod._load_uncached(config)
    assert len(entries(cache)) == plan_mod._CACHE_KEEP
    cached(config, monkeypatch)  # the newest entry, just written, is kept


# --- the cached plan is the plan -----------------------------------------------------------------------


def public_facts(plan: Plan) -> dict:
    names = ["乐清市人民法院", "市法院", "乐清市法院（盖章）", "柳市镇", "乐成街道", "市市场监督管理局", "不存在的局"]
    return {
        "meta": plan.meta,
        "measures": plan.measures,
        "indicators": plan.indicators,
        "units": plan.units,
        "projects": plan.projects,
        "tasks": plan.tasks,
        "targets": {(i.id, y): plan.target(i, y) for i in plan.indicators for y in plan.plan_years},
        "whole": {i.id: plan.whole(i) for i in plan.indicators},
        "leads": {i.id: plan.indicator_leads(i) for i in plan.indicators},
        "answering": {i.id: plan.indicator_units(i) for i in plan.indicators},
        "responsibility": plan.responsibility,
        "task_place": plan.task_place,
        "resolved": {n: plan.resolver.resolve(n) for n in names},
        "suggest": plan.resolver.suggest("市场监管"),
        "notes": plan.consistency_report(),
        "years": (plan.first_year, plan.plan_years),
        "source": plan.source,
    }


def test_the_cached_plan_equals_a_fresh_one(config, cache, monkeypatch):
    made = plan_mod._load_uncached(config)
    made.resolver.resolve("市法院")  # fill derived caches, and one attached by another module
    from lqip.reader import indicator_index

    indicator_index(made)
    again = cached(config, monkeypatch)
    assert again is not made
    assert "resolver" not in vars(again) and "_indicator_index" not in vars(again)
    facts = public_facts(again)
    assert facts == public_facts(fresh(config, monkeypatch))
    assert facts["resolved"]["柳市镇"].units != ("柳市镇",)  # the collective resolution survived
    assert facts["resolved"]["不存在的局"] is None
    assert indicator_index(again) == indicator_index(made)


def test_only_the_constructor_state_is_pickled(config, monkeypatch):
    plan = fresh(config, monkeypatch)
    plan.responsibility, plan.resolver, plan.indicator_by_id  # noqa: B018 (fill the cached properties)
    plan._indicator_index = {"x": "I01"}
    assert set(plan.__getstate__()) == {"meta", "measures", "indicators", "units", "projects", "source"}
    clone = pickle.loads(pickle.dumps(plan))
    assert not {"responsibility", "resolver", "indicator_by_id", "_indicator_index"} & set(vars(clone))
    assert clone.indicator_by_id == plan.indicator_by_id


def test_load_plan_uses_the_persistent_cache(config, cache, monkeypatch):
    """The public entry point goes through it too (with a clean in-process cache)."""
    monkeypatch.setattr(plan_mod, "_CACHE", {})
    load_plan(config)
    the_entry(cache)
    monkeypatch.setattr(plan_mod, "_CACHE", {})
    monkeypatch.setattr(plan_mod, "_parse_yaml", trip)
    assert load_plan(config).source == config
