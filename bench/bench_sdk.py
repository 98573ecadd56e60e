#!/usr/bin/env python3
"""SDK throughput: rerun_zmq against rerun-sdk (when installed), side by side in one run.

Each workload runs in a fresh process per SDK, logging into an .rrd file; the clock runs from the
first log call until ``rr.disconnect()`` returns (everything flushed and the file closed).

    python bench/bench_sdk.py [--repeat 3] [--only scalars,points1,...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """
import sys, time, os
import numpy as np
import {sdk} as rr
rr.init("bench", spawn=False)
rr.save(sys.argv[1])
"""
EPILOGUE = """
rr.disconnect()
elapsed = time.perf_counter() - t0
print(elapsed)
"""

WORKLOADS = {
    # name: (code, units-per-run, unit)
    "scalars": ("""
paths = [f"sensor/{i}" for i in range(100)]
t0 = time.perf_counter()
for i in range(100_000):
    rr.set_time("frame", sequence=i)
    rr.log(paths[i % 100], rr.Scalars(float(i)))
""", 100_000, "log calls"),
    "points1": ("""
paths = [f"points/{i}" for i in range(100)]
pos = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
t0 = time.perf_counter()
for i in range(100_000):
    rr.set_time("frame", sequence=i)
    rr.log(paths[i % 100], rr.Points3D(pos))
""", 100_000, "log calls"),
    "points1m": ("""
rng = np.random.default_rng(0)
pos = rng.random((1_000_000, 3), dtype=np.float32)
col = rng.integers(0, 255, (1_000_000, 3), dtype=np.uint8)
t0 = time.perf_counter()
for i in range(50):
    rr.set_time("frame", sequence=i)
    rr.log("cloud", rr.Points3D(pos, colors=col))
""", 50 * 1_000_000 * 15, "bytes"),
    "send_columns": ("""
vals = np.sin(np.arange(1_000_000) / 1000.0)
t0 = time.perf_counter()
rr.send_columns("plot", indexes=[rr.TimeColumn("step", sequence=np.arange(1_000_000))],
                columns=rr.Scalars.columns(scalars=vals))
""", 1_000_000, "rows"),
}


def run_workload(sdk: str, code: str, tmp: Path) -> tuple[float, int]:
    out = tmp / f"{sdk}.rrd"
    script = PRELUDE.format(sdk=sdk) + code + EPILOGUE
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, env=env,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{sdk} failed:\n{proc.stderr[-2000:]}")
    return float(proc.stdout.strip().splitlines()[-1]), out.stat().st_size


def run_dna(sdk: str, tmp: Path) -> tuple[float, int]:
    """The tutorial program end to end (whole process wall time, like a user would see)."""
    out = tmp / f"dna-{sdk}.rrd"
    src = (ROOT / "examples" / "dna.py").read_text()
    if sdk == "rerun":
        src = src.replace("import rerun_zmq as rr", "import rerun as rr")
        src = src.replace("from rerun_zmq.utilities", "from rerun.utilities")
        src = src.replace('rr.set_time_seconds("stable_time", time)', 'rr.set_time("stable_time", duration=time)')
        src = src.replace('rr.set_time_seconds("stable_time", 0)', 'rr.set_time("stable_time", duration=0)')
    script = tmp / f"dna_{sdk}.py"
    script.write_text(src)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script), "--save", str(out), "--seed", "1"], capture_output=True,
                          text=True, env=env, timeout=600)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"dna with {sdk} failed:\n{proc.stderr[-2000:]}")
    return elapsed, out.stat().st_size


def import_time(module: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env, timeout=120)
    return time.perf_counter() - t0


def have_rerun() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("rerun") is not None
    except (ImportError, ValueError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload and SDK (median reported)")
    parser.add_argument("--only", default="",
                        help="comma-separated workloads: scalars,points1,points1m,send_columns,dna,import")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    sdks = ["rerun_zmq"] + (["rerun"] if have_rerun() else [])
    if len(sdks) == 1:
        print("rerun-sdk is not installed: printing rerun_zmq figures only (pip install rerun-sdk)")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name, (code, units, unit) in WORKLOADS.items():
            if only and name not in only:
                continue
            row = {}
            for sdk in sdks:
                times = [run_workload(sdk, code, tmp)[0] for _ in range(args.repeat)]
                t = statistics.median(times)
                row[sdk] = {"seconds": t, "rate": units / t, "unit": f"{unit}/s"}
            results[name] = row
            _print_row(name, row)
        if not only or "dna" in only:
            row = {}
            for sdk in sdks:
                runs = [run_dna(sdk, tmp) for _ in range(args.repeat)]
                row[sdk] = {"seconds": statistics.median(r[0] for r in runs), "bytes": runs[0][1]}
            results["dna"] = row
            line = "  ".join(f"{sdk}: {v['seconds']:.3f} s, {v['bytes'] / 1000:.0f} KB" for sdk, v in row.items())
            print(f"{'dna':<13} {line}")
        if not only or "import" in only:
            row = {}
            for sdk in sdks:
                row[sdk] = {"seconds": statistics.median(import_time(sdk) for _ in range(max(3, args.repeat)))}
            results["import"] = row
            print(f"{'import':<13} " + "  ".join(f"{s}: {v['seconds']:.3f} s" for s, v in row.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def _print_row(name: str, row: dict) -> None:
    parts = []
    for sdk, v in row.items():
        rate = v["rate"]
        shown = f"{rate / 1e9:.2f} GB/s" if v["unit"] == "bytes/s" else f"{rate / 1e3:.1f}k {v['unit']}"
        parts.append(f"{sdk}: {shown} ({v['seconds']:.3f} s)")
    if "rerun" in row:
        parts.append(f"ratio {row['rerun_zmq']['rate'] / row['rerun']['rate']:.2f}x")
    print(f"{name:<13} " + "  ".join(parts))


if __name__ == "__main__":
    raise SystemExit(main())
