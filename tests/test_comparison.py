"""Comparison: every reasonable numeric style is accepted, every wrong one is named."""

from __future__ import annotations

import numpy as np
import pytest

from grader.comparison import AllClose, Exact, Labels, Unusable, to_array
from grader.wire import Unconvertible

ALLCLOSE = AllClose()


@pytest.mark.parametrize(
    "got",
    [
        np.array([1.0, 2.0]),
        [1.0, 2.0],
        (1, 2),
        np.array([1, 2], dtype=np.int32),
        np.array([1.0, 2.0], dtype=np.float32),
        [np.float64(1.0), 2],
    ],
)
def test_numeric_styles_are_accepted(got):
    assert ALLCLOSE.judge(np.array([1.0, 2.0]), got, public=True) is None


def test_shape_is_checked_before_values():
    message = ALLCLOSE.judge(np.zeros((2, 3)), np.zeros((3, 2)), public=True)
    assert "shape" in message and "(2, 3)" in message and "(3, 2)" in message


def test_scalar_accepts_size_one_answers():
    assert ALLCLOSE.judge(2.0, np.array([2.0]), public=True) is None
    assert ALLCLOSE.judge(2.0, [[2.0]], public=True) is None


def test_nan_and_inf_are_wrong_unless_expected():
    assert "NaN" in ALLCLOSE.judge(np.ones(2), np.array([1.0, np.nan]), public=True)
    assert "inf" in ALLCLOSE.judge(np.ones(2), np.array([1.0, np.inf]), public=True)
    assert ALLCLOSE.judge(np.array([np.inf, 1.0]), np.array([np.inf, 1.0]), public=True) is None


def test_tolerances():
    strict = AllClose(rtol=1e-6, atol=1e-8, scale_tol=0.0)
    assert strict.judge(1.0, 1.0 + 5e-7, public=True) is None
    assert strict.judge(1.0, 1.0 + 5e-6, public=True) is not None


def test_float32_computation_is_accepted_but_real_errors_are_not():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 5)), rng.normal(size=(5, 4))
    want = a @ b
    want[0, 0] = 1e-9  # a near-zero entry, where float32 loses everything but the scale
    have32 = (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float64)
    have32[0, 0] = 3e-7
    assert ALLCLOSE.judge(want, have32, public=True) is None
    off = want.copy()
    off[2, 3] *= 1.001
    assert ALLCLOSE.judge(want, off, public=True) is not None
    assert Exact().judge(3, 3.0, public=True) is None
    assert Exact().judge(3, 3.0000001, public=True) is not None


def test_hidden_messages_show_no_values():
    message = ALLCLOSE.judge(np.array([1.25, 2.5]), np.array([1.25, 9.75]), public=False)
    assert "9.75" not in message and "2.5" not in message
    public = ALLCLOSE.judge(np.array([1.25, 2.5]), np.array([1.25, 9.75]), public=True)
    assert "9.75" in public


def test_dicts_are_compared_by_key():
    want = {"a": 1.0, "b": np.zeros(2)}
    assert ALLCLOSE.judge(want, {"a": 1, "b": [0, 0], "extra": "ignored"}, public=True) is None
    assert "lacks the key" in ALLCLOSE.judge(want, {"a": 1.0}, public=True)
    assert "['b']" in ALLCLOSE.judge(want, {"a": 1.0, "b": [0, 1]}, public=True)


def test_tuple_of_numbers_accepts_arrays_and_lists():
    assert ALLCLOSE.judge((1.0, 2.0), np.array([1.0, 2.0]), public=True) is None
    assert ALLCLOSE.judge((1.0, 2.0), [1.0, 2.0], public=True) is None


@pytest.mark.parametrize(
    "got, fragment",
    [
        (None, "None"),
        ("1.0", "string"),
        (Unconvertible("Thing"), "Thing"),
        ({"x": 1}, "dict"),
        ([[1.0], [1.0, 2.0]], "ragged"),
        ([1.0, None], "None"),
        ([10**400, 1.0], "too large"),
    ],
)
def test_unusable_answers_are_named(got, fragment):
    message = ALLCLOSE.judge(np.array([1.0, 2.0]), got, public=True)
    assert message is not None and fragment in message


def test_to_array_rejects_strings():
    with pytest.raises(Unusable):
        to_array("abc")


