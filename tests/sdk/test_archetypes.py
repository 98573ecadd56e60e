"""Archetypes and converters on the shared tables in ``archetype_cases``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rerun_zmq.archetypes as rra
from rerun_zmq import _components as comp
from rerun_zmq._chunk import build_chunk, concat_instances, parse_chunk
from rerun_zmq.datatypes import RotationAxisAngle

from .archetype_cases import (
    BAD_COLORS,
    BOX2D_FORMATS,
    CLAMP_CASES,
    COLOR_CASES,
    COLOR_CASES_OURS,
    VALID,
)
from .archetype_extra_cases import INVALID_EXTRA, VALID_EXTRA
from .archetype_invalid_cases import INVALID


def as_pylists(arch) -> dict:
    """Each component as the batcher will see it: through the chunk module's Arrow conversion."""
    out = {}
    for batch in arch.as_component_batches():
        values, lengths = concat_instances([batch.data], batch.arrow_type)
        assert values.type == batch.arrow_type
        assert lengths.tolist() == [len(batch)]
        out[batch.key] = values.to_pylist()
    return out


def approx_equal(got, want) -> bool:
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(approx_equal, got, want))
    if isinstance(want, float):
        return got == pytest.approx(want, rel=1e-6)
    return got == want


@pytest.mark.parametrize("value, expected", COLOR_CASES + COLOR_CASES_OURS)
def test_colors(value, expected):
    got = comp.colors(value)
    assert got.dtype == np.uint32 and got.tolist() == expected


@pytest.mark.parametrize("value, expected", COLOR_CASES)
def test_colors_match_rerun(value, expected):
    rr = pytest.importorskip("rerun")
    assert rr.components.ColorBatch(value).as_arrow_array().to_pylist() == expected


@pytest.mark.parametrize("value, exc, words", BAD_COLORS)
def test_bad_colors(value, exc, words):
    with pytest.raises(exc, match="RGB") as info:
        comp.colors(value)
    assert words in str(info.value)


def test_unpack_colors_round_trip():
    packed = np.concatenate([comp.colors([255, 0, 128]), comp.colors([1, 2, 3, 4])])
    assert comp.unpack_colors(packed).tolist() == [[255, 0, 128, 255], [1, 2, 3, 4]]
    assert comp.unpack_colors(pa.array(packed)).dtype == np.uint8
    assert comp.unpack_colors(np.array([], dtype=np.uint32)).shape == (0, 4)
    with_null = pa.array([0xFF0000FF, None], pa.uint32())
    assert comp.unpack_colors(pa.chunked_array([with_null])).tolist() == [[255, 0, 0, 255], [0, 0, 0, 0]]


@pytest.mark.parametrize("values, n, expected", CLAMP_CASES)
def test_clamp_instances(values, n, expected):
    assert list(comp.clamp_instances(values, n)) == expected
    assert comp.clamp_instances(np.array(values), n).tolist() == expected
    assert comp.clamp_instances(pa.array(values, pa.int64()), n).to_pylist() == expected


def test_clamp_instances_rows():
    got = comp.clamp_instances(np.array([[1, 2, 3]]), 2)
    assert got.tolist() == [[1, 2, 3], [1, 2, 3]]


@pytest.mark.parametrize("case", VALID + VALID_EXTRA, ids=[c[0] for c in VALID + VALID_EXTRA])
def test_valid(case, strict):
    _, factory, expected = case
    arch = factory()
    got = as_pylists(arch)
    assert set(got) == set(expected)
    for key, want in expected.items():
        assert approx_equal(got[key], want), (key, got[key], want)
    assert arch.is_usable() and not arch.field_errors()


@pytest.mark.parametrize("fmt", sorted(BOX2D_FORMATS))
def test_boxes2d_formats(fmt, strict):
    half, center = BOX2D_FORMATS[fmt]
    got = as_pylists(rra.Boxes2D(array=[1, 2, 3, 4], array_format=fmt))
    assert got == {"Boxes2D:half_sizes": [half], "Boxes2D:centers": [center]}


