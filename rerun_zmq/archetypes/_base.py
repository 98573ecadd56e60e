"""What every archetype is: a named bundle of component batches, converted once at construction.

An archetype converts its inputs to numpy (or plain lists for strings/bytes) in ``__init__``; the
batcher thread turns them into Arrow later, so a log call does no Arrow work and no I/O.

Bad input to a field raises in strict mode; otherwise the field is dropped and the error kept on
the archetype, so that ``rr.log`` can warn naming the entity path too. A bad *primary* field makes
the whole archetype unusable (``rr.log`` then logs nothing for it, and warns).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from .._errors import strict_mode


class ComponentBatch:
    """The instances of one component logged in one row.

    ``data`` is a numpy array whose first axis is the instance axis (``(n,)`` for scalars,
    ``(n, k)`` for ``fixed_size_list<T>[k]``), or a list of Python values (``str``, ``bytes``,
    ``dict`` for structs, ``bool``), or a ``pyarrow.Array`` already of ``arrow_type``.
    (A plain slotted class: one is made per field per log call, and a frozen dataclass costs 3x.)
    """

    __slots__ = ("key", "arrow_type", "data")

    def __init__(self, key: str, arrow_type: pa.DataType, data: Any) -> None:
        self.key = key
        self.arrow_type = arrow_type
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"ComponentBatch({self.key!r}, {self.arrow_type}, <{len(self.data)} instances>)"


def batches_signature(batches) -> tuple:
    """What the batcher keys accumulators on: component keys and arrow type identities."""
    return tuple([(b.key, id(b.arrow_type)) for b in batches])


@dataclass(frozen=True, slots=True)
class FieldError:
    archetype: str
    field: str
    message: str
    exc_type: type[Exception]
    primary: bool


class Archetype:
    """Base class of every archetype (``rr.Points3D``, ``rr.Scalars``, ...)."""

    archetype_name: ClassVar[str] = "Archetype"
    #: name of the primary field; a bad primary field drops the whole log call
    primary_field: ClassVar[str | None] = None

    def __init__(self) -> None:
        self._batches: list[ComponentBatch] = []
        self._errors: list[FieldError] = []
        #: ``batches_signature(self._batches)``, kept up to date by ``_add``
        self._sig: tuple = ()

    # -- used by subclasses -------------------------------------------------------------------
    def _add(self, field: str, arrow_type: pa.DataType, data: Any) -> None:
        if data is None:
            return
        key = f"{self.archetype_name}:{field}"
        for i, b in enumerate(self._batches):
            if b.key == key:  # a field set twice: the last value wins
                del self._batches[i]
                self._sig = batches_signature(self._batches)
                break
        self._batches.append(ComponentBatch(key, arrow_type, data))
        self._sig += ((key, id(arrow_type)),)

    def _field(self, field: str, arrow_type: pa.DataType, value: Any, convert) -> None:
        """Convert ``value`` with ``convert(value)`` and add it; apply the error policy on failure.

        ``convert`` raises ``ValueError``/``TypeError`` with a message saying what was expected.
        """
        if value is None:
            return
        try:
            data = convert(value)
        except (ValueError, TypeError) as exc:
            self._fail(field, exc)
            return
        self._add(field, arrow_type, data)

    def _fail(self, field: str, exc: Exception) -> None:
        message = f"{self.archetype_name}.{field}: {exc}"
        if strict_mode():
            raise type(exc)(message) from None
        primary = field == self.primary_field
        self._errors.append(FieldError(self.archetype_name, field, str(exc), type(exc), primary))

    # -- used by rr.log -----------------------------------------------------------------------
    def as_component_batches(self) -> list[ComponentBatch]:
        return self._batches

    def field_errors(self) -> list[FieldError]:
        return self._errors

    def is_usable(self) -> bool:
        return not any(e.primary for e in self._errors)

    def __repr__(self) -> str:
        inner = ", ".join(f"{b.key.split(':', 1)[1]}=<{len(b)}>" for b in self._batches)
        return f"rr.{self.archetype_name}({inner})"


@dataclass(frozen=True, slots=True)
class ComponentColumn:
    """A component for many rows at once (``send_columns``).

    ``values`` holds every instance of every row back to back (same forms as
    ``ComponentBatch.data``); ``lengths`` gives the number of instances in each row, or ``None``
    for one instance per row.
    """

    key: str
    arrow_type: pa.DataType
    values: Any
    lengths: np.ndarray | None = None

    def num_rows(self) -> int:
        return len(self.values) if self.lengths is None else len(self.lengths)

    def partition(self, lengths: Sequence[int] | np.ndarray) -> ComponentColumn:
        lens = np.asarray(lengths, dtype=np.int64)
        if lens.ndim != 1 or (lens < 0).any():
            raise ValueError(f"{self.key}: lengths must be a 1-D sequence of non-negative ints")
        if int(lens.sum()) != len(self.values):
            raise ValueError(
                f"{self.key}: lengths sum to {int(lens.sum())} but the column has {len(self.values)} instances"
            )
        return ComponentColumn(self.key, self.arrow_type, self.values, lens)


class ComponentColumnList(list):
    """What ``Archetype.columns(...)`` returns: a list of columns with ``partition``."""

    def partition(self, lengths: Sequence[int] | np.ndarray) -> ComponentColumnList:
        return ComponentColumnList(col.partition(lengths) for col in self)

    def __iter__(self) -> Iterator[ComponentColumn]:
        return super().__iter__()
