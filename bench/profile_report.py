"""Shares of time by function from a py-spy raw (collapsed) profile.

    bench/.venv-prof/bin/py-spy record -r 1000 -f raw -o P.txt [--subprocesses] -- lqip check ...
    python bench/profile_report.py P.txt [--top 25] [--match lqip/]

Prints, for the functions whose frame matches --match (default: every frame), the share of all
samples in which they are on the stack (inclusive) and at its top (self). A frame is
"function (file:line)"; the line is dropped so one function counts once.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def frame_key(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "lib/python3", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="")
    args = parser.parse_args()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    with open(args.profile, encoding="utf-8") as handle:
        for line in handle:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            total += n
            frames = [frame_key(f) for f in stack.split(";")]
            frames = [f for f in frames if not f.startswith("process ")]
            for f in set(frames):
                inclusive[f] += n
            if frames:
                own[frames[-1]] += n
    print(f"{total} samples")
    print(f"{'incl %':>7} {'self %':>7}  function")
    shown = [f for f, _ in inclusive.most_common() if args.match in f][: args.top]
    for f in shown:
        print(f"{100 * inclusive[f] / total:7.1f} {100 * own[f] / total:7.1f}  {f}")
    print("\nself time, top:")
    for f, n in own.most_common(args.top):
        print(f"{100 * n / total:7.1f}  {f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
