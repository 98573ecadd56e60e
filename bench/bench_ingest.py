"""Ingest benchmarks: small log calls, 1M-point frames, idle CPU, shards; side by side with rerun-sdk.

    python bench/bench_ingest.py [--quick] [--no-rerun] [--only N]

1. 4 producers x 25,000 small log calls (a Scalars row each) into ``rerun-zmq serve --save``, timed
   from the moment all producers are imported and connected (they start together) until every row
   is acknowledged (``rr.flush``), vs the same script with ``import rerun as rr`` into
   ``rerun --port N --save FILE`` (where installed; its ``flush`` returns once the SDK has sent).
   The wall time including interpreter startup is printed too.
2. 1M-point Points3D frames through the ingest into the store, vs raw pyzmq tcp (DEALER -> ROUTER,
   same message size, receiver acknowledging each message) measured in the same run. Also shown: the
   same raw receiver keeping every message, as a store must (what new memory costs here).
   Before each timed run the machine's free memory is warmed (see ``warm_memory``); ``--cold``
   skips that and shows what a virtual machine that hands back freed memory to its host costs.
3. Idle ingest CPU over a few seconds.
4. What ``--shards 2`` buys over ``--shards 1`` for workload 1 on this machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SMALL = r"""
import sys, time
import {module} as rr
port, k, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rr.init("bench_small", recording_id="bench")
{connect}
print("ready", flush=True)
sys.stdin.readline()  # every producer is imported and connected: go together
t0 = time.time()
for i in range(n):
    rr.set_time("step", sequence=i)
    rr.log(f"p{{k}}", rr.Scalars(float(i)))
{flush}
print(t0, time.time(), flush=True)
"""
OURS = dict(module="rerun_zmq", connect='rr.connect(f"127.0.0.1:{port}")', flush="assert rr.flush(120.0)")
RERUN = dict(module="rerun", connect='rr.connect_grpc(f"rerun+http://127.0.0.1:{port}/proxy")',
             flush="rr.get_global_data_recording().flush()")

BIG = r"""
import sys, time
import numpy as np
import rerun_zmq as rr
port, frames, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rr.init("bench_big", recording_id="big")
rr.connect(f"127.0.0.1:{port}")
pts = [np.random.default_rng(i).random((n, 3), dtype=np.float32) for i in range(2)]
for i in range(3):  # warm up: the allocator's first 12 MB buffers cost page faults, not transport
    rr.set_time("frame", sequence=-3 + i); rr.log("warmup", rr.Points3D(pts[i % 2]))
rr.flush(30.0)
t0 = time.time()
for i in range(frames):
    rr.set_time("frame", sequence=i)
    rr.log("cloud", rr.Points3D(pts[i % 2]))
assert rr.flush(120.0)
print(t0, time.time(), flush=True)
"""

RAW_RECV = r"""
import sys, time, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.ROUTER); s.setsockopt(zmq.LINGER, 0)
port = s.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
n = int(sys.argv[1]) + 3
for _ in range(n):
    ident, *frames = s.recv_multipart(copy=False)
    s.send_multipart([ident, b"ack"])