@pytest.mark.parametrize("case", INVALID + INVALID_EXTRA, ids=[c[0] for c in INVALID + INVALID_EXTRA])
def test_invalid_strict(case, strict):
    _, factory, field, exc, words, _ = case
    with pytest.raises(exc) as info:
        factory()
    message = str(info.value)
    assert f".{field}: " in message and words in message, message


@pytest.mark.parametrize("case", INVALID + INVALID_EXTRA, ids=[c[0] for c in INVALID + INVALID_EXTRA])
def test_invalid_lenient(case, lenient):
    _, factory, field, exc, words, primary = case
    arch = factory()
    errors = arch.field_errors()
    assert [(e.field, e.exc_type, e.primary) for e in errors] == [(field, exc, primary)]
    assert words in errors[0].message
    assert not any(b.key.endswith(f":{field}") for b in arch.as_component_batches())
    assert arch.is_usable() == (not primary)


def test_bad_secondary_field_keeps_the_rest(lenient):
    arch = rra.Points3D([[1, 2, 3]], radii="big", colors=[255, 0, 0])
    assert sorted(as_pylists(arch)) == ["Points3D:colors", "Points3D:positions"]


def test_inputs_are_copied():
    pts = np.zeros((2, 3), dtype=np.float32)
    img = np.zeros((2, 2), dtype=np.uint8)
    points, image = rra.Points3D(pts), rra.Image(img)
    pts[:] = 7
    img[:] = 7
    assert as_pylists(points)["Points3D:positions"] == [[0, 0, 0], [0, 0, 0]]
    assert as_pylists(image)["Image:buffer"] == [bytes(4)]


def test_archetypes_build_a_valid_chunk():
    arch = rra.Points3D(np.zeros((3, 3)), colors=[255, 0, 0], labels=["a", "b", "c"])
    comps = {}
    for b in arch.as_component_batches():
        values, lengths = concat_instances([b.data, b.data], b.arrow_type)
        comps[b.key] = (b.arrow_type, values, lengths)
    row_ids = np.array([[1, 1], [1, 2]], dtype=np.uint64)
    chunk = build_chunk("pts", row_ids, {}, comps, ["Points3D"], True)
    assert parse_chunk(chunk).components == tuple(comps)


def test_columns():
    cols = rra.Scalars.columns(scalars=np.arange(10.0))
    assert [(c.key, c.num_rows(), c.arrow_type) for c in cols] == [("Scalars:scalars", 10, pa.float64())]
    cols = rra.Points3D.columns(positions=np.zeros((6, 3)), colors=np.zeros(6, np.uint32)).partition([2, 4])
    assert [c.lengths.tolist() for c in cols] == [[2, 4], [2, 4]]
    assert rra.Clear.columns(recursive=[True, False])[0].key == "Clear:is_recursive"
    assert rra.AnyValues.columns(temp=np.arange(3.0))[0].key == "AnyValues:temp"
    with pytest.raises(ValueError, match=r"Points3D.positions: .*\(N, 3\)"):
        rra.Points3D.columns(positions=np.zeros((6, 2)))
    with pytest.raises(TypeError, match="no component 'radius'"):
        rra.Points3D.columns(radius=[1.0])


def test_from_fields_and_cleared():
    arch = rra.Points3D.from_fields(colors=[255, 0, 0])
    assert list(as_pylists(arch)) == ["Points3D:colors"]
    cleared = as_pylists(rra.Points3D.cleared())
    assert set(cleared) == {f"Points3D:{f}" for f in rra.Points3D._specs}
    assert all(v == [] for v in cleared.values())


