#!/usr/bin/env python3
"""Panel frame cost with 5,000 entities: entity tree, blueprint panel (a view's entity list open),
selection panel, timeline and the 2D / time series / text log views, 3D image reused.

    python bench/bench_viewer_panels.py [--entities 5000] [--frames 60] [--headless] [--json out.json]

Cases: "blueprint editor" (a view's 5,000-entity checklist open), "idle" (nothing changes),
"tree scroll" (the entity tree scrolls every frame), "cursor move" (the time cursor moves every
frame: 3D scene, 2D scene, selection and text log follow it), the same without the 3D view (whose
4,000-entity scene rebuild is Viewer I's cost), and "auto layout" (one regeneration of the
automatic layout over all entities). Target: a panel frame <= 16 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_recording(path: str, n: int) -> None:
    """n entities: 80 % Points3D (one point each), 10 % Scalars, 5 % TextLog, 5 % Points2D; 10 frames."""
    import rerun_zmq as rr

    rec = rr.new_recording("bench_viewer_panels")
    rr.save(path, recording=rec)
    for frame in range(10):
        rr.set_time_sequence("frame", frame, recording=rec)
        for i in range(n):
            kind = i % 20
            if kind < 16:
                if frame == 0:
                    rr.log(f"world/g{i // 100}/e{i}", rr.Points3D([[i % 100, i // 100, 0]]), recording=rec)
            elif kind < 18:
                rr.log(f"metrics/m{i}", rr.Scalars(float(frame * i % 7)), recording=rec)
            elif kind < 19:
                rr.log(f"logs/l{i}", rr.TextLog(f"frame {frame} from {i}", level="INFO"), recording=rec)
            elif frame == 0:
                rr.log(f"image/p{i}", rr.Points2D([[i % 50, i // 50]]), recording=rec)
    rr.disconnect(recording=rec)


def timed(v, frames: int, before=None) -> list[float]:
    out = []
    for i in range(frames):
        if before is not None:
            before(i)
        t0 = time.perf_counter()
        v.step()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def run(path: str, frames: int, headless: bool, size: tuple[int, int]) -> dict:
    from imgui_bundle import imgui

    from ui.app import Viewer
    from ui.state import Options

    v = Viewer(Options(headless=headless, window_size=size))
    v._idle = lambda: False  # measure frames, not the idle sleep between them
    try:
        t0 = time.perf_counter()
        v.open_file(path, wait=True)
        load_s = time.perf_counter() - t0
        for _ in range(5):
            v.step()
        ws = v.workspace
        # open a 3D view's entity list in the blueprint editor and select an entity
        ws.blueprint_panel.selected_uid = ws.layout.views()[0].uid
        for _ in range(3):
            v.step()
        editor = timed(v, frames)
        v.state.selected = v.state.store.entity_paths()[10]
        for _ in range(3):
            v.step()
        idle = timed(v, frames)
        x0, y0, x1, y1 = v.state.ui_rects.get("tree:/world", (10, 400, 200, 420))
        io = imgui.get_io()
        io.add_mouse_pos_event((x0 + x1) / 2, y1 + 40)
        scroll = timed(v, frames, lambda i: io.add_mouse_wheel_event(0, -1 if (i // 20) % 2 == 0 else 1))
        t = v.state.time
        t.follow = False
        cursor = timed(v, frames, lambda i: setattr(t, "cursor", i % 10))
        from ui.panels.blueprint_panel import remove_node

        remove_node(ws.layout, ws.layout.views()[0].uid)  # the 3D view: its scene is Viewer I's cost
        for _ in range(3):
            v.step()
        cursor_no3d = timed(v, frames, lambda i: setattr(t, "cursor", i % 10))
        t0 = time.perf_counter()
        ws.layout.reset_auto(v.state)
        auto_ms = (time.perf_counter() - t0) * 1e3
        views = [(n.kind, n.origin) for n in ws.layout.views()]
    finally:
        v.close()

    def med(xs):
        return round(statistics.median(xs), 2)

    def p95(xs):
        return round(sorted(xs)[int(len(xs) * 0.95) - 1], 2)

    return {
        "entities": len(v.state.store.entity_paths()) if v.state.store is not None else None,
        "load_s": round(load_s, 2),
        "views": views,
        "blueprint_editor_ms": {"median": med(editor), "p95": p95(editor)},
        "idle_ms": {"median": med(idle), "p95": p95(idle)},
        "tree_scroll_ms": {"median": med(scroll), "p95": p95(scroll)},
        "cursor_move_ms": {"median": med(cursor), "p95": p95(cursor)},
        "cursor_move_without_3d_ms": {"median": med(cursor_no3d), "p95": p95(cursor_no3d)},
        "auto_layout_ms": round(auto_ms, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entities", type=int, default=5000)
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--headless", action="store_true", help="EGL, no window")
    p.add_argument("--window-size", default="1280x720")
    p.add_argument("--json", help="write the results here too")
    a = p.parse_args(argv)
    w, h = (int(x) for x in a.window_size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = tmp  # no saved UI state in, none out
        path = str(Path(tmp) / "panels.rrd")
        t0 = time.perf_counter()
        make_recording(path, a.entities)
        print(f"recording of {a.entities} entities written in {time.perf_counter() - t0:.1f} s", flush=True)
        res = run(path, a.frames, a.headless, (w, h))
    print(json.dumps(res, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
