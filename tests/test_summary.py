"""`lqip summary`: consolidation across returns, filters, the unit score, the CLI and its formats.

Workbooks are built in code by `make_return` (a few lines per case). Targets used below (from the
shipped plan): I01 flow 300/300/350; I03 stock 100000/105000/110000; I06 flow 200 a year;
I07 sum of 市司法局 + 市市场监管局, 100/100/120; I10 single, leads 市市场监管局, 市人行, 市银保监组.
"""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from typer.testing import CliRunner

from lqip.check import check_paths
from lqip.cli import app
from lqip.model import TaskStatus
from lqip.plan import load_plan
from lqip.renderers.summary_formats import COLUMNS, render_csv, table
from lqip.summary import UnknownUnit, View, summarize, unit_score

PLAN = load_plan()
runner = CliRunner()


def make_return(path, unit, year, indicators=(), tasks=(), period=None):
    """A return: 填报信息 (unit, year, period), 指标完成情况 rows (code, value[, year]) with the value in
    column C from row 2, 任务进展 rows (task, status, progress)."""
    book = Workbook()
    info = book.active
    info.title = "填报信息"
    info.append(["填报单位", unit])
    info.append(["报告年度", year])
    if period:
        info.append(["报告期", period])
    if indicators:
        sheet = book.create_sheet("指标完成情况")
        sheet.append(["指标编号", "年度", "完成值"])
        for code, value, *rest in indicators:
            sheet.append([code, rest[0] if rest else year, value])
    if tasks:
        sheet = book.create_sheet("任务进展")
        sheet.append(["任务编号", "进展状态", "完成情况"])
        for row in tasks:
            sheet.append(list(row))
    for sheet in book.worksheets:  # text stays text, even '=cmd()' (openpyxl would make it a formula)
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    book.save(path)
    return path


def run(paths, year=None, unit=None):
    return summarize(check_paths([str(p) for p in paths], PLAN, jobs=1), PLAN, year=year, unit=unit)


def line(summary, indicator, year):
    found = [ln for ln in summary.lines if ln.indicator.id == indicator and ln.score.year == year]
    assert len(found) == 1, (indicator, year, found)
    return found[0]


def record(summary, indicator, year):
    return next(r for r in summary.to_dict()["scores"] if r["indicator"] == indicator and r["year"] == year)


# --- consolidation --------------------------------------------------------------------------------------


def test_sum_adds_parts_and_keeps_them_visible(tmp_path):
    a = make_return(tmp_path / "a.xlsx", "市司法局", 2023, [("I07", 60)])
    b = make_return(tmp_path / "b.xlsx", "乐清市市场监督管理局", 2023, [("I07", 45), ("I01", 320)])
    s = run([a, b])
    i07 = line(s, "I07", 2023)
    assert i07.score.actual == 105 and i07.score.status.value == "pass"
    parts = record(s, "I07", 2023)["units"]
    assert [(p["unit"], p["value"], p["counted"]) for p in parts] == [("市司法局", 60, True), ("市市场监管局", 45, True)]
    assert parts[0]["file"] == str(a) and parts[0]["cell"] == "C2"
    total = record(s, "I07", "total")
    assert total["actual"] == 105 and {p["unit"]: p["value"] for p in total["units"]} == {"市司法局": 60, "市市场监管局": 45}
    # a single indicator is one figure, not a sum
    assert line(s, "I01", 2023).score.actual == 320
    assert not [f for f in s.findings if f.code == "V320"]


def test_sum_with_a_part_missing_names_the_silent_lead(tmp_path):
    a = make_return(tmp_path / "a.xlsx", "市司法局", 2023, [("I07", 60)])
    s = run([a])
    i07 = line(s, "I07", 2023)
    assert i07.score.actual == 60 and i07.score.status.value == "fail"
    assert i07.unreported == ["市市场监管局"]


