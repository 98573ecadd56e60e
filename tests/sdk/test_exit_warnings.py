"""At interpreter exit, rows logged to a recording that was never given a sink are reported, not
dropped without a word; recordings that keep or deliver their rows say nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(body: str, **env: str) -> subprocess.CompletedProcess:
    code = "import rerun_zmq as rr\nrr.init('exit_check', recording_id='exit1')\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **env})


def test_rows_logged_without_any_sink_are_reported_at_exit():
    out = run("""
        for i in range(7):
            rr.set_time("step", sequence=i)
            rr.log("x", rr.Scalars(float(i)))
    """)
    assert out.returncode == 0, out.stderr
    assert "7 rows logged to recording exit1 were never sent anywhere" in out.stderr
    assert "rr.spawn, rr.connect or rr.save" in out.stderr


@pytest.mark.parametrize("body", [
    "pass",  # nothing logged
    "mem = rr.memory_recording()\nrr.log('x', rr.Scalars(1.0))",  # kept in memory on purpose
    "rr.save(sys.argv[1] if len(sys.argv) > 1 else '/dev/null')\nrr.log('x', rr.Scalars(1.0))",
])
def test_nothing_is_reported_when_rows_are_kept_or_delivered(body):
    out = run("import sys\n" + body)
    assert out.returncode == 0, out.stderr
    assert "never sent anywhere" not in out.stderr


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_exit_with_a_dead_ingest_gives_up_after_the_sinks_flush_timeout_not_the_exit_timeout():
    """Nothing listens on the port: no acknowledgement will ever come. Exit waits the sink's
    ``flush_timeout_sec`` without progress (1 s here, as Rerun's rule), not the exit bound (30 s here),
    and counts the rows it could not deliver."""
    import time

    port = free_port()
    start = time.monotonic()
    out = run(f"""
        rr.connect("127.0.0.1:{port}", flush_timeout_sec=1.0)
        for i in range(5):
            rr.log("x", rr.Scalars(float(i)))
    """, RERUN_ZMQ_EXIT_TIMEOUT_SECS="30")
    elapsed = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    assert "5 rows" in out.stderr and "never sent (lost)" in out.stderr, out.stderr
    assert elapsed < 15.0, f"exit took {elapsed:.1f} s with a 1 s flush timeout (the exit bound is 30 s)"