def test_labels_message_counts_points():
    message = Labels().judge(np.array([1, 2, 2]), np.array([1, 1, 2]), public=True)
    assert "1 of 3 points" in message


def test_matches_is_false_for_unusable():
    assert not ALLCLOSE.matches(np.ones(2), None)
    assert ALLCLOSE.matches(np.ones(2), [1, 1])


def test_large_arrays_show_the_worst_entry_not_the_whole_array():
    want = np.zeros((2, 3, 4, 5))
    have = want.copy()
    have[1, 2, 3, 4] = 0.75
    message = ALLCLOSE.judge(want, have, public=True)
    assert "at index (1, 2, 3, 4): expected 0, got 0.75" in message
    assert "[[" not in message


def test_the_scale_is_the_whole_answers():
    """A dict of gradients is one answer: float32 error on a small entry is measured
    against the largest entry anywhere in it, not against that entry alone."""
    want = {"big": np.array([2.86]), "small": -1.852534e-2}
    have = {"big": np.array([2.86]), "small": -1.852534e-2 + 2.3e-7}
    assert ALLCLOSE.judge(want, have, public=True) is None
    assert ALLCLOSE.judge(want, {**have, "small": -1.852534e-2 * 1.001}, public=True)


def test_noise_widens_the_tolerance_where_given():
    want, have = np.array([1e-3, 1.0]), np.array([1e-3 * (1 + 3e-3), 1.0])
    assert ALLCLOSE.judge(want, have, public=True) is not None
    assert ALLCLOSE.judge(want, have, public=True, noise=np.array([1e-5, 0.0])) is None
    assert Exact().judge(3, 4, public=True, noise=10.0) is not None


@pytest.mark.parametrize(
    "got",
    [
        (np.array([1.0]), np.array([2.0])),
        [np.array([[1.0]]), np.float32(2.0)],
        ([1.0], [2]),
    ],
)
def test_a_tuple_of_numbers_accepts_one_element_arrays_as_its_numbers(got):
    """(float, float) answered as (tensor([a]), tensor([b])): each item is a number's answer."""
    assert ALLCLOSE.judge((1.0, 2.0), got, public=True) is None
    assert ALLCLOSE.judge((1.0, 2.5), got, public=True) is not None


@pytest.mark.parametrize(
    "got, fragment",
    [
        (np.array([[1.0], [2.0]]), "wrong shape"),
        ([[1.0, 2.0]], "wrong shape"),
        ((np.array([1.0, 0.0]), np.array([2.0])), "ragged"),
    ],
)
def test_a_tuple_of_numbers_still_refuses_a_column_or_longer_items(got, fragment):
    assert fragment in ALLCLOSE.judge((1.0, 2.0), got, public=True)


def test_labels_that_are_no_class_are_named():
    """0/1 labels (a bool or argmax) for classes 1 and 2: the message says what the classes are."""
    message = Labels().judge(np.array([1, 2, 2]), np.array([True, False, False]), public=False)
    assert "your labels include 0, but the classes are 1 and 2" in message
    wrong_class = Labels().judge(np.array([1, 2, 2]), np.array([2, 2, 2]), public=False)
    assert "classes are" not in wrong_class


def test_a_column_for_a_vector_is_told_how_to_reshape():
    message = ALLCLOSE.judge(np.zeros(3), np.zeros((3, 1)), public=False)
    assert "expected (3,), got (3, 1)" in message and ".reshape(3,)" in message
    transposed = ALLCLOSE.judge(np.zeros((2, 3)), np.zeros((3, 2)), public=False)
    assert "wrong shape" in transposed and "reshape" not in transposed


def test_none_inside_a_dict_names_where_and_what_is_expected():
    """torch leaves ``.grad`` None for a parameter the output does not use (a one-word
    sentence's W): the message names the key and the shape, not a forgotten `return`."""
    expected = {"W": np.zeros((2, 4)), "b": np.zeros(2)}
    message = ALLCLOSE.judge(expected, {"W": None, "b": [0.0, 0.0]}, public=True)
    assert "got None at ['W'] where an array of shape (2, 4) is expected" in message
    assert "forget a `return`" not in message
    assert "forget a `return`" in ALLCLOSE.judge(np.zeros(2), None, public=True)
