"""Judging sheet 9's structured answers: equations, trees, gradients and CNN layers.

Engine code the student kit ships: judges look at the returned plain data (and run
returned CNN layers with numpy) and need no reference. A known mistake's CNN layers are
compared by what they compute, so the kit holds their outputs, never the layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.comparison import (
    AllClose,
    Custom,
    Unusable,
    close_mask,
    computed_in_float32,
    describe_type,
    shape_str,
    short,
    to_array,
)


def _judge_equations(expected: Any, got: Any, public: bool) -> str | None:
    """A list of (name, left, right) string triples; tuples or lists both fine."""
    if not isinstance(got, (list, tuple)):
        return f"returned {describe_type(got)} where a list of (name, left, right) is expected"
    for k, item in enumerate(got):
        if (
            not isinstance(item, (list, tuple))
            or len(item) != 3
            or not all(isinstance(s, str) for s in item)
        ):
            shown = f" ({short(item, 60)})" if public else ""
            return f"item {k} is not a (name, left, right) triple of strings{shown}"
    if len(got) != len(expected):
        return f"expected {len(expected)} equations, got {len(got)}"
    for k, (want, have) in enumerate(zip(expected, got, strict=True)):
        if tuple(have) != tuple(want):
            if not public:
                return f"equation {k + 1} of {len(expected)} is wrong"
            w, h = (f"{e[0]} = φ({e[1]}, {e[2]})" for e in (want, have))
            return f"equation {k + 1}: expected {w}, got {h}"
    return None


EQUATIONS = Custom(name="equations, structurally", fn=_judge_equations)


class Gradients(AllClose):
    """The truth's keys as any gradient; embedding gradients of words outside the
    sentence, if the student gives them, must be 0."""

    def judge(self, expected: Any, got: Any, public: bool, noise: Any = None) -> str | None:
        problem = super().judge(expected, got, public, noise)
        if problem or "emb" not in expected or not isinstance(got.get("emb"), dict):
            return problem
        for word, value in got["emb"].items():
            if word in expected["emb"]:
                continue
            name = f"dy/d emb[{short(word, 40)}]"
            if value is None:
                return (
                    f"{name} is None; a word not in the sentence needs zeros or no entry "
                    "(torch leaves .grad as None for a word the output does not use)"
                )
            try:
                zero = np.allclose(to_array(value), 0.0, atol=1e-8)
            except Unusable as exc:
                return f"{name}: {exc}; a word not in the sentence needs zeros or no entry"
            if not zero:
                return f"{name} should be 0: {short(word, 40)} is not in the sentence"
        return None


GRADS = Gradients()


def _label(value: Any) -> int | None:
    """A node label as an int: ints, integral floats and one-element arrays all count."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating, np.ndarray)):
        a = np.asarray(value, dtype=np.float64)
        if a.size == 1 and np.isfinite(a).all() and float(a.reshape(())).is_integer():
            return int(a.reshape(()))
    return None


def _tree_problem(want: tuple, got: Any, public: bool, path: list[int]) -> str | None:
    """``path``: the labels from the root down to this subtree's node."""
    where = "the root" if len(path) == 1 else "the subtree " + " → ".join(map(str, path))
    if not public:
        where = "the root" if len(path) == 1 else f"a subtree at depth {len(path) - 1}"
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        shown = f": got {short(got, 60)}" if public else ""
        return f"{where} should be a pair (node, subtrees){shown}"
    node, children = got
    if _label(node) is None:
        return f"{where}: the node label {short(node, 30)} is not an integer"
    if _label(node) != want[0]:
        return f"{where}: expected node {want[0]}, got {_label(node)}"
    if not isinstance(children, (list, tuple)):
        return f"{where}: the subtrees should be a tuple or list, got {describe_type(children)}"
    labels = []
    for child in children:
        if not isinstance(child, (list, tuple)) or len(child) != 2:
            shown = f", got {short(child, 60)}" if public else ""
            return f"{where}: each subtree should be a pair (node, subtrees){shown}"
        if _label(child[0]) is None:
            return f"{where}: the node label {short(child[0], 30)} is not an integer"
        labels.append(_label(child[0]))
    wanted = [c[0] for c in want[1]]
    if labels != wanted:
        if public:
            return f"{where}: expected subtrees for nodes {wanted}, got {labels}"
        if len(labels) != len(wanted):
            return f"{where}: expected {len(wanted)} subtrees, got {len(labels)}"
        return f"{where}: the subtrees are for the wrong nodes or in the wrong order"
    for sub_want, sub_got in zip(want[1], children, strict=True):
        problem = _tree_problem(sub_want, sub_got, public, [*path, sub_want[0]])
        if problem:
            return problem
    return None


def _judge_tree(expected: tuple, got: Any, public: bool) -> str | None:
    return _tree_problem(expected, got, public, [expected[0]])


TREE = Custom(name="tree, structurally", fn=_judge_tree)


# CNN layers are run here, on the grader's side, with numpy.

GRID_SHAPES = [(3, 4), (4, 2), (1, 5)]
MAX_LAYERS, MAX_CHANNELS, MAX_KERNEL = 32, 64, 15


def lattice_grids(d: int) -> list[np.ndarray]:
    """A grid of ones (the sheet's H0) and random grids, never square."""
    rng = np.random.default_rng(1000 + d)
    first, *rest = GRID_SHAPES
    return [np.ones((*first, d)), *(rng.standard_normal((*s, d)) for s in rest)]


