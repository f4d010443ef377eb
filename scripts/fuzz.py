#!/usr/bin/env python3
"""Byte-level fuzzer for `lqip check`: mutate small valid returns and hold lqip to its invariant.

The invariant: whatever the bytes, `lqip check --format json` ends with exit code 0 or 1, valid JSON
that gives every file at least one finding with a code, no Python traceback, within a time bound,
and without using more than a memory bound (the peak resident set of the process tree).

Seeds are a handful of valid returns built here in code (.xlsx, .xlsm with a macro part, .xls,
.ods). Each iteration takes a seed and applies one to three mutations chosen by a random generator
seeded with (seed, iteration), so any failing input is reproduced from its number alone:
bit flips, random bytes, truncation, inserted junk, and for zip containers swapped, duplicated or
removed parts, random bytes written into an XML part, a part whose declared size lies, and XML
edits aimed at the reader's guards (huge cell references, repeat counts, long text, a DTD).

Mutants are checked in batches, in-process (LQIP_ISOLATE=0) so that a crash of a native reader is
seen, not absorbed by worker isolation. A failing batch is re-run file by file to name the culprit;
culprits are written to --keep (default tests/regressions/) as regression inputs.

    python scripts/fuzz.py                         # 2 000 mutations
    python scripts/fuzz.py --iterations 20000      # the long run (a few minutes on 2 cores)
    python scripts/fuzz.py --seed 7 --iterations 500 --keep /tmp/crashes

Importable: `seed_returns(dir)`, `mutate(data, rng)`, `run_batch(paths)` and `fuzz(...)` are used by
tests/test_fuzz.py for the short run of the normal test suite.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMORY_BOUND = 1024 * 1024 * 1024  # bytes of peak resident set, for the whole lqip process tree
TIME_PER_FILE = 10.0  # seconds a mutant may take, on average over its batch
VALID_RC = {0, 1}

# --- seeds: small valid returns, built in code -----------------------------------------------------

INFO = [["填报单位", "市法院"], ["报告年度", 2023], ["报告期", "全年"], ["填报人", "张三"]]
INDICATORS = [
    ["2023年指标完成情况（市法院）"],
    ["指标编号", "指标名称", "年度", "计量单位", "目标值", "完成值", "备注"],
    ["I06", "知识产权司法诉讼案件一审审结", 2023, "件", 200, 250, "审判系统"],
    ["I01", "发明专利授权量", 2023, "件", 300, "1,000", ""],
]
TASKS = [
    ["任务编号", "进展状态", "完成情况"],
    ["T11", "已完成", "完善“三合一”审判工作"],
    ["T12", "推进中", "数字法院改革"],
]
SHEETS = {"填报信息": INFO, "指标完成情况": INDICATORS, "任务进展": TASKS}


def _xlsx(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in SHEETS.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    ws = wb["指标完成情况"]
    ws.merge_cells("A1:G1")
    wb.save(path)


def _xlsm(path: Path) -> None:
    """The .xlsx seed with a (fake) macro project part, as Excel stores one: read, never run."""
    buffer = io.BytesIO()
    _xlsx(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/'
                                    b'vnd.ms-office.vbaProject"/></Types>')
            out.writestr(info, data)
        out.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"Attribute VB_Name")


def _xls(path: Path) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    for name, rows in SHEETS.items():
        ws = wb.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value not in (None, ""):
                    ws.write(r, c, value)
    wb.save(str(path))


def _ods(path: Path) -> None:
    from odf.element import Element
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    # odfpy declares every namespace any document of the process has used (a dict shared by all
    # elements): start from none, so the bytes do not depend on what was written before
    Element.namespaces.clear()
    doc = OpenDocumentSpreadsheet()
    for name, rows in SHEETS.items():
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if isinstance(value, (int, float)):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))


SEED_BUILDERS = {"seed.xlsx": _xlsx, "seed.xlsm": _xlsm, "seed.xls": _xls, "seed.ods": _ods}
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?")


def _same_bytes_every_time(path: Path) -> None:
    """Writers stamp the time into zip entries and document properties: fix them, so that mutant i
    of a seed is the same file on every machine and every day."""
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as src:
        parts = [(i, src.read(i.filename)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w") as out:
        for info, data in parts:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2023, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            if info.filename.endswith(("core.xml", "meta.xml")):
                data = _STAMP.sub(b"2023-01-01T00:00:00Z", data)
            out.writestr(fixed, data)


def seed_returns(directory: Path) -> list[Path]:
    """Write the seed returns into `directory` (the same bytes every time); they check without errors."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, build in SEED_BUILDERS.items():
        path = directory / name
        if not path.exists():
            build(path)
            _same_bytes_every_time(path)
        out.append(path)
    return out


