"""Shared machinery of the concrete archetypes: a table of fields, ``columns`` and ``from_fields``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pyarrow as pa

from .. import _components as c
from ._base import Archetype, ComponentColumn, ComponentColumnList
from ._convert import mat3x3, mat3x3s, scale3, scales

Converter = Callable[[Any], Any]

#: single-value converter -> its batch form, used by ``columns`` (one value per row)
BATCH_OF: dict[Converter, Converter] = {
    c.float32_one: c.radii,
    c.text_one: c.strings,
    c.color_one: c.colors,
    c.vec3: c.positions3d,
    scale3: scales,
    mat3x3: mat3x3s,
}


class TableArchetype(Archetype):
    """An archetype whose components are described by ``_specs``: field -> (arrow type, converter)."""

    _specs: ClassVar[dict[str, tuple[pa.DataType, Converter]]] = {}
    #: keyword names accepted by ``columns``/``from_fields`` besides the field names
    _aliases: ClassVar[dict[str, str]] = {}

    def _put(self, field: str, value: Any) -> None:
        if value is not None:
            arrow_type, convert = self._specs[field]
            self._field(field, arrow_type, value, convert)

    @classmethod
    def _resolve(cls, name: str) -> str:
        field = cls._aliases.get(name, name)
        if field not in cls._specs:
            raise TypeError(f"{cls.archetype_name} has no component {name!r}; it has {sorted(cls._specs)}")
        return field

    @classmethod
    def columns(cls, **fields: Any) -> ComponentColumnList:
        """Columns for ``send_columns``: each field holds one instance per row (see ``partition``).

        Bad input raises ``ValueError``/``TypeError`` whatever the strict mode: a bulk call has
        no single row to drop.
        """
        out = ComponentColumnList()
        for name, value in fields.items():
            if value is None:
                continue
            field = cls._resolve(name)
            arrow_type, convert = cls._specs[field]
            try:
                values = BATCH_OF.get(convert, convert)(value)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"{cls.archetype_name}.{field}: {exc}") from None
            out.append(ComponentColumn(f"{cls.archetype_name}:{field}", arrow_type, values))
        return out

    @classmethod
    def from_fields(cls, *, clear_unset: bool = False, **fields: Any) -> TableArchetype:
        """An instance with only the given components (no primary field needed).

        ``clear_unset=True`` also logs an empty batch for every other component, clearing it.
        """
        self = cls.__new__(cls)
        Archetype.__init__(self)
        given = set()
        for name, value in fields.items():
            field = cls._resolve(name)
            given.add(field)
            self._put(field, value)
        if clear_unset:
            for field, (arrow_type, _) in cls._specs.items():
                if field not in given:
                    self._add(field, arrow_type, pa.array([], type=arrow_type))
        return self

    @classmethod
    def cleared(cls) -> TableArchetype:
        """An instance that clears every component of this archetype."""
        return cls.from_fields(clear_unset=True)


def boxes_from_sizes(arch: Archetype, dim: int, half_sizes: Any, sizes: Any, mins: Any, centers: Any):
    """Turn ``sizes``/``mins`` into (half_sizes, centers) like Rerun: half = size / 2, center = min + half.

    Conflicts or bad input are reported on ``half_sizes`` (or ``centers``) through the error policy;
    the returned values are what to store (``None`` where nothing should be).
    """
    if sizes is None:
        if mins is not None:
            arch._fail("centers", TypeError("mins= needs sizes= too"))
        return half_sizes, centers
    if half_sizes is not None:
        arch._fail("half_sizes", TypeError("give only one of half_sizes= or sizes="))
        return None, centers
    try:
        half = c.vectors(sizes, dim) / 2
    except (ValueError, TypeError) as exc:
        arch._fail("half_sizes", exc)
        return None, centers
    if mins is None:
        return half, centers
    if centers is not None:
        arch._fail("centers", TypeError("give only one of centers= or mins="))
        return half, None
    try:
        lows = c.vectors(mins, dim)
        return half, lows + half
    except (ValueError, TypeError) as exc:
        arch._fail("centers", exc)
        return half, None
