"""The wire format: round trips, exact types out, and refusal of malformed frames."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader import wire


def roundtrip(obj, fallback=None):
    frame = wire.encode(obj, fallback)
    (hlen,) = wire.HEADER.unpack(frame[: wire.HEADER.size])
    header = frame[wire.HEADER.size : wire.HEADER.size + hlen]
    return wire.decode(header, frame[wire.HEADER.size + hlen :])


def test_plain_values_roundtrip():
    obj = {"a": [1, 2.5, None, True, "x"], "t": (1, (2, 3)), 5: float("inf")}
    out = roundtrip(obj)
    assert out == obj
    assert isinstance(out["t"], tuple) and isinstance(out["t"][1], tuple)


@pytest.mark.parametrize("dtype", ["f8", "f4", "f2", "i8", "i4", "u1", "?"])
def test_arrays_keep_values_and_shape(dtype):
    a = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    out = roundtrip(a)
    assert type(out) is np.ndarray and out.shape == (3, 4)
    np.testing.assert_array_equal(out, a)


def test_zero_dim_and_non_contiguous_arrays():
    assert roundtrip(np.array(2.5)).shape == ()
    a = np.arange(20.0).reshape(4, 5)[:, ::2]
    np.testing.assert_array_equal(roundtrip(a), a)


def test_ndarray_subclass_arrives_as_base_ndarray():
    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return True

    out = roundtrip(np.arange(3.0).view(Sneaky))
    assert type(out) is np.ndarray


def test_numpy_scalars_become_python_numbers():
    out = roundtrip([np.float32(1.5), np.int64(3), np.bool_(True)])
    assert out == [1.5, 3, True]
    assert [type(v) for v in out] == [float, int, bool]


def test_unknown_objects_become_unconvertible():
    class Thing:
        pass

    out = roundtrip([Thing(), 1j])
    assert all(isinstance(v, wire.Unconvertible) for v in out)
    assert out[0].type_name == "Thing"


def test_object_arrays_are_converted_or_refused():
    assert roundtrip(np.array([1, 2.5], dtype=object)).dtype == np.float64
    assert isinstance(roundtrip(np.array(["a", None], dtype=object)), wire.Unconvertible)


def test_fallback_converts_foreign_values():
    class Box:
        def __init__(self, v):
            self.v = v

    out = roundtrip(Box(3.0), fallback=lambda x: x.v if isinstance(x, Box) else x)
    assert out == 3.0


@pytest.mark.parametrize(
    "body",
    [
        {"$a": 0, "dtype": "|O", "shape": [1]},  # object dtype
        {"$a": 0, "dtype": "<f8", "shape": [2]},  # size mismatch
        {"$a": 5, "dtype": "<f8", "shape": [1]},  # dangling reference
        {"$z": 1},  # unknown tag
        {"$a": 0, "dtype": "<f8", "shape": [-1]},
    ],
)
def test_malformed_frames_are_refused(body):
    header = json.dumps({"body": body, "buffers": [8]}).encode()
    with pytest.raises(wire.WireError):
        wire.decode(header, b"\0" * 8)


def test_buffer_table_must_match_payload():
    header = json.dumps({"body": 1, "buffers": [4]}).encode()
    with pytest.raises(wire.WireError):
        wire.decode(header, b"\0" * 8)


def test_deep_nesting_is_refused():
    body = 1
    for _ in range(wire.MAX_DEPTH + 5):
        body = [body]
    header = json.dumps({"body": body, "buffers": []}).encode()
    with pytest.raises(wire.WireError):
        wire.decode(header, b"")
