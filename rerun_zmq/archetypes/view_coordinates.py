"""ViewCoordinates: what the X, Y and Z axes of an entity's space mean (up, right, forward...)."""

from __future__ import annotations

from itertools import permutations, product
from typing import Any, ClassVar

import numpy as np

from .. import _components as c
from ._common import TableArchetype

#: direction codes stored in ``ViewCoordinates:xyz`` (uint8[3]), as in Rerun
DIRECTIONS = {"U": 1, "D": 2, "R": 3, "L": 4, "F": 5, "B": 6}
_UNIT = {1: (0, 0, 1), 2: (0, 0, -1), 3: (1, 0, 0), 4: (-1, 0, 0), 5: (0, 1, 0), 6: (0, -1, 0)}
_WHAT = "3 distinct axis directions such as 'RDF' or [3, 2, 5] (U=1 D=2 R=3 L=4 F=5 B=6)"


def view_xyz(value: Any) -> np.ndarray:
    """``ViewCoordinates``, a code string like ``"RDF"`` or 3 direction numbers -> uint8 ``(1, 3)``."""
    if isinstance(value, ViewCoordinates):
        return value.codes.reshape(1, 3).copy()
    if isinstance(value, str):
        if len(value) != 3 or any(ch not in DIRECTIONS for ch in value.upper()):
            raise ValueError(f"expected {_WHAT}, got {value!r}")
        codes = np.array([DIRECTIONS[ch] for ch in value.upper()], dtype=np.uint8)
    else:
        arr = c._numbers(value, np.int64, _WHAT).reshape(-1)
        if arr.size != 3 or arr.min() < 1 or arr.max() > 6:
            raise ValueError(f"expected {_WHAT}, got {arr.tolist()}")
        codes = arr.astype(np.uint8)
    if len({(int(v) + 1) // 2 for v in codes}) != 3:
        raise ValueError(f"expected {_WHAT}, got {codes.tolist()} which repeats an axis")
    return codes.reshape(1, 3)


def _right_handed(codes: list[int]) -> bool:
    return np.linalg.det(np.array([_UNIT[v] for v in codes], dtype=float)) > 0


class ViewCoordinates(TableArchetype):
    """Axis semantics, e.g. ``ViewCoordinates.RDF`` (X=Right, Y=Down, Z=Forward) or ``RIGHT_HAND_Z_UP``.

    Every three-letter code (``RDF``, ``FLU``, ...) and ``{RIGHT,LEFT}_HAND_{X,Y,Z}_{UP,DOWN}``
    is a class constant; log them with ``static=True``.
    """

    archetype_name = "ViewCoordinates"
    primary_field = "xyz"
    _specs = {"xyz": (c.VIEW_XYZ, view_xyz)}
    codes: np.ndarray
    _constant_names: ClassVar[list[str]] = []

    def __init__(self, xyz: Any) -> None:
        super().__init__()
        self.codes = np.zeros(3, dtype=np.uint8)
        self._put("xyz", xyz)
        if self._batches:
            self.codes = self._batches[0].data[0]

    @property
    def name(self) -> str:
        """The three-letter code, e.g. ``"RDF"``."""
        letters = {v: k for k, v in DIRECTIONS.items()}
        return "".join(letters.get(int(v), "?") for v in self.codes)

    def __repr__(self) -> str:
        return f"rr.ViewCoordinates.{self.name}"


def _define_constants() -> None:
    letters = {v: k for k, v in DIRECTIONS.items()}
    for order in permutations(((1, 2), (3, 4), (5, 6))):
        for signs in product((0, 1), repeat=3):
            picked = [pair[s] for pair, s in zip(order, signs, strict=True)]
            name = "".join(letters[v] for v in picked)
            setattr(ViewCoordinates, name, ViewCoordinates(picked))
    for axis, up in product(range(3), ("UP", "DOWN")):
        for hand in ("RIGHT", "LEFT"):
            codes = [0, 0, 0]
            codes[axis] = 1 if up == "UP" else 2
            others = [i for i in range(3) if i != axis]
            codes[others[0]] = 3
            codes[others[1]] = 5
            if _right_handed(codes) != (hand == "RIGHT"):
                codes[others[1]] = 6
            setattr(ViewCoordinates, f"{hand}_HAND_{'XYZ'[axis]}_{up}", ViewCoordinates(codes))


_define_constants()
