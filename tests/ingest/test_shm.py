"""Big frames through shared memory (``rerun_zmq._net_shm``, ``ingest.shm``): the handshake, what a
same-machine producer's frames become in the store, what the ingest refuses, and the way back to TCP."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import zmq

import rerun_zmq as rr
from ingest import shm
from rerun_zmq import _net_shm, _shm_copy, _wire
from rerun_zmq._net import connect
from rerun_zmq._wire import Ack, Credit, Error, Event, Hello

from .test_prefault import N, buffers_message, cloud, replies, stored_clouds
from .test_server_inproc import running_server

pytestmark = pytest.mark.skipif(not _net_shm.supported(), reason="memfds with seals are Linux only")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def our_memfds() -> list[str]:
    """Open fds of this process that are memfds of the SDK (``rerun-zmq-<token>``)."""
    names = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/memfd:" + _net_shm.NAME_PREFIX):
            names.append(target)
    return names


def log_clouds(rec: rr.RecordingStream, frames: range) -> list[np.ndarray]:
    pts = [cloud(i) for i in frames]
    for i, p in zip(frames, pts, strict=True):
        rec.set_time("frame", sequence=i)
        rec.log("cloud", rr.Points3D(p))
    return pts


# -- the handshake ----------------------------------------------------------------------------------

def test_a_probe_checks_out_only_as_the_sealed_memfd_holding_its_token(tmp_path):
    probe = _net_shm.Probe()
    try:
        params = probe.params()
        assert shm.check_probe(params) == shm.ShmPeer(os.getpid(), probe.token)
        assert fcntl.fcntl(probe.fd, fcntl.F_GET_SEALS) & _net_shm.SEALS == _net_shm.SEALS
        other = "0" * 32
        assert shm.check_probe({**params, "token": other}) is None  # the memfd's name holds another token
        assert shm.check_probe({**params, "pid": 1 << 21}) is None  # no such process
        assert shm.check_probe({**params, "fd": 1 << 19}) is None  # no such fd
        for bad in (None, [], {"pid": "1"}, {**params, "token": "../x" * 8}, {**params, "fd": True}):
            assert shm.check_probe(bad) is None
        path = tmp_path / "plain"
        path.write_text(probe.token)
        with open(path) as f:  # a regular file with the right bytes is not a memfd
            assert shm.check_probe({**params, "fd": f.fileno()}) is None
        r, w = os.pipe()  # opening a FIFO whose writer is gone would wait forever: never opened
        os.close(w)
        try:
            assert shm.check_probe({**params, "fd": r}) is None
        finally:
            os.close(r)
        fd = os.memfd_create(_net_shm.memfd_name(probe.token))  # the right name, but not sealed
        try:
            os.write(fd, probe.token.encode())
            assert shm.check_probe({**params, "fd": fd}) is None
        finally:
            os.close(fd)
    finally:
        probe.close()


def test_ingest_info_says_shm_only_to_a_producer_whose_probe_checks_out():
    def info_for(srv, probe) -> dict:
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{srv.port}")
        try:
            head = _wire.encode(Hello("shm", "shm0", f"p{id(probe)}"))
            if probe is not None:
                head[0] = _net_shm.add_to_header(head[0], _net_shm.PROBE, probe)
            sock.send_multipart(head)
            got = replies(sock, lambda got: any(isinstance(m, Event) for m in got))
            return next(m for m in got if isinstance(m, Event)).params
        finally:
            sock.close(0)

    probe = _net_shm.Probe()
    try:
        with running_server() as srv:
            assert info_for(srv, probe.params())["shm"] is True
            assert info_for(srv, {**probe.params(), "token": "f" * 32})["shm"] is False
            assert info_for(srv, None)["shm"] is False
        with running_server("--no-shm") as srv:
            assert info_for(srv, probe.params())["shm"] is False
        with running_server("--shards", "2") as srv:  # workers would copy the frames anyway
            assert info_for(srv, probe.params())["shm"] is False
    finally:
        probe.close()


# -- through the SDK --------------------------------------------------------------------------------

@pytest.mark.parametrize("server_args", [(), ("--no-shm",)])
def test_big_frames_are_stored_exactly_through_shared_memory_or_tcp(server_args):
    before = our_memfds()
    with running_server(*server_args) as srv:
        rec = rr.new_recording("shm", recording_id="shm1")
        sink = connect(rec, f"127.0.0.1:{srv.port}", flush_timeout_sec=30.0)
        pts = log_clouds(rec, range(6))
        assert rec.flush(30.0) and sink.flush(30.0)
        assert sink.stats.acked_rows == 6 and sink.stats.rejected_rows == 0
        if server_args:
            assert srv.health.shm_frames == 0 and not sink._shm_ok
        else:
            assert sink._shm_ok and srv.health.shm_frames >= 5  # the first may go before a memfd is ready
            assert srv.health.bytes >= 6 * N * 12  # frames in shared memory count like bytes on the wire
        got = stored_clouds(srv.port, "shm1")
        assert sorted(got) == list(range(6))
        for i, p in enumerate(pts):
            np.testing.assert_array_equal(got[i], p)
        assert all(not o.fds for o in sink._inflight)  # acknowledged: nothing pending holds a memfd
        rec.disconnect()
    assert our_memfds() == before  # the probe and the prepared memfds are closed with the sink


def test_the_stored_bytes_never_change_after_the_log_call():
    """The user's array is copied at log time and the memfd is sealed: writing the array again, or
    trying to write the memfd, changes nothing the ingest holds."""
    with running_server() as srv:
        rec = rr.new_recording("shm", recording_id="shm2")
        sink = connect(rec, f"127.0.0.1:{srv.port}", flush_timeout_sec=30.0)
        p = cloud(7)
        keep = p.copy()
        for i in range(3):
            rec.set_time("frame", sequence=i)
            rec.log("cloud", rr.Points3D(p))
            p[:] = -1.0  # the user reuses the buffer at once
            p[:] = keep
        rec.set_time("frame", sequence=3)
        rec.log("cloud", rr.Points3D(p))
        p[:] = 5.0
        assert rec.flush(30.0) and sink.flush(30.0)
        assert srv.health.shm_frames >= 1
        got = stored_clouds(srv.port, "shm2")
        for i in range(4):
            np.testing.assert_array_equal(got[i], keep)
        rec.disconnect()


def test_a_producer_process_hands_frames_to_the_ingest_process():
    """The real case: the memfd belongs to another process (the ingest opens /proc/<pid>/fd/<fd>)."""
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import rerun_zmq as rr
        rr.init("shm", recording_id="shm3")
        rr.connect(f"127.0.0.1:{sys.argv[1]}")
        for i in range(5):
            rr.set_time("frame", sequence=i)
            rr.log("cloud", rr.Points3D(np.random.default_rng(i).random((300_000, 3), dtype=np.float32)))
        if not rr.flush(60.0):
            sys.exit("not acknowledged")
    """)
    with running_server() as srv:
        env = {**os.environ, "PYTHONPATH": ROOT}
        done = subprocess.run([sys.executable, "-c", script, str(srv.port)], env=env, timeout=120,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert srv.health.shm_frames >= 4
        got = stored_clouds(srv.port, "shm3")
        assert sorted(got) == list(range(5))
        for i in range(5):
            np.testing.assert_array_equal(got[i], cloud(i))


def test_producer_turns_it_off_with_the_environment(monkeypatch):
    monkeypatch.setenv("RERUN_ZMQ_SHM", "0")
    with running_server() as srv:
        rec = rr.new_recording("shm", recording_id="shm4")
        sink = connect(rec, f"127.0.0.1:{srv.port}", flush_timeout_sec=30.0)
        log_clouds(rec, range(2))
        assert rec.flush(30.0) and sink.flush(30.0)
        assert sink._shm is None and srv.health.shm_frames == 0
        assert sorted(stored_clouds(srv.port, "shm4")) == [0, 1]
        rec.disconnect()


def test_a_memfd_the_ingest_cannot_use_is_sent_again_over_tcp_and_nothing_is_lost(monkeypatch):
    """The first shared-memory frame fails to open (say the ingest is out of file descriptors): the sink
    is told, warns, and sends that chunk and every later one again over TCP. Nothing is lost."""
    real_open = shm._open
    calls = []

    def failing_once(pid, fd, token, size, serial=0):
        if size is not None:  # a frame, not the probe
            calls.append(fd)
        if len(calls) == 1:
            raise OSError(24, "Too many open files")
        return real_open(pid, fd, token, size, serial)

    monkeypatch.setattr(shm, "_open", failing_once)
    with running_server() as srv:
        rec = rr.new_recording("shm", recording_id="shm5")
        sink = connect(rec, f"127.0.0.1:{srv.port}", flush_timeout_sec=30.0)
        with pytest.warns(Warning, match="could not use a shared-memory frame .*Too many open files.*nothing is lost"):
            pts = log_clouds(rec, range(4))
            assert rec.flush(30.0) and sink.flush(30.0)
        assert sink.stats.rejected_rows == 0 and sink.stats.acked_rows == 4 and not sink._shm_ok
        assert sink.stats.resent_chunks >= 1 and srv.health.rejected["shm_unavailable"] == 1
        got = stored_clouds(srv.port, "shm5")
        assert sorted(got) == [0, 1, 2, 3]
        for i, p in enumerate(pts):
            np.testing.assert_array_equal(got[i], p)
        rec.disconnect()


# -- what a raw producer may not do -----------------------------------------------------------------

@pytest.fixture
def raw_producer():
    """A DEALER that said HELLO with a valid probe (this process is the producer) and got shm: true."""
    probe = _net_shm.Probe()
    with running_server() as srv:
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{srv.port}")
        head = _wire.encode(Hello("shm", "pool2", "raw-shm"))
        head[0] = _net_shm.add_to_header(head[0], _net_shm.PROBE, probe.params())
        sock.send_multipart(head)
        got = replies(sock, lambda got: any(isinstance(m, Event) for m in got))
        assert next(m for m in got if isinstance(m, Event)).params["shm"] is True
        try:
            yield srv, sock, probe
        finally:
            sock.close(0)
            probe.close()


SERIAL = 1 << 40  # far above the serials this process's sinks use


def sealed_memfd(token: str, data: bytes, seal: bool = True, serial: int = SERIAL) -> int:
    fd = os.memfd_create(_net_shm.memfd_name(token, serial), os.MFD_ALLOW_SEALING)
    os.write(fd, data)
    if seal:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _net_shm.SEALS)
    return fd


