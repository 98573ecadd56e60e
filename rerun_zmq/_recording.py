"""``RecordingStream``: one recording's time state, batcher and sink.

``close``, ``disconnect``, ``flush(timeout)`` and interpreter exit keep their time bound even while
the sink is stuck inside ``send`` (a network sink waiting for room, a file on a stalled disk): when
the time is up the sink is told to stop waiting (``_sinks.give_up``), one that cannot is left
behind, and the rows that did not get through are counted and warned about.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import uuid
import weakref
from collections.abc import Iterable

from ._batcher import Batcher, BatcherConfig
from ._entity_path import canonical_path, is_reserved
from ._errors import report, warn_user
from ._sinks import BufferedSink, FileSink, MemorySink, Sink, flush_for_close, give_up, held_rows
from ._time import ThreadTime, to_duration_ns, to_sequence, to_timestamp_ns
from ._wire import ChunkMsg, Hello
from .archetypes._base import Archetype, ComponentBatch, batches_signature

ENV_APP = "RERUN_ZMQ_APPLICATION_ID"
ENV_REC = "RERUN_ZMQ_RECORDING_ID"
ENV_SINK = "RERUN_ZMQ_SINK"
ENV_PID = "RERUN_ZMQ_PARENT_PID"
#: seconds interpreter exit spends closing every recording, all together (default: ``CLOSE_TIMEOUT``)
ENV_EXIT_TIMEOUT = "RERUN_ZMQ_EXIT_TIMEOUT_SECS"
#: default bound of ``close`` and ``disconnect``
CLOSE_TIMEOUT = 10.0
#: once the time is up, how long a sink gets to let go (a network sink: count what it held, say BYE)
_LET_GO = 0.5
_live: weakref.WeakSet[RecordingStream] = weakref.WeakSet()
#: raw entity path string -> canonical path, for paths already validated
_PATHS: dict[str, str] = {}
_global: RecordingStream | None = None


class _ThreadState(threading.local):
    """This thread's current recording; the class default makes the hot-path read a plain lookup."""

    rec: RecordingStream | None = None


_thread = _ThreadState()


def _version() -> str:
    from . import __version__

    return __version__


