"""Viewer test fixtures: ONE private Xvfb per session (``-noreset -displayfd``), the DNA recording,
and a headless (EGL) ``Viewer`` driven by injecting input into ImGui's io."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from ._dna import write_dna


@pytest.fixture(scope="session", autouse=True)
def _session_data_home(tmp_path_factory):
    """Viewer UI state (XDG_DATA_HOME) of this session's subprocesses goes to a temporary folder."""
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg_data"))
    yield
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


@pytest.fixture(autouse=True)
def _data_home(_session_data_home, tmp_path, monkeypatch):
    """Each test its own UI state folder: one test's saved layout never leaks into the next."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg_data"))


@pytest.fixture(scope="session")
def xvfb_display():
    """DISPLAY of a private Xvfb started for this test session."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb xauth libegl1)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-noreset", "-nolisten", "tcp", "-screen", "0", "1600x1000x24"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def dna_rrd(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("dna") / "dna.rrd")
    write_dna(path)
    return path


def run_viewer(display: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """``python -m rerun_zmq ARGS`` under ``display``."""
    env = dict(os.environ, DISPLAY=display)
    return subprocess.run(
        [sys.executable, "-m", "rerun_zmq", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def viewer(dna_rrd):
    """A headless viewer (EGL, no window) with the DNA recording loaded, at the end of stable_time."""
    from ui.app import Viewer
    from ui.state import Options

    try:
        v = Viewer(Options(headless=True, window_size=(1000, 600)))
    except Exception as exc:  # noqa: BLE001 - no EGL on this machine: skip, not fail
        pytest.skip(f"headless EGL context unavailable: {exc}")
    try:
        v.open_file(dna_rrd, wait=True)
        for _ in range(3):
            v.step()
        yield v
    finally:
        v.close()