def test_single_conflict_is_v320_naming_every_source_and_first_lead_stands(tmp_path):
    # the 市人行 file is listed first, yet 市市场监管局 (first lead of I10) stands
    rh = make_return(tmp_path / "a_rh.xlsx", "市人行", 2023, [("I10", 11)])
    scj = make_return(tmp_path / "b_scj.xlsx", "市市场监管局", 2023, [("I01", 300), ("I10", 10.5)])
    s = run([rh, scj])
    i10 = line(s, "I10", 2023)
    assert i10.score.actual == 10.5 and i10.conflict
    conflicts = [f for f in s.findings if f.code == "V320"]
    assert len(conflicts) == 1
    message = conflicts[0].message("en")
    for text in ("市人行 11", str(rh), "指标完成情况!C2", "市市场监管局 10.5", str(scj), "指标完成情况!C3"):
        assert text in message
    assert conflicts[0].severity.value == "error"
    assert (conflicts[0].file, conflicts[0].cell) == (str(rh), "C2")  # located at the figure overruled
    assert s.exit_code() == 1
    assert [(u["unit"], u["counted"]) for u in record(s, "I10", 2023)["units"]] == [("市市场监管局", True), ("市人行", False)]


def test_units_that_agree_are_no_conflict(tmp_path):
    rh = make_return(tmp_path / "a.xlsx", "市人行", 2023, [("I10", 10.5)])
    scj = make_return(tmp_path / "b.xlsx", "市市场监管局", 2023, [("I10", "10.5亿元")])
    s = run([rh, scj])
    assert not [f for f in s.findings if f.code == "V320"]
    assert line(s, "I10", 2023).score.actual == 10.5


def test_same_unit_same_period_in_two_files_is_a_conflict(tmp_path):
    one = make_return(tmp_path / "one.xlsx", "市法院", 2023, [("I06", 180)])
    two = make_return(tmp_path / "two.xlsx", "乐清市人民法院", 2023, [("I06", 210)])
    s = run([one, two])
    conflicts = [f for f in s.findings if f.code == "V320"]
    assert len(conflicts) == 1
    assert str(one) in conflicts[0].message("zh") and str(two) in conflicts[0].message("zh")
    assert line(s, "I06", 2023).score.actual == 180  # the first file listed stands


def test_one_v320_per_indicator_and_year_naming_all_sources(tmp_path):
    a = make_return(tmp_path / "a.xlsx", "市市场监管局", 2023, [("I10", 10.2)])
    b = make_return(tmp_path / "b.xlsx", "市人行", 2023, [("I10", 10.6)])
    c = make_return(tmp_path / "c.xlsx", "市市场监管局", 2023, [("I10", 10.6)])
    s = run([a, b, c])
    conflicts = [f for f in s.findings if f.code == "V320"]
    assert len(conflicts) == 1
    assert all(str(p) in conflicts[0].message("en") for p in (a, b, c))
    assert line(s, "I10", 2023).score.actual == 10.2  # the lead's first-listed return stands


def test_full_year_supersedes_half_year_of_the_same_unit(tmp_path):
    # the H1 file sorts after the FY file: order of reading does not matter, the period does
    fy = make_return(tmp_path / "a_fy.xlsx", "市法院", 2023, [("I06", 190)], period="全年")
    h1 = make_return(tmp_path / "b_h1.xlsx", "市法院", 2023, [("I06", 120)], period="上半年")
    s = run([fy, h1])
    i06 = line(s, "I06", 2023)
    assert (i06.score.actual, i06.score.period.value, i06.score.status.value) == (190, "FY", "fail")
    assert not [f for f in s.findings if f.code == "V320"]
    # the half-year alone is judged against half the target: 120 ≥ 100 is on track
    alone = run([h1])
    assert line(alone, "I06", 2023).score.status.value == "on_track"
    low = make_return(tmp_path / "c_h1.xlsx", "市法院", 2023, [("I06", 80)], period="H1")
    assert line(run([low]), "I06", 2023).score.status.value == "behind"


