"""Reference solutions for sheet 7: convolutional networks and reverse-mode AD.

Follows the "Sheet 7" section of the exercise contract (0-based indices, channels last).
Only numpy and the standard library: the grader imports this module on every run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Exercise 3: the sheet's image and its two 3x3 filters (left and right half of the filter table).
SHEET_IMAGE = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [0, 1, 2, 0, 3, 0],
        [0, 1, 2, 0, 1, 0],
        [0, 4, 1, 1, 2, 0],
        [0, 0, 0, 2, 1, 0],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=float,
)
SHEET_FILTERS = np.array(
    [
        [[0, 1, 0], [1, 0, 1], [0, 1, 0]],
        [[0, 1, 1], [0, 1, 0], [1, 1, 0]],
    ],
    dtype=float,
)


# --- Exercise 1: backprop through a convnet -------------------------------------------------


def _sigmoid(a: np.ndarray) -> np.ndarray:
    """σ via tanh: never overflows, unlike 1 / (1 + exp(-a)) for very negative a."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _patches(I: np.ndarray, f: int) -> np.ndarray:
    """All f×f windows of I (H, W, C) as patch[i, j, x, y, c] = I[i + x, j + y, c]."""
    return np.moveaxis(sliding_window_view(I, (f, f), axis=(0, 1)), 2, -1)


