"""``LiveRecording`` against a scripted client: the mirror follows the tail stream without needless resyncs."""

from __future__ import annotations

import itertools

import rerun_zmq as rr
from rerun_zmq._wire import ChunkMsg, Result
from rerun_zmq.dataframe_live import LiveRecording


def chunks(n: int) -> list:
    """``n`` one-row chunks of entity ``s`` (steps 0..n-1)."""
    rec = rr.new_recording("live", recording_id="lv")
    mem = rec.memory_recording()
    for i in range(n):
        rec.set_time("step", sequence=i)
        rec.log("s", rr.Scalars(float(i)))
        rec.batcher.flush()
    return [m.batch for m in mem.take() if isinstance(m, ChunkMsg)]


class ScriptedClient:
    """Stands in for ``IngestClient``: each ``poll`` hands out the next scripted list of messages."""

    endpoint = "tcp://scripted"

    def __init__(self, script: list[list]) -> None:
        self._ids = itertools.count(1)
        self._backlog: list = []
        self.script = script
        self.sent: list[str] = []

    def _send(self, qid: int, op: str, params: dict) -> int:
        self.sent.append(op)
        return qid

    def cancel(self, qid: int) -> None:
        self.sent.append("cancel")

    def poll(self, timeout: float = 0.0) -> list:
        out, self._backlog = self._backlog, []
        return out + (self.script.pop(0) if self.script else [])

    def close(self) -> None:
        pass


def test_pushes_that_arrive_with_the_done_marker_are_kept():
    b = chunks(3)
    done = {"done": True, "recording_id": "lv", "application_id": "live"}
    # the initial fetch (seq 1, done at 2) and a live push (seq 3) arrive in one poll
    client = ScriptedClient([[Result(1, 1, {}, b[0]), Result(1, 2, done), Result(1, 3, {}, b[1])],
                             [Result(1, 4, {}, b[2])]])
    live = LiveRecording(client, None, timeout=1.0)
    assert live.refresh() == 2
    assert client.sent == ["tail"], "a push read along with the done marker was lost, forcing a full resync"
    assert sum(live._local.row_counts().values()) == 3
