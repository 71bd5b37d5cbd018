"""Plain-data wire format between the grader and the sandboxed worker.

Only JSON and raw numeric array bytes cross the boundary, never pickle, so
nothing the student builds (objects with a lying ``__eq__``, ndarray
subclasses, ...) can reach the grader: decoding yields exact built-in types and
fresh base-class numpy arrays of whitelisted dtypes.

A frame is ``u64 header length | JSON header | raw buffers``. The header holds
the body and the buffer lengths. Containers are tagged so tuples and non-string
dict keys survive the trip: ``{"$t": [...]}`` a tuple, ``{"$d": [[k, v], ...]}``
a dict, ``{"$a": i, "dtype": "<f8", "shape": [..]}`` array number i,
``{"$x": "typename"}`` a value the worker could not convert.

This module needs only the standard library and numpy: the worker loads it
inside the sandbox, where nothing else of the grader exists.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

HEADER = struct.Struct("<Q")
MAX_DEPTH = 64
MAX_DIMS = 32
# What one decoded answer may cost the grader, counted as decoded: every array
# reference its full size (a buffer referenced twice is two copies), every
# container, item and string its Python object. Sized well above any sheet's answer.
MAX_DECODED = 128 << 20
# Brackets and braces in a header, counted before it is parsed: bounds what
# json.loads builds for a header of many tiny containers ("[[],[],...]").
MAX_CONTAINERS = 1 << 20
# Little-endian numeric dtypes only. numpy is imported lazily, so the grader can
# launch its worker before paying for that import.
ALLOWED_DTYPES = frozenset(
    ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8"]
)


PLAIN_SCALARS = (float, int, bool, str, type(None))
# The warnings a call raised travel with its answer, at most this many, this long each.
MAX_WARNINGS = 5
MAX_WARNING_TEXT = 200


class WireError(ValueError):
    """The peer sent something that is not a well-formed frame."""


class Unconvertible:
    """A value the worker could not express as plain data; carries its type name only."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<unconvertible {self.type_name}>"


def encode(obj: Any, fallback: Callable[[Any], Any] | None = None) -> bytes:
    """Encode ``obj``; ``fallback`` turns unknown objects into encodable ones (worker side)."""
    import numpy as np

    buffers: list[bytes] = []

    def enc(x: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return {"$x": "structure nested too deeply"}
        if type(x) is list and all(type(v) in PLAIN_SCALARS for v in x):
            return x  # fast path: a long list of plain numbers
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int):
            return int(x)
        if isinstance(x, float):
            return float(x)
        if isinstance(x, np.generic):
            if x.dtype.kind == "f" and x.dtype.itemsize > 8:
                return float(x)  # longdouble: .item() would give a longdouble back
            return enc(x.item(), depth + 1) if x.dtype.kind in "biuf" else {"$x": type(x).__name__}
        if isinstance(x, np.ndarray):
            return enc_array(x)
        if isinstance(x, tuple):
            return {"$t": [enc(v, depth + 1) for v in x]}
        if isinstance(x, list):
            return [enc(v, depth + 1) for v in x]
        if isinstance(x, dict):
            return {"$d": [[enc(k, depth + 1), enc(v, depth + 1)] for k, v in x.items()]}
        if fallback is not None:
            converted = fallback(x)
            if converted is not x:
                return enc(converted, depth + 1)
        return {"$x": type(x).__name__}

    def enc_array(a: np.ndarray) -> Any:
        if a.dtype.kind == "f" and a.dtype.itemsize > 8:
            a = a.astype(np.float64)  # longdouble / float128: the wire carries float64 at most
        if a.dtype.kind not in "biuf":
            try:
                a = np.asarray(a, dtype=np.float64)
            except (TypeError, ValueError):
                return {"$x": f"ndarray of {a.dtype}"}
        a = np.array(a, dtype=a.dtype.newbyteorder("<"), order="C", subok=False)
        buffers.append(a.tobytes())
        return {"$a": len(buffers) - 1, "dtype": a.dtype.str, "shape": list(a.shape)}

    body = enc(obj, 0)
    header = json.dumps({"body": body, "buffers": [len(b) for b in buffers]}).encode()
    return b"".join([HEADER.pack(len(header)), header, *buffers])


