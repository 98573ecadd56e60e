"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples every run (a red build always reproduces); locally they vary
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def rec():
    """A fresh recording with a memory sink, made the thread's current recording for the test."""
    import rerun_zmq as rr

    stream = rr.new_recording("rerun_zmq_test")
    sink = stream.memory_recording()
    stream.test_sink = sink
    with stream:
        yield stream
    stream.close()


@pytest.fixture
def subprocess_env():
    """Environment for child Python processes: the repo importable, no inherited recording id."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("RERUN_ZMQ_RECORDING_ID", None)
    env.pop("RERUN_ZMQ_APPLICATION_ID", None)
    return env
