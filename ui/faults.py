"""Faults inside one frame: caught per view, panel or data step, logged once, shown, and the loop
goes on.

``guarded(faults, where, fn, *args)`` runs one piece of a frame. An ``Exception`` it raises is
caught, Dear ImGui's (and ImPlot's) begin/end stacks are unwound to where the piece started, and the
fault is recorded under ``where``: logged with its traceback the first time that (place, type, line)
is seen, listed in ``state.errors`` once, and kept in ``FrameFaults.active`` until ``where`` runs
cleanly again (the status bar and the failed view show it). ``KeyboardInterrupt``, ``SystemExit``
and faults of the window or GL surface itself (``begin_frame``/``end_frame``, never guarded) still
end the loop.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("ui")

_MAX_SEEN = 512  # distinct faults remembered for de-duplication (oldest forgotten first)


@dataclass
class Fault:
    """The current fault of one place in the frame."""

    where: str  #: what failed: "view cam", "panel timeline", "data dna.rrd" ...
    message: str  #: "ValueError: bad shape"
    count: int = 1  #: frames (or updates) in a row that failed here
    first_frame: int = 0


@dataclass
class FrameFaults:
    """What failed in recent frames: ``active`` per place, and every distinct fault seen once."""

    active: dict[str, Fault] = field(default_factory=dict)
    total: int = 0  #: faults caught so far (repeats included)
    _seen: dict[tuple, None] = field(default_factory=dict)

    def report(self, where: str, exc: BaseException, frame: int = 0, errors: list[str] | None = None) -> Fault:
        """Record ``exc`` raised in ``where``; log it (with traceback) only the first time."""
        message = f"{type(exc).__name__}: {exc}"
        self.total += 1
        got = self.active.get(where)
        if got is not None and got.message == message:
            got.count += 1
        else:
            got = self.active[where] = Fault(where, message, 1, frame)
        key = (where, type(exc).__name__, _raised_at(exc))  # a message with a changing number is one fault
        if key not in self._seen:
            self._seen[key] = None
            if len(self._seen) > _MAX_SEEN:
                del self._seen[next(iter(self._seen))]
            log.error("%s failed (the viewer goes on; repeats are not logged): %s", where, message, exc_info=exc)
            if errors is not None:
                errors.append(f"{where} failed: {message}")
        return got

    def clear(self, where: str) -> None:
        """``where`` ran cleanly: it is no longer failing."""
        if where in self.active:
            del self.active[where]

    def newest(self) -> Fault | None:
        return max(self.active.values(), key=lambda f: f.first_frame, default=None)


def _raised_at(exc: BaseException) -> tuple[str, int]:
    tb = traceback.extract_tb(exc.__traceback__)
    return (tb[-1].filename, tb[-1].lineno or 0) if tb else ("", 0)


def guarded(state, where: str, fn: Callable, *args, ui: bool = True) -> BaseException | None:
    """Run ``fn(*args)`` as one piece of the frame; returns the exception it raised (None: ran fine).

    ``ui``: the piece draws with ImGui; on a fault its unclosed windows, child windows, tables,
    pushed styles and ids (and an open ImPlot plot) are closed so the rest of the frame draws.
    """
    recovery = None
    if ui:
        from imgui_bundle import imgui

        recovery = imgui.internal.ErrorRecoveryState()
        imgui.internal.error_recovery_store_state(recovery)
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - the frame's fault boundary: recorded, shown, logged once
        if recovery is not None:
            recover_ui(recovery)
        state.faults.report(where, exc, state.frame, state.errors)
        return exc
    state.faults.clear(where)
    return None


def recover_ui(recovery) -> None:
    """Close what a failed piece of the frame left open in ImPlot and ImGui, back to ``recovery``."""
    from imgui_bundle import imgui, implot

    try:
        if implot.get_current_context() is not None and implot.internal.get_current_plot() is not None:
            implot.end_plot()
    except Exception:  # noqa: BLE001, S110 - a half-begun plot ImPlot itself refuses to end; ImGui's unwind follows
        pass
    io = imgui.get_io()
    saved = (
        io.config_error_recovery_enable_assert,
        io.config_error_recovery_enable_tooltip,
        io.config_error_recovery_enable_debug_log,
    )
    # the unwind reports each missing End() as a user error: no assert (a Python exception here),
    # no tooltip, no log line (the fault itself is logged once by FrameFaults)
    io.config_error_recovery_enable_assert = False
    io.config_error_recovery_enable_tooltip = False
    io.config_error_recovery_enable_debug_log = False
    try:
        imgui.internal.error_recovery_try_to_recover_state(recovery)
    finally:
        (
            io.config_error_recovery_enable_assert,
            io.config_error_recovery_enable_tooltip,
            io.config_error_recovery_enable_debug_log,
        ) = saved
