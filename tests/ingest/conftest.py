"""Fixtures for the ingest tests: real ingest and producer processes on random loopback ports."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCER = Path(__file__).with_name("producer.py")
START_TIMEOUT = 30.0


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("RERUN_ZMQ_RECORDING_ID", None)
    env.pop("RERUN_ZMQ_APPLICATION_ID", None)
    env["PYTHONWARNINGS"] = "default"
    return env


def read_line(proc: subprocess.Popen, timeout: float = START_TIMEOUT) -> str:
    """The next stdout line of ``proc`` (waiting on the pipe, not sleeping); fails on timeout or exit."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(timeout):
            raise TimeoutError(f"no output from {proc.args} within {timeout} s")
    finally:
        sel.close()
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"{proc.args} exited with {proc.wait()} before printing a line")
    return line.strip()


class Ingest:
    """A ``rerun-zmq serve`` process on a free port; ``stop()`` sends SIGTERM and returns its exit code."""

    def __init__(self, tmp_path: Path, *args: str, port: int = 0, name: str = "ingest") -> None:
        self.log_path = tmp_path / f"{name}.log"
        self._log = open(self.log_path, "w")
        cmd = [sys.executable, "-m", "ingest.server", "--port", str(port), "--bind", "127.0.0.1",
               "--stats-interval", "60", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, text=True, env=child_env(),
                                     cwd=ROOT)
        line = read_line(self.proc)
        if "listening on" not in line:
            raise RuntimeError(f"unexpected first line from the ingest: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        self.addr = f"127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()
        return rc

    def log_text(self) -> str:
        return self.log_path.read_text()


def start_producer(addr: str, entity: str, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, str(PRODUCER), addr, "--entity", entity, *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(),
                            cwd=ROOT)


def finish_producer(proc: subprocess.Popen, timeout: float = 120.0) -> dict:
    out, err = proc.communicate(timeout=timeout)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"producer failed (rc={proc.returncode}):\n{out}\n{err}")
    return json.loads(lines[-1])


@pytest.fixture
def ingest(tmp_path):
    procs: list[Ingest] = []

    def start(*args: str, **kw) -> Ingest:
        ing = Ingest(tmp_path, *args, **kw)
        procs.append(ing)
        return ing

    yield start
    for ing in procs:
        if ing.proc.poll() is None:
            ing.stop(signal.SIGKILL)


def rows_by_entity(batches) -> dict[str, list]:
    """Entity -> list of (row id bytes, step) over every chunk."""
    out: dict[str, list] = {}
    for b in batches:
        entity = b.schema.metadata[b"rz.entity_path"].decode()
        rids = b.column(0).to_pylist()
        steps = b.column("step").to_pylist() if "step" in b.schema.names else [None] * b.num_rows
        out.setdefault(entity, []).extend(zip(rids, steps))
    return out
