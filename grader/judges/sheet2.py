"""Judging sheet 2's network and drawing its decision regions: engine code the kit ships.

The network check judges returned parameters by what they compute on fixed points; a
known mistake's parameters are compared by their values too, so the student kit holds
values, never parameters close to the answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.comparison import (
    Custom,
    Unusable,
    close_mask,
    computed_in_float32,
    shape_str,
    short,
    to_array,
)

GRID_N = 61
GRID_AXIS = np.linspace(-3.05, 3.05, GRID_N)  # no grid point lies on y = 0


def grid() -> np.ndarray:
    x1, x2 = np.meshgrid(GRID_AXIS, GRID_AXIS[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])


def _network_points() -> np.ndarray:
    rng = np.random.default_rng(2)
    return np.vstack([grid()[::7], rng.normal(0, 3, (200, 2)), [[1, -2], [-2, 1], [2, 3]]])


NETWORK_X = _network_points()


def draw_disagreement(expected: Any, got: Any) -> str | None:
    """The plane with the truth's classes and, in red, where the student differs."""
    try:
        have = to_array(got).reshape(GRID_N, GRID_N)
    except (Unusable, ValueError):
        return None
    want = np.asarray(expected).reshape(GRID_N, GRID_N)
    lines = []
    for r in range(0, GRID_N, 2):
        row = []
        for c in range(GRID_N):
            if have[r, c] == want[r, c]:
                row.append("\x1b[2m" + ("1" if want[r, c] == 1 else "·") + "\x1b[0m")
            else:
                row.append("\x1b[1;31m" + ("✗") + "\x1b[0m")
        lines.append("".join(row))
    lines.append(
        "x1 from −3 (left) to 3 (right), x2 from 3 (top) to −3 (bottom); "
        "1 = class 1, · = class 2, \x1b[1;31m✗\x1b[0m = your class differs"
    )
    return "\n".join(lines)


def network_values(params: Any) -> dict:
    """A network's outputs on the judged points; values (not parameters) pass unchanged."""
    if isinstance(params, dict) and params.keys() == {"X", "y"}:
        return params
    return {"X": NETWORK_X, "y": _network(params, NETWORK_X)}


def _network(params: dict, X: np.ndarray) -> np.ndarray:
    return params["b2"] + np.maximum(X @ params["W1"].T + params["b1"], 0.0) @ params["w2"]


def _judge_network(expected: Any, got: Any, public: bool) -> str | None:
    """The parameters are right when the network they define computes Eq. (1).

    ``expected`` is the truth's values, or a known mistake's parameters (then its values).
    """
    expected = network_values(expected)
    if not isinstance(got, dict):
        return "should return a dict with keys W1, b1, w2, b2"
    want_shapes = {"W1": (3, 2), "b1": (3,), "w2": (3,), "b2": ()}
    params = {}
    for key, shape in want_shapes.items():
        if key not in got:
            return f"the dict lacks the key {key!r}"
        a = to_array(got[key])
        if shape == () and a.size == 1:
            a = a.reshape(())
        if a.shape != shape:
            return f"{key} has shape {shape_str(a.shape)}, expected {shape_str(shape)}"
        params[key] = a
    X, y = expected["X"], expected["y"]
    out = _network(params, X)
    bad = ~close_mask(out, y, float32=computed_in_float32(got))
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    at = f"x = ({X[i, 0]:g}, {X[i, 1]:g})"
    return (
        f"as a network, your parameters give y = {short(float(out[i]))} at {at}, "
        f"but Eq. (1) gives {short(float(y[i]))} ({int(bad.sum())} of {len(y)} points differ)"
    )


NETWORK = Custom(name="network as a function", fn=_judge_network, prepare=network_values)