def shm_message(seq: int, fd: int | None, token_data: bytes | None = None, ref=None) -> tuple[list, int]:
    frames = buffers_message(seq=seq, seed=seq)
    big = next(k for k, f in enumerate(frames) if len(f) == N * 12)
    entry = ref if ref is not None else [big, fd, N * 12, SERIAL]
    frames[0] = _net_shm.add_to_header(frames[0], _net_shm.KEY, [entry])
    frames[big] = b""
    return frames, big


def test_a_raw_producer_s_sealed_memfd_is_stored(raw_producer):
    srv, sock, probe = raw_producer
    fd = sealed_memfd(probe.token, buffers_message(seq=1, seed=1)[3])
    try:
        frames, _ = shm_message(1, fd)
        sock.send_multipart(frames)
        replies(sock, lambda got: any(isinstance(m, Ack) and m.seq == 1 for m in got))
    finally:
        os.close(fd)  # the ingest's mapping keeps the bytes
    assert srv.health.shm_frames == 1
    np.testing.assert_array_equal(stored_clouds(srv.port, "pool2")[1], cloud(1))


@pytest.mark.parametrize("case, code, words", [
    ("unsealed", "shm_unavailable", "not sealed"),
    ("other token", "shm_unavailable", "not this producer's memfd"),
    ("wrong size", "shm_unavailable", "the header says"),
    ("closed fd", "shm_unavailable", "producer fd"),
    ("frame not empty", "protocol", "sent empty"),
    ("header frame", "protocol", "must be a big-buffer frame"),
    ("bad entry", "protocol", "must be [body frame"),
    ("no serial", "protocol", "must be [body frame"),
    ("small", "protocol", "size >= 1048576"),
    ("other serial", "shm_unavailable", "not this producer's memfd"),
    ("over the limit", "protocol", "--max-message-bytes"),
])
def test_a_bad_shared_memory_frame_is_refused_with_its_reason(raw_producer, case, code, words):
    srv, sock, probe = raw_producer
    data = buffers_message(seq=1, seed=1)[3]
    fd = sealed_memfd("f" * 32 if case == "other token" else probe.token, data, seal=case != "unsealed")
    try:
        ref = {"header frame": [0, fd, N * 12, SERIAL], "bad entry": ["3", fd, N * 12, SERIAL],
               "wrong size": [3, fd, N * 12 + 8, SERIAL], "closed fd": [3, (1 << 20) - 1, N * 12, SERIAL],
               "over the limit": [3, fd, 1 << 40, SERIAL], "other serial": [3, fd, N * 12, SERIAL + 1],
               "small": [3, fd, 4096, SERIAL], "no serial": [3, fd, N * 12]}.get(case)
        frames, big = shm_message(1, fd, ref=ref)
        if case == "frame not empty":
            frames[big] = b"x" * 64
        sock.send_multipart(frames)
        got = replies(sock, lambda got: any(isinstance(m, Error) for m in got))
    finally:
        os.close(fd)
    err = next(m for m in got if isinstance(m, Error))
    assert err.code == code and words in err.message and err.seq == 1, err
    assert srv.health.rejected[code] == 1 and srv.health.shm_frames == 0
    if code == "shm_unavailable":  # not lost: the ingest waits for seq 1 again before taking later ones
        sock.send_multipart(buffers_message(seq=2, seed=2))  # sent before the producer heard: set aside
        sock.send_multipart(buffers_message(seq=1, seed=1))  # seq 1 again, over TCP
    sock.send_multipart(buffers_message(seq=2, seed=2))  # the connection goes on
    got = replies(sock, lambda got: any(isinstance(m, Ack) and m.seq == 2 for m in got))
    stored = sorted(stored_clouds(srv.port, "pool2"))
    if code == "shm_unavailable":
        assert stored == [1, 2] and srv.health.awaiting_resend == 1 and srv.health.duplicates == 0
    else:
        assert stored == [2]