def test_stock_total_is_latest_year_flow_total_is_the_sum(tmp_path):
    y22 = make_return(tmp_path / "y22.xlsx", "市市场监管局", 2022, [("I01", 290), ("I03", 101000)])
    y23 = make_return(tmp_path / "y23.xlsx", "市市场监管局", 2023, [("I01", 320), ("I03", 104000)])
    s = run([y22, y23])
    assert line(s, "I01", "total").score.actual == 610
    assert line(s, "I03", "total").score.actual == 104000
    assert line(s, "I03", "total").score.status.value == "open"
    assert line(s, "I03", 2023).score.status.value == "fail"  # 104000 < 105000
    assert line(s, "I01", "total").score.elapsed == 0.5
    s22 = run([y22, y23], year=2022)
    assert line(s22, "I01", "total").score.actual == 290
    assert line(s22, "I03", "total").score.actual == 101000
    assert line(s22, "I01", "total").score.elapsed == 0.25


def test_figures_with_an_error_on_their_cell_do_not_count(tmp_path):
    bad = make_return(tmp_path / "bad.xlsx", "市市场监管局", 2023,
                      [("I01", "三百"), ("I08", -1), ("I09", 2.5), ("I04", "2亿元"), ("I13", 16)])
    s = run([bad])
    codes = {f.code for f in s.findings}
    assert {"V303", "V304", "V305", "V306"} <= codes
    for ind in ("I01", "I08", "I09", "I04"):
        assert line(s, ind, 2023).score.status.value == "missing", ind
    assert line(s, "I13", 2023).score.actual == 16


def test_every_indicator_for_every_year_up_to_the_latest_read(tmp_path):
    y23 = make_return(tmp_path / "y23.xlsx", "市法院", 2023, [("I06", 200)])
    s = run([y23])
    assert s.years == [2022, 2023]
    records = s.to_dict()["scores"]
    assert len(records) == len(PLAN.indicators) * 3
    assert record(s, "I01", 2022)["status"] == "missing"
    assert record(s, "I18", 2023)["status"] == "n/a"
    assert {r["year"] for r in records} == {2022, 2023, "total"}


def test_year_filter_keeps_that_year_and_totals_up_to_it(tmp_path):
    y22 = make_return(tmp_path / "y22.xlsx", "市法院", 2022, [("I06", 150)])
    y23 = make_return(tmp_path / "y23.xlsx", "市法院", 2023, [("I06", 200)])
    s = run([y22, y23], year=2023)
    assert {r["year"] for r in s.to_dict()["scores"]} == {2023, "total"}
    assert line(s, "I06", "total").score.actual == 350
    s24 = run([y22, y23], year=2024)  # a year nobody reported yet: every row is there, missing
    assert record(s24, "I06", 2024)["status"] == "missing"
    assert record(s24, "I06", "total")["actual"] == 350
    with pytest.raises(ValueError):
        run([y22], year=2030)


def test_unit_filter_any_alias(tmp_path):
    sfj = make_return(tmp_path / "sfj.xlsx", "市司法局", 2023, [("I07", 60)], [("T21", "推进中", "")])
    fy = make_return(tmp_path / "fy.xlsx", "市法院", 2023, [("I06", "abc")])
    s = run([sfj, fy], unit="乐清市司法局")
    assert s.unit == "市司法局"
    assert {ln.indicator.id for ln in s.lines} == {"I07"}
    assert [c.unit for c in s.units] == ["市司法局"]
    assert {t.task.id for t in s.tasks} == {"T19", "T21", "T22", "T47"}
    assert not [f for f in s.findings if f.file == str(fy)]  # the court's V303 is not 市司法局's
    assert s.exit_code() == 0
    # the county figure does not change with the view
    assert line(s, "I07", 2023).score.actual == 60
    with pytest.raises(UnknownUnit) as exc:
        run([sfj], unit="市司法所局局")
    assert "市司法局" in exc.value.suggestions