class RecordingStream:
    """A recording: where ``log`` calls go. Use as a context manager to make it the thread's current one."""

    def __init__(
        self,
        application_id: str,
        *,
        recording_id: str | uuid.UUID | None = None,
        default_enabled: bool = True,
        batcher_config: BatcherConfig | None = None,
        log_tick: bool = False,
        store_kind: str = "recording",
    ) -> None:
        if not isinstance(application_id, str) or not application_id:
            raise TypeError(f"application_id must be a non-empty str, got {application_id!r}")
        if recording_id is None and os.environ.get(ENV_APP) == application_id:
            recording_id = os.environ.get(ENV_REC) or None
        self.application_id = application_id
        self.recording_id = str(recording_id) if recording_id is not None else str(uuid.uuid4())
        self.store_kind = store_kind
        env = os.environ.get("RERUN_ZMQ", "").strip().lower()
        self.enabled = default_enabled and env not in ("0", "off", "false", "no")
        self.log_tick = log_tick
        self._tick = 0
        self.started_ns = time.time_ns()
        self.producer_id = uuid.uuid4().hex
        self._tls = threading.local()
        self._sink_lock = threading.RLock()
        self._sink: Sink = BufferedSink()
        self._hello_sent = False
        self.batcher = Batcher(batcher_config or BatcherConfig.from_env(), self._on_chunk, self._on_batch_error)
        self._count_from_here()
        self.batcher.on_pass_end = self._end_of_pass
        self._prev_thread: list = []
        _live.add(self)
        _register_mp_after_fork(self)

    # -- context manager: thread-local current recording -------------------------------------
    def __enter__(self) -> RecordingStream:
        self._prev_thread.append(_thread.rec)
        _thread.rec = self
        return self

    def __exit__(self, *exc) -> None:
        _thread.rec = self._prev_thread.pop() if self._prev_thread else None

    def __repr__(self) -> str:
        return f"RecordingStream(application_id={self.application_id!r}, recording_id={self.recording_id!r})"

    # -- time ------------------------------------------------------------------------------------
    def _time(self) -> ThreadTime:
        t = getattr(self._tls, "t", None)
        if t is None:
            t = self._tls.t = ThreadTime()
        return t

    def set_time(self, timeline: str, *, sequence=None, duration=None, timestamp=None) -> None:
        if (type(sequence) is int and -(2**63) <= sequence < 2**63 and duration is None and timestamp is None
                and type(timeline) is str and timeline):
            try:
                t = self._tls.t
            except AttributeError:
                t = self._time()
            t.set(timeline, "sequence", sequence)
            return
        kinds = (("sequence", sequence), ("duration", duration), ("timestamp", timestamp))
        given = [k for k, v in kinds if v is not None]
        try:
            if not isinstance(timeline, str) or not timeline:
                raise TypeError(f"timeline name must be a non-empty str, got {timeline!r}")
            if len(given) != 1:
                raise TypeError(f"set_time({timeline!r}) takes exactly one of sequence=, duration=, timestamp= "
                                f"(got {given or 'none'})")
            if sequence is not None:
                self._time().set(timeline, "sequence", to_sequence(sequence))
            elif duration is not None:
                self._time().set(timeline, "duration", to_duration_ns(duration))
            else:
                self._time().set(timeline, "timestamp", to_timestamp_ns(timestamp))
        except (TypeError, ValueError) as exc:
            report(exc)

    def set_time_sequence(self, timeline: str, sequence: int) -> None:
        self.set_time(timeline, sequence=sequence)

    def set_time_seconds(self, timeline: str, seconds: float) -> None:
        self.set_time(timeline, duration=seconds)

    def set_time_nanos(self, timeline: str, nanos: int) -> None:
        try:
            self._time().set(timeline, "duration", to_sequence(nanos))
        except (TypeError, ValueError) as exc:
            report(TypeError(f"set_time_nanos({timeline!r}): {exc}"))

    def disable_timeline(self, timeline: str) -> None:
        self._time().disable(timeline)

    def reset_time(self) -> None:
        self._time().reset()

    # -- logging -----------------------------------------------------------------------------------
    def _path(self, entity_path) -> str | None:
        """Canonical path (cached per string), or None after reporting why it is unusable."""
        try:
            path = canonical_path(entity_path)
        except (TypeError, ValueError) as exc:
            report(type(exc)(f"rr.log: {exc}"))
            return None
        if is_reserved(path):
            report(ValueError(f"rr.log({path!r}): entity path parts starting with '__' are reserved"))
            return None
        if type(entity_path) is str and len(_PATHS) < 100_000:
            _PATHS[entity_path] = path
        return path

    def _collect(self, path: str, entities: tuple) -> tuple[list, tuple, tuple] | None:
        """The component batches and archetype names of a log call (the general, slower path)."""
        batches: dict[str, ComponentBatch] = {}
        names: list[str] = []
        for ent in entities:
            if isinstance(ent, Archetype):
                for err in ent.field_errors():
                    what = "nothing was logged for it" if err.primary else f"logged without {err.field!r}"
                    warn_user(f"rr.log({path!r}, {err.archetype}): field {err.field!r}: {err.message}; {what}")
                if not ent.is_usable():
                    continue
                names.append(ent.archetype_name)
                for b in ent.as_component_batches():
                    batches[b.key] = b
            elif isinstance(ent, ComponentBatch):
                batches[ent.key] = ent
            elif isinstance(ent, Iterable) and not isinstance(ent, (str, bytes)):
                items = list(ent)
                if all(isinstance(b, ComponentBatch) for b in items):
                    for b in items:
                        batches[b.key] = b
                    continue
                report(TypeError(f"rr.log({path!r}): expected archetypes or component batches, got {ent!r:.80}"))
            else:
                report(TypeError(
                    f"rr.log({path!r}): expected an archetype such as rr.Points3D(...), got {type(ent).__name__}"
                ))
        if not batches:
            return None
        out = list(batches.values())
        return out, tuple(names), batches_signature(out)

    def log(self, entity_path, *entities, static: bool = False) -> None:
        if not self.enabled:
            return
        path = _PATHS.get(entity_path) if type(entity_path) is str else None
        if path is None:
            path = self._path(entity_path)
            if path is None:
                return
        ent = entities[0] if len(entities) == 1 else None
        if isinstance(ent, Archetype) and not ent._errors and ent._batches:
            batches, names, sig = ent._batches, (ent.archetype_name,), ent._sig  # the common case, kept lean
        else:
            got = self._collect(path, entities)
            if got is None:
                return
            batches, names, sig = got
        if static:
            self.batcher.push(path, True, (), (), batches, names, sig)
            return
        try:
            t = self._tls.t
        except AttributeError:
            t = self._time()
        if self.log_tick:
            self._tick += 1
            self.batcher.push(path, False, t.sig + (("log_tick", "sequence"),), [*t.values, self._tick], batches,
                              names, sig)
        else:
            self.batcher.push(path, False, t.sig, t.values, batches, names, sig)

    def send_chunk(self, batch) -> None:
        """Queue a prebuilt chunk (used by ``send_columns``)."""
        if self.enabled:
            self.batcher.push_chunk(batch)

    # -- sinks ------------------------------------------------------------------------------------
    def _hello(self) -> Hello:
        return Hello(self.application_id, self.recording_id, self.producer_id, self.started_ns, _version(),
                     self.store_kind)

    def _on_chunk(self, batch) -> None:
        msg = ChunkMsg(self.recording_id, batch, store_kind=self.store_kind)
        with self._sink_lock:
            if not self._hello_sent:
                self._sink.send(self._hello())
                self._hello_sent = True
            try:
                self._sink.send(msg)
            finally:  # accepted, or refused with an error the batcher reports: no longer ours to count
                self._settled_rows += batch.num_rows

    def _count_from_here(self) -> None:
        """Start counting rows (a new batcher, or a forked child's fresh one)."""
        self._rows_base = self.batcher.rows_taken  # every row pushed or reserved takes one row id
        self._settled_rows = 0

    def _unsettled_rows(self) -> int:
        """Rows logged that the sink has not yet accepted (still in the batcher, or in a ``send`` under way)."""
        return max(self.batcher.rows_taken - self._rows_base - self._settled_rows, 0)

    def _end_of_pass(self) -> None:
        with self._sink_lock:
            self._sink.end_of_pass()

    def _on_batch_error(self, exc: BaseException) -> None:
        warn_user(f"rerun_zmq: recording {self.recording_id}: could not write data: {exc}")

    def set_sink(self, sink: Sink) -> None:
        """Flush pending rows into the current sink, close it, and switch to ``sink``.

        Messages held by a ``BufferedSink`` (everything logged before the first sink) move to ``sink``.
        """
        self.batcher.flush()
        with self._sink_lock:
            old = self._sink
            carried = old.take() if type(old) is BufferedSink else []
            if not isinstance(old, BufferedSink):
                old.flush()
                old.close()
            self._sink = sink
            self._hello_sent = False
            if carried or not isinstance(sink, BufferedSink):
                sink.send(self._hello())
                self._hello_sent = True
            for msg in carried:
                if not isinstance(msg, Hello):
                    sink.send(msg)
            sink.end_of_pass()
        if self is _global:
            _publish_environment(self)

    @property
    def sink(self) -> Sink:
        return self._sink

    def save(self, path: str | os.PathLike) -> None:
        self.set_sink(FileSink(path))

    def memory_recording(self) -> MemorySink:
        sink = MemorySink()
        self.set_sink(sink)
        return sink

    def disconnect(self, timeout: float | None = CLOSE_TIMEOUT) -> None:
        """Flush and close the sink, then buffer what is logged next (for a later sink), within ``timeout``."""
        self._retire("disconnected", timeout, stop=False)
        if self is _global:
            _publish_environment(self)

    def flush(self, timeout: float | None = None) -> bool:
        """Return once every row logged before this call has reached the sink (over the network: is acknowledged)."""
        deadline = _deadline(timeout)
        ok = self.batcher.flush(timeout)
        # a sink's flush honours its timeout (a file's has nothing left to write once the batcher's pass
        # ended); the lock is what a sink stuck in a send holds
        if self._sink_lock.acquire(timeout=_wait_arg(deadline)):
            try:
                ok = self._sink.flush(_left(deadline)) and ok
            finally:
                self._sink_lock.release()
        else:
            ok = False
        if not ok:
            report(TimeoutError(f"rr.flush: timed out after {timeout} s; data is still pending"))
        return ok

    def close(self, timeout: float | None = CLOSE_TIMEOUT) -> None:
        """Flush and close the sink (the file gets its footer), within ``timeout``.

        Whatever the sink has not accepted by then is lost: counted, and warned about."""
        self._retire("closed", timeout, stop=True)

    def _retire(self, what: str, timeout: float | None, stop: bool) -> None:
        """Hand every row to the sink, then detach it (a ``BufferedSink`` takes its place) and close it,
        all by ``timeout``; warns with the rows that did not get through."""
        deadline = _deadline(timeout)
        flushed = self.batcher.flush(_left(deadline))
        if not flushed:
            give_up(self._sink)  # a send waiting for room returns now (the sink counts what it drops)
        if stop:
            self.batcher.stop(None if deadline is None else _left(deadline) / 2)
        if not self._sink_lock.acquire(timeout=_wait_arg(deadline, _LET_GO)):
            # the batcher thread is stuck in a send that cannot give up (e.g. a write to a stalled disk):
            # leave the sink attached, to be closed by a later close (at exit at the latest)
            sink = self._sink
            self._warn_lost(what, timeout, self._unsettled_rows(), held_rows(sink), stuck=True)
            return
        try:
            old = self._sink
            unsettled = self._unsettled_rows()  # the rest of the pass goes to the BufferedSink
            if not isinstance(old, BufferedSink):
                self._sink = BufferedSink()
                self._hello_sent = False
        finally:
            self._sink_lock.release()
        closed, held = True, 0
        if not isinstance(old, BufferedSink):  # (a BufferedSink or MemorySink stays: it keeps what it holds)
            def shut() -> bool:
                ok = flush_for_close(old, _left(deadline))
                if not ok:
                    give_up(old)
                old.close()  # a network sink warns with the rows it held and did not deliver
                return ok

            closed, sink_flushed = _bounded(shut, deadline, _LET_GO)
            flushed = flushed and closed and sink_flushed
            held = 0 if closed else held_rows(old)
        if not flushed:
            # a sink may fail before the time is up (a disk full): then "after N s" would be untrue
            timed_out = deadline is not None and _left(deadline) <= 0.05
            self._warn_lost(what, timeout if timed_out else None, unsettled, held, stuck=not closed)

    def _warn_lost(self, what: str, timeout: float | None, unsettled: int, held: int, stuck: bool) -> None:
        """``timeout``: the time waited, when the reason is that time ran out (else None)."""
        if unsettled and held:
            detail = f": {unsettled + held} rows ({unsettled} not yet handed to it, {held} accepted but not written)"
        elif unsettled or held:
            detail = f": {unsettled} rows not yet handed to it" if unsettled else f": {held} rows not yet written"
        else:
            detail = ""  # what the sink itself held it says in its own warning
        waited = f" after {timeout} s" if timeout is not None else ""
        start = f"rerun_zmq: recording {self.recording_id} {what}{waited} with data still not accepted by its sink"
        if stuck:
            warn_user(f"{start}; that data is lost unless the sink recovers before the program ends{detail}; the "
                      "sink is stuck (e.g. writing to a stalled disk) and is left to finish on its own")
        else:
            warn_user(f"{start}; that data is lost{detail}")

    def after_fork_in_child(self) -> None:
        self.producer_id = uuid.uuid4().hex
        self._sink_lock = threading.RLock()
        self.batcher.after_fork_in_child()
        self._count_from_here()
        self._sink.after_fork_in_child()
        self._hello_sent = False


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + max(timeout, 0.0)


