"""script_add_args / script_setup / script_teardown, and what happens at interpreter exit."""

from __future__ import annotations

import argparse
import subprocess
import sys

import rerun_zmq as rr
from rerun_zmq._rrd_tools import stats


def _parse(*argv):
    parser = argparse.ArgumentParser()
    rr.script_add_args(parser)
    return parser.parse_args(list(argv))


def test_flags(monkeypatch):
    monkeypatch.delenv("RERUN_ZMQ_PORT", raising=False)
    assert _parse("--save", "x.rrd").save == "x.rrd"
    assert _parse("--connect").connect == "127.0.0.1:9876"
    assert _parse("--connect", "robot:1234").connect == "robot:1234"
    assert _parse("--headless").headless is True


def test_save_setup_and_teardown(tmp_path):
    args = _parse("--save", str(tmp_path / "s.rrd"))
    rec = rr.script_setup(args, "script_test")
    try:
        rr.log("a", rr.Scalars(1.0), recording=rec)
    finally:
        rr.script_teardown(args)
    s = stats(str(tmp_path / "s.rrd"))
    assert s["complete"] and s["rows"] == 1
    assert s["recordings"][0]["application_id"] == "script_test"


def test_file_is_complete_at_exit_without_flush(tmp_path, subprocess_env):
    out = tmp_path / "exit.rrd"
    code = (f"import rerun_zmq as rr\nrr.init('exit')\nrr.save({str(out)!r})\n"
            "for i in range(1000):\n"
            "    rr.set_time('i', sequence=i)\n"
            "    rr.log('x', rr.Scalars(float(i)))\n")
    proc = subprocess.run([sys.executable, "-c", code], env=subprocess_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    s = stats(str(out))
    assert s["complete"] and s["rows"] == 1000


def test_bare_connect_flag_uses_the_port_from_the_environment(monkeypatch):
    """It was fixed at 9876 while rr.connect() with no address honours RERUN_ZMQ_PORT."""
    monkeypatch.setenv("RERUN_ZMQ_PORT", "1234")
    assert _parse("--connect").connect == "127.0.0.1:1234"
    monkeypatch.delenv("RERUN_ZMQ_PORT")
    assert _parse("--connect").connect == "127.0.0.1:9876"