def test_unreadable_file_never_stops_the_rest(tmp_path):
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "memo.xlsx").write_text("a note saved with the wrong name")
    for i, unit in enumerate(["市法院", "市司法局", "市科技局", "市人行", "市委宣传部"]):
        make_return(tmp_path / f"r{i}.xlsx", unit, 2023, [])
    make_return(tmp_path / "r9.xlsx", "市法院", 2023, [("I06", 205)])
    report = check_paths([str(tmp_path)], PLAN, jobs=2)  # several files: the parallel path
    s = summarize(report, PLAN)
    assert {f.code for f in s.findings if f.file.endswith(("broken.xlsx", "memo.xlsx"))} <= {"F002", "F003"}
    assert len([f for f in s.findings if f.code.startswith("F")]) == 2
    assert line(s, "I06", 2023).score.actual == 205
    assert s.counts()["unreadable"] == 2 and s.exit_code() == 1


# --- tasks and units ------------------------------------------------------------------------------------


def test_tasks_latest_status_and_who_has_not_reported(tmp_path):
    h1 = make_return(tmp_path / "a.xlsx", "市司法局", 2023, [], [("T21", "未启动", "")], period="上半年")
    fy = make_return(tmp_path / "b.xlsx", "市司法局", 2023, [], [("T21", "已完成", "调解中心已建成"), ("T47", "", "")])
    s = run([h1, fy])
    t21 = next(t for t in s.tasks if t.task.id == "T21")
    assert [(r.unit, r.status) for r in t21.reports] == [("市司法局", TaskStatus.DONE)]
    assert t21.unreported_leads == ["市市场监管局"]
    assert "各乡镇（街道）" in t21.unreported_co
    assert t21.status is TaskStatus.DONE
    t47 = next(t for t in s.tasks if t.task.id == "T47")  # an empty status is not reported
    assert t47.reports == [] and "市司法局" in t47.unreported_leads and t47.status is None


def test_unit_score_formula_hand_computed():
    # two indicators, weights 1 and 2: 80% reached and not reported; two tasks: done, in progress
    score, ind, task = unit_score([(1, 0.8), (2, 0.0)], [TaskStatus.DONE, TaskStatus.IN_PROGRESS])
    assert ind == 26.7 and task == 75.0
    assert score == 41.2  # 100 × (0.7 × 0.2667 + 0.3 × 0.75)
    assert unit_score([], [TaskStatus.BEHIND, None]) == (12.5, None, 12.5)
    assert unit_score([(1, 1.0)], []) == (100.0, 100.0, None)
    assert unit_score([], []) == (None, None, None)
    assert unit_score([(0, 1.0)], [TaskStatus.DONE]) == (100.0, None, 100.0)  # weight 0 leaves it out


def test_unit_card_end_to_end(tmp_path):
    # 市法院 leads I06 (target 200 in 2023) and the tasks T11, T12, T13, T22
    court = make_return(tmp_path / "court.xlsx", "市法院", 2023, [("I06", 150)],
                        [("T11", "已完成", "已设立"), ("T12", "推进中", ""), ("T14", "滞后", "人员不足")])
    s = run([court], year=2023)
    card = next(c for c in s.units if c.unit == "市法院")
    assert card.indicators == ["I06"]
    assert card.statuses == {"fail": 1}
    assert card.lead_tasks == {"done": 1, "in_progress": 1, "not_started": 0, "behind": 0, "unreported": 2}
    assert card.co_tasks["behind"] == 1 and card.co_tasks["unreported"] == 6
    # I = 150 / 200 = 0.75; T = (1 + 0.5 + 0 + 0) / 4 = 0.375; 100 × (0.7 × 0.75 + 0.3 × 0.375) = 63.75
    assert card.indicator_score == 75.0 and card.task_score == 37.5 and card.score == 63.8
    rec = next(u for u in s.to_dict()["units"] if u["unit"] == "市法院")
    assert (rec["pass"], rec["fail"], rec["missing"], rec["score"]) == (0, 1, 0, 63.8)


