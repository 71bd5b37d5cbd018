"""How far float32 rounding could move the truth of one case.

The contract accepts answers computed in float32. Whether a float32 answer is
right depends on the case: where the truth is a small difference of large terms
(y ≈ t in a residual), float32 must lose most of its digits, while elsewhere it
keeps six or seven. Rerunning the reference on nudged inputs measures exactly
that sensitivity, for this case, at the cost of two reference calls, and only
for answers that already missed the plain tolerance.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.spec import Case, Check, Sheet

FLOAT32_EPS = 2.0**-24
NOISE_FACTOR = 64.0
# A float32 run of the reference already holds the roundings inside: a small margin
# covers another order of the same operations.
RUN_FACTOR = 8.0


def rounding_noise(sheet: Sheet, check: Check, case: Case, expected: Any) -> Any:
    """How far a correct float32 computation could land from ``expected`` on this case.

    The truth is recomputed with every float input nudged by one float32 rounding
    (relative 2^-24, random signs, twice), times a margin for the roundings inside
    the computation; and once from float32 inputs, which the reference carries
    through in float32 where numpy keeps the dtype, with a small margin. The
    largest is what float32 cannot avoid. Only asked for when an answer fails the
    plain tolerance, so a right float64 answer costs nothing. An ill-conditioned
    case (y ≈ t in a residual, 1 − σ(a) near saturation) thus tolerates what
    float32 must lose there, and a well-conditioned one stays tight.
    """
    rng = np.random.default_rng(0)
    worst: Any = None
    for shift, factor in ((_nudge, NOISE_FACTOR), (_nudge, NOISE_FACTOR), (_single, RUN_FACTOR)):
        moved_case = Case(
            label=case.label,
            args=shift(case.args, rng),
            kwargs={k: shift(v, rng) for k, v in case.kwargs.items()},
        )
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                moved = sheet.expected(check, moved_case)
            change = _times(_difference(moved, expected), factor)
        except Exception:
            return worst
        worst = change if worst is None else _maximum(worst, change)
    return worst


def _floats(value: Any, shift: Callable[[Any], Any]) -> Any:
    """``value`` with ``shift`` applied to every float and float array in it."""
    if (isinstance(value, np.ndarray) and value.dtype.kind == "f") or isinstance(value, float):
        return shift(value)
    if isinstance(value, dict):
        return {k: _floats(v, shift) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        out = [_floats(v, shift) for v in value]
        return tuple(out) if isinstance(value, tuple) else out
    return value


def _nudge(value: Any, rng: np.random.Generator) -> Any:
    """Every float moved by one float32 rounding, up or down at random."""

    def shift(x: Any) -> Any:
        if isinstance(x, float):
            return x * (1 + FLOAT32_EPS * float(rng.choice([-1.0, 1.0])))
        return x * (1 + FLOAT32_EPS * rng.choice([-1.0, 1.0], size=x.shape))

    return _floats(value, shift)


def _single(value: Any, rng: np.random.Generator) -> Any:
    """The inputs as float32, so the reference's own roundings inside (1 − σ(a) near
    saturation) show as a float32 computation of the case would make them."""
    return _floats(value, np.float32)


def _difference(a: Any, b: Any) -> Any:
    if isinstance(b, dict):
        return {k: _difference(a[k], v) for k, v in b.items()}
    if isinstance(b, (list, tuple)) and not all(np.isscalar(v) for v in b):
        return [_difference(x, y) for x, y in zip(a, b, strict=True)]
    return np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))


def _maximum(a: Any, b: Any) -> Any:
    if isinstance(a, dict):
        return {k: _maximum(v, b[k]) for k, v in a.items()}
    if isinstance(a, list):
        return [_maximum(x, y) for x, y in zip(a, b, strict=True)]
    return np.maximum(a, b)


def _times(a: Any, factor: float) -> Any:
    if isinstance(a, dict):
        return {k: _times(v, factor) for k, v in a.items()}
    if isinstance(a, list):
        return [_times(v, factor) for v in a]
    return a * factor