def test_shared_memory_frames_without_an_agreed_probe_are_a_protocol_violation():
    with running_server() as srv:
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{srv.port}")
        try:
            sock.send_multipart(_wire.encode(Hello("shm", "pool2", "no-probe")))
            frames, _ = shm_message(1, 0)
            sock.send_multipart(frames)
            got = replies(sock, lambda got: any(isinstance(m, Error) for m in got))
        finally:
            sock.close(0)
        err = next(m for m in got if isinstance(m, Error))
        assert err.code == "protocol" and "not agreed" in err.message


def test_the_header_lists_the_memfd_frames_it_sent_empty():
    """The sink's side, without an ingest: ``attach`` moves each big frame into a sealed memfd."""
    token = _net_shm.process_token()
    frames = buffers_message(seq=1, seed=3)
    out, fds, moved, kept = _shm_copy.attach(frames)
    head = json.loads(out[0][4:])
    (k, fd, size, serial), = head[_net_shm.KEY]
    assert out[k] == b"" and size == len(frames[k]) == moved and fds == [fd] and kept == []
    assert os.readlink(f"/proc/self/fd/{fd}") == f"/memfd:{_net_shm.memfd_name(token, serial)} (deleted)"
    assert fcntl.fcntl(fd, fcntl.F_GET_SEALS) & _net_shm.SEALS == _net_shm.SEALS
    assert os.pread(fd, size, 0) == frames[k]
    with pytest.raises(PermissionError):
        os.pwrite(fd, b"changed", 0)
    _net_shm.close_fds(fds)
    assert fds == []


