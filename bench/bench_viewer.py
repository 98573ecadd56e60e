#!/usr/bin/env python3
"""Viewer frame cost: a 100k-point 3D frame against a plain moderngl program drawing the same
points in the same run, and the panel-only frame (3D image reused).

    DISPLAY=:0 python bench/bench_viewer.py [--points 100000] [--frames 60] [--rounds 3] [--headless] [--json out.json]

"viewer 3D frame" forces a 3D redraw every frame (the camera turns a little); "plain" is a bare
glfw/EGL + moderngl loop with the same point shader, no ImGui, no offscreen texture.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_recording(path: str, n: int) -> np.ndarray:
    import rerun_zmq as rr
    from rerun_zmq.archetypes.points3d import Points3D

    rng = np.random.default_rng(0)
    pts = rng.normal(size=(n, 3)).astype(np.float32) * [4, 4, 2]
    colors = rng.integers(0, 255, size=(n, 3), dtype=np.uint8)
    rec = rr.new_recording("bench_viewer")
    rr.save(path, recording=rec)
    rr.set_time_sequence("frame", 0, recording=rec)
    rr.log("cloud", Points3D(pts, colors=colors, radii=0.02), recording=rec)
    rr.disconnect(recording=rec)
    return pts


def bench_viewer(path: str, frames: int, headless: bool, size: tuple[int, int]) -> dict:
    from ui.app import Viewer
    from ui.state import Options

    v = Viewer(Options(headless=headless, window_size=size))
    v._idle = lambda: False  # measure frames, not the idle sleep between them
    try:
        v.open_file(path, wait=True)
        for _ in range(5):
            v.step()
        cam = v.state.views[0].camera
        scene_ms, panel_ms = [], []
        for _ in range(frames):
            cam.yaw += 0.01
            t0 = time.perf_counter()
            v.step()
            v.surface.ctx.finish()
            scene_ms.append((time.perf_counter() - t0) * 1e3)
        for _ in range(frames):
            t0 = time.perf_counter()
            v.step()
            v.surface.ctx.finish()
            panel_ms.append((time.perf_counter() - t0) * 1e3)
        gpu = next(iter(v.gpus.values()))
        return {
            "viewer_3d_ms": statistics.median(scene_ms),
            "viewer_panels_ms": statistics.median(panel_ms),
            "points_drawn": gpu.points.count,
        }
    finally:
        v.close()


def bench_plain(pts: np.ndarray, frames: int, headless: bool, size: tuple[int, int]) -> float:
    """The same points, same shader, straight to the window's framebuffer (or an FBO when headless)."""
    from imgui_bundle import imgui  # noqa: F401, I001  (before glfw: the same GLFW library)
    import glfw
    import moderngl

    from ui.camera import OrbitCamera
    from ui.renderers.points3d import PointsRenderer

    window = None
    if headless:
        ctx = moderngl.create_context(standalone=True, backend="egl", require=330)
        target = ctx.framebuffer(
            color_attachments=[ctx.texture(size, 4)], depth_attachment=ctx.depth_renderbuffer(size)
        )
    else:
        glfw.init()
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        window = glfw.create_window(*size, "plain", None, None)
        glfw.make_context_current(window)
        glfw.swap_interval(1)
        ctx = moderngl.create_context(require=330)
        target = ctx.screen
    try:
        renderer = PointsRenderer(ctx)
        colors = np.full((len(pts), 4), 200, dtype=np.uint8)
        renderer.upload(pts, colors, np.full(len(pts), 0.02, dtype=np.float32))
        cam = OrbitCamera()
        cam.fit(pts.min(axis=0), pts.max(axis=0))
        times = []
        for _ in range(frames):
            cam.yaw += 0.01
            t0 = time.perf_counter()
            if window is not None:
                glfw.poll_events()
            target.use()
            ctx.viewport = (0, 0, *size)
            ctx.enable(moderngl.DEPTH_TEST)
            target.clear(0.1, 0.1, 0.12, 1.0, depth=1.0)
            proj = cam.projection(size[0] / size[1])
            renderer.draw(proj @ cam.view(), proj, size[1])
            if window is not None:
                glfw.swap_buffers(window)
            ctx.finish()
            times.append((time.perf_counter() - t0) * 1e3)
        renderer.release()
        return statistics.median(times)
    finally:
        ctx.release()
        if window is not None:
            glfw.destroy_window(window)
            glfw.terminate()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--points", type=int, default=100_000)
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--rounds", type=int, default=3, help="alternate plain/viewer runs; best median of each")
    p.add_argument("--headless", action="store_true", help="EGL offscreen instead of a glfw window")
    p.add_argument("--size", default="1280x720")
    p.add_argument("--json", help="write the figures here")
    a = p.parse_args(argv)
    size = tuple(int(v) for v in a.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "cloud.rrd")
        pts = make_recording(path, a.points)
        plains, viewers = [], []
        for _ in range(a.rounds):  # alternating, so both see the same load on a shared machine
            plains.append(bench_plain(pts, a.frames, a.headless, size))
            viewers.append(bench_viewer(path, a.frames, a.headless, size))
        plain = min(plains)
        viewer = {k: min(v[k] for v in viewers) for k in viewers[0]}
    out = {
        "points": a.points,
        "size": a.size,
        "headless": a.headless,
        "plain_moderngl_ms": plain,
        **viewer,
        "ratio_3d_vs_plain": viewer["viewer_3d_ms"] / plain,
    }
    for k, v in out.items():
        print(f"{k:>20}: {v:.2f}" if isinstance(v, float) else f"{k:>20}: {v}")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