def grid_adjacency(rows: int, cols: int) -> np.ndarray:
    r, c = np.divmod(np.arange(rows * cols), cols)
    return (np.abs(r[:, None] - r[None, :]) + np.abs(c[:, None] - c[None, :]) == 1).astype(float)


def _conv2d(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """x (C_in, H, W), kernel (C_out, C_in, kh, kw): zero-padded 'same' cross-correlation."""
    _, kh, kw = kernel.shape[1:]
    rows, cols = x.shape[1:]
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((kernel.shape[0], rows, cols))
    for a in range(kh):
        for b in range(kw):
            window = padded[:, a : a + rows, b : b + cols]
            out += np.einsum("oi,ihw->ohw", kernel[:, :, a, b], window)
    return out


def _run_cnn(layers: list[tuple], grid: np.ndarray) -> np.ndarray:
    x = grid.transpose(2, 0, 1)
    with np.errstate(all="ignore"):
        for layer in layers:
            x = np.maximum(x, 0.0) if layer[0] == "relu" else _conv2d(x, layer[1])
    return x.transpose(1, 2, 0)


def _read_layers(got: Any, d: int) -> list[tuple] | str:
    """The returned layers as ("conv", float64 kernel) / ("relu",), or what is wrong with them."""
    example = '[("conv", kernel), ("relu",), ...]'
    if not isinstance(got, (list, tuple)):
        return f"returned {describe_type(got)} where a list of layers {example} is expected"
    if len(got) > MAX_LAYERS:
        return f"returned {len(got)} layers; two GNN layers need four conv and two relu layers"
    layers: list[tuple] = []
    channels = d
    for k, item in enumerate(got, start=1):
        kind = item if isinstance(item, str) else None
        if isinstance(item, (list, tuple)) and item and isinstance(item[0], str):
            kind = item[0]
        if kind == "relu" and (isinstance(item, str) or len(item) == 1):
            layers.append(("relu",))
            continue
        if kind != "conv" or isinstance(item, str) or len(item) != 2:
            return f"layer {k} is {short(item, 60)}; each layer is ('conv', kernel) or ('relu',)"
        try:
            kernel = to_array(item[1])
        except Unusable as exc:
            return f"layer {k}: the kernel {exc}"
        if kernel.ndim != 4:
            return (
                f"layer {k}: the kernel has shape {shape_str(kernel.shape)}; "
                "it needs four axes (C_out, C_in, kh, kw)"
            )
        c_out, c_in, kh, kw = kernel.shape
        if kh % 2 == 0 or kw % 2 == 0:
            return (
                f"layer {k}: the kernel has shape {shape_str(kernel.shape)}, read as "
                f"(C_out, C_in, kh, kw): a {kh}×{kw} window; kh and kw must be odd "
                "(padding (k − 1)//2 keeps the grid's size only for odd k)"
            )
        if c_in != channels:
            return (
                f"layer {k}: the kernel has C_in = {c_in} (shape {shape_str(kernel.shape)}, "
                f"axes (C_out, C_in, kh, kw)) but its input has {channels} channel(s)"
            )
        if c_out > MAX_CHANNELS or kh > MAX_KERNEL or kw > MAX_KERNEL:
            return (
                f"layer {k}: a kernel of shape {shape_str(kernel.shape)} is far larger than "
                f"needed (limits: {MAX_CHANNELS} channels, {MAX_KERNEL}×{MAX_KERNEL})"
            )
        if c_out == 0 or not np.isfinite(kernel).all():
            return f"layer {k}: the kernel is empty or holds NaN/inf"
        layers.append(("conv", kernel))
        channels = c_out
    n_conv = sum(layer[0] == "conv" for layer in layers)
    n_relu = len(layers) - n_conv
    if (n_conv, n_relu) != (4, 2):
        return (
            f"expected exactly four conv and two relu layers, got {n_conv} conv and {n_relu} relu"
        )
    if channels != d:
        return f"the last conv gives {channels} channel(s); two GNN layers keep d = {d}"
    return layers


def lattice_values(expected: Any) -> dict:
    """A known mistake's layers run on the judged grids; a truth's values pass unchanged."""
    if isinstance(expected, dict):
        return expected
    d = expected[0][1].shape[1]
    grids = lattice_grids(d)
    return {"grids": grids, "outputs": [_run_cnn(expected, g) for g in grids]}


def _judge_lattice(expected: Any, got: Any, public: bool) -> str | None:
    """Run the returned CNN on the truth's grids and compare with two GNN layers."""
    expected = lattice_values(expected)
    grids, outputs = expected["grids"], expected["outputs"]
    layers = _read_layers(got, grids[0].shape[2])
    if isinstance(layers, str):
        return layers
    for n, (grid, want) in enumerate(zip(grids, outputs, strict=True)):
        have = _run_cnn(layers, grid)
        close = close_mask(have, want, float32=computed_in_float32(got))
        if close.all():
            continue
        rows, cols, _ = grid.shape
        what = "a grid of ones" if n == 0 else "a random grid"
        text = (
            f"on {what} of {rows}×{cols} pixels, {int((~close).sum())} of {want.size} "
            "values differ from two GNN layers"
        )
        if not public:
            return text
        err = np.where(np.isfinite(have), np.abs(have - want), np.inf)
        r, c, ch = np.unravel_index(int(np.argmax(np.where(close, -1.0, err))), want.shape)
        return (
            f"{text} (worst at row {r}, column {c}, channel {ch}: expected "
            f"{short(float(want[r, c, ch]))}, got {short(float(have[r, c, ch]))})"
        )
    return None


LATTICE = Custom(name="CNN run against two GNN layers", fn=_judge_lattice, prepare=lattice_values)
