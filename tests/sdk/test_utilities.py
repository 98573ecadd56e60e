"""build_color_spiral and bounce_lerp: against a brute-force formula and, when installed, rerun-sdk."""

from __future__ import annotations

from math import cos, sin, tau

import numpy as np
import pytest

from rerun_zmq.utilities import TURBO, bounce_lerp, build_color_spiral

SPIRALS = [
    (100, {}),
    (100, {"angular_offset": tau * 0.5}),
    (1, {}),
    (0, {}),
    (7, {"radius": 3, "angular_step": 0.1, "angular_offset": 1.0, "z_step": 0.5}),
    (1000, {}),
]

LERPS = [
    (80, 230, 0.3, 125.0),
    (80, 230, 1.3, 185.0),
    (80, 230, 2.7, 185.0),
    (80, 230, -0.4, 170.0),
    (0, 1, 5.0, 1.0),
    (0.0, 10.0, 0.0, 0.0),
]


@pytest.mark.parametrize("n, kwargs", SPIRALS)
def test_spiral_formula(n, kwargs):
    points, colors = build_color_spiral(n, **kwargs)
    radius, step = kwargs.get("radius", 2), kwargs.get("angular_step", 0.02)
    offset, z_step = kwargs.get("angular_offset", 0), kwargs.get("z_step", 0.1)
    want = [
        [cos(i * tau * step + offset) * radius, sin(i * tau * step + offset) * radius, i * z_step]
        for i in range(n)
    ]
    assert points.shape == colors.shape == (n, 3)
    np.testing.assert_allclose(points, np.array(want).reshape(n, 3), atol=1e-12)
    assert ((colors >= 0) & (colors <= 1)).all()
    if n > 1:
        assert colors[0].tolist() == TURBO[0].tolist() and colors[-1].tolist() == TURBO[-1].tolist()


@pytest.mark.parametrize("n, kwargs", SPIRALS)
def test_spiral_matches_rerun(n, kwargs):
    ru = pytest.importorskip("rerun.utilities")
    theirs = ru.build_color_spiral(n, **kwargs)
    ours = build_color_spiral(n, **kwargs)
    if n:
        np.testing.assert_allclose(ours.positions, theirs.positions, rtol=0, atol=1e-12)
    assert np.array_equal(ours.colors, theirs.colors)


def test_turbo_endpoints():
    assert TURBO.shape == (256, 3)
    assert TURBO[0].tolist() == [0.18995, 0.07176, 0.23217]
    assert TURBO[-1].tolist() == [0.4796, 0.01583, 0.01055]


@pytest.mark.parametrize("a, b, t, want", LERPS)
def test_bounce_lerp_scalars(a, b, t, want):
    got = bounce_lerp(a, b, t)
    assert isinstance(got, float) and got == pytest.approx(want)


def test_bounce_lerp_arrays():
    ts = np.array([t for *_, t, _ in LERPS])
    got = bounce_lerp(80, 230, ts)
    want = [bounce_lerp(80, 230, float(t)) for t in ts]
    np.testing.assert_allclose(got, want)
    vec = bounce_lerp(np.array([1.0, 2, 3]), np.array([4.0, 5, 6]), 1.25)
    np.testing.assert_allclose(vec, [3.25, 4.25, 5.25])


def test_bounce_lerp_matches_rerun():
    ru = pytest.importorskip("rerun.utilities")
    for a, b, t, _ in LERPS:
        assert bounce_lerp(a, b, t) == pytest.approx(ru.bounce_lerp(a, b, t))
    p, q = np.array([1.0, 2, 3]), np.array([4.0, 5, 6])
    for t in (0.1, 1.7, 3.2):
        np.testing.assert_allclose(bounce_lerp(p, q, t), ru.bounce_lerp(p, q, t))