# --- mutations -------------------------------------------------------------------------------------


def _bit_flips(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def _random_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    start = rng.randrange(len(buf))
    for i in range(start, min(len(buf), start + rng.randint(1, 64))):
        buf[i] = rng.randrange(256)
    return bytes(buf)


def _interesting(data: bytes, rng: random.Random) -> bytes:
    """Overwrite a 2- or 4-byte field with a boundary value (sizes, counts, sector numbers)."""
    buf = bytearray(data)
    i = rng.randrange(max(1, len(buf) - 4))
    value = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF, 0xFFFFFFFF, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFA])
    width = rng.choice([2, 4])
    buf[i:i + width] = value.to_bytes(8, "little")[:width]
    return bytes(buf)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def _insert(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data) + 1)
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 256)))
    return data[:i] + junk + data[i:]


def _zip_rewrite(data: bytes, rng: random.Random) -> bytes:
    """Rebuild the zip with its parts swapped, duplicated, removed or edited."""
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        parts = [(i, src.read(i.filename)) for i in src.infolist()]
    except Exception:  # noqa: BLE001 - not a zip (any more): fall back to a byte mutation
        return _random_bytes(data, rng)
    if not parts:
        return data
    action = rng.choice(["swap", "duplicate", "remove", "order", "stored"] + ["xml_bytes"] * 4 + ["xml_edit"] * 5)
    if action == "swap" and len(parts) > 1:
        a, b = rng.sample(range(len(parts)), 2)
        (ia, da), (ib, db) = parts[a], parts[b]
        parts[a], parts[b] = (ia, db), (ib, da)
    elif action == "duplicate":
        parts.append(rng.choice(parts))
    elif action == "remove":
        parts.pop(rng.randrange(len(parts)))
    elif action == "order":
        rng.shuffle(parts)
    elif action in ("xml_bytes", "xml_edit"):
        xml = [k for k, (i, _) in enumerate(parts) if i.filename.endswith((".xml", ".rels"))]
        if xml:
            k = rng.choice(xml)
            info, body = parts[k]
            if action == "xml_bytes" and body:
                body = rng.choice(BYTE_MUTATORS)(body, rng)
            else:
                body = _xml_edit(body, rng)
            parts[k] = (info, body)
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if action == "stored" else zipfile.ZIP_DEFLATED
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point
        with zipfile.ZipFile(out, "w", method) as z:
            for info, body in parts:
                z.writestr(info.filename, body)
    return out.getvalue()


