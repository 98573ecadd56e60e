"""Junk into every archetype field: lenient mode never raises; strict raises only ValueError/TypeError."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rerun_zmq.archetypes as rra
from rerun_zmq import _errors

# floats beyond float32's range become inf, with numpy's usual overflow warning
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

ARCHETYPES = [getattr(rra, n) for n in rra.__all__ if n not in ("Archetype", "AnyValues")]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.binary(max_size=4),
)
arrays = st.builds(
    lambda shape, dtype: np.ones(shape, dtype=dtype),
    st.lists(st.integers(0, 4), max_size=4).map(tuple),
    st.sampled_from([np.uint8, np.int64, np.float32, np.float64, np.bool_, object]),
)
junk = st.recursive(
    scalars | arrays,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner, max_size=2),
    max_leaves=8,
)


def params(cls) -> list[str]:
    sig = inspect.signature(cls.__init__)
    return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD]


@pytest.fixture(params=[False, True], ids=["lenient", "strict"])
def mode(request):
    """The thread-local strict override; it holds for every example of one test."""
    old = getattr(_errors._state, "strict", None)
    _errors._state.strict = request.param
    yield request.param
    _errors._state.strict = old


@pytest.mark.parametrize("cls", ARCHETYPES, ids=lambda c: c.__name__)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_junk_never_crashes(cls, mode, data):
    kwargs = {
        name: data.draw(junk, label=name) for name in params(cls) if data.draw(st.booleans(), label="use")
    }
    for name in params(cls):
        param = inspect.signature(cls.__init__).parameters[name]
        if param.default is param.empty and name not in kwargs:
            kwargs[name] = data.draw(junk, label=name)
    try:
        arch = cls(**kwargs)
    except (ValueError, TypeError):
        assert mode, "lenient mode must not raise"
        return
    arch.is_usable()
    for batch in arch.as_component_batches():
        assert len(batch) >= 0


@settings(max_examples=60, deadline=None)
@given(value=junk)
def test_any_values_junk(value):
    old = getattr(_errors._state, "strict", None)
    _errors._state.strict = False
    try:
        rra.AnyValues(x=value)
    finally:
        _errors._state.strict = old