def test_a_co_lead_that_did_not_report_scores_zero_for_it(tmp_path):
    scj = make_return(tmp_path / "scj.xlsx", "市市场监管局", 2023, [("I10", 12)])
    s = run([scj], year=2023)
    bank = next(c for c in s.units if c.unit == "市银保监组")
    assert bank.statuses == {"pass": 1}  # the county figure passes …
    assert bank.unreported == [{"indicator": "I10", "year": 2023}]  # … but the unit gave none
    assert bank.indicator_score == 0.0


@given(st.lists(st.tuples(st.floats(0, 5), st.floats(0, 1)), max_size=6),
       st.lists(st.sampled_from([*TaskStatus, None]), max_size=6))
def test_unit_score_stays_within_0_and_100(indicators, tasks):
    score, _, _ = unit_score(indicators, tasks)
    assert score is None or 0 <= score <= 100


# --- CLI and formats ------------------------------------------------------------------------------------


def _two_returns(tmp_path):
    a = make_return(tmp_path / "a.xlsx", "市司法局", 2023, [("I07", 60)], [("T21", "推进中", "")])
    b = make_return(tmp_path / "b.xlsx", "市市场监管局", 2023, [("I07", 45), ("I10", 10.5), ("I01", "x")])
    c = make_return(tmp_path / "c.xlsx", "市人行", 2023, [("I10", 11)])
    return [a, b, c]


def test_cli_json_equals_the_library(tmp_path):
    paths = _two_returns(tmp_path)
    result = runner.invoke(app, ["summary", *map(str, paths), "--year", "2023", "--format", "json", "--lang", "en"])
    assert result.exit_code == 1, result.output  # V303 and V320
    data = json.loads(result.stdout)
    expected = json.loads(json.dumps(run(paths, year=2023).to_dict("en"), ensure_ascii=False))
    assert data == expected
    assert {"scores", "units", "issues"} <= set(data)
    for r in data["scores"]:
        assert {"indicator", "year", "target", "actual", "ratio", "status", "units"} <= set(r)
    for u in data["units"]:
        assert {"unit", "indicators", "pass", "fail", "missing", "tasks", "score"} <= set(u)
    assert "V320" in {i["code"] for i in data["issues"]}


def test_cli_unit_filter_and_unknown_unit(tmp_path):
    paths = _two_returns(tmp_path)
    ok = runner.invoke(app, ["summary", *map(str, paths), "--unit", "乐清市司法局", "--format", "json"])
    assert ok.exit_code == 0, ok.output  # the 市场监管局's V303 and the I10 conflict are not 市司法局's
    assert [u["unit"] for u in json.loads(ok.stdout)["units"]] == ["市司法局"]
    bad = runner.invoke(app, ["summary", *map(str, paths), "--unit", "市司法所"])
    assert bad.exit_code == 2
    assert "市司法局" in bad.output


def test_cli_text_views_tell_the_facts(tmp_path):
    paths = _two_returns(tmp_path)
    out = runner.invoke(app, ["summary", *map(str, paths), "--year", "2023", "--lang", "zh"]).stdout
    assert "市司法局 60 + 市市场监管局 45" in out and "V320" in out and "达标" in out
    units = runner.invoke(app, ["summary", *map(str, paths), "--by", "unit", "--lang", "en"]).stdout
    assert "市银保监组" in units and "score" in units
    tasks = runner.invoke(app, ["summary", *map(str, paths), "--by", "task", "--issues", "--lang", "en"]).stdout
    assert "T21" in tasks and "in progress" in tasks and "V303" in tasks
    md = runner.invoke(app, ["summary", *map(str, paths), "--format", "markdown", "--by", "unit"]).stdout
    assert md.startswith("# ") and "| 市司法局 |" in md


