"""``rerun-zmq`` with no file starts an ingest when none listens, shows it live, and leaves it running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_pids(port: int) -> list[int]:
    """Processes running `rerun_zmq serve --port PORT` (the detached ingest)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in cmd and b"--port" in cmd and str(port).encode() in cmd:
            pids.append(int(entry.name))
    return pids


def test_no_file_starts_an_ingest_and_connects(tmp_path):
    port = _free_port()
    env = dict(os.environ, RERUN_ZMQ_PORT=str(port), TMPDIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "rerun_zmq", "--headless", "--max-frames", "5"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    pids = _serve_pids(port)
    try:
        assert proc.returncode == 0, proc.stderr
        assert f"started an ingest on 127.0.0.1:{port}" in proc.stderr
        assert len(pids) == 1, "the ingest should outlive the viewer, so producers keep their data"
        again = subprocess.run([sys.executable, "-m", "rerun_zmq", "--headless", "--max-frames", "3"],
                               capture_output=True, text=True, env=env, timeout=120, check=False)
        assert again.returncode == 0, again.stderr
        assert f"connected to the ingest on 127.0.0.1:{port}" in again.stderr
        assert _serve_pids(port) == pids
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
