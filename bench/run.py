"""lqip's benchmark (issue 7): whole processes timed against a floor and a peer, in one run.

    python bench/run.py            # full: 1 typical return, 1,000 returns, 100,000 rows; 5 rounds
    python bench/run.py --quick    # smoke: 60 returns, 10,000 rows, 2 rounds
    python bench/run.py --runs 9

Builds the corpora (bench/corpus.py, cached under bench/out/), times every command as a whole process
started by bench/spawn.py (one warm-up each, its output inspected, then N rounds of every command in
turn: median wall time, peak RSS and CPU/wall of the child and the children it waited for), prints one table with each figure's ratio to its floor and its peer,
checks the goals of docs/performance.md and writes bench/out/results.json and results.md
(results-quick.* for --quick).

The peer is frictionless-py, installed in bench/.venv-peer on the first run (python -m venv + pip);
when that is impossible the peer rows and ratios say n/a and the run goes on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PEER_VENV = BENCH / ".venv-peer"
PEER_REQUIREMENT = "frictionless[excel]"
sys.path.insert(0, str(BENCH))

import corpus  # noqa: E402

FULL = {"returns": 1000, "rows": 100_000, "runs": 5}
QUICK = {"returns": 60, "rows": 10_000, "runs": 2}
OK_EXITS = (0, 1)  # 1 = the checker found problems in the data: a normal outcome here
HEAVY_MODULES = ("pandas", "openpyxl")


@dataclass
class Case:
    key: str
    label: str
    cmd: list[str]
    floor: str | None = None  # key of the row this one is divided by
    peer: str | None = None
    note: str = ""
    inspect: object = None  # bytes (the warm-up's stdout) -> a short note; raises when wrong


@dataclass
class Result:
    key: str
    label: str
    command: str
    floor: str | None
    peer: str | None
    walls: list[float] = field(default_factory=list)
    peaks_mb: list[float] = field(default_factory=list)
    cpu_wall: list[float] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    skipped: str = ""  # why the row has no figures
    error: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.walls) and not self.error and not self.skipped

    @property
    def median(self) -> float | None:
        return statistics.median(self.walls) if self.ok else None

    @property
    def peak(self) -> float | None:
        return max(self.peaks_mb) if self.ok else None

    @property
    def cpu(self) -> float | None:
        return statistics.median(self.cpu_wall) if self.ok else None

    def record(self, results: dict[str, Result]) -> dict:
        return {
            "key": self.key, "label": self.label, "command": self.command,
            "median_s": _r(self.median, 4), "min_s": _r(min(self.walls), 4) if self.ok else None,
            "runs_s": [_r(w, 4) for w in self.walls], "peak_mb": _r(self.peak, 1), "cpu_per_wall": _r(self.cpu, 2),
            "exit_codes": sorted(set(self.exit_codes)), "floor": self.floor, "peer": self.peer,
            "x_floor_s": _r(ratio(self, self.floor, results, "median"), 2),
            "x_floor_mb": _r(ratio(self, self.floor, results, "peak"), 2),
            "x_peer_s": _r(ratio(self, self.peer, results, "median"), 2),
            "x_peer_mb": _r(ratio(self, self.peer, results, "peak"), 2),
            "skipped": self.skipped or None, "error": self.error or None, "note": self.note or None,
        }


def _r(value, digits):
    return None if value is None else round(value, digits)


def ratio(result: Result, other: str | None, results: dict[str, Result], attr: str) -> float | None:
    if other is None or other not in results:
        return None
    a, b = getattr(result, attr), getattr(results[other], attr)
    return a / b if a is not None and b else None


# --- running a command -------------------------------------------------------------------------------


def run_once(cmd: list[str], stdout=subprocess.DEVNULL) -> tuple[float, float, float, int, str]:
    """(wall s, peak RSS MB, CPU s / wall s, exit code, stderr tail) of one whole process.

    The command is started by bench/spawn.py, a small launcher, so that its peak RSS is its own
    (see there); the launcher's own start-up is not in the wall time.
    """
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        subprocess.run([sys.executable, "-S", "-I", str(BENCH / "spawn.py"), report.name, *cmd],
                       stdout=stdout, stderr=err, stdin=subprocess.DEVNULL, check=False)
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
        try:
            usage = json.loads(Path(report.name).read_text())
        except ValueError:
            return 0.0, 0.0, 0.0, 127, tail or "the launcher wrote no report"
    wall = usage["wall"]
    return wall, usage["maxrss_kb"] / 1024, usage["cpu"] / wall, usage["exit"], tail


def warm_up(case: Case, log) -> Result:
    """One untimed run: fills the page cache and .pyc files, and its output is inspected."""
    result = Result(case.key, case.label, " ".join(_show(a) for a in case.cmd), case.floor, case.peer, note=case.note)
    with tempfile.TemporaryFile() as captured:
        _, _, _, code, tail = run_once(case.cmd, stdout=captured)
        captured.seek(0)
        output = captured.read()
    if code not in OK_EXITS:
        result.error = f"exit {code}: {tail.strip()[-400:]}"
    elif case.inspect:
        try:
            result.note = case.inspect(output)
        except Exception as exc:  # noqa: BLE001 - a wrong output makes the row fail, not the run
            result.error = f"unexpected output: {exc}"
    log(f"  ✘ {case.label}: {result.error}" if result.error else
        f"  ✔ {case.label}" + (f"  [{result.note}]" if result.note else ""))
    return result


def measure(order: list[Case], runs: int, log) -> dict[str, Result]:
    """A warm-up of every command, then `runs` rounds of every command in turn.

    Rounds rather than one command's runs back to back: on a shared machine a burst of load then
    slows one run of each command, not every run of one, and the medians and ratios hold.
    """
    results = {case.key: warm_up(case, log) for case in order}
    for round_ in range(runs):
        for case in order:
            result = results[case.key]
            if result.error:
                continue
            wall, peak, cpu, code, tail = run_once(case.cmd)
            if code not in OK_EXITS:
                result.error = f"exit {code}: {tail.strip()[-400:]}"
                log(f"  ✘ {case.label}: {result.error}")
                continue
            result.walls.append(wall)
            result.peaks_mb.append(peak)
            result.cpu_wall.append(cpu)
            result.exit_codes.append(code)
        log(f"  round {round_ + 1}/{runs} done")
    for result in results.values():
        if result.ok:
            log(f"  {result.label:<38} median {result.median:8.3f} s  peak {result.peak:7.1f} MB  "
                f"cpu/wall {result.cpu:4.2f}")
    return results


# --- what each command printed (its warm-up run), so a fast failure cannot pass for a fast run ------------


def inspect_bare(output: bytes) -> str:
    return f"{int(output.split()[-1]):,} cells read"


def inspect_check(output: bytes) -> str:
    summary = json.loads(output)["summary"]
    if not summary["files"]:
        raise ValueError("no file checked")
    return (f"{summary['files']} file(s), {summary['errors']} errors, {summary['warnings']} warnings, "
            f"{summary['infos']} infos")


def inspect_summary(output: bytes) -> str:
    data = json.loads(output)
    if isinstance(data, dict):
        keys = ", ".join(list(data)[:6])
        return f"JSON of {len(output) / 1024:,.0f} KiB, keys: {keys}"
    return f"JSON list of {len(data)} records"


def inspect_frictionless(output: bytes) -> str:
    report = json.loads(output)
    task = report["tasks"][0]
    rows = task.get("stats", {}).get("rows")
    if rows is None:
        errors = report.get("errors") or task.get("errors") or [{}]
        raise ValueError(f"frictionless read no rows: {errors[0].get('message', errors[0])}")
    return f"validated {rows:,} rows, {task['stats'].get('errors', 0):,} errors"


def _show(arg: str) -> str:
    try:
        arg = str(Path(arg).relative_to(ROOT)) if arg.startswith(str(ROOT)) else arg
    except ValueError:
        pass
    return arg if arg and " " not in arg else repr(arg)


def imported_modules(argv: list[str]) -> set[str]:
    """The modules `lqip ARGV` has imported when it exits (run once, untimed)."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        code = (
            "import atexit, sys\n"
            f"sys.argv = ['lqip', *{argv!r}]\n"
            f"atexit.register(lambda: open({out.name!r}, 'w').write('\\n'.join(sorted(sys.modules))))\n"
            "from lqip.cli import main\n"
            "main()\n"
        )
        subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        return set(Path(out.name).read_text().split())


