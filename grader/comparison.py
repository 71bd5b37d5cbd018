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
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.wire import Unconvertible

SCALAR_TYPES = (int, float, bool, np.integer, np.floating)
# A float32 gradient through a saturated unit (σ' = h(1 − h) with h ≈ 1) loses up
# to ~7e-5 of the answer's scale (measured over 200 seeds); derivation mistakes
# are off by orders of magnitude more.
FLOAT32_SCALE_TOL = 1e-4


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


def none_inside(where: str, shape: tuple[int, ...]) -> str:
    """None inside a returned dict or tuple: most often torch's ``.grad`` of a parameter the
    output does not use (a one-word sentence's W), whose derivative is zeros, not None."""
    what = "a number" if not shape else f"an array of shape {shape_str(shape)}"
    return (
        f"got None{where} where {what} is expected (a result that is zero is still "
        "returned as zeros; torch leaves .grad as None when nothing flowed into it)"
    )


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


@dataclass(frozen=True)
class Comparator:
    """Base of all comparators: ``judge`` returns None when right, else a message.

    Plain frozen dataclasses (a check holds one as its ``compare`` field): they
    carry a few numbers and code, and building pydantic schemas for them cost a
    tenth of a grading run.

    ``noise``, when given, has the structure of ``expected`` and holds how far a
    correct float32 computation could land from it on this very case (see
    ``rounding.rounding_noise``); comparators with a tolerance allow for it.
    """

    def uses_noise(self) -> bool:
        """Whether a failed answer should be judged again allowing for float32 rounding."""
        return False

    def judge(self, expected: Any, got: Any, public: bool, noise: Any = None) -> str | None:
        raise NotImplementedError

    def as_truth(self, answer: Any) -> Any:
        """A known mistake's answer in the form of a truth (the student kit freezes this form)."""
        return answer

    def matches(self, expected: Any, got: Any) -> bool:
        """Whether ``got`` equals ``expected`` as this comparator sees it (for known mistakes)."""
        try:
            return self.judge(expected, got, public=False) is None
        except Unusable:
            return False


@dataclass(frozen=True)
class AllClose(Comparator):
    """Numbers, arrays, tuples and dicts of them, compared with rtol/atol after float64.

    An entry is right when |got − expected| ≤ atol + rtol·|expected| +
    scale_tol·scale + noise, where scale is the largest finite |expected| in the
    whole answer (all arrays of a dict of gradients together): a correct float32
    computation loses about 1e-7 of that scale on every entry, which would fail
    a pure rtol/atol test on its near-zero entries. Real mistakes are off by far
    more than 1e-6 of the scale. An answer that misses and shows float32 work
    (``computed_in_float32``) is judged once more as a float32 computation:
    ``noise`` (how far rounding moves the truth on this case) plus
    ``FLOAT32_SCALE_TOL`` of the scale.
    """

    rtol: float = 1e-6
    atol: float = 1e-8
    scale_tol: float = 1e-6
    float32: bool = True  # False where the contract demands float64 accuracy

    def __post_init__(self) -> None:
        if min(self.rtol, self.atol, self.scale_tol) < 0:
            raise ValueError(f"tolerances must not be negative: {self}")

    def uses_noise(self) -> bool:
        return self.float32

    def judge(self, expected: Any, got: Any, public: bool, noise: Any = None) -> str | None:
        scale = _largest(expected)
        slack = self.atol + self.scale_tol * scale
        if noise is not None:  # the float32 pass: what float32 can lose beyond conditioning
            slack += FLOAT32_SCALE_TOL * scale
        return self._judge(expected, got, public, "", slack, noise)

    def _judge(
        self, expected: Any, got: Any, public: bool, path: str, slack: float, noise: Any
    ) -> str | None:
        where = f" at {path}" if path else ""
        if isinstance(expected, dict):
            if not isinstance(got, dict):
                return f"returned {describe_type(got)}{where} where a dict is expected"
            missing = [k for k in expected if k not in got]
            if missing:
                return f"the dict{where} lacks the key(s) {', '.join(map(repr, missing))}"
            for key in expected:
                part = noise.get(key) if isinstance(noise, dict) else None
                message = self._judge(
                    expected[key], got[key], public, f"{path}[{key!r}]", slack, part
                )
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
            parts = noise if isinstance(noise, (list, tuple)) and len(noise) == len(got) else None
            for i, (e, g) in enumerate(zip(expected, got, strict=True)):
                part = parts[i] if parts is not None else None
                message = self._judge(e, g, public, f"{path}[{i}]", slack, part)
                if message:
                    return message
            return None
        want = np.asarray(expected, dtype=np.float64)
        return self._judge_array(
            want, _items_as_numbers(expected, got), public, where, slack, noise
        )

    def _judge_array(
        self, want: np.ndarray, got: Any, public: bool, where: str, slack: float, noise: Any
    ) -> str | None:
        if got is None and where:
            return none_inside(where, want.shape)
        try:
            have = to_array(got)
        except Unusable as exc:
            return f"{exc}{where}"
        if want.ndim == 0 and have.size == 1:
            have = have.reshape(())
        if have.shape != want.shape:
            message = (
                f"wrong shape{where}: expected {shape_str(want.shape)}, got {shape_str(have.shape)}"
            )
            if _squeezed(have.shape) == _squeezed(want.shape):
                message += (
                    " (the right number of values, with an axis of length 1 too many or too "
                    f"few: return it as .reshape{shape_str(want.shape)})"
                )
            return message
        bad_nan = ~np.isfinite(have) & np.isfinite(want)
        if bad_nan.any():
            kind = "NaN" if np.isnan(have[bad_nan]).any() else "inf"
            return f"the answer{where} contains {kind} where a finite number is expected"
        atol = slack + _noise_array(noise, want.shape)
        with np.errstate(invalid="ignore"):  # an infinite truth is matched by itself only
            close = np.isfinite(want) & (np.abs(have - want) <= atol + self.rtol * np.abs(want))
        close |= (have == want) | (np.isnan(have) & np.isnan(want))
        if close.all():
            return None
        return _value_message(want, have, close, public, where)