def _left(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (never negative); None: no bound."""
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def _wait_arg(deadline: float | None, extra: float = 0.0) -> float:
    """``Lock.acquire(timeout=...)``'s argument: what is left plus ``extra``, or -1 for no bound."""
    left = _left(deadline)
    return -1 if left is None else left + extra


def _bounded(fn, deadline: float | None, extra: float) -> tuple[bool, object]:
    """``fn()`` on a helper thread, waiting until ``extra`` s past ``deadline``: (finished, its result).

    A sink can block in a system call (a stalled disk), which no timeout of ours interrupts; the
    helper goes on alone then. Its exception (a warning raised under ``-W error``) is raised here."""
    if deadline is None:
        return True, fn()
    box: list = []

    def run() -> None:
        try:
            box.append((True, fn()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box.append((False, exc))

    helper = threading.Thread(target=run, name="rerun_zmq-close", daemon=True)
    try:
        helper.start()
    except RuntimeError:  # no new threads at interpreter shutdown: do it here
        run()
    else:
        helper.join(_wait_arg(deadline, extra))
    if not box:
        return False, None
    ok, value = box[0]
    if not ok:
        raise value
    return True, value


# -- current recording resolution -------------------------------------------------------------------
def resolve(recording: RecordingStream | None) -> RecordingStream | None:
    """explicit argument → thread-local → global → None (logging becomes a no-op)."""
    if recording is not None:
        if not isinstance(recording, RecordingStream):
            raise TypeError(f"recording= must be a RecordingStream, got {type(recording).__name__}")
        return recording
    rec = _thread.rec
    return rec if rec is not None else _global


def set_global(rec: RecordingStream | None) -> RecordingStream | None:
    global _global
    prev, _global = _global, rec
    if rec is not None:
        _publish_environment(rec)
    return prev


def _publish_environment(rec: RecordingStream) -> None:
    """Tell child processes (any start method, or plain subprocesses) which recording and sink to join."""
    os.environ[ENV_APP] = rec.application_id
    os.environ[ENV_REC] = rec.recording_id
    os.environ[ENV_PID] = str(os.getpid())
    spec = getattr(rec.sink, "inherit_spec", None)
    if spec is not None:
        os.environ[ENV_SINK] = spec()
    else:
        os.environ.pop(ENV_SINK, None)


_inherit_checked = False


def inherit_from_environment() -> RecordingStream | None:
    """Called when something is logged with no recording at all.

    In a child process (started by ``multiprocessing`` with any start method, or by ``subprocess``)
    of a program that called ``rr.init``, join the parent's recording and sink. Otherwise warn once:
    logging before ``rr.init`` records nothing, and the user should know.
    """
    global _inherit_checked, _global
    if _inherit_checked:
        return _global
    _inherit_checked = True
    app, rid = os.environ.get(ENV_APP), os.environ.get(ENV_REC)
    parent, spec = os.environ.get(ENV_PID), os.environ.get(ENV_SINK, "")
    if app and rid and parent and parent != str(os.getpid()):
        rec = RecordingStream(app, recording_id=rid)
        _global = rec
        if spec.startswith("file:"):
            rec.set_sink(FileSink(spec[5:], append=True))
        elif spec.startswith("tcp:"):
            from ._net import connect

            connect(rec, spec[4:])
        import multiprocessing

        if multiprocessing.parent_process() is not None:  # such children may end with os._exit
            _mp_child_started(rec)
        return rec
    warn_user("rerun_zmq: data was logged before rr.init(); nothing is being recorded. "
              "Call rr.init(application_id) first (in every process that logs).")
    return None


def get_global() -> RecordingStream | None:
    return _global


def set_thread_local(rec: RecordingStream | None) -> RecordingStream | None:
    prev = _thread.rec
    _thread.rec = rec
    return prev


def get_thread_local() -> RecordingStream | None:
    return _thread.rec


# -- process lifecycle --------------------------------------------------------------------------------
def _exit_timeout() -> float:
    raw = os.environ.get(ENV_EXIT_TIMEOUT, "").strip()
    try:
        return max(float(raw), 0.0) if raw else CLOSE_TIMEOUT
    except ValueError:
        warn_user(f"rerun_zmq: {ENV_EXIT_TIMEOUT} must be a number of seconds, got {raw!r}; "
                  f"using {CLOSE_TIMEOUT}")
        return CLOSE_TIMEOUT


def _close_at_exit(rec: RecordingStream, timeout: float | None = None) -> None:
    try:
        rec.close(_exit_timeout() if timeout is None else timeout)
    except Exception as exc:  # noqa: BLE001 - interpreter exit: report, keep closing the others
        warn_user(f"rerun_zmq: closing recording {rec.recording_id} at exit failed: {exc}")


def _warn_never_sent(rec: RecordingStream) -> None:
    """Rows logged to a recording that never had a sink are discarded at exit: say so."""
    sink = rec.sink
    if type(sink) is not BufferedSink:  # a MemorySink keeps them on purpose
        return
    rows = sink.buffered_rows()
    if rows:
        warn_user(f"rerun_zmq: {rows} rows logged to recording {rec.recording_id} were never sent anywhere "
                  "and are discarded at exit: it was not connected to a viewer, an ingest or a file "
                  "(rr.spawn, rr.connect or rr.save)")


def _close_all_at_exit() -> None:
    """Close every recording within the exit timeout, all side by side: a stalled ingest must not use
    up the time of a file being completed. (Recordings that only buffer close on this thread.)"""
    timeout = _exit_timeout()
    deadline = time.monotonic() + timeout
    buffered, closers = [], []
    for rec in list(_live):
        if isinstance(rec.sink, BufferedSink):
            buffered.append(rec)
            continue
        t = threading.Thread(target=_close_at_exit, args=(rec, timeout), name="rerun_zmq-exit", daemon=True)
        try:
            t.start()
        except RuntimeError:  # no new threads at interpreter shutdown
            t.run()
        closers.append(t)
    for rec in buffered:
        _close_at_exit(rec, max(deadline - time.monotonic(), 0.0))
        _warn_never_sent(rec)
    for t in closers:  # each close keeps its own bound; this is a backstop
        if t.ident is not None:
            t.join(max(deadline + 2 * _LET_GO - time.monotonic(), 0.0))


def _after_fork_in_child() -> None:
    for rec in list(_live):
        rec.after_fork_in_child()


def _mp_child_started(rec: RecordingStream) -> None:
    """In a multiprocessing child (which exits with os._exit): flush and close at its end."""
    import multiprocessing.util as mpu

    mpu.Finalize(None, _close_at_exit, args=(rec,), exitpriority=100)


def _register_mp_after_fork(rec: RecordingStream) -> None:
    import multiprocessing.util as mpu

    mpu.register_after_fork(rec, _mp_child_started)


atexit.register(_close_all_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
