"""``rr.spawn``: make sure an ingest listens on the port (starting one, detached, if not), then connect.

With a display and the viewer installed, the ingest runs headless (``rerun-zmq serve``) and a
viewer (``rerun-zmq --connect``) is started next to it, so closing the window never loses data the
producer is still sending. Without a display the ingest alone keeps running, and stderr says so.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time

from ._net_addr import DEFAULT_HOST

READY_TIMEOUT = 15.0


def is_listening(host: str, port: int, timeout: float = 0.2) -> bool:
    """Something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def viewer_available() -> tuple[bool, str]:
    """(can a viewer window open here, why not)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display (DISPLAY and WAYLAND_DISPLAY are not set)"
    try:
        if importlib.util.find_spec("ui.app") is None:
            return False, "the viewer (package 'ui') is not installed"
    except (ImportError, ValueError):
        return False, "the viewer (package 'ui') is not installed"
    return True, ""


def _detached(cmd: list[str], log_path: str) -> subprocess.Popen:
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                close_fds=True)
    finally:
        log.close()


def start_ingest(port: int, memory_limit: str, host: str = DEFAULT_HOST) -> str:
    """Start ``rerun-zmq serve`` detached on ``port`` and wait until it accepts connections; returns its log."""
    log_path = os.path.join(tempfile.gettempdir(), f"rerun-zmq-serve-{port}.log")
    cmd = [sys.executable, "-m", "rerun_zmq", "serve", "--port", str(port), "--memory-limit", str(memory_limit)]
    proc = _detached(cmd, log_path)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if is_listening(host, port):
            return log_path
        if proc.poll() is not None:
            if is_listening(host, port):  # lost a race with another spawn: that one is ours too
                return log_path
            raise RuntimeError(f"rr.spawn: `rerun-zmq serve` exited with {proc.returncode}; see {log_path}")
        time.sleep(0.05)  # polling another process's readiness; the producer buffers meanwhile
    print(f"rr.spawn: the ingest on port {port} is slow to start; data is buffered until it is up "
          f"(log: {log_path})", file=sys.stderr)
    return log_path


def ensure_ingest(port: int = 9876, memory_limit: str = "75%", host: str = DEFAULT_HOST) -> tuple[str, bool]:
    """An ingest listening on ``host:port``: ``(address, started_now)``; starts ``rerun-zmq serve`` detached
    when nothing listens (for ``rerun-zmq`` with no file, before it opens the viewer on that address)."""
    if is_listening(host, port):
        return f"{host}:{port}", False
    start_ingest(port, memory_limit, host)
    return f"{host}:{port}", True


def spawn(rec, *, port: int = 9876, connect_: bool = True, memory_limit: str = "75%", **kwargs) -> None:
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"rr.spawn: port must be in 1..65535, got {port!r}")
    host = DEFAULT_HOST
    if not is_listening(host, port):
        log_path = start_ingest(port, memory_limit, host)
        ok, why = viewer_available()
        if ok:
            view_log = os.path.join(tempfile.gettempdir(), f"rerun-zmq-viewer-{port}.log")
            _detached([sys.executable, "-m", "rerun_zmq", "--connect", f"{host}:{port}"], view_log)
        else:
            print(f"rr.spawn: {why}: no viewer window; a headless ingest (`rerun-zmq serve`) now keeps "
                  f"your data on {host}:{port} (log: {log_path}). View it with "
                  f"`rerun-zmq --connect {host}:{port}` from a machine with a display.",
                  file=sys.stderr, flush=True)
    if connect_ and rec is not None:
        from ._net import connect

        connect(rec, f"{host}:{port}", **kwargs)
