"""Live: a producer logs into a running ingest and the viewer's screenshot shows its points."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from ui.png import load_png

from ._dna import color_mask

pytestmark = pytest.mark.gui

MAGENTA = (255, 0, 255)


@pytest.fixture
def ingest():
    pytest.importorskip("ingest.server")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rerun_zmq", "serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"tcp://[\w.\[\]:]+", line)
        if m is None:
            pytest.fail(f"ingest did not report its endpoint: {line!r} {proc.stderr.read() if proc.poll() else ''}")
        yield m.group(0)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


PRODUCER = """
import sys, numpy as np, rerun_zmq as rr
from rerun_zmq.archetypes.points3d import Points3D
rr.init("live_test")
rr.connect(sys.argv[1])
for i in range(5):
    rr.set_time_sequence("frame", i)
    rr.log("cloud", Points3D(np.random.default_rng(i).random((400, 3)) * 4, colors=[255, 0, 255], radii=0.06))
assert rr.flush(10)
rr.disconnect()
"""


@pytest.mark.parametrize("mode", ["mirror", "query"])
def test_live_points_show_in_screenshot(xvfb_display, ingest, tmp_path, mode):
    """The viewer is up before the producer starts: the data reaches it as it arrives."""
    png = tmp_path / "live.png"
    viewer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rerun_zmq",
            "--connect",
            ingest,
            "--screenshot-to",
            str(png),
            "--wait",
            "30",
            "--live-mode",
            mode,
        ],
        env=dict(os.environ, DISPLAY=xvfb_display),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        producer = subprocess.run(
            [sys.executable, "-c", PRODUCER, ingest], capture_output=True, text=True, timeout=60, check=False
        )
        assert producer.returncode == 0, producer.stderr
        _, err = viewer.communicate(timeout=60)
    finally:
        if viewer.poll() is None:
            viewer.kill()
            viewer.communicate()
    assert viewer.returncode == 0, err
    img = load_png(png)
    assert color_mask(img, MAGENTA, 20).sum() > 100
    assert np.asarray(img).shape[2] in (3, 4)


def test_viewer_started_before_the_ingest_picks_it_up(xvfb_display, tmp_path):
    """Nothing listens at first; the ingest comes up later on that port and the data shows."""
    import socket

    pytest.importorskip("ingest.server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"tcp://127.0.0.1:{port}"
    png = tmp_path / "late.png"
    env = dict(os.environ, DISPLAY=xvfb_display)
    viewer = subprocess.Popen(
        [sys.executable, "-m", "rerun_zmq", "--connect", addr, "--screenshot-to", str(png), "--wait", "40"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "rerun_zmq", "serve", "--port", str(port), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        serve.stdout.readline()
        producer = subprocess.run(
            [sys.executable, "-c", PRODUCER, addr], capture_output=True, text=True, timeout=60, check=False
        )
        assert producer.returncode == 0, producer.stderr
        _, err = viewer.communicate(timeout=60)
        assert viewer.returncode == 0, err
    finally:
        for proc in (viewer, serve):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    assert color_mask(load_png(png), MAGENTA, 20).sum() > 100
