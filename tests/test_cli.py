"""CLI: exit codes and formats; --format json equals the library's own report."""

from __future__ import annotations

import json

import pytest
from helpers import ind, make_return
from typer.testing import CliRunner

from lqip.check import check_paths
from lqip.cli import app
from lqip.plan import load_plan

runner = CliRunner()
PLAN = load_plan()
COURT = ("I06", "知识产权司法诉讼案件一审审结")


@pytest.fixture
def clean(tmp_path):
    return make_return(tmp_path, "clean.xlsx", unit="乐清市人民法院", year=2023,
                       indicators=[ind(*COURT, 2023, "件", 200, 210)], tasks=[["T11", "推进中", "按计划推进"]])


@pytest.fixture
def warned(tmp_path):
    return make_return(tmp_path, "warned.xlsx", unit="市法院", year=2023,
                       indicators=[ind(*COURT, 2023, "件", 250, 210)])  # V312 warning only


@pytest.fixture
def failing_target(tmp_path):
    return make_return(tmp_path, "behind.xlsx", unit="市法院", year=2023, indicators=[ind(*COURT, 2023, "件", 200, 150)])


@pytest.fixture
def broken(tmp_path):
    return make_return(tmp_path, "broken.xlsx", unit="市法院", year=2023, indicators=[ind(*COURT, 2023, "件", 200, -1)])


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("fmt", ["text", "json", "lines", "github", "junit"])
def test_exit_codes_in_every_format(fmt, clean, warned, failing_target, broken):
    assert run("check", clean, "--format", fmt).exit_code == 0
    assert run("check", warned, "--format", fmt).exit_code == 0
    assert run("check", warned, "--format", fmt, "--strict").exit_code == 1
    assert run("check", failing_target, "--format", fmt).exit_code == 0
    assert run("check", failing_target, "--format", fmt, "--fail-on-target").exit_code == 1
    assert run("check", broken, "--format", fmt).exit_code == 1
    assert run("check", clean, broken, "--format", fmt).exit_code == 1


def test_usage_errors_exit_2(clean):
    assert run("check", clean, "--format", "yaml").exit_code == 2
    assert run("check", clean, "--lang", "fr").exit_code == 2
    assert run("check").exit_code == 2
    assert run("targets", "--year", "1999").exit_code == 2
    assert run("tasks", "--unit", "不存在的局").exit_code == 2
    assert run("nosuchcommand").exit_code == 2


def test_json_equals_library_report(clean, broken, tmp_path):
    result = run("check", tmp_path, "--format", "json", "--lang", "en")
    library = check_paths([tmp_path], PLAN).to_dict("en")
    assert json.loads(result.output) == library
    paths = [f["path"] for f in library["files"]]
    assert sorted(paths) == sorted(str(p) for p in (clean, broken))
    keys = set(library["files"][0]) | set(library["files"][0]["scores"][0])
    assert {"path", "unit", "year", "period", "issues", "scores", "indicator", "target", "actual", "ratio", "status"} <= keys


def test_text_report_shows_the_facts(broken):
    out = run("check", broken, "--lang", "zh").output
    for fact in ("broken.xlsx", "市法院", "F2", "V304", "数值为负", "不通过"):
        assert fact in out
    out_en = run("check", broken, "--lang", "en").output
    assert "negative value" in out_en and "FAILED" in out_en


def test_lines_format(broken):
    out = run("check", broken, "--format", "lines", "--lang", "en").output.splitlines()
    assert f"{broken}:指标完成情况!F2: V304 negative value: -1" in out


def test_lang_follows_locale(broken, monkeypatch):
    monkeypatch.delenv("LQIP_LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert "数值为负" in run("check", broken, "--format", "lines").output
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert "negative value" in run("check", broken, "--format", "lines").output


def test_plan_commands_json():
    targets = json.loads(run("targets", "--format", "json").output)
    assert len(targets) == 18 and targets[0]["targets"] == {"2022": 300, "2023": 300, "2024": 350}
    year = json.loads(run("targets", "--year", "2024", "--format", "json").output)
    assert year[0]["targets"] == {"2024": 350}
    tasks = json.loads(run("tasks", "--unit", "乐清市人民法院", "--format", "json").output)
    assert {t["id"] for t in tasks if t["role"] == "lead"} == {"T11", "T12", "T13", "T22"}
    lead_only = json.loads(run("tasks", "--unit", "市法院", "--lead-only", "--format", "json").output)
    assert {t["id"] for t in lead_only} == {"T11", "T12", "T13", "T22"}
    units = {u["name"]: u for u in json.loads(run("units", "--format", "json").output)}
    assert units["市法院"]["lead_indicators"] == ["I06"]
    assert units["各乡镇（街道）"]["collective"] is True


def test_targets_text_has_totals():
    out = run("targets", "--lang", "zh").output
    for fact in ("发明专利授权量", "950", "110000", "1500", "市市场监管局"):
        assert fact in out
