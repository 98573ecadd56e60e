#!/usr/bin/env python3
"""Cost of one SDK call on the logging thread: set_time, Scalars(float), log, and the three together.

Logs into a file sink in a temporary folder; best of 3 loops of N calls each.

    python bench/bench_calls.py [--calls 200000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rerun_zmq as rr  # noqa: E402


def per_call(fn, n: int) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000)
    n = ap.parse_args().calls
    with tempfile.TemporaryDirectory() as tmp:
        rr.init("bench_calls", spawn=False)
        rr.save(str(Path(tmp) / "calls.rrd"))
        one = rr.Scalars(1.0)

        def set_time(n):
            for i in range(n):
                rr.set_time("step", sequence=i)

        def scalars(n):
            for i in range(n):
                rr.Scalars(float(i))

        def log(n):
            for _ in range(n):
                rr.log("p0", one)

        def together(n):
            for i in range(n):
                rr.set_time("step", sequence=i)
                rr.log("p0", rr.Scalars(float(i)))

        for name, fn in [("rr.set_time(..., sequence=)", set_time), ("rr.Scalars(float)", scalars),
                         ("rr.log(path, archetype)", log), ("all three (one logged row)", together)]:
            print(f"{name:<30}{per_call(fn, n):6.2f} us")
        rr.disconnect()


if __name__ == "__main__":
    main()
