"""Reading many returns: in parallel across cores, and no single file can stall or sink the run.

Every file is read in a forked worker process (forking costs a few milliseconds; the workers inherit
the loaded plan and the list of files, so nothing is validated or sent twice), even when there is one
file: a native reader that loops, crashes or allocates without end takes its worker down, not the
run. A worker's address space is capped (`Limits.max_memory_bytes` over what the parent already
uses), so an allocation bomb the opener's checks missed fails inside the worker.

Workers are long-lived and take the files in chunks (a few indices per message, fewer as the queue
runs down, so that the cores finish together), and send each file's result back as soon as it is
read: the parent always knows which file a worker is on and since when. A file that keeps its worker
busy past the timeout, or kills it, is set aside (the rest of its chunk goes back to the queue) and
retried alone in a fresh worker; if it fails again it becomes a finding (F004 for time, F003 for a
crash) and every other file is still read.

Set LQIP_ISOLATE=0 to read in the calling process instead (no timeout, no crash isolation: for
profiling and debuggers), LQIP_FILE_TIMEOUT to change the per-file timeout (seconds, default 60).
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import sys
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path

from lqip.findings import finding

DEFAULT_TIMEOUT = float(os.environ.get("LQIP_FILE_TIMEOUT", "60"))
MAX_CHUNK = 32  # files per message to a worker, at most
_FRAME = struct.Struct("<Q")  # length prefix of a pickled message
_OK, _NO_MEMORY, _ERROR = 0, 1, 2  # how a worker's call of fn ended
_TIMED_OUT, _CRASHED = "timeout", "crash"  # how a file took its worker down


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector (then restore its state).

    Reading a sheet allocates an object per cell and per row, all alive until the file is done, and
    a summary's results pile up in the parent: the collector, triggered every few hundred
    allocations, would walk them all again and again (a third of the time of a 100,000-row check).
    Nothing here builds reference cycles; reference counting frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_LATER: list = []  # in a worker: what the file just read left behind (see release_later)
_IN_WORKER = False


def release_later(obj) -> None:
    """Hand over an object the caller no longer needs. In a worker it is freed when the worker takes
    its next file, or never when the worker ends first: freeing a 100,000-row table takes 15 ms, and
    a one-file check would wait for it. Elsewhere it is simply dropped."""
    if _IN_WORKER:
        _LATER.append(obj)


def _init_worker(extra_bytes: int | None) -> None:
    """Mark this process a worker (release_later) and cap its address space at what it has now plus
    `extra_bytes` (Linux only)."""
    global _IN_WORKER
    _IN_WORKER = True
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
    from lqip.workbook import usable_cores  # (the reader's own measure of the cores)

    return usable_cores()


def isolation_available() -> bool:
    """True when files are read in worker processes (fork exists and LQIP_ISOLATE is not 0)."""
    return os.environ.get("LQIP_ISOLATE", "1") != "0" and hasattr(os, "fork") and sys.platform != "win32"


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
    memory = getattr(limits, "max_memory_bytes", None) if limits is not None else _default_memory()
    pool = _Pool(fn, list(files), plan, limits, debug, memory, timeout, progress)
    with collector_paused():
        suspects = pool.run(range(len(files)), jobs)
    if suspects:  # each alone in a fresh worker: a second chance, then a finding
        for index, how in pool.run(sorted(suspects), jobs, fresh=True).items():
            if how == _TIMED_OUT:
                pool.results[index] = _failed(files[index], "F004", f"reading took longer than {timeout:g} s / 读取超时")
            else:
                pool.results[index] = _failed(files[index], "F003", "the reader crashed or ran out of memory on "
                                                                    "this file / 读取程序崩溃或内存不足")
            if progress:
                progress(1)
    return pool.results


def _default_memory() -> int | None:
    from lqip.workbook import Limits

    return Limits().max_memory_bytes


class _Worker:
    __slots__ = ("pid", "tasks", "results", "pending", "since", "buffer", "retiring")

    def __init__(self, pid: int, tasks: int, results: int):
        self.pid, self.tasks, self.results = pid, tasks, results
        self.pending: deque[int] = deque()  # indices sent and not answered yet; the first is being read
        self.since = 0.0  # when the worker started on pending[0]
        self.buffer = bytearray()
        self.retiring = False  # its task pipe is closed: it ends after its chunk


class _Pool:
    """Forked workers fed chunks of file indices through pipes; see the module's docstring."""

    def __init__(self, fn, files: list[Path], plan, limits, debug: bool, memory: int | None, timeout: float,
                 progress):
        self.fn, self.files, self.plan, self.limits, self.debug = fn, files, plan, limits, debug
        self.memory, self.timeout, self.progress = memory, timeout, progress
        self.results: list = [None] * len(files)
        self.workers: list[_Worker] = []

    def run(self, indices, jobs: int, fresh: bool = False) -> dict[int, str]:
        """Read the files at `indices`; returns {index: timeout|crash} for the files that took their
        worker down. With `fresh`, every file gets a worker of its own."""
        import selectors

        queue = deque(indices)
        failed: dict[int, str] = {}
        selector = selectors.DefaultSelector()
        try:
            while queue or self.workers:
                for worker in list(self.workers):  # give idle workers work
                    if not worker.pending and not worker.retiring and queue:
                        self._send(worker, selector, queue, jobs, fresh, failed)
                while queue and len(self.workers) < jobs:
                    worker = self._spawn(selector)
                    self._send(worker, selector, queue, jobs, fresh, failed)
                for worker in [w for w in self.workers if not w.pending]:  # nothing left for them
                    if not queue or worker.retiring:
                        self._retire(worker, selector)
                if not self.workers:
                    break
                now = time.monotonic()
                deadline = min((w.since + self.timeout for w in self.workers if w.pending), default=now + 1.0)
                for key, _ in selector.select(max(0.0, deadline - now) + 0.01):
                    self._receive(key.data, selector, queue, failed)
                now = time.monotonic()
                for worker in list(self.workers):
                    if worker.pending and now - worker.since > self.timeout:
                        self._lost(worker, selector, queue, failed, _TIMED_OUT)
        finally:
            for worker in list(self.workers):
                self._end(worker, selector, kill=True)
            selector.close()
        return failed

    # --- the parent's side ----------------------------------------------------------------------------

    def _spawn(self, selector) -> _Worker:
        import gc
        import selectors

        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        gc.freeze()  # the inherited objects stay shared: the child's collections do not touch them
        try:
            pid = os.fork()
        except BaseException:
            gc.unfreeze()
            for fd in (task_r, task_w, result_r, result_w):
                os.close(fd)
            raise
        if pid == 0:  # the worker: never returns
            self._child(task_r, result_w, close=(task_w, result_r))
        gc.unfreeze()
        os.close(task_r)
        os.close(result_w)
        _widen_pipe(result_r)
        worker = _Worker(pid, task_w, result_r)
        self.workers.append(worker)
        selector.register(result_r, selectors.EVENT_READ, worker)
        return worker

    def _send(self, worker: _Worker, selector, queue: deque, jobs: int, fresh: bool, failed: dict) -> None:
        size = 1 if fresh else max(1, min(MAX_CHUNK, len(queue) // (2 * jobs)))
        chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
        worker.pending.extend(chunk)
        worker.since = time.monotonic()
        try:
            _write_frame(worker.tasks, pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
        except OSError:  # the worker is gone: as if it had died on the first file (which gets a second chance)
            self._lost(worker, selector, queue, failed, _CRASHED)
            return
        if fresh:
            self._close_tasks(worker)

    def _receive(self, worker: _Worker, selector, queue: deque, failed: dict) -> None:
        try:
            data = os.read(worker.results, 1 << 20)
        except OSError:
            data = b""
        if not data:  # the worker ended: if it was reading a file, that file is to blame
            if worker.pending:
                self._lost(worker, selector, queue, failed, _CRASHED)
            else:
                self._end(worker, selector)
            return
        buffer = worker.buffer
        buffer += data
        offset = 0
        while len(buffer) - offset >= _FRAME.size:
            (length,) = _FRAME.unpack_from(buffer, offset)
            end = offset + _FRAME.size + length
            if len(buffer) < end:
                break
            try:
                index, status, payload = pickle.loads(buffer[offset + _FRAME.size:end])
                if not worker.pending or worker.pending[0] != index:
                    raise ValueError(f"an answer for file {index} out of turn")
            except Exception:  # noqa: BLE001 - a garbled message: as if the worker had died on its file
                self._lost(worker, selector, queue, failed, _CRASHED)
                return
            self._done(worker, index, status, payload)
            offset = end
        if offset:
            del buffer[:offset]

    def _done(self, worker: _Worker, index: int, status: int, payload) -> None:
        worker.pending.popleft()
        worker.since = time.monotonic()
        path = self.files[index]
        if status == _OK:
            self.results[index] = payload
        elif status == _NO_MEMORY:
            self.results[index] = _failed(path, "F004", "reading needs more memory than allowed / 内存超限")
        else:
            self.results[index] = _failed(path, "F003", payload)
        if self.progress:
            self.progress(1)

    def _lost(self, worker: _Worker, selector, queue: deque, failed: dict, how: str) -> None:
        """The worker hung or died on pending[0]: end it, blame that file, requeue the rest."""
        self._end(worker, selector, kill=True)
        if not worker.pending:
            return
        culprit = worker.pending.popleft()
        failed[culprit] = how
        queue.extendleft(reversed(worker.pending))
        worker.pending.clear()

    def _retire(self, worker: _Worker, selector) -> None:
        self._close_tasks(worker)
        if not worker.pending:
            self._end(worker, selector)

    def _close_tasks(self, worker: _Worker) -> None:
        worker.retiring = True
        if worker.tasks >= 0:
            os.close(worker.tasks)
            worker.tasks = -1

    def _end(self, worker: _Worker, selector, kill: bool = False) -> None:
        if worker not in self.workers:
            return
        self.workers.remove(worker)
        if kill:
            try:
                os.kill(worker.pid, 9)  # SIGKILL
            except OSError:
                pass
        self._close_tasks(worker)
        try:
            selector.unregister(worker.results)
        except (KeyError, ValueError):
            pass
        os.close(worker.results)
        try:
            os.waitpid(worker.pid, 0)
        except ChildProcessError:
            pass

    # --- the worker's side ----------------------------------------------------------------------------

    def _child(self, tasks: int, results: int, close: tuple[int, int]) -> None:
        """Read the chunks sent on `tasks` until it closes; one result per file on `results`."""
        code = 0
        try:
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent ends its workers
            # the parent's ends of every pipe, this worker's and the others': each pipe's reader must
            # see it close when its writer ends
            for fd in [*close, *(fd for w in self.workers for fd in (w.tasks, w.results) if fd >= 0)]:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.workers = []
            _init_worker(self.memory)
            while (message := _read_frame(tasks)) is not None:
                for index in pickle.loads(message):
                    _write_frame(results, self._call(index))
        except BaseException:  # noqa: BLE001 - the parent sees the pipe close and blames the file
            code = 1
        finally:
            try:
                sys.stderr.flush()
            except BaseException:  # noqa: BLE001
                pass
            os._exit(code)

    def _call(self, index: int) -> bytes:
        _LATER.clear()  # the previous file's leftovers (release_later)
        try:
            message = (index, _OK, self.fn(self.files[index], self.plan, self.limits, debug=self.debug))
            return pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            return pickle.dumps((index, _NO_MEMORY, None))
        except BaseException as exc:  # noqa: BLE001 - fn never raises for a file; belt and braces
            return pickle.dumps((index, _ERROR, f"unexpected {type(exc).__name__}: {str(exc)[:160]}"))


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_FRAME.pack(len(data)) + data) if len(data) < 65536 else None
    if view is None:
        _write_all(fd, memoryview(_FRAME.pack(len(data))))
        view = memoryview(data)
    _write_all(fd, view)


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view):]


def _read_frame(fd: int) -> bytes | None:
    """One message from a blocking pipe; None when the pipe closed."""
    head = _read_exactly(fd, _FRAME.size)
    if head is None:
        return None
    (length,) = _FRAME.unpack(head)
    body = _read_exactly(fd, length)
    if body is None:
        raise EOFError("the pipe closed inside a message")
    return body


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts = []
    while size:
        data = os.read(fd, min(size, 1 << 20))
        if not data:
            if parts:
                raise EOFError("the pipe closed inside a message")
            return None
        parts.append(data)
        size -= len(data)
    return b"".join(parts)


def _widen_pipe(fd: int) -> None:
    """A 1 MB pipe buffer for results (Linux): a large report crosses in fewer wake-ups."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass
