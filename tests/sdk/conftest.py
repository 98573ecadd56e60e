"""SDK test fixtures: the strict-mode switch for one test."""

from __future__ import annotations

import pytest

from rerun_zmq import _errors


def _strict_mode(value: bool):
    old = getattr(_errors._state, "strict", None)
    _errors._state.strict = value
    yield
    _errors._state.strict = old


@pytest.fixture
def strict():
    """Bad input raises (``rr.init(strict=True)`` for this thread)."""
    yield from _strict_mode(True)


@pytest.fixture
def lenient():
    """Bad input warns and drops the field."""
    yield from _strict_mode(False)
