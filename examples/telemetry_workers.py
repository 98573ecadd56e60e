#!/usr/bin/env python3
"""Scalar telemetry from several multiprocessing workers into one recording.

Each worker is a `multiprocessing` child: it inherits the parent's recording (and its sink), so the
motors' currents and temperatures all land in the same recording.

    python examples/telemetry_workers.py --save telemetry.rrd --workers 4
"""

from __future__ import annotations

import argparse
import multiprocessing as mp

import numpy as np

import rerun_zmq as rr


def motor(index: int, steps: int) -> None:
    rng = np.random.default_rng(index)
    temperature = 30.0
    for step in range(steps):
        rr.set_time("step", sequence=step)
        current = 2.0 + np.sin(step / 20 + index) + rng.normal(0, 0.05)
        temperature += 0.01 * current - 0.002 * (temperature - 30)
        rr.log(f"motors/{index}/current", rr.Scalars(current))
        rr.log(f"motors/{index}/temperature", rr.Scalars(temperature))
        if temperature > 31.0 and step % 50 == 0:
            rr.log(f"motors/{index}/log", rr.TextLog(f"motor {index} warm: {temperature:.2f} °C", level="WARN"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--steps", type=int, default=500)
    rr.script_add_args(parser)
    args = parser.parse_args()
    rr.script_setup(args, "rerun_example_telemetry")
    rr.log("motors", rr.TextLog(f"starting {args.workers} workers", level="INFO"))
    ctx = mp.get_context("fork")
    workers = [ctx.Process(target=motor, args=(i, args.steps)) for i in range(args.workers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    failed = [w.pid for w in workers if w.exitcode != 0]
    if failed:
        raise SystemExit(f"workers {failed} failed")
    rr.script_teardown(args)


if __name__ == "__main__":
    main()
