"""Views besides 3D, each drawn with ImGui inside its blueprint rect: 2D, time series, text log.

Data a view cannot show is reported once in ``state.errors`` (``report``); it never ends the
frame loop.
"""

from __future__ import annotations

import pyarrow as pa

DATA_ERRORS = (ValueError, TypeError, KeyError, IndexError, pa.ArrowException)


def report(state, view_name: str, exc: Exception) -> None:
    msg = f"view {view_name}: cannot show its data: {exc}"
    if msg not in state.errors:
        state.errors.append(msg)
