"""Views besides 3D, each drawn with ImGui inside its blueprint rect: 2D, time series, text log."""

from __future__ import annotations
