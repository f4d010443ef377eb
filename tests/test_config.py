"""Config: bad configs give file, key path, message and exit 2; a second plan drives every command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lqip.cli import app
from lqip.plan import DEFAULT_CONFIG_DIR, ConfigError, load_plan

runner = CliRunner()

SECOND_TARGETS = """
plan:
  title: 示例县商标品牌工作方案（2030-2033年）
  document: 示政发〔2030〕1号
  region: 示例县
  unit_prefixes: [示例县]
  years: [2030, 2031]
  end_year: 2033
measures:
  件: {whole: true}
  万元: {whole: false}
indicators:
  - id: A01
    name: 商标注册量
    name_en: Trademark registrations
    unit: 件
    kind: flow
    targets: {2030: 10, 2031: 20}
    total: 30
    tasks: [X01]
  - id: A02
    name: 品牌奖励资金
    name_en: Brand award funds
    unit: 万元
    kind: flow
    aggregation: sum
    targets: {2030: 5, 2031: 5}
    total: 10
    tasks: [X02]
"""
SECOND_RESP = """
units:
  - name: 县商务局
    aliases: [示例县商务局]
  - name: 县财政局
  - name: 各镇
    collective: true
    members: "镇$"
projects:
  - id: Q1
    name: 品牌工程
    key_works:
      - id: W1
        name: 注册商标
        tasks:
          - id: X01
            content: 推动商标注册。
            leads: [县商务局]
            co_units: [各镇]
          - id: X02
            content: 发放奖励资金。
            leads: [县财政局, 县商务局]
