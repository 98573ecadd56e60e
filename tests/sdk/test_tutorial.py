"""The tutorial program, snippet by snippet with only the imports changed, runs end to end.

It calls ``rr.spawn()``: with an ingest already listening on the port (``RERUN_ZMQ_PORT``), spawn
connects to it, exactly as the tutorial describes for a viewer that is already running.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rerun_zmq._rrd_tools import stats
from tests.ingest.conftest import Ingest, child_env

VERBATIM = Path(__file__).with_name("programs") / "tutorial_verbatim.py"


def _with_newer_names(source: str) -> str:
    """The same program with Rerun's newer time API: set_time_seconds(t, x) -> set_time(t, duration=x)."""
    new, n = re.subn(r"rr\.set_time_seconds\(([^,]+), (.+)\)$", r"rr.set_time(\1, duration=\2)", source,
                     flags=re.MULTILINE)
    assert n == 3 and "set_time_seconds" not in new
    return new


@pytest.mark.parametrize("names", ["verbatim", "newer"])
def test_tutorial_runs_into_a_spawned_ingest(tmp_path, names):
    program = tmp_path / "dna_example.py"
    source = VERBATIM.read_text()
    program.write_text(source if names == "verbatim" else _with_newer_names(source))
    out = tmp_path / "tutorial.rrd"
    ingest = Ingest(tmp_path, "--save", str(out))
    try:
        env = dict(child_env(), RERUN_ZMQ_PORT=str(ingest.port))
        proc = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                              env=env, timeout=180, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "Warning" not in proc.stderr, proc.stderr
    finally:
        assert ingest.stop() == 0
    s = stats(str(out))
    assert s["complete"], s["error"]
    assert s["rows"] == 804
    assert s["entities"] == ["/dna/structure", "/dna/structure/left", "/dna/structure/right",
                             "/dna/structure/scaffolding", "/dna/structure/scaffolding/beads"]
    assert s["timelines"] == {"log_time": "timestamp", "stable_time": "duration"}
    assert [r["application_id"] for r in s["recordings"]] == ["rerun_example_dna_abacus"]
