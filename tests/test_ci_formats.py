"""The CI gate: the machine formats exactly as promised, exit codes in every format, and the ways a
CI job selects what to check (`--changed-since REF` in a real git repository, paths on stdin)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lqip.cli import app
from lqip.findings import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
FORMATS = ["text", "json", "lines", "github", "junit"]


def make_return(path: Path, value=250, status="已完成", progress="完成审判工作", extra_rows=(), unit="市法院"):
    """A return of 市法院 for 2023: I06 (target 200) and task T11."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    info = wb.create_sheet("填报信息")
    info.append(["填报单位", unit])
    info.append(["报告年度", 2023])
    ind = wb.create_sheet("指标完成情况")
    ind.append(["指标编号", "指标名称", "年度", "计量单位", "目标值", "完成值"])
    ind.append(["I06", "知识产权司法诉讼案件一审审结", 2023, "件", 200, value])
    for row in extra_rows:
        ind.append(list(row))
    tasks = wb.create_sheet("任务进展")
    tasks.append(["任务编号", "进展状态", "完成情况"])
    tasks.append(["T11", status, progress])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@pytest.fixture()
def returns(tmp_path):
    """clean: nothing to say; warn: one warning (T403); target: a failed target only; error: errors,
    with a message holding %, a line break, ':' and ','; its file name holds ',' and ':' too."""
    return {
        "clean": make_return(tmp_path / "clean.xlsx"),
        "warn": make_return(tmp_path / "warn.xlsx", progress=None),
        "target": make_return(tmp_path / "target.xlsx", value=100),
        "error": make_return(tmp_path / "bad, name:1.xlsx", value="12,3:4%x\nnext",
                             extra_rows=[("I06", "知识产权司法诉讼案件一审审结", 2022, "件", None, -3)]),
    }


def check(*args, input=None):
    result = runner.invoke(app, ["check", *map(str, args)], input=input)
    assert "Traceback" not in result.output
    return result


def json_report(*paths, extra=()):
    result = check("--format", "json", "--lang", "en", *extra, *paths)
    return json.loads(result.stdout)


# --- lines ----------------------------------------------------------------------------------------

LINE = re.compile(r"^(?P<path>.+):(?P<where>[^:\n]+): (?P<code>[FSUVT]\d{3}) (?P<message>.+)$")


def test_lines_one_line_per_issue_in_the_json_order(returns):
    paths = [returns["error"], returns["warn"]]
    result = check("--format", "lines", "--lang", "en", *paths)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    issues = [(f["path"], i) for f in json_report(*paths)["files"] for i in f["issues"]]
    assert len(lines) == len(issues) > 0
    for line, (path, issue) in zip(lines, issues, strict=True):
        match = LINE.match(line)
        assert match, line
        assert match["path"] == path
        where = f"{issue['sheet']}!{issue['cell']}" if issue["sheet"] and issue["cell"] else (issue["sheet"] or "-")
        assert match["where"] == where
        assert match["code"] == issue["code"]
        assert match["message"] == issue["message"].replace("\n", "\\n")


def test_lines_keeps_a_line_break_in_a_value_on_one_line(returns):
    out = check("--format", "lines", "--lang", "en", returns["error"]).stdout
    assert "bad, name:1.xlsx:指标完成情况!F2: V303 '12,3:4%x\\nnext' is not a number\n" in out
    assert "bad, name:1.xlsx:指标完成情况!F3: V304 negative value: -3\n" in out


def test_lines_file_name_with_a_line_break_stays_on_one_line(tmp_path):
    odd = tmp_path / "two\nlines.xlsx"
    odd.write_bytes(b"")
    out = check("--format", "lines", "--lang", "en", odd).stdout
    assert out.count("\n") == 1 and "two\\nlines.xlsx:-: F002 " in out


def test_lines_file_level_issue_has_a_dash_for_the_location(tmp_path):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    out = check("--format", "lines", "--lang", "en", empty).stdout
    assert out == f"{empty}:-: F002 not a spreadsheet we read (empty file / 空文件)\n"


