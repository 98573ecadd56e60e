"""SeriesLines / SeriesPoints: how the ``Scalars`` of an entity are drawn (usually logged static)."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype

MARKERS = ("circle", "diamond", "square", "cross", "plus", "up", "down", "left", "right", "asterisk")


def _markers(value: Any) -> list[str]:
    names = [str(getattr(v, "name", v)).lower() for v in c.strings(value)]
    bad = [n for n in names if n not in MARKERS]
    if bad:
        raise ValueError(f"expected marker names among {list(MARKERS)}, got {bad}")
    return names


class SeriesLines(TableArchetype):
    """Line style per series (one entry per scalar in a ``Scalars`` row): colors, widths, names."""

    archetype_name = "SeriesLines"
    primary_field = None
    _specs = {
        "colors": (c.COLOR, c.colors),
        "widths": (c.F32, c.radii),
        "names": (c.STRING, c.strings),
        "visible_series": (c.BOOL, c.bools),
    }

    def __init__(
        self,
        *,
        colors: Any = None,
        widths: Any = None,
        names: Any = None,
        visible_series: Any = None,
    ) -> None:
        super().__init__()
        self._put("colors", colors)
        self._put("widths", widths)
        self._put("names", names)
        self._put("visible_series", visible_series)


class SeriesPoints(TableArchetype):
    """Marker style per series: colors, markers (``"circle"``, ``"cross"``, ...), names, sizes."""

    archetype_name = "SeriesPoints"
    primary_field = None
    _specs = {
        "colors": (c.COLOR, c.colors),
        "markers": (c.STRING, _markers),
        "names": (c.STRING, c.strings),
        "visible_series": (c.BOOL, c.bools),
        "marker_sizes": (c.F32, c.radii),
    }

    def __init__(
        self,
        *,
        colors: Any = None,
        markers: Any = None,
        names: Any = None,
        visible_series: Any = None,
        marker_sizes: Any = None,
    ) -> None:
        super().__init__()
        self._put("colors", colors)
        self._put("markers", markers)
        self._put("names", names)
        self._put("visible_series", visible_series)
        self._put("marker_sizes", marker_sizes)


class SeriesLine(SeriesLines):
    """The older, singular form: ``SeriesLine(color=, width=, name=)``."""

    def __init__(self, *, color: Any = None, width: Any = None, name: Any = None) -> None:
        super().__init__(colors=color, widths=width, names=name)


class SeriesPoint(SeriesPoints):
    """The older, singular form: ``SeriesPoint(color=, marker=, name=, marker_size=)``."""

    def __init__(
        self, *, color: Any = None, marker: Any = None, name: Any = None, marker_size: Any = None
    ) -> None:
        super().__init__(colors=color, markers=marker, names=name, marker_sizes=marker_size)