def test_csv_round_trips_through_pandas(tmp_path):
    import pandas as pd

    paths = _two_returns(tmp_path)
    summary = run(paths, year=2023)
    for view in (View.INDICATOR, View.UNIT, View.TASK):
        buffer = io.StringIO()
        render_csv(summary, "zh", buffer, view=view)
        frame = pd.read_csv(io.StringIO(buffer.getvalue()), keep_default_na=False, dtype=str)
        assert list(frame.columns) == COLUMNS[view]
        rows = table(summary.to_dict("zh"), view)
        assert len(frame) == len(rows)
        for got, want in zip(frame.to_dict("records"), rows, strict=True):
            for key in COLUMNS[view]:
                value = want[key]
                if isinstance(value, float):
                    assert float(got[key]) == pytest.approx(value, abs=1e-9), key
                else:
                    assert got[key] == ("" if value is None else str(value)), key
    out = tmp_path / "issues.csv"
    result = runner.invoke(app, ["summary", *map(str, paths), "--format", "csv", "--issues", "-o", str(out)])
    assert result.exit_code == 1
    issues = pd.read_csv(out)
    assert list(issues.columns) == COLUMNS["issues"] and "V320" in set(issues["code"])


def test_csv_neutralises_formula_text(tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    make_return(tmp_path / "=cmd().xlsx", "=cmd()镇", 2023, [("I07", 5), ("I01", "abc")])  # a township
    out = runner.invoke(app, ["summary", "=cmd().xlsx", "--format", "csv", "--issues"])
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert set(frame["file"]) == {"'=cmd().xlsx"}
    units = runner.invoke(app, ["summary", "=cmd().xlsx", "--format", "csv", "--year", "2023"]).stdout
    frame = pd.read_csv(io.StringIO(units))
    assert frame.loc[frame["indicator"].eq("I07") & frame["year"].eq("2023"), "units"].item() == "'=cmd()镇 5"


def test_no_overwrite_without_force(tmp_path):
    paths = _two_returns(tmp_path)
    for name in ("card.xlsx", "out.json"):
        target = tmp_path / name
        target.write_text("keep me")
        args = ["summary", *map(str, paths), "--format", "json", "-o", str(target)]
        refused = runner.invoke(app, args)
        assert refused.exit_code == 2 and "--force" in refused.output
        assert target.read_text() == "keep me"
        forced = runner.invoke(app, [*args, "--force"])
        assert forced.exit_code == 1  # written; the returns still have errors
        assert target.read_bytes() != b"keep me"
    assert json.loads((tmp_path / "out.json").read_text())["scores"]


def test_default_returns_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LQIP_RETURNS", raising=False)
    missing = runner.invoke(app, ["summary"])
    assert missing.exit_code == 2
    assert "LQIP_RETURNS" in missing.output and "--returns" in missing.output
    (tmp_path / "returns").mkdir()
    make_return(tmp_path / "returns" / "court.xlsx", "市法院", 2023, [("I06", 210)])
    here = runner.invoke(app, ["summary", "--format", "json"])
    assert here.exit_code == 0 and record_from(here.stdout, "I06", 2023)["actual"] == 210
    other = tmp_path / "elsewhere"
    other.mkdir()
    make_return(other / "court.xlsx", "市法院", 2023, [("I06", 190)])
    monkeypatch.setenv("LQIP_RETURNS", str(other))
    assert record_from(runner.invoke(app, ["summary", "--format", "json"]).stdout, "I06", 2023)["actual"] == 190
    flagged = runner.invoke(app, ["summary", "--returns", str(tmp_path / "returns"), "--format", "json"])
    assert record_from(flagged.stdout, "I06", 2023)["actual"] == 210
    assert runner.invoke(app, ["summary", "--returns", str(tmp_path / "nope")]).exit_code == 2


def record_from(stdout: str, indicator: str, year):
    return next(r for r in json.loads(stdout)["scores"] if r["indicator"] == indicator and r["year"] == year)


def test_bad_options_exit_2(tmp_path):
    paths = _two_returns(tmp_path)
    assert runner.invoke(app, ["summary", str(paths[0]), "--by", "project"]).exit_code == 2
    assert runner.invoke(app, ["summary", str(paths[0]), "--year", "2019"]).exit_code == 2
    assert runner.invoke(app, ["summary", str(paths[0]), "--format", "xml"]).exit_code == 2