def test_pending_memfd_frames_are_resent_inline_to_an_ingest_without_shared_memory():
    """An ingest restart between send and acknowledgement: the memfd stays open for the resend; the
    new ingest does not take shared memory, so the same chunk goes again with its bytes inline."""
    from .test_sink_protocol import FakeIngest

    def raw_recv(fake, kind):
        while True:
            if not fake.sock.poll(10_000):
                raise TimeoutError(f"no {kind.name} from the sink")
            ident, *frames = fake.sock.recv_multipart()
            if _wire.peek_kind(frames[0]) == kind:
                return ident, frames, json.loads(frames[0][4:])

    def welcome(fake, ident, shm_ok):
        info = {"max_message_bytes": 1 << 30, "body_forms": ["ipc", "buffers"], "shm": shm_ok}
        fake.send(ident, _wire.encode(Event(0, "ingest_info", info)))
        fake.send(ident, _wire.encode(Ack(0, 0, 0)))
        fake.send(ident, _wire.encode(Credit(1 << 30)))

    fake = FakeIngest()
    try:
        rec = rr.new_recording("shm", recording_id="shm6")
        sink = connect(rec, fake.addr, flush_timeout_sec=30.0)
        p = cloud(11)
        rec.log("cloud", rr.Points3D(p))
        rec.batcher.flush()
        ident, _, hello = raw_recv(fake, _wire.Kind.HELLO)
        assert set(hello[_net_shm.PROBE]) == {"pid", "fd", "token"}
        welcome(fake, ident, True)
        _, frames, head = raw_recv(fake, _wire.Kind.CHUNK)
        (k, fd, size, _), = head[_net_shm.KEY]
        assert frames[k] == b"" and size == p.nbytes
        with open(f"/proc/self/fd/{fd}", "rb") as f:  # this process is the producer: read its memfd
            assert f.read() == p.tobytes()
        fake.send(ident, _wire.encode(_wire.Bye("restarting")))  # never acknowledged
        ident, _, _ = raw_recv(fake, _wire.Kind.HELLO)
        welcome(fake, ident, False)
        _, frames, head = raw_recv(fake, _wire.Kind.CHUNK)
        assert _net_shm.KEY not in head and frames[k] == p.tobytes()
        fake.send(ident, _wire.encode(Ack(head["seq"], 1, len(frames[k]))))
        assert sink.flush(10.0) and sink.stats.resent_chunks == 1
        assert not any(o.fds for o in list(sink._unsent) + list(sink._inflight))
        rec.disconnect()
        assert our_memfds() == []
    finally:
        fake.close()