def test_view_coordinates_constants_match_rerun():
    rr = pytest.importorskip("rerun")
    for name in ("RDF", "FLU", "RIGHT_HAND_Z_UP", "LEFT_HAND_Y_DOWN", "RIGHT_HAND_X_DOWN"):
        theirs = getattr(rr.ViewCoordinates, name).as_component_batches()[0].as_arrow_array().to_pylist()
        assert as_pylists(getattr(rra.ViewCoordinates, name))["ViewCoordinates:xyz"] == theirs, name
    assert len([n for n in dir(rra.ViewCoordinates) if n.isupper() and len(n) == 3]) == 48


def test_repr_and_public_names():
    assert repr(rra.Points3D([1, 2, 3], radii=1)) == "rr.Points3D(positions=<1>, radii=<1>)"
    for name in rra.__all__:
        assert getattr(rra, name) is not None


def test_encoded_image_from_path(tmp_path):
    path = tmp_path / "x.JPG"
    path.write_bytes(b"\xff\xd8\xff")
    got = as_pylists(rra.EncodedImage(path=path))
    assert got == {"EncodedImage:blob": [b"\xff\xd8\xff"], "EncodedImage:media_type": ["image/jpeg"]}


def test_scalars_columns_several_series():
    (col,) = rra.Scalars.columns(scalars=np.arange(6.0).reshape(3, 2))
    assert col.lengths.tolist() == [2, 2, 2] and col.values.tolist() == [0, 1, 2, 3, 4, 5]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 255)] * 4), min_size=2, max_size=20))
def test_colors_round_trip_u8(rows):
    rgba = np.array(rows, dtype=np.uint8)
    assert comp.unpack_colors(comp.colors(rgba)).tolist() == rgba.tolist()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(*[st.floats(0, 1)] * 3), min_size=1, max_size=20))
def test_colors_floats_scale_and_round(rows):
    rgb = np.array(rows, dtype=np.float64)
    got = comp.unpack_colors(comp.colors(rgb))
    assert (got[:, 3] == 255).all()
    assert np.abs(got[:, :3].astype(float) - rgb * 255).max() <= 0.5


def test_image_compress():
    pytest.importorskip("PIL")
    rgb = np.random.default_rng(0).integers(0, 255, (16, 24, 3), dtype=np.uint8)
    got = as_pylists(rra.Image(rgb).compress(jpeg_quality=80))
    assert got["EncodedImage:media_type"] == ["image/jpeg"]
    assert got["EncodedImage:blob"][0][:2] == b"\xff\xd8"
    rgba = rra.Image(np.zeros((2, 2, 4), np.uint8))
    with pytest.warns(UserWarning, match="uncompressed"):
        assert rgba.compress() is rgba


def test_columns_of_single_value_fields():
    raa = [RotationAxisAngle([0, 0, 1], radians=1), RotationAxisAngle([0, 1, 0], radians=2)]
    cols = rra.Transform3D.columns(
        translation=np.zeros((2, 3)),
        rotation_axis_angle=raa,
        scale=[1, 2],
        mat3x3=np.arange(18).reshape(2, 3, 3),
        relation=["ParentFromChild", "ChildFromParent"],
        axis_length=[1, 2],
    )
    assert all(c.num_rows() == 2 for c in cols)
    got = {c.key.split(":")[1]: np.asarray(c.values).tolist() for c in cols}
    assert got["scale"] == [[1, 1, 1], [2, 2, 2]]
    assert got["mat3x3"][1] == [9, 12, 15, 10, 13, 16, 11, 14, 17]
    assert got["rotation_axis_angle"][1] == [0, 1, 0, 2]
    assert rra.TextLog.columns(text=["a", "b"], color=[0xFF0000FF, 0xFF])[1].num_rows() == 2
    assert rra.Points2D.columns(positions=np.zeros((3, 2)), draw_order=[1, 2, 3])[1].num_rows() == 3


def test_any_values_types_are_interned():
    first, second = rra.AnyValues(v=np.zeros((2, 3))), rra.AnyValues(v=np.ones((1, 3)))
    assert first.as_component_batches()[0].arrow_type is second.as_component_batches()[0].arrow_type
