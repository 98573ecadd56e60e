"""Time cursor motion: play, step to the neighbouring data time, loop, follow the live end."""

from __future__ import annotations

import numpy as np

from . import time_selection
from .state import AppState
from .timefmt import play_rate


def time_range(state: AppState) -> tuple[int, int] | None:
    t = state.time
    if t.timeline is None or state.store is None:
        return None
    return state.store.time_range(t.timeline)


def set_cursor(state: AppState, value: int, user: bool = True) -> None:
    rng = time_range(state)
    if rng is not None:
        value = min(max(int(value), rng[0]), rng[1])
    state.time.cursor = int(value)
    if user:
        state.time.follow = rng is not None and value >= rng[1] and state.time.follow


def step(state: AppState, direction: int) -> None:
    """Move to the next (+1) or previous (-1) time holding data on the current timeline."""
    t = state.time
    times = t.times.get(t.timeline) if t.timeline else None
    if times is None or len(times) == 0:  # live: no per-row times here, step by a unit / 1 %
        rng = time_range(state)
        if rng is not None:
            unit = 1 if t.kind == "sequence" else max((rng[1] - rng[0]) // 100, 1)
            t.playing = t.follow = False
            set_cursor(state, t.cursor + direction * unit, user=False)
        return
    if direction > 0:
        i = int(np.searchsorted(times, t.cursor, side="right"))
        target = times[i] if i < len(times) else (times[0] if t.loop else times[-1])
    else:
        i = int(np.searchsorted(times, t.cursor, side="left")) - 1
        target = times[i] if i >= 0 else (times[-1] if t.loop else times[0])
    t.playing = False
    t.follow = False
    set_cursor(state, int(target), user=False)


def toggle_play(state: AppState) -> None:
    t = state.time
    rng = time_range(state)
    if not t.playing and rng is not None and t.cursor >= rng[1]:
        t.cursor = rng[0]  # play from the start when parked at the end
    t.playing = not t.playing
    t._acc = 0.0  # type: ignore[attr-defined]


def advance(state: AppState, dt: float) -> None:
    """Advance a playing cursor by ``dt`` seconds of wall time."""
    t = state.time
    rng = time_range(state)
    if not t.playing or rng is None:
        return
    acc = getattr(t, "_acc", 0.0) + dt * t.speed * play_rate(t.kind)
    whole = int(acc)
    t._acc = acc - whole  # type: ignore[attr-defined]
    if whole <= 0:
        return
    new = t.cursor + whole
    lo, hi = time_selection.loop_range(state, rng)
    if t.loop and (new > hi or new < lo):
        new = lo
    elif new > rng[1]:
        if t.loop:
            new = rng[0]
        else:
            new, t.playing, t.follow = rng[1], False, True  # at the end: follow live data
    t.cursor = new