def parse_header(header: bytes) -> tuple[Any, list[int]]:
    """A frame header's body and buffer table, or WireError for anything malformed."""
    if header.count(b"[") + header.count(b"{") > MAX_CONTAINERS:
        raise WireError("the answer was too large (too many nested values)")
    try:
        meta = json.loads(header.decode("utf-8"))
        lengths = meta["buffers"]
        body = meta["body"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise WireError(f"malformed header: {exc}") from None
    if not isinstance(lengths, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in lengths
    ):
        raise WireError("malformed buffer table")
    return body, lengths


def decode(header: bytes, payload: bytes | memoryview, budget: int | None = MAX_DECODED) -> Any:
    """``decode_within`` without the budget left."""
    return decode_within(header, payload, budget)[0]


def decode_within(
    header: bytes, payload: bytes | memoryview, budget: int | None = MAX_DECODED
) -> tuple[Any, int | None]:
    """Decode a frame's header and buffer bytes into exact built-in types and base ndarrays.

    ``budget`` bounds the decoded size (see ``MAX_DECODED``; None for the worker,
    which trusts its grader); the budget left comes back with the value, so the
    answers to one request can share one budget. Every way a frame can be wrong, including ones
    numpy or json would raise for, is a WireError, so the caller has one thing
    to catch.
    """
    body, lengths = parse_header(header)
    payload = memoryview(payload)
    if sum(lengths) != len(payload):
        raise WireError("buffer lengths do not match the payload")
    offsets = [0]
    for n in lengths:
        offsets.append(offsets[-1] + n)
    views = [payload[offsets[i] : offsets[i + 1]] for i in range(len(lengths))]
    decoder = _Decoder(views, budget)
    try:
        return decoder.dec(body, 0), decoder.left
    except WireError:
        raise
    except (RecursionError, MemoryError):
        raise WireError("the answer was too large to decode") from None
    except Exception as exc:  # numpy or a dict key refusing something we did not foresee
        raise WireError(f"malformed answer ({type(exc).__name__})") from None


# What each decoded value costs, roughly its CPython size plus the reference to it.
_COST_SCALAR, _COST_CONTAINER, _COST_ITEM, _COST_ARRAY = 32, 64, 8, 112


class _Decoder:
    def __init__(self, views: list[memoryview], budget: int | None) -> None:
        self.views = views
        self.left = budget

    def spend(self, cost: int) -> None:
        if self.left is None:
            return
        self.left -= cost
        if self.left < 0:
            raise WireError(
                f"the answer was too large once decoded (more than {MAX_DECODED >> 20} MiB)"
            )

    def dec(self, x: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("structure nested too deeply")
        if x is None or type(x) in (bool, int, float):
            self.spend(_COST_SCALAR)
            return x
        if type(x) is str:
            self.spend(_COST_SCALAR + 24 + len(x))
            return x
        if type(x) is list:
            return self.dec_list(x, depth)
        if type(x) is not dict or len(x) == 0:
            raise WireError(f"unexpected value of type {type(x).__name__}")
        if "$t" in x:
            return tuple(self.dec_list(x["$t"], depth))
        if "$d" in x:
            out = {}
            for pair in self.dec_list(x["$d"], depth):
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("malformed dict entry")
                self.spend(_COST_CONTAINER)
                key = pair[0]
                try:
                    out[key] = pair[1]
                except TypeError:
                    out[repr(key)[:200]] = pair[1]
            return out
        if "$a" in x:
            return self.dec_array(x)
        if "$x" in x:
            self.spend(_COST_CONTAINER)
            return Unconvertible(str(x["$x"])[:200])
        raise WireError("unknown tag")

    def dec_list(self, items: Any, depth: int) -> list:
        if type(items) is not list:
            raise WireError("malformed container")
        self.spend(_COST_CONTAINER + _COST_ITEM * len(items))
        return [self.dec(v, depth + 1) for v in items]

    def dec_array(self, x: dict) -> np.ndarray:
        import numpy as np

        index, dtype, shape = x.get("$a"), x.get("dtype"), x.get("shape")
        if type(index) is not int or not 0 <= index < len(self.views):
            raise WireError("bad array reference")
        if dtype not in ALLOWED_DTYPES:
            raise WireError(f"array dtype {dtype!r} not allowed")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise WireError("bad array shape")
        if len(shape) > MAX_DIMS:
            raise WireError(f"array with {len(shape)} dimensions (at most {MAX_DIMS})")
        dt = np.dtype(dtype)
        view = self.views[index]
        if math.prod(shape) * dt.itemsize != len(view):
            raise WireError("array size does not match its shape")
        self.spend(_COST_ARRAY + len(view))  # each reference is its own copy
        return np.frombuffer(view, dtype=dt).reshape(shape).astype(dt.newbyteorder("="))


def read_exact(fd: int, n: int) -> bytes:
    """Blocking read of exactly ``n`` bytes; EOFError if the peer closed first."""
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> Any:
    """Read and decode one frame (used by the worker, which trusts its own grader)."""
    (hlen,) = HEADER.unpack(read_exact(fd, HEADER.size))
    header = read_exact(fd, hlen)
    _, lengths = parse_header(header)
    return decode(header, read_exact(fd, sum(lengths)), budget=None)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
