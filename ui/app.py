"""The viewer application: ``main(argv)`` and ``Viewer``, a self-managed frame loop.

``Viewer`` is steppable (``step()`` draws one frame) so tests drive it frame by frame; ``main``
runs it until the window closes, or renders one frame to a PNG with ``--screenshot-to``. Teardown
order is fixed: 3D renderers, then ImGui and GL, then the window — in ``finally``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

import numpy as np
from imgui_bundle import imgui  # before glfw, see ui.window

from . import playback
from .data_client import DataClient, FileSource, select_timeline
from .faults import guarded
from .panels import entity_tree, menu_bar, open_dialog, timeline
from .png import save_png
from .state import AppState, Options
from .timefmt import parse_time
from .view3d import SceneCache, View3D

TREE_WIDTH = 280
IDLE_WAIT = 0.25  # seconds an idle frame may sleep waiting for input (data wakes it at once)
TIMELINE_HEIGHT = 190
MAX_WINDOW_SIDE = 8192  # GL implementations guarantee less; a bigger FBO fails to attach


class Viewer:
    """Window + data client + panels. Use as a context manager, or call ``close()``."""

    def __init__(self, options: Options) -> None:
        from .window import GlfwSurface, HeadlessSurface

        self.options = options
        self.state = AppState(store=None, options=options)
        self.state.hidden.update(options.hide)
        surface_cls = HeadlessSurface if options.headless else GlfwSurface
        self.surface = surface_cls(options.window_size, "rerun-zmq", on_drop=self._on_drop)
        self.client = DataClient(self.state, wake=self.surface.wake)
        self.scene_cache = SceneCache()
        self.gpus: dict[str, View3D] = {}
        self.tree = entity_tree.EntityTreePanel()
        self.timeline = timeline.TimelinePanel()
        self._open_text = [""]
        self._last = time.perf_counter()
        self.live = None
        self._quiet = 0  # consecutive frames in which nothing changed
        self._menu_height = 0.0
        from .workspace import Workspace

        try:
            self.workspace = Workspace(self)  # blueprint layout, views, side panels (Viewer II)
        except BaseException:
            self.surface.shutdown()  # no half-made viewer keeps the window, GL and ImGui
            raise

    # -- data ------------------------------------------------------------------------------------
    def _on_drop(self, paths: list[str]) -> None:
        self.state.open_requests.extend(p for p in paths if p.endswith(".rrd"))

    def open_file(self, path: str, wait: bool = False) -> None:
        source = FileSource(path)
        if wait:
            self.client.load_now(source)
        else:
            self.client.add(source)

    def connect(self, addr: str | None) -> None:
        """Show what producers log into the ingest at ``addr`` as it arrives."""
        from .live import LiveSource

        self.live = LiveSource(addr, self.options.live_mode)
        self.state.live_endpoint = self.live.endpoint
        self.client.live = self.live
        self.client.add(self.live)

    def switch_recording(self, recording_id: str) -> None:
        self.client._activate(recording_id)
        self.client.finish_batch()

    # -- frame -----------------------------------------------------------------------------------
    def step(self) -> None:
        """Draw one frame: take in data, advance time, draw panels, render views, present.

        Each piece (a data update, playback, a panel, a view) is guarded (``ui.faults``): what one
        raises is logged once, shown, and the frame goes on. Only the window/GL surface itself
        (``begin_frame``/``end_frame``), ``KeyboardInterrupt`` and ``SystemExit`` end the loop.
        """
        start = time.perf_counter()
        dt, self._last = min(start - self._last, 0.1), start  # a stall must not jump playback
        s = self.state
        while s.open_requests:
            guarded(s, "open file", self.open_file, s.open_requests.pop(0), ui=False)
        applied = self.client.pump()  # guards each update itself
        guarded(s, "playback", playback.advance, s, dt, ui=False)
        if self.live is not None and s.recording_id is not None:
            query = self.live.query_latest_at
            guarded(s, "live query", query, s.recording_id, s.time.timeline, s.time.cursor, ui=False)
        redraws = sum(g.redraws for g in self.gpus.values())
        self.surface.begin_frame(wait=IDLE_WAIT if self._idle() else 0.0)
        self._draw_panels()
        self.surface.end_frame()
        busy = applied or s.time.playing or redraws != sum(g.redraws for g in self.gpus.values())
        self._quiet = 0 if busy else self._quiet + 1
        s.frame += 1
        s.frame_ms = (time.perf_counter() - start) * 1000.0
        if s.quit_requested:
            self.surface.request_close()

    def _idle(self) -> bool:
        """Nothing happened for a while: the next frame may sleep until input or data wakes it."""
        loading = any(not done for _, done in self.state.progress.values())
        recent_input = time.monotonic() - self.surface.last_input < 0.5
        return self._quiet >= 3 and not loading and not recent_input and not self.state.time.playing

    def _draw_panels(self) -> None:
        s = self.state
        s.ui_rects.clear()  # only what this frame drew
        w, h = self.surface.framebuffer_size()
        guarded(s, "menu bar", self._menu_bar)
        guarded(s, "open dialog", open_dialog.draw, s, self._open_text)
        top = self._menu_height
        body_h = max(h - top - TIMELINE_HEIGHT, 50)
        # each panel and view is guarded inside; these catch what falls between them (splitters)
        guarded(s, "body", self.workspace.draw_body, (0, top, w, body_h), TREE_WIDTH)
        guarded(s, "bottom", self.workspace.draw_bottom, (0, top + body_h, w, TIMELINE_HEIGHT))
        guarded(s, "shortcuts", self._shortcuts)

    def _menu_bar(self) -> None:
        self._menu_height = menu_bar.draw(self.state, self.switch_recording)

    def _draw_views(self, rect: tuple[float, float, float, float]) -> None:
        """Lay the blueprint's views out in ``rect`` (see ``ui.workspace``)."""
        self.workspace.draw_views(rect)

    def _shortcuts(self) -> None:
        io = imgui.get_io()
        if io.want_text_input:
            return
        if imgui.is_key_pressed(imgui.Key.space, False):
            playback.toggle_play(self.state)
        elif imgui.is_key_pressed(imgui.Key.right_arrow):
            playback.step(self.state, +1)
        elif imgui.is_key_pressed(imgui.Key.left_arrow):
            playback.step(self.state, -1)
        elif io.key_ctrl and imgui.is_key_pressed(imgui.Key.o, False):
            self.state.open_dialog = True
        elif io.key_ctrl and imgui.is_key_pressed(imgui.Key.q, False):
            self.state.quit_requested = True
        else:
            self.workspace.shortcuts()  # Home/End, Ctrl+S

    def should_close(self) -> bool:
        return self.surface.should_close()

    def screenshot(self) -> np.ndarray:
        """The whole window as (h, w, 4) uint8, from the last frame's draw data."""
        return self.surface.capture()

    def close(self) -> None:
        """Stop the sources, free the views, tear down ImGui/GL/window — each step even if one
        before it raised (the first error is raised afterwards)."""
        try:
            try:
                self.client.close()  # threads first: nothing may outlive the viewer
            finally:
                try:
                    self.workspace.close()  # saves the UI state, frees view textures and implot
                finally:
                    for gpu in self.gpus.values():
                        gpu.release()
                    self.gpus.clear()
        finally:
            self.surface.shutdown()

    def __enter__(self) -> Viewer:  # noqa: PYI034
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def parse_args(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(prog="rerun-zmq", description="Open .rrd files, or view live data.")
    p.add_argument("files", nargs="*", help=".rrd files (several files of one recording merge)")
    p.add_argument("--screenshot-to", metavar="PNG", help="render one frame to this PNG and exit")
    p.add_argument("--time", metavar="TIMELINE=VALUE", help="cursor time for the screenshot")
    p.add_argument("--window-size", metavar="WxH", default="1280x720")
    p.add_argument("--connect", metavar="ADDR", help="ingest to show live (default with no files: 127.0.0.1:9876)")
    p.add_argument(
        "--live-mode",
        choices=("mirror", "query"),
        default="mirror",
        help="mirror: copy the recording locally (default); query: ask the ingest at the cursor",
    )
    p.add_argument("--wait", type=float, default=10.0, help="screenshot of live data: seconds to wait for it")
    p.add_argument("--headless", action="store_true", help="no window: EGL offscreen (CI)")
    p.add_argument("--hide", action="append", default=[], metavar="ENTITY", help="start with ENTITY hidden")
    p.add_argument("--max-frames", type=int, help="close after this many frames")
    a = p.parse_args(argv)
    try:
        w, h = (int(v) for v in a.window_size.lower().split("x"))
    except ValueError:
        p.error(f"--window-size expects WxH like 1280x720, got {a.window_size!r}")
    if not (1 <= w <= MAX_WINDOW_SIDE and 1 <= h <= MAX_WINDOW_SIDE):
        p.error(f"--window-size: width and height must be 1..{MAX_WINDOW_SIDE}, got {a.window_size!r}")
    if a.max_frames is not None and a.max_frames < 1:
        p.error(f"--max-frames must be at least 1, got {a.max_frames}")
    if not a.wait >= 0 or a.wait == float("inf"):
        p.error(f"--wait must be a finite number of seconds >= 0, got {a.wait!r}")
    tm = None
    if a.time:
        if "=" not in a.time:
            p.error(f"--time expects TIMELINE=VALUE, got {a.time!r}")
        tm = tuple(a.time.split("=", 1))
    from rerun_zmq._entity_path import canonical_path

    try:
        hide = [canonical_path(e) for e in a.hide]
    except ValueError as exc:
        p.error(f"--hide: {exc}")
    return Options(
        a.files,
        a.screenshot_to,
        tm,
        (w, h),
        a.connect,
        a.headless,
        hide,
        a.max_frames,
        a.wait,
        a.live_mode,
    )


def _apply_time(viewer: Viewer, spec: tuple[str, str]) -> None:
    name, text = spec
    s = viewer.state
    if s.store is None:
        raise ValueError("--time given but no data was loaded")
    select_timeline(s, name)
    s.time.cursor, s.time.follow = parse_time(text, s.time.kind), False


def _wait_live(viewer: Viewer, timeout: float) -> None:
    """Step frames until the live scene shows data (or ``timeout`` seconds pass), then settle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and viewer.scene_cache.scene.bounds is None:
        viewer.step()
        time.sleep(0.02)
    if viewer.scene_cache.scene.bounds is None:
        raise ValueError(f"no live data arrived within {timeout:g} s")
    settle = time.monotonic() + 0.3
    while time.monotonic() < settle:
        viewer.step()
        time.sleep(0.02)


def _screenshot(viewer: Viewer, opts: Options) -> None:
    """Load everything, fit the camera to the end of the recording, then render at ``--time``."""
    for path in opts.files:
        before = len(viewer.state.errors)
        viewer.open_file(path, wait=True)
        if len(viewer.state.errors) > before:  # a missing or broken file: no silent blank screenshot
            raise ValueError("; ".join(viewer.state.errors[before:]))
    if opts.files and viewer.state.store is None:
        raise ValueError(f"no recording data in {', '.join(opts.files)}")
    if opts.connect:
        viewer.connect(opts.connect)
        _wait_live(viewer, opts.wait)
    viewer.step()
    if opts.time is not None:
        _apply_time(viewer, opts.time)
    for _ in range(3):  # ImGui settles its layout over a couple of frames
        viewer.step()
    faults = viewer.state.faults
    if faults.total:  # a view or panel that failed to draw: no screenshot that looks like success
        raise ValueError("; ".join(f"{f.where} failed: {f.message}" for f in faults.active.values()) or
                         f"{faults.total} fault(s) while drawing; see the log")
    save_png(opts.screenshot_to, viewer.screenshot())


def _install_signals(viewer: Viewer) -> dict:
    """First SIGINT/SIGTERM closes the window after the current frame; a second one interrupts.

    Returns the handlers it replaced (``main`` puts them back)."""

    def handler(signum, _frame):
        if viewer.state.quit_requested:
            raise KeyboardInterrupt
        viewer.state.quit_requested = True
        viewer.surface.request_close()

    old: dict = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, handler)
    return old


def _local_ingest() -> str:
    """``rerun-zmq`` with no file: the ingest on this machine's port, started (detached) if none listens."""
    from rerun_zmq._api import default_port
    from rerun_zmq._net_spawn import ensure_ingest

    addr, started = ensure_ingest(default_port())
    print(f"rerun-zmq: {'started an ingest' if started else 'connected to the ingest'} on {addr}; "
          f"producers reach it with rr.connect({addr!r}) or rr.spawn()", file=sys.stderr, flush=True)
    return addr


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(list(sys.argv[1:] if argv is None else argv))
    if not logging.getLogger().handlers:  # faults caught in frames are logged once, to stderr
        logging.basicConfig(level=logging.WARNING, format="rerun-zmq viewer %(levelname)s %(name)s: %(message)s")
    try:
        viewer = Viewer(opts)
    except Exception as exc:  # noqa: BLE001 - no display, no EGL, an FBO the GL cannot make: a message, not a traceback
        print(f"error: cannot open the viewer window: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    old_handlers = _install_signals(viewer)
    try:
        if opts.screenshot_to:
            _screenshot(viewer, opts)
            return 0
        for path in opts.files:
            viewer.open_file(path)
        if opts.connect:
            viewer.connect(opts.connect)
        elif not opts.files:
            viewer.connect(_local_ingest())
        while not viewer.should_close():
            viewer.step()  # a fault in a view, panel or data update is caught inside: the loop goes on
            if opts.max_frames is not None and viewer.state.frame >= opts.max_frames:
                break
        return 0
    except (ValueError, OSError) as exc:  # startup: a bad --time, no live data for the screenshot...
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the window or GL surface itself failed: the loop cannot go on
        logging.getLogger("ui").error("the viewer stopped: %s: %s", type(exc).__name__, exc, exc_info=exc)
        return 1
    finally:
        try:
            viewer.close()
        finally:
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