def test_a_forked_child_keeps_none_of_the_parent_s_memfds():
    """Pending frames, the probe and the pool's prepared memfds are the parent's; the child closes its
    copies at once (they would keep that memory alive for the child's whole life)."""
    with running_server() as srv:
        rec = rr.new_recording("shm", recording_id="shm7")
        sink = connect(rec, f"127.0.0.1:{srv.port}", flush_timeout_sec=30.0)
        log_clouds(rec, range(2))
        assert rec.flush(30.0) and sink.flush(30.0) and _shm_copy.active()  # the handshake is done
        log_clouds(rec, range(2, 3))  # a log call made while shared memory is on: the pool learns the size
        assert rec.flush(30.0) and sink.flush(30.0)
        assert _shm_copy._pool.wait_ready(N * 12, 30.0)  # the log calls' pool holds prepared memfds now
        assert our_memfds()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report what it still holds, and leave without any cleanup
            try:
                os.write(w, json.dumps(our_memfds()).encode())
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r) as f:
            left = json.loads(f.read())
        os.waitpid(pid, 0)
        assert left == []
        assert our_memfds()  # the parent's own are untouched
        rec.disconnect()


def test_while_a_sink_takes_shared_memory_the_log_call_copies_into_a_sealed_memfd_the_sink_sends_as_is():
    """The log call's defensive copy goes straight into a sealed memfd (read-only), and the sink lists
    that memfd instead of copying the array once more; once no sink takes shared memory, copies go
    to ordinary memory again, and a freed copy closes its memfd."""
    big = cloud(21)
    assert not _shm_copy.active()
    before = our_memfds()
    with running_server() as srv:
        rec = rr.new_recording("shm", recording_id="shm8")
        sink = connect(rec, f"127.0.0.1:{srv.port}", flush_timeout_sec=30.0)
        rec.set_time("frame", sequence=-1)
        rec.log("warmup", rr.Points3D(big))  # the handshake happens on the way
        assert rec.flush(30.0) and sink.flush(30.0) and _shm_copy.active()
        points = rr.Points3D(big)
        copies = [a for a in _arrays_of(points) if a.nbytes == big.nbytes]
        assert copies and not copies[0].flags.writeable  # a sealed, read-only copy of the user's array
        np.testing.assert_array_equal(copies[0], big)
        sealed = [n for n in our_memfds() if n not in before]
        assert sealed
        del copies
        made = []
        real_sealed = _shm_copy._sealed
        _shm_copy._sealed = lambda *a: made.append(a) or real_sealed(*a)
        try:
            rec.set_time("frame", sequence=0)
            rec.log("cloud", points)
            assert rec.flush(30.0) and sink.flush(30.0)
        finally:
            _shm_copy._sealed = real_sealed
        assert made == []  # the sink made no memfd: it listed the log call's sealed copy
        np.testing.assert_array_equal(stored_clouds(srv.port, "shm8")[0], big)
        del points
        rec.disconnect()
        assert not _shm_copy.active()
        plain = rr.Points3D(big)
        assert all(a.flags.writeable for a in _arrays_of(plain) if a.nbytes == big.nbytes)
    import gc
    gc.collect()
    assert our_memfds() == before  # every sealed copy closed its memfd with its last array


def _arrays_of(archetype) -> list[np.ndarray]:
    """The numpy arrays of an archetype's component batches."""
    return [b.data for b in archetype.as_component_batches() if isinstance(b.data, np.ndarray)]


def test_sealed_copies_alive_at_once_are_capped(monkeypatch):
    """Each sealed copy holds a descriptor until its array goes: past the cap, copies are ordinary."""
    monkeypatch.setattr(_shm_copy, "_MAX_LIVE", 2)
    _shm_copy.enable()
    try:
        big = cloud(3)
        arrays = [_arrays_of(rr.Points3D(big))[0] for _ in range(3)]
        assert [a.flags.writeable for a in arrays] == [False, False, True]
        for a in arrays:
            np.testing.assert_array_equal(a, big)
    finally:
        _shm_copy.disable()
    assert not _shm_copy.active()