# --- github ---------------------------------------------------------------------------------------

COMMAND = re.compile(r"^::(?P<level>error|warning|notice) file=(?P<file>[^,:]*),title=(?P<title>[^,:]*)::(?P<data>.*)$")


def unescape_property(text):
    return text.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def unescape_data(text):
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def test_github_commands_escape_as_the_runner_requires(returns):
    paths = [returns["error"], returns["warn"]]
    result = check("--format", "github", "--lang", "en", *paths)
    assert result.exit_code == 1
    *commands, summary = result.stdout.splitlines()
    issues = [(f["path"], i) for f in json_report(*paths)["files"] for i in f["issues"]]
    assert len(commands) == len(issues)
    for line, (path, issue) in zip(commands, issues, strict=True):
        match = COMMAND.match(line)
        assert match, line
        assert "\r" not in line
        assert match["level"] == {"error": "error", "warning": "warning", "info": "notice"}[issue["severity"]]
        assert unescape_property(match["file"]) == path
        where = f"{issue['sheet']}!{issue['cell']}" if issue["sheet"] and issue["cell"] else issue["sheet"] or ""
        assert unescape_property(match["title"]) == f"{issue['code']} {where}".strip()
        message = issue["message"] + (f"\n{issue['hint']}" if issue.get("hint") else "")
        assert unescape_data(match["data"]) == message
    assert summary == "lqip: 2 file(s), 2 error(s), 1 warning(s)"


def test_github_exact_bytes_of_one_annotation(returns):
    out = check("--format", "github", "--lang", "en", returns["error"]).stdout
    assert (f"::error file={str(returns['error'].parent).replace(':', '%3A').replace(',', '%2C')}/bad%2C name%3A1.xlsx,"
            "title=V303 指标完成情况!F2::'12,3:4%25x%0Anext' is not a number%0Awrite a number such as 300, 1,000 or 8.5\n"
            ) in out


def test_github_paths_are_relative_to_the_workspace(returns, monkeypatch):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(returns["warn"].parent))
    out = check("--format", "github", "--lang", "en", returns["warn"].resolve()).stdout
    assert out.startswith("::warning file=warn.xlsx,title=T403 任务进展!C2::")


def test_github_file_level_issue_title_is_the_code(tmp_path):
    pdf = tmp_path / "scan.xlsx"
    pdf.write_bytes(b"%PDF-1.7\n")
    out = check("--format", "github", "--lang", "en", pdf).stdout
    assert "title=F002::not a spreadsheet we read (a PDF file / PDF 文件)%0Asave it as .xlsx" in out


# --- junit ----------------------------------------------------------------------------------------

ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def _int(element, name):
    value = element.get(name)
    assert value is not None and re.fullmatch(r"\d+", value), f"{element.tag}@{name}={value!r}"
    return int(value)


def _decimal(element, name):
    value = element.get(name)
    assert value is not None, f"{element.tag}@{name} missing"
    Decimal(value)


