"""Run one command and write its wall time, CPU time and peak RSS as JSON: the benchmark's stopwatch.

    python -S -I bench/spawn.py RESULT.json CMD ARG...

Why a separate small process: Linux carries a process's peak RSS across fork and exec, so a child
started straight from the benchmark (which has openpyxl and lqip loaded for the corpora) would
report the benchmark's own size as its peak. Started from this launcher (-S -I, nothing imported
but os and time: ~8 MB), a child's ru_maxrss is its own, or at least this launcher's small
baseline. The child's stdin, stdout and stderr are this process's.

The child runs with bytecode caching on (PYTHONDONTWRITEBYTECODE dropped from its environment), as
an installed package has it: with it set, as on this machine, every run would compile lqip's
modules from source again (the warm-up run writes the __pycache__ the timed runs then use).

os.wait4 gives the child's rusage including the children it waited for (lqip's forked readers):
CPU time is their sum; ru_maxrss is the largest single process among them, not the sum.
"""

import os
import sys
import time


def main() -> int:
    out, cmd = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    pid = os.posix_spawnp(cmd[0], cmd, env)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    with open(out, "w") as handle:
        cpu, code = usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)
        handle.write(f'{{"wall": {wall!r}, "cpu": {cpu!r}, "maxrss_kb": {usage.ru_maxrss}, "exit": {code}}}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