def conv_net_grad(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    """∂L/∂w for conv → σ → linear; filter k only feeds channel k, so only δ[:, :, k] reaches it."""
    patches = _patches(I, w.shape[0])
    h = _sigmoid(b + np.einsum("ijxyc,xyck->ijk", patches, w))
    y = np.einsum("ijko,ijk->o", v, h)
    dL_dy = y - y_hat
    dL_da = np.einsum("ijko,o->ijk", v, dL_dy) * h * (1.0 - h)
    return np.einsum("ijxyc,ijk->xyck", patches, dL_da)


def dense_net_grad(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    """∂L/∂w for dense → σ → linear: one weight per (pixel, hidden unit), no sharing."""
    h = _sigmoid(b + np.einsum("xyc,xyck->k", I, w))
    y = h @ v
    dL_dy = y - y_hat
    dL_da = (v @ dL_dy) * h * (1.0 - h)
    return np.einsum("xyc,k->xyck", I, dL_da)


def _winner_mask(h: np.ndarray) -> np.ndarray:
    """True at the unit each 2×2 pooling window passes on, same shape as h (H, W, K).

    A tie goes to the first maximum in row-major order (what argmax returns); the trailing odd
    row or column belongs to no window and never wins.
    """
    P, Q, K = h.shape[0] // 2, h.shape[1] // 2, h.shape[2]
    windows = (
        h[: 2 * P, : 2 * Q].reshape(P, 2, Q, 2, K).transpose(0, 2, 4, 1, 3).reshape(P, Q, K, 4)
    )
    winners = np.zeros(windows.shape, dtype=bool)
    np.put_along_axis(winners, windows.argmax(axis=-1)[..., None], True, axis=-1)
    mask = np.zeros(h.shape, dtype=bool)
    mask[: 2 * P, : 2 * Q] = (
        winners.reshape(P, Q, K, 2, 2).transpose(0, 3, 1, 4, 2).reshape(2 * P, 2 * Q, K)
    )
    return mask


def conv_pool_net_grad(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    """As conv_net_grad with 2×2/2 max pooling: only the winner of each window gets a gradient.

    Ties go to the first maximum in row-major order; a trailing odd row/column gets none.
    """
    patches = _patches(I, w.shape[0])
    h = _sigmoid(b + np.einsum("ijxyc,xyck->ijk", patches, w))
    pooled = maxpool2d(h)
    y = np.einsum("pqko,pqk->o", v, pooled)
    dL_dpooled = np.einsum("pqko,o->pqk", v, y - y_hat)
    P, Q, _ = pooled.shape
    spread = np.repeat(np.repeat(dL_dpooled, 2, axis=0), 2, axis=1)
    spread = np.pad(spread, ((0, h.shape[0] - 2 * P), (0, h.shape[1] - 2 * Q), (0, 0)))
    dL_dh = np.where(_winner_mask(h), spread, 0.0)
    dL_da = dL_dh * h * (1.0 - h)
    return np.einsum("ijxyc,ijk->xyck", patches, dL_da)


# --- Exercise 2: volume sizes ----------------------------------------------------------------


def conv_output_shape(n: int, c: int, k: int, f: int, s: int, p: int) -> tuple[int, int, int]:
    """(width, height, depth) for k f×f×c filters, stride s, padding p: ⌊(n+2p−f)/s⌋+1."""
    if min(n, c, k, f, s) < 1 or p < 0:
        raise ValueError(f"out of range: n={n}, c={c}, k={k}, f={f}, s={s} must be ≥ 1, p={p} ≥ 0")
    if f > n + 2 * p:
        raise ValueError(f"a {f}×{f} filter does not fit a {n}×{n} input padded by {p}")
    side = (n + 2 * p - f) // s + 1
    return side, side, k


def same_padding(f: int) -> int:
    """Stride 1 shrinks each side by f − 1, so pad (f − 1)/2 on each side; only odd f works."""
    if f < 1 or f % 2 == 0:
        raise ValueError(f"no symmetric 'same' padding for filter size {f}: it must be odd and ≥ 1")
    return (f - 1) // 2


# --- Exercise 3: translation equivariance and invariance -------------------------------------


def conv2d(image: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """Valid cross-correlation (no flip), stride 1: out[i,j,k] = Σ image[i+x,j+y] filters[k,x,y]."""
    f = filters.shape[-1]
    windows = sliding_window_view(image, (f, f))
    return np.einsum("ijxy,kxy->ijk", windows, filters)


def relu(x: np.ndarray) -> np.ndarray:
    """ρ(x) = max(x, 0), elementwise."""
    return np.maximum(x, 0.0)


def maxpool2d(x: np.ndarray, k: int = 2) -> np.ndarray:
    """Max over non-overlapping k×k windows of each channel; trailing rows/columns are dropped."""
    P, Q, K = x.shape[0] // k, x.shape[1] // k, x.shape[2]
    return x[: P * k, : Q * k].reshape(P, k, Q, k, K).max(axis=(1, 3))


def shift_left(image: np.ndarray) -> np.ndarray:
    """The image moved one pixel left; the freed right column is zero."""
    shifted = np.zeros_like(image)
    shifted[:, :-1] = image[:, 1:]
    return shifted


def count_changed_after_shift(image: np.ndarray, filters: np.ndarray) -> int:
    """How many pooled units change under a one-pixel left shift (the sheet's answer: 3)."""

    def pooled(img: np.ndarray) -> np.ndarray:
        return maxpool2d(relu(conv2d(img, filters)))

    return int(np.count_nonzero(pooled(image) != pooled(shift_left(image))))


# --- Exercise 4: reverse-mode automatic differentiation --------------------------------------

Node = Sequence  # (name, op, parents)


def _forward(graph: Sequence[Node], values: Mapping[str, float]) -> dict[str, float]:
    """Every node's value, computed in the given topological order."""
    value: dict[str, float] = {}
    for name, op, parents in graph:
        args = [value[p] for p in parents]
        if op == "input":
            value[name] = float(values[name])
        elif op == "add":
            value[name] = args[0] + args[1]
        elif op == "mul":
            value[name] = args[0] * args[1]
        elif op == "sin":
            value[name] = math.sin(args[0])
        elif op == "square":
            value[name] = args[0] ** 2
        else:
            raise ValueError(f"unknown op {op!r} at node {name!r}")
    return value


def _local_partials(op: str, args: list[float]) -> list[float]:
    """∂f_node/∂parent for each parent slot, in the order of the parents."""
    if op == "add":
        return [1.0, 1.0]
    if op == "mul":
        return [args[1], args[0]]
    if op == "sin":
        return [math.cos(args[0])]
    if op == "square":
        return [2.0 * args[0]]
    return []


def reverse_mode(
    graph: Sequence[Node], values: Mapping[str, float], output: str
) -> dict[str, float]:
    """t_n = Σ_{c ∈ ch(n)} ∂f_c/∂f_n · t_c, visiting nodes children-first (Eq. 10).

    Accumulating per parent *slot* makes mul(x, x) contribute twice, i.e. 2x, as it must.
    """
    value = _forward(graph, values)
    t = {name: 0.0 for name, _, _ in graph}
    t[output] = 1.0
    for name, op, parents in reversed(graph):
        args = [value[p] for p in parents]
        for parent, partial in zip(parents, _local_partials(op, args), strict=True):
            t[parent] += partial * t[name]
    return {name: float(t_n) for name, t_n in t.items()}


def sheet_graph() -> list[tuple[str, str, tuple[str, ...]]]:
    """Eq. (9): f = f6(f3(f2(f1(x1, θ), x2)), f5(θ, f4(x2))) = sin(θ x1 + x2) + θ x2²."""
    return [
        ("x1", "input", ()),
        ("x2", "input", ()),
        ("theta", "input", ()),
        ("f1", "mul", ("x1", "theta")),
        ("f2", "add", ("f1", "x2")),
        ("f3", "sin", ("f2",)),
        ("f4", "square", ("x2",)),
        ("f5", "mul", ("theta", "f4")),
        ("f6", "add", ("f3", "f5")),
    ]