def validate_junit(text: str) -> ET.Element:
    """The rules of the Jenkins/Ant JUnit schema, checked structurally (no XSD validator installed):
    testsuites > testsuite(name, tests, failures, errors, skipped, time, timestamp, hostname) >
    properties?, testcase(name, classname, time)*, system-out?, system-err?; a testcase holds
    failure(message, type)*, error*, skipped?, system-out?, system-err?; the counts add up."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root:
        assert suite.tag == "testsuite"
        assert suite.get("name")
        for key in ("tests", "failures", "errors", "skipped"):
            _int(suite, key)
        _decimal(suite, "time")
        assert ISO_TIMESTAMP.match(suite.get("timestamp", "")), suite.get("timestamp")
        assert suite.get("hostname")
        order = [child.tag for child in suite]
        allowed = ["properties", "testcase", "system-out", "system-err"]
        assert order == sorted(order, key=allowed.index), order
        cases = suite.findall("testcase")
        failures = 0
        for case in cases:
            assert case.get("name") and case.get("classname") is not None
            _decimal(case, "time")
            for child in case:
                assert child.tag in ("failure", "error", "skipped", "system-out", "system-err"), child.tag
                if child.tag in ("failure", "error"):
                    assert child.get("message") and child.get("type")
                    failures += child.tag == "failure"
        assert _int(suite, "tests") == len(cases)
        assert _int(suite, "failures") == failures
        for prop in suite.findall("properties/property"):
            assert prop.get("name") and prop.get("value") is not None
        for key in totals:
            totals[key] += _int(suite, key)
    for key, value in totals.items():
        assert _int(root, key) == value
    return root


def test_junit_one_suite_per_file_one_case_per_code(returns):
    paths = [returns["error"], returns["warn"], returns["clean"]]
    result = check("--format", "junit", "--lang", "en", *paths)
    assert result.exit_code == 1
    root = validate_junit(result.stdout)
    report = json_report(*paths)
    codes = [c for c in CATALOGUE if c != "V320"]
    assert [s.get("name") for s in root] == [f["path"] for f in report["files"]]
    for suite, file in zip(root, report["files"], strict=True):
        cases = suite.findall("testcase")
        assert [c.get("name").split()[0] for c in cases] == codes
        assert {c.get("classname") for c in cases} == {file["path"]}
        failed = {(f.get("message").split()[0], f.get("type"), f.get("message").split()[1].rstrip(":"))
                  for c in cases for f in c.findall("failure")}
        expected = {(i["code"], i["severity"], f"{i['sheet']}!{i['cell']}") for i in file["issues"]
                    if i["severity"] != "info"}
        assert failed == expected
        for case in cases:  # each failure sits in its own code's testcase
            for failure in case.findall("failure"):
                assert failure.get("message").startswith(case.get("name").split()[0] + " ")


def test_junit_survives_control_characters_and_undecodable_names(tmp_path):
    """A cell holding _x0001_ (an escaped control character) and a file name that is not UTF-8 still
    make well-formed XML, and JSON that is valid UTF-8."""
    import zipfile

    good = make_return(tmp_path / "src.xlsx", value="bad")
    weird = tmp_path / "ctrl.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(weird, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = re.sub(rb'<c r="F2"[^>]*>.*?</c>', b'<c r="F2" t="inlineStr"><is><t>x_x0001_y_x000B_z</t></is></c>', data)
            out.writestr(info, data)
    good.unlink()
    undecodable = Path(os.fsdecode(bytes(tmp_path) + b"/\xff\xfe.xlsx"))
    make_return(undecodable)
    env = dict(os.environ, LQIP_LANG="en")
    for fmt in ("junit", "json", "lines", "github"):
        done = subprocess.run([sys.executable, "-m", "lqip", "check", "--format", fmt, str(tmp_path)], capture_output=True,
                              env=env, cwd=ROOT, timeout=60)
        assert done.returncode == 1, done.stderr
        text = done.stdout.decode("utf-8")  # valid UTF-8
        assert b"Traceback" not in done.stderr
        if fmt == "junit":
            root = validate_junit(text)
            assert "x y z" not in text and "xyz" in text
            assert any("\ufffd" in s.get("name") for s in root)
        elif fmt == "json":
            assert any("\ufffd" in f["path"] for f in json.loads(text)["files"])
        elif fmt == "lines":
            assert all(LINE.match(line) for line in text.splitlines())


# --- exit codes, in every format --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_exit_codes_in_every_format(fmt, returns, tmp_path):
    cases = [
        ((returns["clean"],), 0),
        ((returns["error"],), 1),
        ((returns["warn"],), 0),
        (("--strict", returns["warn"]), 1),
        ((returns["target"],), 0),
        (("--fail-on-target", returns["target"]), 1),
        (("--fail-on-target", returns["clean"]), 0),
        (("--strict", returns["clean"]), 0),
        ((tmp_path / "missing.xlsx",), 1),  # F001 is a finding, not a usage error
        (("--lang", "fr", returns["clean"]), 2),
        (("--max-rows", "not-a-number", returns["clean"]), 2),
        ((), 2),  # no paths
        (("--config", tmp_path / "no-config", returns["clean"]), 2),
    ]
    for args, code in cases:
        result = check("--format", fmt, *args)
        assert result.exit_code == code, (fmt, args, result.output)


def test_unknown_format_is_a_usage_error(returns):
    assert check("--format", "xml", returns["clean"]).exit_code == 2


def test_bad_config_exits_2_in_every_format(returns, tmp_path):
    bad = tmp_path / "config"
    bad.mkdir()
    (bad / "targets.yaml").write_text("plan: [1, 2\n", encoding="utf-8")
    (bad / "responsibilities.yaml").write_text("units: []\n", encoding="utf-8")
    for fmt in FORMATS:
        result = check("--format", fmt, "--config", bad, returns["clean"])
        assert result.exit_code == 2, (fmt, result.output)


# --- selecting what to check: --changed-since and stdin --------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.org", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_SYSTEM=os.devnull)
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture()
def repo(tmp_path, monkeypatch):
    """A git repository with two commits: the second changes, adds, renames and deletes returns."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    make_return(repo / "returns" / "unchanged.xlsx")
    make_return(repo / "returns" / "edited.xlsx")
    make_return(repo / "returns" / "to_rename.xlsx")
    make_return(repo / "returns" / "to_delete.xlsx")
    (repo / "notes.txt").write_text("v1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    base = git(repo, "rev-parse", "HEAD").strip()
    make_return(repo / "returns" / "edited.xlsx", value=-1)
    make_return(repo / "returns" / "新 单位" / "added.xlsx")
    git(repo, "mv", "returns/to_rename.xlsx", "returns/renamed.xlsx")
    git(repo, "rm", "-q", "returns/to_delete.xlsx")
    (repo / "notes.txt").write_text("v2\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    make_return(repo / "returns" / "untracked.xlsx")
    monkeypatch.chdir(repo)
    return repo, base


def checked(result) -> list[str]:
    return sorted(f["path"] for f in json.loads(result.stdout)["files"])


def test_changed_since_checks_only_what_changed(repo):
    _, base = repo
    result = check("--format", "json", "--changed-since", base)
    assert checked(result) == ["returns/edited.xlsx", "returns/renamed.xlsx", "returns/新 单位/added.xlsx"]
    assert result.exit_code == 1  # edited.xlsx now has a negative value


def test_changed_since_within_a_path(repo):
    _, base = repo
    result = check("--format", "json", "--changed-since", base, "returns/新 单位")
    assert checked(result) == ["returns/新 单位/added.xlsx"]
    assert result.exit_code == 0


def test_changed_since_from_a_subdirectory(repo, monkeypatch):
    root, base = repo
    monkeypatch.chdir(root / "returns")
    result = check("--format", "json", "--changed-since", base)
    assert checked(result) == ["edited.xlsx", "renamed.xlsx", "新 单位/added.xlsx"]


def test_changed_since_nothing_changed_is_a_pass(repo):
    result = check("--format", "github", "--changed-since", "HEAD")
    assert result.exit_code == 0
    assert result.stdout == "lqip: 0 file(s), 0 error(s), 0 warning(s)\n"


def test_changed_since_null_ref_means_every_tracked_workbook(repo):
    result = check("--format", "json", "--changed-since", "0" * 40)
    assert checked(result) == ["returns/edited.xlsx", "returns/renamed.xlsx", "returns/unchanged.xlsx",
                               "returns/新 单位/added.xlsx"]


def test_changed_since_bad_ref_or_no_repository_is_a_usage_error(repo, tmp_path, monkeypatch):
    result = check("--format", "json", "--changed-since", "no-such-ref")
    assert result.exit_code == 2
    assert "fetch-depth" in result.output
    evil = tmp_path / "written-by-git"
    result = check("--format", "json", f"--changed-since=--output={evil}")
    assert result.exit_code == 2 and not evil.exists()
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert check("--format", "json", "--changed-since", "HEAD").exit_code == 2


def test_paths_from_stdin(repo):
    result = check("--format", "json", "-", input="returns/unchanged.xlsx\n\n# a comment\nreturns/edited.xlsx\n")
    assert checked(result) == ["returns/edited.xlsx", "returns/unchanged.xlsx"]
    assert result.exit_code == 1


def test_git_diff_piped_to_stdin(repo):
    _, base = repo
    names = git(repo[0], "diff", "--name-only", "-z", "--diff-filter=ACMR", base, "--", "*.xlsx")
    result = check("--format", "json", "-", input=names)
    assert checked(result) == ["returns/edited.xlsx", "returns/renamed.xlsx", "returns/新 单位/added.xlsx"]


def test_stdin_and_changed_since_together(repo):
    _, base = repo
    result = check("--format", "json", "--changed-since", base, "-", input="returns/unchanged.xlsx\nreturns/edited.xlsx\n")
    assert checked(result) == ["returns/edited.xlsx"]


def test_stdin_path_that_does_not_exist_is_f001(repo):
    result = check("--format", "json", "-", input="returns/gone.xlsx\n")
    files = json.loads(result.stdout)["files"]
    assert [i["code"] for i in files[0]["issues"]] == ["F001"]
    assert result.exit_code == 1


def test_empty_stdin_is_nothing_to_check(repo):
    assert check("--format", "json", "-", input="").exit_code == 0


# --- the shipped integrations ------------------------------------------------------------------------

EXAMPLES = ROOT / "examples" / "ci"


def test_pre_commit_hook_definition():
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "lqip-check")
    assert hook["entry"] == "lqip check --format lines"
    assert hook["language"] == "python"
    assert hook["files"] == r"\.(xlsx|xlsm|xls|ods)$"
    assert hook["types"] == ["file"]
    assert hook.get("pass_filenames") is not False  # pre-commit appends the staged names


def test_pre_commit_hook_as_pre_commit_runs_it(returns):
    """pre-commit runs `entry` + the staged file names matching `files`: 0 when clean, 1 on errors,
    one `path:sheet!cell: CODE message` line per finding."""
    import yaml

    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]
    staged = [returns["clean"], returns["warn"], ROOT / "README.md"]
    names = [str(p) for p in staged if re.search(hook["files"], str(p))]
    assert len(names) == 2
    entry = hook["entry"].split()
    assert entry[0] == "lqip"
    result = check(*entry[2:], *names)
    assert result.exit_code == 0 and LINE.match(result.stdout.splitlines()[0])
    result = check(*entry[2:], returns["error"])
    assert result.exit_code == 1