# --- the peer ----------------------------------------------------------------------------------------


def peer_frictionless(log) -> tuple[Path | None, str]:
    """bench/.venv-peer/bin/frictionless, creating the venv on the first run; (None, why) if impossible."""
    exe = PEER_VENV / "bin" / "frictionless"
    if not exe.exists():
        log(f"  creating {PEER_VENV} with {PEER_REQUIREMENT} (first run) …")
        try:
            subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True, capture_output=True,
                           timeout=300)
            subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", PEER_REQUIREMENT], check=True,
                           capture_output=True, timeout=900)
        except (subprocess.SubprocessError, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            why = f"could not install {PEER_REQUIREMENT} into {PEER_VENV.name}: {type(exc).__name__} " \
                  f"{detail.decode('utf-8', 'replace').strip()[-300:]}"
            return None, why
    if not exe.exists():
        return None, f"{exe} is missing after pip install"
    version = subprocess.run([str(PEER_VENV / "bin" / "python"), "-c",
                              "import frictionless; print(frictionless.__version__)"],
                             capture_output=True, text=True, check=False).stdout.strip()
    return exe, version


# --- the run -----------------------------------------------------------------------------------------


def lqip_exe() -> list[str]:
    exe = shutil.which("lqip", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return [exe] if exe else [sys.executable, "-m", "lqip"]


def has_summary(lqip: list[str]) -> bool:
    proc = subprocess.run([*lqip, "summary", "--help"], capture_output=True, check=False)
    return proc.returncode == 0


def cases(paths: dict[str, Path], frictionless: Path | None, summary: bool) -> list[Case]:
    py, lqip, bare = sys.executable, lqip_exe(), str(BENCH / "bare_read.py")
    typical, returns, large = (str(paths[k]) for k in ("typical", "returns", "large"))
    out = [
        Case("floor.pass", "floor: python -c pass", [py, "-c", "pass"]),
        Case("floor.read.typical", "floor: calamine read, typical", [py, bare, typical], inspect=inspect_bare),
        Case("floor.read.returns", f"floor: calamine read, {corpus_size(paths)} returns", [py, bare, returns],
             inspect=inspect_bare),
        Case("floor.read.large", f"floor: calamine read, {rows_label(paths)} rows", [py, bare, large],
             inspect=inspect_bare),
        Case("lqip.help", "lqip --help", [*lqip, "--help"], floor="floor.pass"),
        Case("lqip.targets", "lqip targets", [*lqip, "targets"], floor="floor.pass"),
        Case("lqip.check.typical", "lqip check, typical", [*lqip, "check", typical, "--format", "json"],
             floor="floor.read.typical", peer="peer.typical", inspect=inspect_check),
        Case("lqip.check.large", f"lqip check, {rows_label(paths)} rows", [*lqip, "check", large, "--format", "json"],
             floor="floor.read.large", peer="peer.large", inspect=inspect_check),
    ]
    if summary:
        out.append(Case("lqip.summary", f"lqip summary, {corpus_size(paths)} returns",
                        [*lqip, "summary", returns, "--format", "json"], floor="floor.read.returns",
                        inspect=inspect_summary))
    if frictionless:
        # --trusted: frictionless refuses absolute paths without it ("unsafe path") and reads nothing.
        # --sheet picks the sheet of an .xlsx (ExcelControl.sheet); the template's header is row 2.
        fx = [str(frictionless), "validate", "--json", "--trusted"]
        out += [
            Case("peer.typical", "peer: frictionless, typical (1 sheet)",
                 [*fx, "--sheet", corpus.TEMPLATE_INDICATOR_SHEET, "--header-rows", "2", typical],
                 inspect=inspect_frictionless),
            Case("peer.large", f"peer: frictionless, {rows_label(paths)} rows",
                 [*fx, "--sheet", corpus.LARGE_SHEET, "--limit-errors", "10000000", large],
                 inspect=inspect_frictionless),
        ]
    return out


def corpus_size(paths) -> str:
    return f"{len(list(Path(paths['returns']).rglob('*.xlsx'))):,}"


def rows_label(paths) -> str:
    return f"{int(Path(paths['large']).stem.split('_')[-1].rstrip('行')):,}"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import hashlib
    from importlib.metadata import version

    import lqip

    digest = hashlib.sha256()
    for path in sorted(Path(lqip.__file__).parent.rglob("*.py")) + sorted(Path(lqip.__file__).parent.rglob("*.yaml")):
        digest.update(path.read_bytes())
    return {"nproc": cores, "cpu": cpu, "ram_gib": mem, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}", "lqip": version("lqip"),
            "python_calamine": version("python-calamine"), "lqip_source_sha256": digest.hexdigest()[:12]}


def goals(results: dict[str, Result], imports: dict[str, set[str]], sizes: tuple[str, str]) -> list[dict]:
    """The goals of docs/performance.md, each ✔, ✘ or n/a (a figure missing); sizes label the corpora."""
    def get(key, attr):
        r = results.get(key)
        return getattr(r, attr) if r is not None else None

    def x(key, other, attr="median"):
        r = results.get(key)
        return ratio(r, other, results, attr) if r is not None else None

    out = []

    def goal(what: str, target: str, checks: list[tuple]) -> None:
        """checks: (name, measured, limit, op[, shown]) with op '<=' or '>'; shown replaces the number."""
        parts, verdicts = [], []
        for name, value, limit, op, *shown in checks:
            if value is None:
                parts.append(f"{name} n/a")
                verdicts.append(None)
                continue
            ok = value <= limit if op == "<=" else value > limit
            verdicts.append(ok)
            text = shown[0] if shown else f"{value:.2f} ({op} {limit:g})"
            parts.append(f"{name} {text} {'✔' if ok else '✘'}")
        verdict = "n/a" if any(v is None for v in verdicts) and all(v is not False for v in verdicts) else (
            "✔" if all(verdicts) else "✘")
        out.append({"what": what, "goal": target, "verdict": verdict, "measured": "; ".join(parts)})

    for key, name in (("lqip.help", "lqip --help"), ("lqip.targets", "lqip targets")):
        heavy = sorted(m for m in HEAVY_MODULES if m in imports.get(key, set()))
        goal(name, "≤ 15× python -c pass; neither pandas nor openpyxl imported",
             [("× floor", x(key, "floor.pass"), 15, "<="),
              ("heavy imports:", float(len(heavy)) if key in imports else None, 0, "<=", ", ".join(heavy) or "none")])
    goal("lqip check, typical return", "≤ 0.8× frictionless validating one sheet",
         [("× peer", x("lqip.check.typical", "peer.typical"), 0.8, "<=")])
    goal(f"lqip summary, {sizes[0]} returns", "≤ 2.5× the bare calamine read; CPU/wall > 1.3",
         [("× floor", x("lqip.summary", "floor.read.returns"), 2.5, "<="),
          ("CPU/wall", get("lqip.summary", "cpu"), 1.3, ">")])
    goal(f"lqip check, {sizes[1]} rows", "≤ 2× bare read, ≤ 0.2× frictionless, peak ≤ 3× bare read's",
         [("× floor", x("lqip.check.large", "floor.read.large"), 2, "<="),
          ("× peer", x("lqip.check.large", "peer.large"), 0.2, "<="),
          ("peak × floor", x("lqip.check.large", "floor.read.large", "peak"), 3, "<=")])
    return out


def fmt(value, spec: str, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def table(results: list[Result], by_key: dict[str, Result]) -> list[list[str]]:
    rows = [["what", "median s", "peak MB", "CPU/wall", "floor", "× floor s", "× floor MB", "× peer s", "× peer MB"]]
    for r in results:
        if not r.ok:
            rows.append([r.label, r.skipped or "failed", "", "", "", "", "", "", ""])
            continue
        rows.append([
            r.label, fmt(r.median, ".3f"), fmt(r.peak, ".1f"), fmt(r.cpu, ".2f"),
            (r.floor or "").removeprefix("floor.") or "—",
            fmt(ratio(r, r.floor, by_key, "median"), ".2f", "×") if r.floor else "—",
            fmt(ratio(r, r.floor, by_key, "peak"), ".2f", "×") if r.floor else "—",
            fmt(ratio(r, r.peer, by_key, "median"), ".2f", "×") if r.peer else "—",
            fmt(ratio(r, r.peer, by_key, "peak"), ".2f", "×") if r.peer else "—",
        ])
    return rows


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        print("  ".join(cells))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def markdown(rows: list[list[str]], goal_rows: list[dict], meta: dict, notes: list[str]) -> str:
    lines = [f"# lqip benchmark — {meta['date']}", "",
             f"Machine: {meta['machine']['nproc']} cores, {meta['machine']['cpu']}, {meta['machine']['ram_gib']} GiB RAM, "
             f"Python {meta['machine']['python']}, {meta['machine']['os']}; lqip {meta['machine']['lqip']} "
             f"(sources {meta['machine']['lqip_source_sha256']}), python-calamine {meta['machine']['python_calamine']}, frictionless {meta.get('frictionless') or 'n/a'}. "
             f"One warm-up, then {meta['runs']} round(s) of every command; medians.", ""]
    lines.append("| " + " | ".join(rows[0]) + " |")
    lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(rows[0]))) + "|")
    for row in rows[1:]:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    lines += ["", "| goal | target | measured | |", "|---|---|---|:-:|"]
    for g in goal_rows:
        lines.append(f"| {g['what']} | {g['goal']} | {g['measured']} | {g['verdict']} |")
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small corpora and 2 runs: a smoke test")
    parser.add_argument("--runs", type=int, help="timed runs per command after one warm-up (default 5, quick 2)")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    runs = max(1, args.runs or size["runs"])
    out = OUT / "quick" if args.quick else OUT
    suffix = "-quick" if args.quick else ""
    notes: list[str] = []

    def log(msg: str) -> None:
        print(msg, flush=True)

    started = time.perf_counter()
    log(f"corpora under {out.relative_to(ROOT)}:")
    paths = corpus.build_all(out, size["returns"], size["rows"], log=log)

    log("peer:")
    frictionless, peer_info = peer_frictionless(log)
    if frictionless is None:
        notes.append(f"peer absent — {peer_info}; the × peer columns are n/a")
        log(f"  ✘ frictionless is absent: {peer_info}\n    the × peer columns will say n/a")
        peer_version = None
    else:
        peer_version = peer_info
        log(f"  frictionless {peer_version} in {PEER_VENV}")

    lqip = lqip_exe()
    summary = has_summary(lqip)
    if not summary:
        notes.append("`lqip summary` is absent in this checkout: its row and goal are skipped (n/a)")
        log("  note: `lqip summary` is not there yet — skipped")

    log(f"timing (one warm-up, then {runs} rounds of every command):")
    order = cases(paths, frictionless, summary)
    results = measure(order, runs, log)
    if not summary:
        results["lqip.summary"] = Result("lqip.summary", f"lqip summary, {corpus_size(paths)} returns", "lqip summary",
                                         "floor.read.returns", None, skipped="absent")
    for case in order:
        if results[case.key].note:
            notes.append(f"{case.label}: {results[case.key].note}")

    imports = {key: imported_modules(argv) for key, argv in (("lqip.help", ["--help"]), ("lqip.targets", ["targets"]))}
    for key, mods in imports.items():
        heavy = [m for m in (*HEAVY_MODULES, "python_calamine") if m in mods]
        notes.append(f"{results[key].label} imports {len(mods)} modules; heavy: {', '.join(heavy) or 'none'}")

    shown = [r for r in results.values() if r.key.startswith("floor.")] + \
            [r for r in results.values() if r.key.startswith("lqip.")] + \
            [r for r in results.values() if r.key.startswith("peer.")]
    if not frictionless:
        shown += [Result("peer.typical", "peer: frictionless, typical (1 sheet)", "", None, None, skipped="absent"),
                  Result("peer.large", "peer: frictionless, large", "", None, None, skipped="absent")]
    rows = table(shown, results)
    goal_rows = goals(results, imports, (corpus_size(paths), rows_label(paths)))

    print()
    print_table(rows)
    print()
    for g in goal_rows:
        print(f"{g['verdict']:>3}  {g['what']}: {g['goal']}\n       {g['measured']}")
    for note in notes:
        print(f"note: {note}")

    meta = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(), "frictionless": peer_version, "runs": runs, "quick": args.quick,
        "corpora": {k: str(Path(v).relative_to(ROOT)) for k, v in paths.items()},
        "generator_version": corpus.GENERATOR_VERSION,
    }
    data = {**meta, "rows": [r.record(results) for r in shown], "goals": goal_rows, "notes": notes,
            "seconds": round(time.perf_counter() - started, 1)}
    (OUT / f"results{suffix}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")
    (OUT / f"results{suffix}.md").write_text(markdown(rows, goal_rows, meta, notes), "utf-8")
    print(f"\nwrote {(OUT / f'results{suffix}.json').relative_to(ROOT)} and results{suffix}.md "
          f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
