"""Helpers for the Viewer II tests: a headless viewer on a recording, injected clicks and keys."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from imgui_bundle import imgui


@contextlib.contextmanager
def headless_viewer(*paths: str, size=(1100, 700), frames: int = 4):
    from ui.app import Viewer
    from ui.state import Options

    try:
        v = Viewer(Options(headless=True, window_size=size))
    except Exception as exc:  # noqa: BLE001 - no EGL on this machine: skip, not fail
        pytest.skip(f"headless EGL context unavailable: {exc}")
    try:
        for p in paths:
            v.open_file(p, wait=True)
        for _ in range(frames):
            v.step()
        yield v
    finally:
        v.close()


def click(viewer, key: str, button: int = 0, at: tuple[float, float] | None = None) -> None:
    """Press and release at the centre of the widget recorded as ``key`` (or at ``at``)."""
    if at is None:
        x0, y0, x1, y1 = viewer.state.ui_rects[key]
        at = ((x0 + x1) / 2, (y0 + y1) / 2)
    io = imgui.get_io()
    io.add_mouse_pos_event(*at)
    viewer.step()
    io.add_mouse_button_event(button, True)
    viewer.step()
    io.add_mouse_button_event(button, False)
    viewer.step()


def press(viewer, key, ctrl: bool = False) -> None:
    io = imgui.get_io()
    if ctrl:
        io.add_key_event(imgui.Key.mod_ctrl, True)
    io.add_key_event(key, True)
    viewer.step()
    io.add_key_event(key, False)
    if ctrl:
        io.add_key_event(imgui.Key.mod_ctrl, False)
    viewer.step()


def type_text(viewer, key: str, text: str) -> None:
    """Click the text field ``key``, select all, type ``text``."""
    click(viewer, key)
    io = imgui.get_io()
    io.add_key_event(imgui.Key.mod_ctrl, True)
    io.add_key_event(imgui.Key.a, True)
    viewer.step()
    io.add_key_event(imgui.Key.a, False)
    io.add_key_event(imgui.Key.mod_ctrl, False)
    viewer.step()
    io.add_input_characters_utf8(text)
    viewer.step()
    viewer.step()


def region(img: np.ndarray, rect) -> np.ndarray:
    x0, y0, x1, y1 = (int(v) for v in rect)
    return img[y0:y1, x0:x1]


def color_count(img: np.ndarray, rgb, tol: int = 10) -> int:
    diff = np.abs(img[..., :3].astype(int) - np.array(rgb)).max(axis=-1)
    return int((diff <= tol).sum())


def step_until(viewer, done, timeout: float = 20.0, what: str = "the condition") -> int:
    """Step frames until ``done()`` holds; returns the frames stepped (the timeout is a safety net)."""
    import time

    deadline = time.monotonic() + timeout
    frames = 0
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s ({frames} frames)")
        viewer.step()
        frames += 1
    return frames
