"""CURVE: a known key is admitted, an unknown one refused. ``rr.spawn`` twice: the second connects to the first."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys

import zmq.auth

from ingest.client import IngestClient

from .conftest import ROOT, child_env, finish_producer, start_producer


def test_curve_admits_known_keys_only(ingest, tmp_path):
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    zmq.auth.create_certificates(str(allowed), "server")
    zmq.auth.create_certificates(str(allowed), "alice")
    zmq.auth.create_certificates(str(other), "mallory")
    ing = ingest("--auth-keys", str(allowed))
    server_pub = str(allowed / "server.key")
    alice = start_producer(ing.addr, "alice", "--rows", "2000", "--recording-id", "curve",
                           "--client-key", str(allowed / "alice.key_secret"), "--server-key", server_pub)
    mallory = start_producer(ing.addr, "mallory", "--rows", "2000", "--recording-id", "curve", "--flush-timeout", "2",
                             "--client-key", str(other / "mallory.key_secret"), "--server-key", server_pub)
    assert finish_producer(alice)["acked_rows"] == 2000
    out, err = mallory.communicate(timeout=60)
    assert mallory.returncode == 3, (out, err)  # its flush could not complete
    assert json.loads(out.splitlines()[-1])["acked_rows"] == 0
    assert "not acknowledged" in err and "refused this producer's CURVE key" in err
    with IngestClient(ing.addr, client_key=allowed / "alice.key_secret", server_key=server_pub) as client:
        stats = client.stats()
    assert [p["rows"] for p in stats["per_producer"]] == [2000]
    assert stats["rejected_by_code"].get("auth", 0) >= 1
    assert ing.stop() == 0


SPAWN = """
import sys, rerun_zmq as rr
rr.init("spawn_test", recording_id="spawned")
rr.spawn(port=int(sys.argv[1]))
for i in range(1000):
    rr.set_time("step", sequence=i)
    rr.log(sys.argv[2], rr.Scalars(float(i)))
print("FLUSHED", rr.flush(30.0), flush=True)
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_spawn_twice_second_connects_to_first(tmp_path):
    port = _free_port()
    env = child_env()
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    runs = []
    for name in ("first", "second"):
        runs.append(subprocess.run([sys.executable, "-c", SPAWN, str(port), name], capture_output=True, text=True,
                                   env=env, cwd=ROOT, timeout=120))
    with IngestClient(f"127.0.0.1:{port}") as client:
        stats = client.stats()
        _, batches = client.chunks("spawned")
    pidfd = os.pidfd_open(stats["pid"])
    try:
        assert all("FLUSHED True" in r.stdout for r in runs), runs
        assert "headless ingest" in runs[0].stderr  # no display: said so clearly
        assert "headless ingest" not in runs[1].stderr  # the second found the first one listening
        assert stats["rows"] == 2000
        assert sorted({b.schema.metadata[b"rz.entity_path"] for b in batches}) == [b"/first", b"/second"]
    finally:
        os.kill(stats["pid"], signal.SIGTERM)  # the detached ingest rr.spawn started
        assert select.select([pidfd], [], [], 20)[0], "spawned ingest did not exit on SIGTERM"
        os.close(pidfd)