"""


def write_config(directory: Path, targets: str, resp: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "targets.yaml").write_text(targets, encoding="utf-8")
    (directory / "responsibilities.yaml").write_text(resp, encoding="utf-8")
    return directory


@pytest.fixture
def second(tmp_path):
    return write_config(tmp_path / "plan2", SECOND_TARGETS, SECOND_RESP)


def test_second_plan_drives_targets_tasks_units(second):
    result = runner.invoke(app, ["targets", "--config", str(second), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(r["id"], r["targets"], r["total"], r["leads"]) for r in data] == [
        ("A01", {"2030": 10, "2031": 20}, 30, ["县商务局"]),
        ("A02", {"2030": 5, "2031": 5}, 10, ["县财政局", "县商务局"]),
    ]
    result = runner.invoke(app, ["tasks", "--config", str(second), "--unit", "示例县商务局", "--format", "json"])
    assert result.exit_code == 0
    assert [(t["id"], t["role"]) for t in json.loads(result.output)] == [("X01", "lead"), ("X02", "lead")]
    result = runner.invoke(app, ["tasks", "--config", str(second), "--unit", "东风镇", "--format", "json"])
    assert [(t["id"], t["role"]) for t in json.loads(result.output)] == [("X01", "co")]
    result = runner.invoke(app, ["units", "--config", str(second), "--format", "json"])
    units = {u["name"]: (u["lead_tasks"], u["co_tasks"]) for u in json.loads(result.output)}
    assert units == {"县商务局": (2, 0), "县财政局": (1, 0), "各镇": (0, 1)}
    text = runner.invoke(app, ["targets", "--config", str(second), "--lang", "zh"]).output
    assert "商标注册量" in text and "2031" in text and "2022" not in text


def test_second_plan_checks_a_return(second, tmp_path):
    from helpers import make_return

    path = make_return(tmp_path, unit="示例县商务局", year=2031,
                       indicators=[["A01", "商标注册量", 2031, "件", 20, "25件"]])
    result = runner.invoke(app, ["check", str(path), "--config", str(second), "--format", "json"])
    data = json.loads(result.output)
    scores = [(s["indicator"], s["year"], s["status"]) for s in data["files"][0]["scores"]]
    assert ("A01", 2031, "pass") in scores
    assert result.exit_code == 0


def test_env_variable_points_at_config(second, monkeypatch):
    monkeypatch.setenv("LQIP_CONFIG", str(second))
    result = runner.invoke(app, ["targets", "--format", "json"])
    assert [r["id"] for r in json.loads(result.output)] == ["A01", "A02"]


def _broken(tmp_path, targets=SECOND_TARGETS, resp=SECOND_RESP):
    return write_config(tmp_path / "bad", targets, resp)


BROKEN = {
    "missing key": (SECOND_TARGETS.replace("    kind: flow\n    targets: {2030: 10", "    targets: {2030: 10"), SECOND_RESP,
                    "targets.yaml: indicators.0.kind: required key is missing"),
    "unknown unit in a task": (SECOND_TARGETS, SECOND_RESP.replace("co_units: [各镇]", "co_units: [县教育局]"),
                               "responsibilities.yaml: projects.0.key_works.0.tasks.0.co_units.0: unknown unit '县教育局'"),
    "duplicate ids": (SECOND_TARGETS.replace("id: A02", "id: A01"), SECOND_RESP,
                      "targets.yaml: indicators.1.id: duplicate indicator id 'A01'"),
    "indicator linked to a missing task": (SECOND_TARGETS.replace("tasks: [X02]", "tasks: [X09]"), SECOND_RESP,
                                           "targets.yaml: indicators.1.tasks.0: unknown task 'X09'"),
    "total disagrees with the years": (SECOND_TARGETS.replace("total: 30", "total: 31"), SECOND_RESP,
                                       "targets.yaml: indicators.0.total: 31 disagrees with the sum of the yearly targets, 30"),
    "year outside the plan": (SECOND_TARGETS.replace("{2030: 5, 2031: 5}", "{2030: 5, 2029: 5}"), SECOND_RESP,
                              "targets.yaml: indicators.1.targets.2029: year outside the plan's years"),
    "wrong type": (SECOND_TARGETS.replace("total: 30", "total: thirty"), SECOND_RESP, "targets.yaml: indicators.0.total:"),
    "unknown key": (SECOND_TARGETS.replace("    kind: flow\n    targets: {2030: 10", "    kind: flow\n    colour: red\n    targets: {2030: 10"),
                    SECOND_RESP, "targets.yaml: indicators.0.colour: unknown key"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_bad_config_names_file_key_path_and_exits_2(tmp_path, name):
    targets, resp, expected = BROKEN[name]
    directory = _broken(tmp_path, targets, resp)
    with pytest.raises(ConfigError) as caught:
        load_plan(directory)
    assert any(expected in line for line in caught.value.problems), caught.value.problems
    for args in (["config", "check", "--config", str(directory)], ["targets", "--config", str(directory)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert expected in result.output.replace("\n  ", " ") or expected in (result.stderr or "")


def test_yaml_alias_bomb_and_huge_file_refused_fast(tmp_path):
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
    directory = _broken(tmp_path, bomb, SECOND_RESP)
    with pytest.raises(ConfigError, match="aliases"):
        load_plan(directory)
    (directory / "targets.yaml").write_text("x: " + "y" * (3 * 1024 * 1024), encoding="utf-8")
    with pytest.raises(ConfigError, match="limit"):
        load_plan(directory)
    assert runner.invoke(app, ["config", "check", "--config", str(directory)]).exit_code == 2


def test_missing_config_dir(tmp_path):
    result = runner.invoke(app, ["config", "check", "--config", str(tmp_path / "nowhere"), "--format", "json"])
    assert result.exit_code == 2
    assert "file not found" in json.loads(result.output)["problems"][0]


def test_shipped_config_is_valid_and_in_the_package():
    assert (DEFAULT_CONFIG_DIR / "targets.yaml").is_file()
    result = runner.invoke(app, ["config", "check", "--format", "json"])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert (report["indicators"], report["tasks"], report["key_works"], report["projects"]) == (18, 48, 13, 4)


def test_copy_of_shipped_config_with_a_changed_total_is_refused(tmp_path):
    directory = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, directory)
    path = directory / "targets.yaml"
    text = path.read_text(encoding="utf-8")
    assert "total: 950" in text
    path.write_text(text.replace("total: 950", "total: 951"), encoding="utf-8")
    with pytest.raises(ConfigError, match="951 disagrees"):
        load_plan(directory)
    assert yaml.safe_load(text)["plan"]["end_year"] == 2025
