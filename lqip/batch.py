"""Reading many returns: in parallel across cores, and no single file can stall or sink the run.

Every file is read in a forked worker process (forking costs a few milliseconds; the workers inherit
the loaded plan, so nothing is validated twice), even when there is one file: a native reader that
loops, crashes or allocates without end takes its worker down, not the run. A worker's address space
is capped (`Limits.max_memory_bytes` over what the parent already uses), so an allocation bomb the
opener's checks missed fails inside the worker. A file that keeps its worker busy past the timeout,
or kills it, is retried alone in a fresh worker; if it fails again it becomes a finding (F004 for
time, F003 for a crash) and every other file is still read.

Set LQIP_ISOLATE=0 to read in the calling process instead (no timeout, no crash isolation: for
profiling and debuggers), LQIP_FILE_TIMEOUT to change the per-file timeout (seconds, default 60).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from lqip.findings import finding

DEFAULT_TIMEOUT = float(os.environ.get("LQIP_FILE_TIMEOUT", "60"))
_PASS_THROUGH = (KeyboardInterrupt, SystemExit)

_STATE: dict = {}


def _work(path: Path):
    fn, plan, limits, debug = _STATE["args"]
    return fn(path, plan, limits, debug=debug)


def _init_worker(extra_bytes: int | None) -> None:
    """Cap the worker's address space at what it has now plus `extra_bytes` (Linux only)."""
    if not extra_bytes:
        return
    try:
        import resource

        with open("/proc/self/statm") as handle:
            current = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        cap = current + extra_bytes
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        if soft == resource.RLIM_INFINITY or cap < soft:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError):  # not Linux, or not allowed: the other guards remain
        pass


def _failed(path: Path, code: str, reason: str):
    from lqip.report import FileReport

    return FileReport(path=str(path), unit=None, year=None, findings=[finding(code, file=path, reason=reason)])


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def isolation_available() -> bool:
    """True when files are read in worker processes (fork exists and LQIP_ISOLATE is not 0)."""
    return os.environ.get("LQIP_ISOLATE", "1") != "0" and "fork" in multiprocessing.get_all_start_methods()


def map_files(fn, files: list[Path], plan, limits, debug: bool = False, jobs: int | None = None,
              progress=None, timeout: float | None = None) -> list:
    """`fn(path, plan, limits, debug=...)` for every file, results in the files' order.

    `fn` must not raise for a bad file (check_file does not); a worker that dies, hangs or runs out
    of memory still yields a result for its file: a finding."""
    jobs = jobs or default_jobs()
    timeout = timeout or DEFAULT_TIMEOUT
    if not files:
        return []
    if not isolation_available():
        out = []
        for path in files:
            out.append(fn(path, plan, limits, debug=debug))
            if progress:
                progress(1)
        return out
    _STATE["args"] = (fn, plan, limits, debug)
    memory = getattr(limits, "max_memory_bytes", None) if limits is not None else _default_memory()
    results: dict[int, object] = {}
    suspects = _run_pool(list(enumerate(files)), jobs, timeout, memory, results, progress)
    for index, path in suspects:  # each alone: a second chance, then a finding
        again = _run_pool([(index, path)], 1, timeout, memory, results, progress, final=True)
        for _, p in again:
            results[index] = _failed(p, "F004", f"reading took longer than {timeout:g} s / 读取超时")
            if progress:
                progress(1)
    return [results[i] for i in range(len(files))]


def _default_memory() -> int | None:
    from lqip.workbook import Limits

    return Limits().max_memory_bytes


def _run_pool(items, jobs, timeout, memory, results, progress, final=False):
    """Run items in one pool; returns the (index, path) items that timed out or crashed a worker."""
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=context,
                               initializer=_init_worker, initargs=(memory,))
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
                        results[index] = _failed(path, "F003", "the reader crashed or ran out of memory on this "
                                                               "file / 读取程序崩溃或内存不足")
                    else:
                        suspects.append((index, path))
                        continue
                except MemoryError:
                    results[index] = _failed(path, "F004", "reading needs more memory than allowed / 内存超限")
                except _PASS_THROUGH:
                    raise
                except BaseException as exc:  # noqa: BLE001 - fn never raises for a file; belt and braces
                    results[index] = _failed(path, "F003", f"unexpected {type(exc).__name__}: {str(exc)[:160]}")
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
                    suspects.extend(_run_pool(rest, jobs, timeout, memory, results, progress, final))
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
