"""Reading many returns: in parallel across cores, and no single file can stall or sink the run.

Workers are forked processes that inherit the loaded plan (no re-validation per file). A file
that keeps its worker busy past the timeout, or kills it (a crash in a native reader), is retried
alone in a fresh worker; if it fails again it becomes a finding (F004 for time, F003 for a crash)
and every other file is still read.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from lqip.findings import finding

PARALLEL_MIN_FILES = 6  # below this, forking costs more than it saves
DEFAULT_TIMEOUT = float(os.environ.get("LQIP_FILE_TIMEOUT", "60"))

_STATE: dict = {}


def _work(path: Path):
    fn, plan, limits, debug = _STATE["args"]
    return fn(path, plan, limits, debug=debug)


def _failed(path: Path, code: str, reason: str):
    from lqip.report import FileReport

    return FileReport(path=str(path), unit=None, year=None, findings=[finding(code, file=path, reason=reason)])


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def map_files(fn, files: list[Path], plan, limits, debug: bool = False, jobs: int | None = None,
              progress=None, timeout: float | None = None) -> list:
    """`fn(path, plan, limits, debug=...)` for every file, results in the files' order."""
    jobs = jobs or default_jobs()
    timeout = timeout or DEFAULT_TIMEOUT
    if jobs <= 1 or len(files) < PARALLEL_MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        out = []
        for path in files:
            out.append(fn(path, plan, limits, debug=debug))
            if progress:
                progress(1)
        return out
    _STATE["args"] = (fn, plan, limits, debug)
    results: dict[int, object] = {}
    suspects = _run_pool(list(enumerate(files)), jobs, timeout, results, progress)
    for index, path in suspects:  # each alone: a second chance, then a finding
        again = _run_pool([(index, path)], 1, timeout, results, progress, final=True)
        for _, p in again:
            results[index] = _failed(p, "F004", f"reading took longer than {timeout:g} s / 读取超时")
            if progress:
                progress(1)
    return [results[i] for i in range(len(files))]


def _run_pool(items, jobs, timeout, results, progress, final=False):
    """Run items in one pool; returns the (index, path) items that timed out or crashed a worker."""
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=context)
    futures = {pool.submit(_work, path): (index, path) for index, path in items}
    pending = set(futures)
    suspects = []
    last = time.monotonic()
    try:
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                index, path = futures[future]
                try:
                    results[index] = future.result()
                except BrokenProcessPool:
                    if final:
                        results[index] = _failed(path, "F003", "the reader crashed on this file / 读取程序崩溃")
                    else:
                        suspects.append((index, path))
                        continue
                except Exception as exc:  # noqa: BLE001 - fn never raises for a file; belt and braces
                    results[index] = _failed(path, "F003", f"unexpected {type(exc).__name__}: {exc}")
                if progress:
                    progress(1)
            if done:
                last = time.monotonic()
            elif time.monotonic() - last > timeout:
                running = [f for f in pending if f.running()]
                suspects.extend(futures[f] for f in running)
                rest = [futures[f] for f in pending if not f.running()]
                _kill(pool)
                pool = None
                if rest:
                    suspects.extend(_run_pool(rest, jobs, timeout, results, progress, final))
                break
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return suspects


def _kill(pool: ProcessPoolExecutor) -> None:
    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
