"""The wire format: round trips, exact types out, and refusal of malformed frames."""

from __future__ import annotations

import contextlib
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


def _frame_parts(body, buffers: list[bytes]) -> tuple[bytes, bytes]:
    header = json.dumps({"body": body, "buffers": [len(b) for b in buffers]}).encode()
    return header, b"".join(buffers)


def test_longdouble_arrives_as_float64():
    """numpy's longdouble (float128) is not on the wire: it travels as float64."""
    out = roundtrip([np.longdouble(1.5), np.arange(3, dtype=np.longdouble)])
    assert out[0] == 1.5 and type(out[0]) is float
    assert out[1].dtype == np.float64
    np.testing.assert_array_equal(out[1], [0.0, 1.0, 2.0])


def test_every_reference_to_a_buffer_counts_as_its_own_copy():
    """One buffer referenced many times decodes into many copies: the budget sees them all."""
    ref = {"$a": 0, "dtype": "<f8", "shape": [1 << 17]}  # 1 MiB
    header, payload = _frame_parts([ref] * 4, [bytes(1 << 20)])
    assert len(wire.decode(header, payload, budget=8 << 20)) == 4
    header, payload = _frame_parts([ref] * 40, [bytes(1 << 20)])
    with pytest.raises(wire.WireError, match="too large"):
        wire.decode(header, payload, budget=8 << 20)


def test_the_default_budget_refuses_what_the_grader_cannot_afford():
    """A header of a few KiB may reference a 1 MiB buffer a thousand times: 1 GiB decoded."""
    ref = {"$a": 0, "dtype": "|u1", "shape": [1 << 20]}
    header, payload = _frame_parts([ref] * 1000, [bytes(1 << 20)])
    with pytest.raises(wire.WireError, match="too large"):
        wire.decode(header, payload)


def test_items_and_strings_count_towards_the_budget():
    header, payload = _frame_parts(["x" * 1000] * 1000, [])
    with pytest.raises(wire.WireError, match="too large"):
        wire.decode(header, payload, budget=500_000)
    header, payload = _frame_parts([0] * 100_000, [])
    with pytest.raises(wire.WireError, match="too large"):
        wire.decode(header, payload, budget=500_000)


def test_a_header_of_countless_tiny_containers_is_refused_before_parsing():
    header = b'{"buffers": [], "body": [' + b"[]," * (wire.MAX_CONTAINERS + 1) + b"[]]}"
    with pytest.raises(wire.WireError, match="too large"):
        wire.parse_header(header)


@pytest.mark.parametrize(
    "body, buffers",
    [
        ({"$a": 0, "dtype": "<f8", "shape": [1] * 65}, [bytes(8)]),  # numpy allows 32 or 64
        ({"$a": 0, "dtype": "<f8", "shape": [1] * 33}, [bytes(8)]),
        ({"$a": 0, "dtype": "<f8", "shape": [0, 1 << 62, 1 << 62]}, [b""]),  # "array too big"
        ({"$a": 0, "dtype": "<f8", "shape": [10**30, 0]}, [b""]),
        ({"$d": [[{"$d": [[[1], 2]]}, 1]]}, []),  # a dict as a key
    ],
)
def test_anything_numpy_or_python_would_raise_on_is_a_wire_error(body, buffers):
    header, payload = _frame_parts(body, buffers)
    with contextlib.suppress(wire.WireError):  # refused is fine; anything else crashes the grader
        wire.decode(header, payload)


def test_decode_within_says_what_the_budget_has_left():
    frame = wire.encode([1.0, 2.0])
    (hlen,) = wire.HEADER.unpack(frame[: wire.HEADER.size])
    header = frame[wire.HEADER.size : wire.HEADER.size + hlen]
    value, left = wire.decode_within(header, b"", 1000)
    assert value == [1.0, 2.0] and left is not None and 0 < left < 1000
