"""Live: a producer logs scalars, text logs and a blueprint into a running ingest; the headless
viewer's layout follows the blueprint and its time series and text log show the data."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ._viewer2 import headless_viewer
from .test_live import ingest  # noqa: F401 - the fixture

pytestmark = pytest.mark.gui

PRODUCER = """
import sys, rerun_zmq as rr
import rerun_zmq.blueprint as rrb
rr.init("live_v2")
rr.connect(sys.argv[1])
rr.send_blueprint(rrb.Blueprint(rrb.Vertical(rrb.TimeSeriesView(origin="/m", name="Plot"),
                                              rrb.TextLogView(origin="/log", name="Log"))))
for i in range(30):
    rr.set_time_sequence("step", i)
    rr.log("m/a", rr.Scalars(float(i)))
    rr.log("log", rr.TextLog(f"step {i}", level="WARN" if i % 2 else "INFO"))
assert rr.flush(10)
rr.disconnect()
"""


def test_live_blueprint_time_series_and_text_log(ingest):  # noqa: F811
    producer = subprocess.run(
        [sys.executable, "-c", PRODUCER, ingest], capture_output=True, text=True, timeout=60, check=False
    )
    assert producer.returncode == 0, producer.stderr
    with headless_viewer() as v:
        v.connect(ingest)
        layout = v.workspace.layout
        deadline = time.monotonic() + 30

        def ready() -> bool:
            drawers = {type(d).__name__: d for d in v.workspace.drawers.values()}
            ts, log = drawers.get("TimeSeriesView"), drawers.get("TextLogView")
            return bool(ts and log and ts.series and len(ts.series[0][2]) == 30 and len(log.rows) == 30)

        while time.monotonic() < deadline and not ready():
            v.step()
            time.sleep(0.01)
        assert [n.name for n in layout.views()] == ["Plot", "Log"]
        assert ready()
        assert v.state.time.timeline == "step"
