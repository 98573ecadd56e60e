"""Ingest hardening: a bad store-worker reply does not stop the ingest; a corrupt CURVE key is a clean error."""

from __future__ import annotations

import subprocess
import sys

import pytest
import zmq.auth

import rerun_zmq as rr
from ingest.client import IngestClient
from rerun_zmq._errors import RerunZmqWarning
from rerun_zmq._net import connect

from .conftest import ROOT, child_env
from .test_server_inproc import log_rows, running_server


def test_a_worker_reply_that_raises_is_counted_and_the_ingest_keeps_serving():
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        from_worker, calls = srv.shards._from_worker, []

        def first_one_fails(frames, k):
            calls.append(k)
            if len(calls) == 1:
                raise RuntimeError("a bad worker reply")
            return from_worker(frames, k)

        srv.shards._from_worker = first_one_fails
        rec = rr.new_recording("hardening", recording_id="h1")
        sink = connect(rec, f"127.0.0.1:{srv.port}", flush_timeout_sec=3.0)
        log_rows(rec, "a", 5)
        with IngestClient(f"127.0.0.1:{srv.port}") as client:
            while not calls:  # each stats() is a round trip to the ingest, not a sleep
                client.stats()
            other = rr.new_recording("hardening", recording_id="h2")
            other_sink = connect(other, f"127.0.0.1:{srv.port}", flush_timeout_sec=3.0)
            log_rows(other, "b", 5)
            assert other_sink.flush(30.0)  # the ingest lived through the bad reply and keeps storing
            stats = client.stats()
        assert stats["worker_errors"] == 1
        other_sink.close()
        other.close()
        with pytest.warns(RerunZmqWarning, match="not acknowledged"):
            sink.close()  # the bad reply's chunk is refused at the 30 s chunk deadline, after this close
        with pytest.warns(RerunZmqWarning, match="not accepted by its sink"):
            rec.close()  # at once (the sink is closed), and said here rather than at interpreter exit


def test_a_corrupt_server_key_is_a_clean_error_naming_the_file(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    zmq.auth.create_certificates(str(keys), "producer")
    for text in ("garbage\n", 'metadata\ncurve\n    public-key = "abc"\n    secret-key = "short"\n'):
        bad = tmp_path / "server.key_secret"
        bad.write_text(text)
        proc = subprocess.run([sys.executable, "-m", "ingest.server", "--port", "0", "--bind", "127.0.0.1",
                               "--auth-keys", str(keys), "--server-key", str(bad)],
                              capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=60)
        assert proc.returncode == 1, proc.stderr
        assert str(bad) in proc.stderr and "expected" in proc.stderr
        assert "Traceback" not in proc.stderr