def computed_in_float32(value: Any) -> bool:
    """Whether an answer shows float32 work, which alone earns the float32 allowance.

    It does when a float32 or float16 array (the worker keeps numpy float32
    scalars and torch float32 tensors as such) is anywhere in it, or when every
    finite float in it is exactly a float32 number, as ``.tolist()`` or
    ``.item()`` of float32 work gives. A float64 computation almost never lands
    on float32 numbers, so a gradient by forward differences, off by 1e-5 of
    its scale, is held to the contract's rtol.
    """
    leaves = list(_float_leaves(value, 0))
    if any(a.dtype.itemsize < 8 for a in leaves):
        return True
    found = False
    for a in leaves:
        finite = a[np.isfinite(a)]
        if not finite.size:
            continue
        found = True
        with np.errstate(over="ignore"):
            if not np.array_equal(finite.astype(np.float32), finite):
                return False
    return found


def float32_dtype(value: Any) -> bool:
    """Whether a float32 or float16 array, scalar or tensor is anywhere in an answer.

    Stronger evidence than ``computed_in_float32``: float64 work that returns an
    input or small integers as floats lands on float32 numbers too.
    """
    return any(a.dtype.itemsize < 8 for a in _float_leaves(value, 0))


def _float_leaves(value: Any, depth: int) -> Any:
    """The answer's floating-point arrays and numbers, as arrays of their own dtype."""
    if depth > 64:
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            yield value
    elif isinstance(value, (float, np.floating)):
        yield np.asarray(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _float_leaves(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        if value and all(type(v) is float for v in value):
            yield np.array(value)
        else:
            for v in value:
                yield from _float_leaves(v, depth + 1)


def close_mask(have: np.ndarray, want: np.ndarray, float32: bool = True) -> np.ndarray:
    """Which entries agree, by default allowing for a float32 computation (for judges that
    compute their own values, e.g. returned CNN layers run on sample grids).

    Pass ``float32=computed_in_float32(answer)``: float64 work gets no allowance.
    """
    default = AllClose()
    scale = _largest(want)
    slack = default.atol + (default.scale_tol + FLOAT32_SCALE_TOL * float32) * scale
    with np.errstate(invalid="ignore"):
        within = np.abs(have - want) <= slack + default.rtol * np.abs(want)
    return (np.isfinite(want) & within) | (have == want)


def _largest(expected: Any) -> float:
    """The largest finite magnitude anywhere in an expected answer (0 if none)."""
    if isinstance(expected, dict):
        return max((_largest(v) for v in expected.values()), default=0.0)
    if isinstance(expected, (list, tuple)) and not _all_scalars(expected):
        return max((_largest(v) for v in expected), default=0.0)
    try:
        a = np.abs(np.asarray(expected, dtype=np.float64))
    except (TypeError, ValueError):
        return 0.0
    finite = a[np.isfinite(a)]
    return float(finite.max()) if finite.size else 0.0


def _noise_array(noise: Any, shape: tuple[int, ...]) -> np.ndarray | float:
    if noise is None:
        return 0.0
    try:
        a = np.abs(np.asarray(noise, dtype=np.float64))
    except (TypeError, ValueError):
        return 0.0
    if a.shape != shape:
        return 0.0
    return np.where(np.isfinite(a), a, 0.0)


def _items_as_numbers(expected: Any, got: Any) -> Any:
    """A tuple of numbers whose items came back as one-element arrays, read as numbers.

    ``(float, float)`` answered as ``(tensor([a]), tensor([b]))`` is each item
    a one-element array where a number is expected, which a lone number's
    answer may be; a whole answer of the wrong shape (a column for a vector)
    still is one.
    """
    if not (
        isinstance(expected, (list, tuple))
        and all(isinstance(v, SCALAR_TYPES) for v in expected)
        and isinstance(got, (list, tuple))
        and len(got) == len(expected)
    ):
        return got
    items = []
    for item in got:
        if isinstance(item, (np.ndarray, list, tuple)):
            try:
                item = to_array(item)
            except Unusable:
                return got
            if item.size != 1:
                return got
            item = item.reshape(())
        items.append(item)
    return type(got)(items)


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for n in shape if n != 1)


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


@dataclass(frozen=True)
class Exact(AllClose):
    """Integers and counts: equal after float64, no tolerance."""

    rtol: float = 0.0
    atol: float = 0.0
    scale_tol: float = 0.0
    float32: bool = False

    def judge(self, expected: Any, got: Any, public: bool, noise: Any = None) -> str | None:
        return super().judge(expected, got, public)  # a count is exact, however computed


@dataclass(frozen=True)
class Custom(Comparator):
    """A check-specific judgement (a function checked as a function, a tree, a graph).

    ``fn`` must accept a known mistake's answer in place of the truth; ``prepare``, when
    given, turns such an answer into the truth's form (a returned network into its values)
    and ``fn`` must accept that form too. The student kit then holds what a mistake
    computes rather than what it returns, which may be most of a right answer.
    """

    name: str
    fn: Callable[[Any, Any, bool], str | None]
    prepare: Callable[[Any], Any] | None = None

    def as_truth(self, answer: Any) -> Any:
        return self.prepare(answer) if self.prepare is not None else answer

    def judge(self, expected: Any, got: Any, public: bool, noise: Any = None) -> str | None:
        return self.fn(expected, got, public)


@dataclass(frozen=True)
class Labels(Exact):
    """Class labels: exact equality; ``figure`` may draw where the answer differs."""

    figure: Callable[[Any, Any], str | None] | None = None

    def judge(self, expected: Any, got: Any, public: bool, noise: Any = None) -> str | None:
        problem = super().judge(expected, got, public)
        if problem is None or "values differ" not in problem:
            return problem
        want, have = np.asarray(expected, dtype=np.float64), to_array(got)
        wrong = np.flatnonzero(want.ravel() != have.ravel())
        text = f"{len(wrong)} of {want.size} points get the wrong class"
        if public:
            i = int(wrong[0])
            text += f" (first at row {i}: expected {want.ravel()[i]:g}, got {have.ravel()[i]:g})"
        classes = np.unique(want)
        foreign = np.setdiff1d(np.unique(have[np.isfinite(have)]), classes)
        if foreign.size and classes.size <= 10:
            names = [f"{c:g}" for c in classes]
            listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
            text += f"; your labels include {foreign[0]:g}, but the classes are {listed}"
        return text