s.close(); ctx.term()
"""
RAW_KEEP = RAW_RECV.replace("ident, *frames = s.recv_multipart(copy=False)",
                            "ident, *frames = s.recv_multipart(copy=False); kept.append(frames)").replace(
    "n = int(sys.argv[1]) + 3", "n = int(sys.argv[1]) + 3; kept = []")
WARM = r"""
import sys, numpy as np
a = np.empty(int(sys.argv[1]), np.uint8); a[::4096] = 1  # touch every page, then give it all back
"""
RAW_SEND = r"""
import sys, time, zmq, numpy as np
port, n, size, window = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), 4
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); s.connect(f"tcp://127.0.0.1:{port}")
payload = np.random.default_rng(0).random(size // 4, dtype=np.float32).tobytes()
for _ in range(3):  # warm up like the ingest run
    s.send_multipart([b"hdr", payload], copy=False); s.recv()
t0 = time.time(); sent = acked = 0
while acked < n:
    while sent < n and sent - acked < window:
        s.send_multipart([b"hdr", payload], copy=False); sent += 1
    s.recv(); acked += 1
print(t0, time.time(), flush=True)
s.close(); ctx.term()
"""


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.pop("RERUN_ZMQ_RECORDING_ID", None)
    e.pop("RERUN_ZMQ_APPLICATION_ID", None)
    return e


class Proc:
    """A server process started for one measurement; stopped with SIGTERM by pid."""

    def __init__(self, cmd: list[str], wait_line: bool = True) -> None:
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env(),
                                  cwd=ROOT)
        self.line = self.p.stdout.readline().strip() if wait_line else ""

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def start_ours(*args: str) -> tuple[Proc, int]:
    proc = Proc([sys.executable, "-m", "ingest.server", "--port", "0", "--bind", "127.0.0.1", "--quiet", *args])
    return proc, int(proc.line.rsplit(":", 1)[1])


def run_parallel(script: str, argv_list: list[list[str]], barrier: bool = False) -> tuple[float, float]:
    """Run one script per argv at once; (wall from first log call to last flush, wall incl. startup).

    With ``barrier`` each script prints a line once it is ready (imported, connected) and waits for a
    line on stdin; every script gets it when all are ready, so the first figure measures the logging
    and not the other processes' interpreter startup competing for the same cores.
    """
    start = time.time()
    procs = [subprocess.Popen([sys.executable, "-c", script, *a], stdout=subprocess.PIPE, text=True, env=env(),
                              cwd=ROOT, stdin=subprocess.PIPE if barrier else subprocess.DEVNULL)
             for a in argv_list]
    if barrier:
        for p in procs:
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("producer failed before it was ready")
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.close()
            p.stdin = None  # (communicate below must not flush it)
    times = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"producer failed with {p.returncode}")
        times.append([float(x) for x in out.split()[-2:]])
    return max(t[1] for t in times) - min(t[0] for t in times), time.time() - start


def bench_small(producers: int, rows: int, shards: int = 1) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return _bench_small(producers, rows, shards, Path(tmp) / "small.rrd")


def _bench_small(producers: int, rows: int, shards: int, save: Path) -> float:
    proc, port = start_ours("--shards", str(shards), "--save", str(save))
    try:
        wall, total = run_parallel(SMALL.format(**OURS), [[str(port), str(k), str(rows)] for k in range(producers)],
                                   barrier=True)
        from ingest.client import IngestClient

        with IngestClient(f"127.0.0.1:{port}") as c:
            stored = c.stats()["rows"]
    finally:
        proc.stop()
    n = producers * rows
    if stored != n:
        raise RuntimeError(f"the ingest stored {stored} rows, expected {n}")
    rate = n / wall
    print(f"  rerun-zmq serve --shards {shards} --save: {n} rows acked in {wall:.2f} s = {rate:,.0f} rows/s "
          f"({total:.2f} s with process startup)")
    return rate


def rerun_binary() -> str | None:
    cand = Path(sys.executable).with_name("rerun")
    return str(cand) if cand.exists() else shutil.which("rerun")


def bench_small_rerun(producers: int, rows: int) -> float | None:
    exe = rerun_binary()
    try:
        import rerun  # noqa: F401
    except ImportError:
        exe = None
    if exe is None:
        print("  rerun-sdk: not installed, skipped")
        return None
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # `rerun --port N --save FILE`: its gRPC server, writing what arrives to a file, like ours with
    # --save. Its own session: the `rerun` entry point runs the server binary as a child, and the
    # whole group must go when the measurement ends.
    tmp = tempfile.TemporaryDirectory()
    server = subprocess.Popen([exe, "--port", str(port), "--save", str(Path(tmp.name) / "small.rrd")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)  # the rerun server has no readiness line to wait on
        wall, total = run_parallel(SMALL.format(**RERUN), [[str(port), str(k), str(rows)] for k in range(producers)],
                                   barrier=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        tmp.cleanup()
    rate = producers * rows / wall
    print(f"  rerun --save (rerun-sdk): {producers * rows} rows in {wall:.2f} s = {rate:,.0f} rows/s "
          f"({total:.2f} s with process startup)")
    return rate


def warm_memory(nbytes: int) -> None:
    """Touch ``nbytes`` of fresh memory in a short-lived process and free it.

    On a virtual machine whose balloon driver reports free memory to the host (free page reporting),
    the host drops pages that stay free for a few seconds, and the first write to such a page costs
    ~10x a normal page fault (measured here: 12 MB of new memory in 19-28 ms instead of 1.7-2.5 ms).
    A store keeps what it receives, so it always needs new memory, and a timed run's figure would
    depend on what the machine did in the seconds before. Warming first gives every run, raw or
    ours, memory in the state a physical machine's memory is always in."""
    subprocess.run([sys.executable, "-c", WARM, str(nbytes)], check=True, env=env())


def bench_big(frames: int, points: int, repeats: int = 3, warm: bool = True) -> None:
    """Raw, raw keeping every message and ours alternate ``repeats`` times; the best of each is
    reported (a shared machine is noisy)."""
    size = points * 12
    runs: dict[str, list[float]] = {"raw": [], "keep": [], "ours": [], "tcp": []}
    for _ in range(repeats):
        for name, script in (("raw", RAW_RECV), ("keep", RAW_KEEP)):
            if warm:
                warm_memory(2 * (frames + 3) * size)
            recv = Proc([sys.executable, "-c", script, str(frames)])
            try:
                wall, _ = run_parallel(RAW_SEND, [[recv.line, str(frames), str(size)]])
            finally:
                recv.stop()
            runs[name].append(frames * size / wall)
        for name, args in (("ours", ()), ("tcp", ("--no-shm",))):
            if warm:
                warm_memory(2 * (frames + 3) * size)
            proc, port = start_ours(*args)
            try:
                wall, _ = run_parallel(BIG, [[str(port), str(frames), str(points)]])
            finally:
                proc.stop()
            runs[name].append(frames * size / wall)
    raw, keep, best, tcp = (max(runs[k]) for k in ("raw", "keep", "ours", "tcp"))

    def listed(k: str) -> str:
        return ", ".join(f"{r / 1e9:.2f}" for r in runs[k])

    print(f"  {frames} frames of {size / 1e6:.0f} MB, {'warm' if warm else 'cold (--cold)'} memory")
    print(f"  raw pyzmq tcp: {raw / 1e9:.2f} GB/s (runs: {listed('raw')})")
    print(f"  raw pyzmq tcp, receiver keeping every message: {keep / 1e9:.2f} GB/s (runs: {listed('keep')}) "
          f"= {keep / raw:.2f} of raw")
    print(f"  rerun-zmq ingest ({points:,}-point Points3D frames into the store): {best / 1e9:.2f} GB/s "
          f"(runs: {listed('ours')}) = {best / raw:.2f} of raw, {best / keep:.2f} of the keeping receiver")
    print(f"  the same with --no-shm (big frames over loopback TCP, as from another machine): {tcp / 1e9:.2f} GB/s "
          f"(runs: {listed('tcp')}) = {tcp / raw:.2f} of raw, {tcp / keep:.2f} of the keeping receiver")


def bench_idle(seconds: float) -> None:
    proc, _ = start_ours()
    try:
        def cpu() -> float:
            fields = Path(f"/proc/{proc.p.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        time.sleep(1.0)  # let startup finish before measuring
        c0, t0 = cpu(), time.time()
        time.sleep(seconds)
        share = (cpu() - c0) / (time.time() - t0)
    finally:
        proc.stop()
    print(f"  idle ingest CPU: {share * 100:.2f} % of one core over {seconds:.0f} s")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller workloads")
    ap.add_argument("--no-rerun", action="store_true")
    ap.add_argument("--no-shards", action="store_true")
    ap.add_argument("--repeats", type=int, default=3, help="best of N (the machine may be shared)")
    ap.add_argument("--only", type=int, choices=(1, 2, 3, 4), help="run only this section")
    ap.add_argument("--frames", type=int, help="section 2: frames per run (default 60; 10 with --quick)")
    ap.add_argument("--cold", action="store_true", help="section 2: do not warm the machine's free memory first")
    a = ap.parse_args()
    producers, rows = 4, 25_000
    frames, points = (10, 1_000_000) if a.quick else (60, 1_000_000)
    frames = a.frames or frames

    def run(section: int) -> bool:
        return a.only in (None, section)

    if run(1):
        print(f"1. {producers} producers x {rows:,} small log calls, until acknowledged (best of {a.repeats})")
        ours_runs, theirs_runs = [], []
        for _ in range(a.repeats):
            ours_runs.append(bench_small(producers, rows))
            if not a.no_rerun:
                theirs_runs.append(bench_small_rerun(producers, rows))
        ours = max(ours_runs)
        theirs = max((t for t in theirs_runs if t), default=None)
        if theirs:
            print(f"  best: rerun-zmq {ours:,.0f} rows/s, rerun {theirs:,.0f} rows/s: ratio {ours / theirs:.1f}x")
    if run(2):
        print("2. 1M-point frames")
        bench_big(frames, points, a.repeats, warm=not a.cold)
    if run(3):
        print("3. idle")
        bench_idle(2.0 if a.quick else 5.0)
    if run(4) and not a.no_shards:
        print(f"4. shards (workload 1, best of {a.repeats})")
        one, two = 0.0, 0.0
        for _ in range(a.repeats):  # alternate, so both see the same background load
            one = max(one, bench_small(producers, rows, shards=1))
            two = max(two, bench_small(producers, rows, shards=2))
        print(f"  best --shards 2 / best --shards 1: {two / one:.2f}x (the ingest process is mostly idle here: "
              "producers' log calls are the bottleneck on 2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
