"""A producer process for the ingest tests: logs ``--rows`` rows to ``/{entity}`` and reports what happened.

Row i has sequence ``i`` on timeline ``step`` and the scalar value ``i``. Prints one JSON line of
the sink's stats after the final flush; ``--pause-file`` makes it log half the rows, print
``HALF`` and wait for that file to exist (so a test can act mid-stream without sleeping).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

import rerun_zmq as rr
from rerun_zmq._net import connect


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--entity", required=True)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--recording-id", default=None)
    ap.add_argument("--policy", default="block")
    ap.add_argument("--max-bytes", type=int, default=100 << 20)
    ap.add_argument("--flush-timeout", type=float, default=60.0)
    ap.add_argument("--pause-file", default=None)
    ap.add_argument("--report-half", action="store_true", help="flush and print HALF at half, then go on")
    ap.add_argument("--rate", type=float, default=0.0, help="rows per second (0: as fast as possible)")
    ap.add_argument("--client-key", default=None)
    ap.add_argument("--server-key", default=None)
    a = ap.parse_args()
    rec = rr.new_recording("ingest_test", recording_id=a.recording_id, make_default=True)
    kwargs = {}
    if a.client_key:
        kwargs = {"client_key": a.client_key, "server_key": a.server_key}
    sink = connect(rec, a.addr, policy=a.policy, max_bytes_in_flight=a.max_bytes,
                           flush_timeout_sec=a.flush_timeout, **kwargs)
    t0 = time.monotonic()
    for i in range(a.rows):
        if (a.pause_file or a.report_half) and i == a.rows // 2:
            rec.flush(a.flush_timeout)
            print("HALF", flush=True)
            while a.pause_file and not os.path.exists(a.pause_file):
                time.sleep(0.01)  # waiting on the test's signal file; no event to await across processes
        rr.set_time("step", sequence=i)
        rr.log(a.entity, rr.Scalars(float(i)))
        if a.rate:
            target = t0 + (i + 1) / a.rate
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    ok = rec.flush(a.flush_timeout)
    print(json.dumps({"flushed": ok, **dataclasses.asdict(sink.stats)}), flush=True)
    rec.close()
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
