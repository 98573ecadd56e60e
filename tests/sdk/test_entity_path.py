"""Entity paths: canonical form, escaping round trips, ancestry."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rerun_zmq._entity_path import canonical_path, is_descendant_or_self, is_reserved, parent_paths, path_parts

parts = st.lists(st.text(alphabet=st.sampled_from("ab/\\ _.é"), min_size=1, max_size=4), max_size=5)


@settings(max_examples=300, deadline=None)
@given(parts=parts)
def test_parts_round_trip_through_the_escaped_string(parts):
    path = canonical_path(parts)
    assert path_parts(path) == parts
    assert canonical_path(path) == path
    assert canonical_path(path + "/") == path and canonical_path(path.lstrip("/")) == path
    ancestors = parent_paths(path)
    assert len(ancestors) == len(parts)  # the root and every proper ancestor
    for i, ancestor in enumerate(ancestors):
        assert path_parts(ancestor) == parts[:i]
        assert is_descendant_or_self(path, ancestor)


def test_escaped_slash_is_part_of_one_part_not_a_separator():
    assert path_parts("a\\/b/c") == ["a/b", "c"]
    assert canonical_path(["a/b", "c"]) == "/a\\/b/c"
    assert not is_descendant_or_self("/ab", "/a") and is_descendant_or_self("/a/b", "/a")


def test_bad_paths():
    with pytest.raises(ValueError, match="lone backslash"):
        canonical_path("a\\")
    with pytest.raises(TypeError, match="list of str parts"):
        canonical_path(["a", 1])
    assert canonical_path("//") == "/" and parent_paths("/") == []
    assert is_reserved("/a/__b") and not is_reserved("/a/_b")
