"""The examples run as users run them, into files, and produce what the tutorial promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

import rerun_zmq as rr

ROOT = Path(__file__).resolve().parents[2]


def _stats(path, env):
    proc = subprocess.run([sys.executable, "-m", "rerun_zmq", "rrd", "stats", "--json", str(path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_dna_example_one_row_per_log_call(tmp_path, subprocess_env):
    out = tmp_path / "dna.rrd"
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "dna.py"), "--save", str(out)],
                          capture_output=True, text=True, env=subprocess_env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    s = _stats(out, subprocess_env)
    assert s["rows"] == 804
    assert s["entities"] == ["/dna/structure", "/dna/structure/left", "/dna/structure/right",
                             "/dna/structure/scaffolding", "/dna/structure/scaffolding/beads"]
    assert s["timelines"] == {"log_time": "timestamp", "stable_time": "duration"}
    assert s["complete"] and s["format_version"] == 1
    assert [r["application_id"] for r in s["recordings"]] == ["rerun_example_dna_abacus"]


def test_utilities_match_tutorial_expectations():
    points, colors = rr.utilities.build_color_spiral(100)
    assert points.shape == (100, 3) and colors.shape == (100, 3)
    assert np.allclose(rr.utilities.bounce_lerp(0.0, 10.0, 0.25), 2.5)
    assert np.allclose(rr.utilities.bounce_lerp(0.0, 10.0, 1.25), 7.5)


def test_robot_arm_example(tmp_path, subprocess_env):
    out = tmp_path / "arm.rrd"
    cmd = [sys.executable, str(ROOT / "examples" / "robot_arm.py"), "--save", str(out), "--frames", "10"]
    proc = subprocess.run(cmd,
                          capture_output=True, text=True, env=subprocess_env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    s = _stats(out, subprocess_env)
    assert s["complete"] and s["rows"] == 10 * 9 + 2
    assert "/world/base/link0/link1/link2/geometry" in s["entities"]
    assert s["timelines"] == {"frame": "sequence", "log_time": "timestamp", "sim_time": "duration"}


def test_telemetry_workers_example_one_recording(tmp_path, subprocess_env):
    out = tmp_path / "tel.rrd"
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "telemetry_workers.py"), "--save", str(out),
                           "--workers", "3", "--steps", "100"],
                          capture_output=True, text=True, env=subprocess_env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    s = _stats(out, subprocess_env)
    assert s["complete"], s["error"]
    assert len(s["recordings"]) == 1 and s["producers"] == 4
    scalars = [e for e in s["entities"] if e.endswith(("/current", "/temperature"))]
    assert len(scalars) == 6
    assert s["rows"] >= 1 + 3 * 100 * 2
