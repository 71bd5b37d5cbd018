"""Judging one answer against the truth.

Answers arrive already decoded into plain data (see ``wire``). Every numeric
style a student may return (numpy, torch, lists, tuples, Python numbers,
float32) is turned into float64 here; the shape is checked before the values,
and NaN or inf count as wrong unless the truth has them too. A comparator
returns ``None`` for a right answer, or a message that says what is wrong.
Values appear in messages only when the check is public.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from grader.wire import Unconvertible

SCALAR_TYPES = (int, float, bool, np.integer, np.floating)


class Unusable(ValueError):
    """The answer cannot be read as numbers (wrong type, ragged lists, ...)."""


def describe_type(value: Any) -> str:
    if value is None:
        return "None (did you forget a `return`?)"
    if isinstance(value, Unconvertible):
        return f"a {value.type_name}, which is not a number or an array"
    if isinstance(value, str):
        return f"a string {short(value)}"
    if isinstance(value, dict):
        return "a dict"
    return f"a {type(value).__name__}"


def to_array(value: Any) -> np.ndarray:
    """Read any reasonable numeric answer as a float64 array, or raise ``Unusable``."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    if isinstance(value, SCALAR_TYPES):
        try:
            return np.array(float(value))
        except OverflowError:
            raise Unusable("returned an integer too large for a float") from None
    if isinstance(value, (list, tuple)):
        bad = _first_bad(value)
        if bad is not None:
            raise Unusable(f"returned a sequence holding {bad}")
        try:
            return np.array(value, dtype=np.float64)
        except OverflowError:
            raise Unusable("returned an integer too large for a float") from None
        except (ValueError, TypeError):
            raise Unusable("returned nested lists of unequal lengths (a ragged array)") from None
    raise Unusable(f"returned {describe_type(value)}")


def _first_bad(value: Any) -> str | None:
    if isinstance(value, (list, tuple)):
        for v in value:
            bad = _first_bad(v)
            if bad:
                return bad
        return None
    if isinstance(value, (np.ndarray, *SCALAR_TYPES)):
        return None
    return describe_type(value)


def to_scalar(value: Any) -> float:
    a = to_array(value)
    if a.size != 1:
        raise Unusable(f"returned shape {shape_str(a.shape)} where one number is expected")
    return float(a.reshape(()))