def _lqip_commands(text: str) -> list[list[str]]:
    import shlex

    commands = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0] if "lqip check" in line else line
        if "lqip check" in line and not line.lstrip().startswith(("#", "//")):
            command = line[line.index("lqip check"):]
            command = command.split(">")[0].split("||")[0].split('"""')[0]
            commands.append(shlex.split(command.replace("\\$", "$")))
    return commands


@pytest.mark.parametrize("name", ["github-validate-returns.yml", "gitlab-ci.yml", "Jenkinsfile"])
def test_ci_examples_use_real_options(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    commands = _lqip_commands(text)
    assert commands, name
    help_text = check("--help").stdout
    for command in commands:
        for token in command[2:]:
            if token.startswith("--"):
                assert token in help_text, (name, token)
    formats = {c[c.index("--format") + 1] for c in commands}
    assert formats & {"github", "junit"}
    if name.endswith(".yml"):
        import yaml

        assert isinstance(yaml.safe_load(text), dict)


def test_github_workflow_step_in_a_repository(repo):
    """The workflow's command as the runner executes it, for a push (BASE = the commit before) and
    for a first push or a manual run (BASE = forty zeros)."""
    _, base = repo
    result = check("--format", "github", "--lang", "zh", "--changed-since", base, "returns")
    assert result.exit_code == 1
    annotated = {COMMAND.match(line)["file"] for line in result.stdout.splitlines()[:-1]}
    assert annotated == {"returns/edited.xlsx"}
    result = check("--format", "github", "--lang", "zh", "--changed-since", "0" * 40, "returns")
    assert result.stdout.splitlines()[-1].startswith("lqip: 4 file(s)")