_XML_EDITS = [
    (rb'r="([A-Z]+)(\d+)"', lambda m, rng: b'r="%s%d"' % (rng.choice([b"XFD", b"ZZ", b"A", b"AAA"]),
                                                            rng.choice([1048576, 99999, 1, 4294967295]))),
    (rb'<row r="\d+"', lambda m, rng: b'<row r="%d"' % rng.choice([0, 1048576, 500000, 4294967296])),
    (rb'table:number-columns-repeated="\d+"|<table:table-cell',
     lambda m, rng: b'<table:table-cell table:number-columns-repeated="%d"' % rng.choice([16384, 99999999, 0])),
    (rb"<table:table-row", lambda m, rng: b'<table:table-row table:number-rows-repeated="%d"'
     % rng.choice([1048576, 99999999, 2])),
    (rb"<t>|<t ", lambda m, rng: m.group(0) + b"x" * rng.choice([10, 40000, 200000])),
    (rb"<\?xml[^>]*\?>", lambda m, rng: m.group(0) + b'<!DOCTYPE x [<!ENTITY a "aaaa">]>'),
    (rb"<mergeCell ref=\"[^\"]*\"", lambda m, rng: b'<mergeCell ref="A1:XFD1048576"'),
    (rb"</sheetData>", lambda m, rng: b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'),
]


def _xml_edit(body: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.15:
        return re.sub(rb' r="[A-Z]+\d+"', b"", body)  # cells placed by order, not by reference
    pattern, make = rng.choice(_XML_EDITS)
    matches = list(re.finditer(pattern, body))
    if not matches:
        return _insert(body, rng) if body else body
    m = rng.choice(matches)
    return body[: m.start()] + make(m, rng) + body[m.end():]


def _lying_size(data: bytes, rng: random.Random) -> bytes:
    """Shrink a part's declared uncompressed size in the local and central headers."""
    positions = [m.start() for m in re.finditer(rb"PK\x01\x02", data)] + [m.start() for m in re.finditer(rb"PK\x03\x04", data)]
    if not positions:
        return _interesting(data, rng)
    buf = bytearray(data)
    p = rng.choice(positions)
    offset = 24 if buf[p + 2:p + 4] == b"\x01\x02" else 22
    if p + offset + 4 <= len(buf):
        buf[p + offset:p + offset + 4] = rng.choice([1, 16, 0xFFFFFFFF]).to_bytes(4, "little")
    return bytes(buf)


BYTE_MUTATORS = [_bit_flips, _random_bytes, _interesting, _truncate, _insert]
ZIP_MUTATORS = [_zip_rewrite, _zip_rewrite, _zip_rewrite, _lying_size]


def _past_header(mutator):
    """An OLE file's header and first sectors hold its map: mutate what follows more often."""
    def mutated(data: bytes, rng: random.Random) -> bytes:
        if len(data) <= 2048:
            return mutator(data, rng)
        return data[:1536] + mutator(data[1536:], rng)
    return mutated


OLE_MUTATORS = [_past_header(m) for m in (_bit_flips, _random_bytes, _interesting, _insert)]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three mutations: mostly inside the parts for a zip, past the header for an OLE file."""
    for _ in range(rng.randint(1, 3)):
        if not data:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
            continue
        if data[:2] == b"PK" and rng.random() < 0.8:
            pool = ZIP_MUTATORS
        elif data[:4] == b"\xd0\xcf\x11\xe0" and rng.random() < 0.8:
            pool = OLE_MUTATORS
        else:
            pool = BYTE_MUTATORS
        data = rng.choice(pool)(data, rng)
    return data


def mutants(seeds: list[Path], out_dir: Path, seed: int, start: int, count: int) -> list[Path]:
    """Write mutants number start..start+count-1 into out_dir; mutant i is the same for a given seed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = [(p.suffix, p.read_bytes()) for p in seeds]
    paths = []
    for i in range(start, start + count):
        rng = random.Random(f"{seed}:{i}")
        suffix, data = corpus[rng.randrange(len(corpus))]
        path = out_dir / f"m{seed}_{i:06d}{suffix}"
        path.write_bytes(mutate(data, rng))
        paths.append(path)
    return paths


# --- running lqip ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    rc: int | None
    seconds: float
    max_rss: int  # bytes, peak of the process tree
    stdout: str
    stderr: str
    problems: list[str] = field(default_factory=list)
    soft: list[str] = field(default_factory=list)  # the invariant held, but a finding shows a bug


# Linux keeps a process's peak RSS across exec, and a child forked from a big process (pytest) starts
# with the parent's peak: lqip is started by a small launcher, whose own child is measured by wait4.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_measured(args: list[str], timeout: float, env: dict | None = None) -> tuple[int | None, float, int, str, str]:
    """Run `args` (cwd: the repository; args[0] an absolute executable); returns (exit code, or None on
    timeout, seconds, peak resident bytes of the process and the workers it waited for, stdout, stderr).
    A timeout kills the whole process group."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rusage") as usage:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, usage.name, *args], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, env=env, cwd=str(ROOT), start_new_session=True)
        try:
            proc.wait(timeout=timeout)
            rc, rss = (int(x) for x in (open(usage.name).read().split() or ["-1", "0"]))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            rc, rss = None, 0
        out.seek(0)
        err.seek(0)
        return rc, time.monotonic() - start, rss * 1024, out.read().decode("utf-8", "replace"), \
            err.read().decode("utf-8", "replace")


def run_batch(paths: list[Path], timeout: float | None = None, isolate: bool = False) -> Outcome:
    """`lqip check --format json` over `paths` in a subprocess; the invariant checked on the result."""
    env = dict(os.environ, LQIP_ISOLATE="1" if isolate else "0", LQIP_LANG="en", PYTHONDONTWRITEBYTECODE="1")
    timeout = timeout or 20 + TIME_PER_FILE * len(paths)
    args = [sys.executable, "-m", "lqip", "check", "--format", "json", *map(str, paths)]
    rc, seconds, rss, stdout, stderr = run_measured(args, timeout, env)
    outcome = Outcome(rc, seconds, rss, stdout, stderr)
    problems = outcome.problems
    if rc is None:
        problems.append(f"no answer within {timeout:.0f} s")
    elif rc not in VALID_RC:
        problems.append(f"exit code {rc}")
    if "Traceback" in stderr:
        problems.append("a traceback on stderr")
    if rss > MEMORY_BOUND:
        problems.append(f"peak memory {rss // 2**20} MB")
    try:
        report = json.loads(stdout)
        files = {f["path"]: f for f in report["files"]}
    except (ValueError, KeyError, TypeError):
        if rc in VALID_RC:
            problems.append("stdout is not the JSON report")
        return outcome
    for path in map(str, paths):
        record = files.get(path)
        if record is None:
            problems.append(f"{path}: missing from the report")
        elif not record["issues"] and not record.get("scores"):
            problems.append(f"{path}: no finding")
        else:
            for issue in record["issues"]:
                if not re.fullmatch(r"[FSUVT]\d{3}", str(issue.get("code", ""))):
                    problems.append(f"{path}: an issue without a code: {issue}")
                if issue.get("code") == "F003" and re.search(r"unexpected|crashed", issue.get("message", "")):
                    outcome.soft.append(f"{path}: {issue['message']}")
    return outcome


def _file_problems(path: Path) -> list[str]:
    single = run_batch([path], timeout=60)
    return single.problems + [f"(soft) {s}" for s in single.soft]


@dataclass
class FuzzResult:
    iterations: int = 0
    seconds: float = 0.0
    max_rss: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)  # kept file -> problems
    soft: dict[str, list[str]] = field(default_factory=dict)


def fuzz(iterations: int, seed: int = 0, batch: int = 50, work: Path | None = None, keep: Path | None = None,
         log=print) -> FuzzResult:
    """Run `iterations` mutants in batches; returns what failed (and where the inputs were kept)."""
    result = FuzzResult()
    started = time.monotonic()
    own_work = work is None
    work = Path(work or tempfile.mkdtemp(prefix="lqip-fuzz-"))
    try:
        seeds = seed_returns(work / "seeds")
        baseline = run_batch(seeds)
        if baseline.problems or baseline.soft:
            raise RuntimeError(f"the seeds themselves fail: {baseline.problems + baseline.soft}")
        for start in range(0, iterations, batch):
            count = min(batch, iterations - start)
            directory = work / f"batch{start:06d}"
            paths = mutants(seeds, directory, seed, start, count)
            outcome = run_batch(paths)
            result.iterations += count
            result.max_rss = max(result.max_rss, outcome.max_rss)
            culprits: dict[Path, list[str]] = {}
            if outcome.problems:  # name the culprits: each file alone
                for path in paths:
                    found = _file_problems(path)
                    if any(not p.startswith("(soft)") for p in found):
                        culprits[path] = found
                if not culprits:
                    culprits[directory] = outcome.problems  # only together: keep the batch
            for line in outcome.soft:
                culprits.setdefault(Path(line.split(": ", 1)[0]), []).append(f"(soft) {line}")
            for path, problems in culprits.items():
                kept = _keep(path, keep) if keep else path
                hard = any(not p.startswith("(soft)") for p in problems)
                (result.failures if hard else result.soft)[str(kept)] = problems
                log(f"FAIL {kept}: {'; '.join(problems)}")
            if not culprits:
                shutil.rmtree(directory, ignore_errors=True)
            log(f"{result.iterations}/{iterations} mutants, {time.monotonic() - started:.0f} s, batch peak "
                f"{outcome.max_rss // 2**20} MB (max {result.max_rss // 2**20}), {len(result.failures)} failing, "
                f"{len(result.soft)} soft")
    finally:
        if own_work and not (result.failures or result.soft):
            shutil.rmtree(work, ignore_errors=True)
    result.seconds = time.monotonic() - started
    return result


def _keep(path: Path, keep: Path) -> Path:
    keep.mkdir(parents=True, exist_ok=True)
    target = keep / path.name
    if path.is_dir():
        shutil.copytree(path, target, dirs_exist_ok=True)
    else:
        shutil.copy2(path, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", "-n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="mutant i is the same for the same seed")
    parser.add_argument("--batch", type=int, default=50, help="mutants per lqip run")
    parser.add_argument("--keep", type=Path, default=ROOT / "tests" / "regressions",
                        help="where failing inputs are copied (default tests/regressions/)")
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one)")
    args = parser.parse_args(argv)
    result = fuzz(args.iterations, args.seed, args.batch, args.work, args.keep)
    print(f"{result.iterations} mutants in {result.seconds:.0f} s, peak memory {result.max_rss // 2**20} MB: "
          f"{len(result.failures)} failing, {len(result.soft)} soft (a finding names an unexpected error)")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
