#!/usr/bin/env python3
"""Store and query API: rerun_zmq.dataframe against rerun-sdk's RrdReader/ChunkStore (when installed).

Builds the 100k-row file of the SDK "scalars" workload with each SDK, then times: loading it,
latest-at for one entity at the last time, a full range query over the 100k rows, store insert
throughput (small-row and 1M-point chunks) and latest-at of 1,000 entities x 1,000 rows (one frame).

    python bench/bench_store.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOG = """
import sys
import {sdk} as rr
rr.init("bench", spawn=False)
rr.save(sys.argv[1])
paths = [f"sensor/{{i}}" for i in range(100)]
for i in range(100_000):
    rr.set_time("frame", sequence=i)
    rr.log(paths[i % 100], rr.Scalars(float(i)))
rr.disconnect()
"""


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def make_file(sdk, tmp):
    out = tmp / f"{sdk}.rrd"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", LOG.format(sdk=sdk), str(out)], check=True, env=env, timeout=600)
    return out


def bench_ours(path, repeat):
    from rerun_zmq import dataframe

    rec = dataframe.load_recording(path)
    out = {"load": best(lambda: dataframe.load_recording(path), repeat)}
    out["latest_at"] = best(lambda: rec.latest_at("sensor/99", "frame", 99_999), repeat * 20)
    out["latest_at_uncached"] = best(lambda: (rec.store.cache.clear(), rec.latest_at("sensor/99", "frame", 99_999)),
                                     repeat * 20)

    def full_range():
        return sum(rec.range(e, "frame").num_rows for e in rec.entity_paths())

    assert full_range() == 100_000
    out["range_100k"] = best(full_range, repeat)
    return out


def bench_rerun(path, repeat):
    try:
        from rerun.chunk import RrdReader
    except ImportError:
        return {}
    out = {"load": best(lambda: RrdReader(path).stream().collect(), repeat)}
    store = RrdReader(path).stream().collect()
    out["latest_at"] = best(lambda: store.reader("frame", contents="/sensor/99", fill_latest_at=True,
                                                 using_index_values=[99_999]).to_arrow_table(), repeat)
    out["range_100k"] = best(lambda: store.reader("frame").to_arrow_table(), repeat)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_rerun_dataframe(path, repeat):
    """Rerun's dataframe API: a local server holding the file as a dataset, read back as one table.

    Timed from starting the server to the table in hand (the server loads the file on start).
    """
    try:
        from rerun.server import Server
    except ImportError:
        return None

    def load():
        with Server(host="127.0.0.1", port=_free_port(), datasets={"d": [str(path)]}) as server:
            client = server.client()  # (held: the query fails once the client is collected)
            dataset = client.get_dataset("d")
            table = dataset.reader(index="frame").to_arrow_table()
            del dataset, client
        if table.num_rows != 100_000:
            raise RuntimeError(f"rerun dataframe API returned {table.num_rows} rows, expected 100000")

    return best(load, repeat)


def bench_insert(repeat):
    from rerun_zmq._chunk import build_chunk
    from store import TimelineStore

    def scalars(entity, frames, start):
        n = len(frames)
        rids = np.stack([np.arange(start, start + n), np.zeros(n)], 1).astype(np.uint64)
        return build_chunk(entity, rids, {"frame": ("sequence", np.asarray(frames, np.int64))},
                           {"Scalars:scalars": (pa.float64(), pa.array(np.random.rand(n)), np.ones(n, np.int64))},
                           ["Scalars"], False)

    out = {}
    small = [scalars("/s", [i], i + 1) for i in range(20_000)]
    t, _ = best(lambda: [st.insert(c) for st in [TimelineStore()] for c in small], repeat)
    out["insert 1-row chunks"] = f"{20_000 / t:,.0f} rows/s, {sum(c.nbytes for c in small) / t / 1e6:.1f} MB/s"
    mid = [scalars("/s", np.arange(i * 100, (i + 1) * 100), i * 100 + 1) for i in range(1000)]
    t, _ = best(lambda: [st.insert(c) for st in [TimelineStore()] for c in mid], repeat)
    out["insert 100-row chunks"] = f"{100_000 / t:,.0f} rows/s, {sum(c.nbytes for c in mid) / t / 1e6:.1f} MB/s"
    n = 1_000_000
    pos = pa.FixedSizeListArray.from_arrays(pa.array(np.random.rand(n * 3).astype(np.float32)), 3)
    big = [build_chunk("/pc", np.array([[i + 1, 0]], np.uint64), {"frame": ("sequence", np.array([i]))},
                       {"Points3D:positions": (pos.type, pos, np.array([n]))}, ["Points3D"], False) for i in range(10)]
    t, _ = best(lambda: [st.insert(c) for st in [TimelineStore()] for c in big], repeat)
    out["insert 1M-point chunks"] = f"{10 / t:,.0f} chunks/s, {sum(c.nbytes for c in big) / t / 1e9:.1f} GB/s"
    st = TimelineStore()
    for e in range(1000):
        st.insert(scalars(f"/e/{e}", np.arange(1000), e * 1000 + 1))
    ents = st.entity_paths()
    def frame(t):
        return [st.latest_at(e, "frame", t) for e in ents]
    cold = best(lambda: (st.cache.clear(), frame(500)), repeat)[0]
    warm = best(lambda: frame(500), repeat)[0]
    out["latest-at 1000 entities x 1000 rows"] = f"{cold * 1e3:.1f} ms uncached, {warm * 1e3:.1f} ms cached"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours = bench_ours(make_file("rerun_zmq", tmp), args.repeat)
        try:
            theirs = bench_rerun(make_file("rerun", tmp), args.repeat)
        except (subprocess.CalledProcessError, OSError, ImportError) as exc:
            # rerun-sdk's query path needs a matching `datafusion` (54.x for rerun-sdk 0.41)
            print(f"rerun-sdk side skipped: {exc}", file=sys.stderr)
            theirs = {}
        try:
            frame_api = bench_rerun_dataframe(tmp / "rerun.rrd", max(1, args.repeat // 2)) if theirs else None
        except Exception as exc:  # noqa: BLE001 -- a benchmark of another SDK: report and go on
            print(f"rerun-sdk dataframe API side skipped: {exc!r}", file=sys.stderr)
            frame_api = None
    print(f"{'query':<22}{'rerun_zmq (min)':>18}{'rerun-sdk (min)':>18}{'speed-up':>10}")
    for key, (lo, _) in ours.items():
        other = theirs.get(key)
        ratio = f"{other[0] / lo:.1f}x" if other else "-"
        label = "load (RrdReader)" if key == "load" else key
        print(f"{label:<22}{lo * 1e3:>15.2f} ms{(other[0] * 1e3 if other else float('nan')):>15.2f} ms{ratio:>10}")
        if key == "load" and frame_api:
            # the second Rerun comparator, next to (not instead of) RrdReader(path).stream().collect()
            lo_api = frame_api[0]
            print(f"{'load (dataframe API)':<22}{lo * 1e3:>15.2f} ms{lo_api * 1e3:>15.2f} ms{lo_api / lo:>9.1f}x")
    if frame_api:
        print("  load (dataframe API) = rerun.server.Server(datasets={'d': [path]}) started -> "
              "client.get_dataset('d').reader(index='frame').to_arrow_table() in hand")
    for key, text in bench_insert(max(1, args.repeat // 2)).items():
        print(f"{key}: {text}")


if __name__ == "__main__":
    main()
