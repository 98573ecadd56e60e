"""The real window under Xvfb: it closes cleanly (exit 0, no traceback) on Ctrl+Q, SIGTERM, max frames."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.gui


def start(display: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, DISPLAY=display)
    return subprocess.Popen(
        [sys.executable, "-m", "rerun_zmq", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_window(display: str, proc: subprocess.Popen) -> None:
    env = dict(os.environ, DISPLAY=display)
    found = subprocess.run(
        ["xdotool", "search", "--sync", "--onlyvisible", "--name", "rerun-zmq"],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert found.returncode == 0 and proc.poll() is None


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("viewer did not exit")
    return proc.returncode, err


def test_max_frames_exits_cleanly(xvfb_display, dna_rrd):
    rc, err = finish(start(xvfb_display, dna_rrd, "--max-frames", "20"))
    assert rc == 0, err
    assert "Traceback" not in err


def test_sigterm_closes_window_cleanly(xvfb_display, dna_rrd):
    proc = start(xvfb_display, dna_rrd)
    if shutil.which("xdotool"):
        wait_for_window(xvfb_display, proc)
    else:
        time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    rc, err = finish(proc)
    assert rc == 0, err
    assert "Traceback" not in err


@pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")
def test_ctrl_q_closes_window_cleanly(xvfb_display, dna_rrd):
    proc = start(xvfb_display, dna_rrd)
    wait_for_window(xvfb_display, proc)
    env = dict(os.environ, DISPLAY=xvfb_display)
    subprocess.run(["xdotool", "mousemove", "400", "300"], env=env, check=True, timeout=10)
    deadline = time.monotonic() + 15
    while proc.poll() is None and time.monotonic() < deadline:
        subprocess.run(["xdotool", "key", "ctrl+q"], env=env, check=True, timeout=10)
        time.sleep(0.3)
    rc, err = finish(proc)
    assert rc == 0, err
    assert "Traceback" not in err


def test_idle_window_sleeps_instead_of_spinning(xvfb_display, dna_rrd):
    """With no input, data or playback, frames wait for events: well under a core of CPU."""
    proc = start(xvfb_display, dna_rrd)
    try:
        if shutil.which("xdotool"):
            wait_for_window(xvfb_display, proc)
        time.sleep(1.5)  # loading done, the idle threshold passed
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu() -> float:
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        before, t0 = cpu(), time.monotonic()
        time.sleep(2.0)
        share = (cpu() - before) / (time.monotonic() - t0)
        assert share < 0.3, f"idle viewer used {share:.0%} of a core"
    finally:
        proc.send_signal(signal.SIGTERM)
        rc, err = finish(proc)
    assert rc == 0, err
