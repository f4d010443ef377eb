"""The ~130 spreadsheets of calamine's test suite (shared/realworld/calamine): none is a return, all
must end with findings. Every file goes through `lqip check` (each format) and `lqip summary` in a
few batched subprocesses: exit code 0 or 1, the output parses, every file has a finding with a code,
no traceback on stderr, bounded time and memory."""

from __future__ import annotations

import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REALWORLD = ROOT.parent / "shared" / "realworld" / "calamine"
sys.path.insert(0, str(ROOT / "scripts"))
import fuzz  # noqa: E402

pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason=f"{REALWORLD} is not there (the shared folder of "
                                "real-world spreadsheets sits beside the repository)")

CODE = re.compile(r"^[FSUVT]\d{3}$")
MEMORY = 1024 * 1024 * 1024


def all_files() -> list[Path]:
    return sorted(p for p in REALWORLD.iterdir() if p.is_file())


def run(*args, isolate=True):
    env = dict(os.environ, LQIP_LANG="en", LQIP_ISOLATE="1" if isolate else "0")
    rc, seconds, rss, out, err = fuzz.run_measured([sys.executable, "-m", "lqip", *map(str, args)], timeout=120, env=env)
    assert rc in (0, 1), (args[:3], rc, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    assert rss < MEMORY, f"peak memory {rss >> 20} MB"
    assert seconds < 60
    return out


@pytest.mark.parametrize("isolate", [True, False], ids=["workers", "in-process"])
def test_every_file_gets_findings(isolate):
    files = all_files()
    assert len(files) > 100
    report = json.loads(run("check", "--format", "json", *files, isolate=isolate))
    assert [f["path"] for f in report["files"]] == [str(p) for p in files]
    for record in report["files"]:
        assert record["issues"], record["path"]
        for issue in record["issues"]:
            assert CODE.match(issue["code"]) and issue["severity"] in ("error", "warning", "info"), issue
            assert issue["message"]
        assert not any("unexpected" in i["message"] or "crashed" in i["message"] for i in record["issues"]), record


def test_known_verdicts():
    """A few files whose verdict is known: encrypted, the denial-of-service .ods, not a workbook."""
    names = ["pass_protected.xlsx", "pass_protected.ods", "issue_594_dos.ods", "LICENSE-MIT.md", "any_sheets.xlsb",
             "vba.xlsm", "OOM_alloc2.xls", "minimal_package.xlsx", "issue_530.xlsx"]
    report = json.loads(run("check", "--format", "json", *(REALWORLD / n for n in names)))
    first = {Path(f["path"]).name: f["issues"][0] for f in report["files"]}
    assert first["pass_protected.xlsx"]["code"] == "F003" and "encrypted" in first["pass_protected.xlsx"]["message"]
    assert first["pass_protected.ods"]["code"] == "F003" and "encrypted" in first["pass_protected.ods"]["message"]
    assert first["issue_594_dos.ods"]["code"] == "F004"
    assert first["LICENSE-MIT.md"]["code"] == "F002"
    assert first["any_sheets.xlsb"]["code"] == "F002"
    for readable in ("vba.xlsm", "OOM_alloc2.xls", "minimal_package.xlsx", "issue_530.xlsx"):
        assert first[readable]["code"] == "S101", (readable, first[readable])  # read: just not a return


def test_directory_walk_and_every_format():
    files = all_files()
    walked = json.loads(run("check", "--format", "json", REALWORLD))
    assert len(walked["files"]) == len([p for p in files if p.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods")])
    lines = run("check", "--format", "lines", *files).splitlines()
    assert lines and all(re.match(r"^.+:[^:]+: [FSUVT]\d{3} ", line) for line in lines)
    assert {line.split(":", 1)[0] for line in lines} == {str(p) for p in files}
    github = run("check", "--format", "github", *files).splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in github[:-1])
    root = ET.fromstring(run("check", "--format", "junit", *files))
    assert len(root.findall("testsuite")) == len(files)
    assert run("check", "--format", "text", *files).strip()


def test_summary_reads_them_all():
    from lqip.cli import app

    if "summary" not in {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}:
        pytest.skip("`lqip summary` is not there yet")
    report = json.loads(run("summary", "--format", "json", *all_files()))
    assert report["issues"]