def shape_str(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def short(value: Any, limit: int = 160) -> str:
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=6, threshold=24, edgeitems=3, max_line_width=120)
    elif isinstance(value, float):
        text = f"{value:.10g}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Comparator(BaseModel):
    """Base of all comparators: ``judge`` returns None when right, else a message."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    def judge(self, expected: Any, got: Any, public: bool) -> str | None:
        raise NotImplementedError

    def matches(self, expected: Any, got: Any) -> bool:
        """Whether ``got`` equals ``expected`` as this comparator sees it (for known mistakes)."""
        try:
            return self.judge(expected, got, public=False) is None
        except Unusable:
            return False


class AllClose(Comparator):
    """Numbers, arrays, tuples and dicts of them, compared with rtol/atol after float64.

    ``scale_tol`` adds a slack relative to the largest expected magnitude in the
    array: a correct float32 computation (which the contract accepts) loses about
    1e-7 of the array's scale on every entry, so its near-zero entries would fail a
    pure rtol/atol test. Real mistakes are off by far more than 1e-5 of the scale.
    """

    rtol: float = 1e-6
    atol: float = 1e-8
    scale_tol: float = 1e-5

    def judge(self, expected: Any, got: Any, public: bool) -> str | None:
        return self._judge(expected, got, public, path="")

    def _judge(self, expected: Any, got: Any, public: bool, path: str) -> str | None:
        where = f" at {path}" if path else ""
        if isinstance(expected, dict):
            if not isinstance(got, dict):
                return f"returned {describe_type(got)}{where} where a dict is expected"
            missing = [k for k in expected if k not in got]
            if missing:
                return f"the dict{where} lacks the key(s) {', '.join(map(repr, missing))}"
            for key in expected:
                message = self._judge(expected[key], got[key], public, f"{path}[{key!r}]")
                if message:
                    return message
            return None
        if isinstance(expected, (list, tuple)) and not _all_scalars(expected):
            if isinstance(got, np.ndarray) and got.ndim >= 1 and len(got) == len(expected):
                got = list(got)
            if not isinstance(got, (list, tuple)) or len(got) != len(expected):
                n = len(got) if isinstance(got, (list, tuple)) else None
                got_text = f"{n} items" if n is not None else describe_type(got)
                return f"expected {len(expected)} items{where}, got {got_text}"
            for i, (e, g) in enumerate(zip(expected, got, strict=True)):
                message = self._judge(e, g, public, f"{path}[{i}]")
                if message:
                    return message
            return None
        return self._judge_array(np.asarray(expected, dtype=np.float64), got, public, where)

    def _judge_array(self, want: np.ndarray, got: Any, public: bool, where: str) -> str | None:
        try:
            have = to_array(got)
        except Unusable as exc:
            return f"{exc}{where}"
        if want.ndim == 0 and have.size == 1:
            have = have.reshape(())
        if have.shape != want.shape:
            return (
                f"wrong shape{where}: expected {shape_str(want.shape)}, got {shape_str(have.shape)}"
            )
        bad_nan = ~np.isfinite(have) & np.isfinite(want)
        if bad_nan.any():
            kind = "NaN" if np.isnan(have[bad_nan]).any() else "inf"
            return f"the answer{where} contains {kind} where a finite number is expected"
        finite = np.abs(want[np.isfinite(want)])
        scale = float(finite.max()) if finite.size else 0.0
        atol = self.atol + self.scale_tol * scale
        close = np.isclose(have, want, rtol=self.rtol, atol=atol, equal_nan=True)
        if close.all():
            return None
        return _value_message(want, have, close, public, where)


def _all_scalars(seq: Any) -> bool:
    """A tuple of plain numbers (or nested lists of them) is compared as one array."""
    return all(
        isinstance(v, SCALAR_TYPES) or (isinstance(v, (list, tuple)) and _all_scalars(v))
        for v in seq
    )


def _value_message(
    want: np.ndarray, have: np.ndarray, close: np.ndarray, public: bool, where: str
) -> str:
    n_bad = int((~close).sum())
    err = np.abs(np.where(np.isfinite(have - want), have - want, np.inf))
    worst = np.unravel_index(int(np.argmax(np.where(close, -1, err))), want.shape)
    at = f" (worst at index {tuple(int(i) for i in worst)})" if want.ndim else ""
    count = f"{n_bad} of {want.size} values differ" if want.ndim else "wrong value"
    if not public:
        return f"{count}{where}{at}"
    if want.ndim == 0:
        return f"wrong value{where}: expected {short(float(want))}, got {short(float(have))}"
    if want.ndim <= 2 and want.size <= 24:
        return f"{count}{where}{at}: expected {short(want)}, got {short(have)}"
    index = tuple(int(i) for i in worst)
    return (
        f"{count}{where}; the worst, at index {index}: "
        f"expected {short(float(want[index]))}, got {short(float(have[index]))}"
    )


class Exact(AllClose):
    """Integers and counts: equal after float64, no tolerance."""

    rtol: float = 0.0
    atol: float = 0.0
    scale_tol: float = 0.0


class Custom(Comparator):
    """A check-specific judgement (a function checked as a function, a tree, a graph)."""

    name: str
    fn: Callable[[Any, Any, bool], str | None]

    def judge(self, expected: Any, got: Any, public: bool) -> str | None:
        return self.fn(expected, got, public)


class Labels(Exact):
    """Class labels: exact equality; ``figure`` may draw where the answer differs."""

    figure: Callable[[Any, Any], str | None] | None = None

    def judge(self, expected: Any, got: Any, public: bool) -> str | None:
        problem = super().judge(expected, got, public)
        if problem is None or "values differ" not in problem:
            return problem
        want, have = np.asarray(expected, dtype=np.float64), to_array(got)
        wrong = np.flatnonzero(want.ravel() != have.ravel())
        text = f"{len(wrong)} of {want.size} points get the wrong class"
        if public:
            i = int(wrong[0])
            text += f" (first at row {i}: expected {want.ravel()[i]:g}, got {have.ravel()[i]:g})"
        return text
