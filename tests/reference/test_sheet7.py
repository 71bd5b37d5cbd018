"""Proves reference/sheet7.py against truths that do not come from it.

Truths: torch autograd in float64 (forward passes built with torch's own conv/pool ops),
torch's conv output shapes, explicit loops, and every number the seed prints, typed in
from the seed text.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from exercises.sheet7_mistakes import MISTAKES
from grader.contract import SHEET7
from reference import sheet7

F64 = torch.float64
SEEDS = [0, 1, 2]


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=F64, requires_grad=True)


def _contract_params(params: str) -> list[str]:
    return [p.split("=")[0].strip() for p in params.split(",") if p.strip()]


@pytest.mark.parametrize("fn", SHEET7, ids=lambda f: f.name)
def test_reference_signatures_follow_contract(fn) -> None:
    params = list(inspect.signature(getattr(sheet7, fn.name)).parameters)
    assert params == _contract_params(fn.params)


def test_maxpool_k_defaults_to_two() -> None:
    assert inspect.signature(sheet7.maxpool2d).parameters["k"].default == 2


# --- Exercise 1: gradients against torch autograd -------------------------------------------

# (H, W, C, F, K, O): H != W, C > 1, K > 1, O > 1
CONV_SHAPES = [(5, 7, 2, 3, 2, 3), (6, 4, 3, 2, 3, 2), (4, 5, 2, 1, 2, 2)]
# conv outputs (H−F+1, W−F+1): (5, 6), (6, 5), (5, 5), (4, 6) — odd sides exercise the drop
POOL_SHAPES = [(7, 8, 2, 3, 2, 3), (7, 6, 3, 2, 2, 2), (6, 6, 2, 2, 3, 2), (5, 7, 2, 2, 2, 3)]


def _net_inputs(rng: np.random.Generator, shape: tuple, v_hw: tuple[int, int]) -> tuple:
    H, W, C, f, K, O = shape
    return (
        rng.normal(size=(H, W, C)),
        rng.normal(scale=0.7, size=(f, f, C, K)),
        rng.normal(size=K),
        rng.normal(size=(*v_hw, K, O)),
        rng.normal(size=O),
    )


def _torch_hidden(I: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """σ(conv) as (K, H−F+1, W−F+1), via torch's own cross-correlation."""
    a = F.conv2d(I.permute(2, 0, 1)[None], w.permute(3, 2, 0, 1), bias=b)[0]
    return torch.sigmoid(a)


def _torch_loss_grad(loss_of: Callable, args: tuple) -> np.ndarray:
    I, w, b, v, y_hat = (_t(a) for a in args)
    y = loss_of(I, w, b, v)
    loss = 0.5 * ((y_hat - y) ** 2).sum()
    (grad,) = torch.autograd.grad(loss, w)
    return grad.numpy()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", CONV_SHAPES)
def test_conv_net_grad_matches_autograd(seed: int, shape: tuple) -> None:
    H, W, _, f, _, _ = shape
    args = _net_inputs(np.random.default_rng(seed), shape, (H - f + 1, W - f + 1))

    def output(I, w, b, v):
        return torch.einsum("kij,ijko->o", _torch_hidden(I, w, b), v)

    got = sheet7.conv_net_grad(*args)
    np.testing.assert_allclose(got, _torch_loss_grad(output, args), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", CONV_SHAPES)
def test_dense_net_grad_matches_autograd(seed: int, shape: tuple) -> None:
    H, W, C, _, K, O = shape
    rng = np.random.default_rng(seed)
    args = (
        rng.normal(size=(H, W, C)),
        rng.normal(scale=0.3, size=(H, W, C, K)),
        rng.normal(size=K),
        rng.normal(size=(K, O)),
        rng.normal(size=O),
    )

    def output(I, w, b, v):
        h = torch.sigmoid(F.linear(I.reshape(-1), w.reshape(-1, K).T, b))
        return F.linear(h, v.T)

    got = sheet7.dense_net_grad(*args)
    np.testing.assert_allclose(got, _torch_loss_grad(output, args), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", POOL_SHAPES)
def test_conv_pool_net_grad_matches_autograd(seed: int, shape: tuple) -> None:
    H, W, _, f, _, _ = shape
    args = _net_inputs(np.random.default_rng(seed), shape, ((H - f + 1) // 2, (W - f + 1) // 2))

    def output(I, w, b, v):
        pooled = F.max_pool2d(_torch_hidden(I, w, b)[None], kernel_size=2, stride=2)[0]
        return torch.einsum("kpq,pqko->o", pooled, v)

    got = sheet7.conv_pool_net_grad(*args)
    np.testing.assert_allclose(got, _torch_loss_grad(output, args), rtol=1e-10, atol=1e-12)


def test_conv_pool_net_grad_breaks_ties_to_first_maximum() -> None:
    """w = b = 0 makes every h = ½, so every window ties: its top-left unit must win."""
    rng = np.random.default_rng(7)
    H, W, C, f, K, O = 6, 7, 2, 2, 2, 3  # conv output 5×6
    I, v, y_hat = rng.normal(size=(H, W, C)), rng.normal(size=(2, 3, K, O)), rng.normal(size=O)
    w, b = np.zeros((f, f, C, K)), np.zeros(K)
    y = 0.5 * v.sum(axis=(0, 1, 2))
    expected = np.zeros((f, f, C, K))
    for x in range(f):
        for yy in range(f):
            for c in range(C):
                for k in range(K):
                    for p in range(2):
                        for q in range(3):
                            dL_dpool = sum(v[p, q, k, o] * (y[o] - y_hat[o]) for o in range(O))
                            expected[x, yy, c, k] += I[2 * p + x, 2 * q + yy, c] * dL_dpool * 0.25
    np.testing.assert_allclose(sheet7.conv_pool_net_grad(I, w, b, v, y_hat), expected, rtol=1e-12)


# --- Exercise 2: volume sizes ----------------------------------------------------------------


def test_conv_output_shape_matches_torch_sweep() -> None:
    c, k = 2, 3
    for n in range(1, 7):
        for f in range(1, 9):
            for s in range(1, 4):
                for p in range(4):
                    x, weight = torch.zeros(1, c, n, n), torch.zeros(k, c, f, f)
                    try:
                        out = F.conv2d(x, weight, stride=s, padding=p)
                    except RuntimeError:
                        with pytest.raises(ValueError):
                            sheet7.conv_output_shape(n, c, k, f, s, p)
                        continue
                    got = sheet7.conv_output_shape(n, c, k, f, s, p)
                    assert got == (out.shape[3], out.shape[2], out.shape[1]), (n, f, s, p)
                    assert all(type(side) is int for side in got)


OUT_OF_RANGE = [
    (0, 1, 1, 1, 1, 0),
    (3, 0, 1, 1, 1, 0),
    (3, 1, 0, 1, 1, 0),
    (3, 1, 1, 0, 1, 0),
    (3, 1, 1, 1, 0, 0),
    (3, 1, 1, 1, 1, -1),
    (-2, 1, 1, 1, 1, 2),
    (2, 1, 1, 5, 1, 1),
]


@pytest.mark.parametrize("args", OUT_OF_RANGE)
def test_conv_output_shape_rejects_out_of_range(args: tuple) -> None:
    with pytest.raises(ValueError):
        sheet7.conv_output_shape(*args)


def test_same_padding_seed_case() -> None:
    assert sheet7.same_padding(3) == 1  # the sheet's n = 4, f = 3
    assert sheet7.conv_output_shape(4, 1, 1, 3, 1, sheet7.same_padding(3))[:2] == (4, 4)


def test_same_padding_keeps_size_in_torch() -> None:
    for f in range(1, 10, 2):
        p = sheet7.same_padding(f)
        for n in range(f, 12):
            out = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, f, f), padding=p)
            assert out.shape[2:] == (n, n)


@pytest.mark.parametrize("f", [-3, -1, 0, 2, 4, 10])
def test_same_padding_rejects_even_or_small_f(f: int) -> None:
    with pytest.raises(ValueError):
        sheet7.same_padding(f)


# --- Exercise 3: the sheet's numbers, typed from the seed --------------------------------------

SEED_IMAGE = [
    [0, 0, 0, 0, 0, 0],
    [0, 1, 2, 0, 3, 0],
    [0, 1, 2, 0, 1, 0],
    [0, 4, 1, 1, 2, 0],
    [0, 0, 0, 2, 1, 0],
    [0, 0, 0, 0, 0, 0],
]
SEED_FILTER_TABLE = [[0, 1, 0, 0, 1, 1], [1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 1, 0]]
SEED_CONV = {
    0: [[3, 3, 5, 1], [7, 4, 4, 5], [2, 7, 5, 3], [4, 3, 2, 4]],
    1: [[2, 5, 2, 4], [8, 9, 5, 7], [7, 3, 4, 6], [5, 2, 5, 3]],
}
SEED_CONV_SHIFTED = {
    0: [[3, 5, 1, 3], [4, 4, 5, 1], [7, 5, 3, 2], [3, 2, 4, 1]],
    1: [[5, 2, 4, 1], [9, 5, 7, 2], [3, 4, 6, 1], [2, 5, 3, 0]],
}
SEED_POOLED = {0: [[7, 5], [7, 5]], 1: [[9, 7], [7, 6]]}  # the bold entries
SEED_POOLED_SHIFTED = {0: [[5, 5], [7, 4]], 1: [[9, 7], [5, 6]]}


def test_sheet_constants_are_the_seed_image_and_filters() -> None:
    table = np.array(SEED_FILTER_TABLE, dtype=float)
    np.testing.assert_array_equal(sheet7.SHEET_IMAGE, np.array(SEED_IMAGE, dtype=float))
    np.testing.assert_array_equal(sheet7.SHEET_FILTERS, np.stack([table[:, :3], table[:, 3:]]))
    assert sheet7.SHEET_IMAGE.dtype == sheet7.SHEET_FILTERS.dtype == np.float64


@pytest.mark.parametrize("k", [0, 1])
def test_seed_conv_outputs(k: int) -> None:
    out = sheet7.conv2d(sheet7.SHEET_IMAGE, sheet7.SHEET_FILTERS)
    assert out.shape == (4, 4, 2)
    np.testing.assert_array_equal(out[:, :, k], SEED_CONV[k])
    np.testing.assert_array_equal(sheet7.relu(out)[:, :, k], SEED_CONV[k])


@pytest.mark.parametrize("k", [0, 1])
def test_seed_conv_outputs_after_shift(k: int) -> None:
    out = sheet7.conv2d(sheet7.shift_left(sheet7.SHEET_IMAGE), sheet7.SHEET_FILTERS)
    np.testing.assert_array_equal(out[:, :, k], SEED_CONV_SHIFTED[k])


def test_seed_pooled_volume_is_2x2x2_with_the_bold_entries() -> None:
    for image, expected in [
        (sheet7.SHEET_IMAGE, SEED_POOLED),
        (sheet7.shift_left(sheet7.SHEET_IMAGE), SEED_POOLED_SHIFTED),
    ]:
        pooled = sheet7.maxpool2d(sheet7.relu(sheet7.conv2d(image, sheet7.SHEET_FILTERS)))
        assert pooled.shape == (2, 2, 2)
        for k in (0, 1):
            np.testing.assert_array_equal(pooled[:, :, k], expected[k])


def test_seed_count_changed_after_shift() -> None:
    assert sheet7.count_changed_after_shift(sheet7.SHEET_IMAGE, sheet7.SHEET_FILTERS) == 3


@pytest.mark.parametrize("seed", SEEDS)
def test_conv2d_matches_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    image, filters = rng.normal(size=(6, 9)), rng.normal(size=(3, 3, 3))
    expected = F.conv2d(torch.tensor(image)[None, None], torch.tensor(filters)[:, None])[0]
    got = sheet7.conv2d(image, filters)
    np.testing.assert_allclose(got, expected.permute(1, 2, 0).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("shape", "k"), [((6, 8, 3), 2), ((7, 5, 2), 2), ((8, 7, 2), 3)])
def test_maxpool2d_matches_torch(shape: tuple, k: int) -> None:
    x = np.random.default_rng(k).normal(size=shape)
    expected = F.max_pool2d(torch.tensor(x).permute(2, 0, 1)[None], k)[0].permute(1, 2, 0)
    got = sheet7.maxpool2d(x, k=k) if k != 2 else sheet7.maxpool2d(x)
    np.testing.assert_array_equal(got, expected.numpy())


def test_relu_matches_torch() -> None:
    x = np.random.default_rng(0).normal(size=(4, 5, 2))
    np.testing.assert_array_equal(sheet7.relu(x), torch.relu(torch.tensor(x)).numpy())


def _brute_shift_left(image: np.ndarray) -> np.ndarray:
    H, W = image.shape
    return np.array([[image[i, j + 1] if j + 1 < W else 0.0 for j in range(W)] for i in range(H)])


def test_shift_left_matches_loops() -> None:
    image = np.random.default_rng(0).normal(size=(5, 7))
    before = image.copy()
    np.testing.assert_array_equal(sheet7.shift_left(image), _brute_shift_left(image))
    np.testing.assert_array_equal(image, before)


def _brute_pooled(image: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """maxpool2d(relu(conv2d(.))) by explicit loops."""
    K, f, _ = filters.shape
    Ho, Wo = image.shape[0] - f + 1, image.shape[1] - f + 1
    out = np.zeros((Ho // 2, Wo // 2, K))
    for k in range(K):
        conv = np.zeros((Ho, Wo))
        for i in range(Ho):
            for j in range(Wo):
                total = 0.0
                for x in range(f):
                    for y in range(f):
                        total += image[i + x, j + y] * filters[k, x, y]
                conv[i, j] = max(total, 0.0)
        for p in range(Ho // 2):
            for q in range(Wo // 2):
                out[p, q, k] = max(conv[2 * p + a, 2 * q + c] for a in (0, 1) for c in (0, 1))
    return out


def test_count_changed_after_shift_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(25):
        H, W, f, K = rng.integers(4, 9), rng.integers(4, 9), rng.integers(1, 4), rng.integers(1, 4)
        image = rng.integers(-2, 5, size=(H, W)).astype(float)
        filters = rng.integers(-1, 3, size=(K, f, f)).astype(float)
        expected = np.count_nonzero(
            _brute_pooled(image, filters) != _brute_pooled(_brute_shift_left(image), filters)
        )
        got = sheet7.count_changed_after_shift(image, filters)
        assert type(got) is int
        assert got == expected
        seen.add(expected)
    assert len(seen) > 3


# --- Exercise 4: reverse-mode AD -------------------------------------------------------------


TORCH_OPS: dict[str, Callable] = {
    "add": torch.add,
    "mul": torch.mul,
    "sin": torch.sin,
    "square": torch.square,
}


def _torch_total_derivatives(graph: list, values: dict, output: str) -> dict[str, float]:
    """∂output/∂node for every node: intermediate nodes keep their .grad via retain_grad."""
    node: dict[str, torch.Tensor] = {}
    for name, op, parents in graph:
        args = [node[p] for p in parents]
        if op == "input":
            x = torch.tensor(values[name], dtype=F64, requires_grad=True)
        else:
            x = TORCH_OPS[op](*args)
            x.retain_grad()
        node[name] = x
    node[output].backward()
    return {name: 0.0 if x.grad is None else x.grad.item() for name, x in node.items()}


def _random_graph(rng: np.random.Generator, n_inputs: int, n_ops: int) -> list:
    graph: list = [(f"in{i}", "input", ()) for i in range(n_inputs)]
    for j in range(n_ops):
        names = [node[0] for node in graph]
        op = str(rng.choice(["add", "mul", "sin", "square"]))
        first = str(rng.choice(names))
        if op in ("add", "mul"):
            parents: tuple = (first, first if rng.random() < 0.3 else str(rng.choice(names)))
        else:
            parents = (first,)
        node = (f"n{j}", op, parents)
        graph.append([node[0], op, list(parents)] if rng.random() < 0.3 else node)
    return graph


@pytest.mark.parametrize("seed", range(12))
def test_reverse_mode_matches_autograd_on_random_graphs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    graph = _random_graph(rng, n_inputs=int(rng.integers(1, 4)), n_ops=int(rng.integers(3, 12)))
    values = {node[0]: float(rng.normal()) for node in graph if node[1] == "input"}
    names = [node[0] for node in graph]
    for output in (names[-1], str(rng.choice(names)), names[0]):
        got = sheet7.reverse_mode(graph, values, output)
        expected = _torch_total_derivatives(graph, values, output)
        assert list(got) == names
        assert all(type(t) is float for t in got.values())
        for name in names:
            assert got[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-12), name


def test_reverse_mode_same_parent_twice_and_unrelated_nodes() -> None:
    graph = [
        ("x", "input", ()),
        ("z", "input", ()),
        ("xx", "mul", ("x", "x")),
        ("unused", "sin", ("z",)),
        ("out", "add", ("xx", "x")),
    ]
    got = sheet7.reverse_mode(graph, {"x": 1.5, "z": 0.3}, "out")
    assert got == {"x": 2 * 1.5 + 1, "z": 0.0, "xx": 1.0, "unused": 0.0, "out": 1.0}


def _evaluate(graph: list, values: dict) -> dict[str, float]:
    ops = {
        "add": lambda a, b: a + b,
        "mul": lambda a, b: a * b,
        "sin": math.sin,
        "square": lambda a: a * a,
    }
    value: dict[str, float] = {}
    for name, op, parents in graph:
        args = [value[p] for p in parents]
        value[name] = float(values[name]) if op == "input" else ops[op](*args)
    return value


SHEET_POINTS = [(0.3, -1.2, 0.7), (1.5, 0.4, -2.0), (-0.8, 2.2, 1.1)]


@pytest.mark.parametrize(("x1", "x2", "theta"), SHEET_POINTS)
def test_sheet_graph_is_eq9(x1: float, x2: float, theta: float) -> None:
    graph = sheet7.sheet_graph()
    assert [node[0] for node in graph] == ["x1", "x2", "theta"] + [f"f{i}" for i in range(1, 7)]
    value = _evaluate(graph, {"x1": x1, "x2": x2, "theta": theta})
    assert value["f1"] == pytest.approx(x1 * theta)
    assert value["f2"] == pytest.approx(x1 * theta + x2)
    assert value["f3"] == pytest.approx(math.sin(theta * x1 + x2))
    assert value["f4"] == pytest.approx(x2**2)
    assert value["f5"] == pytest.approx(theta * x2**2)
    assert value["f6"] == pytest.approx(math.sin(theta * x1 + x2) + theta * x2**2)


@pytest.mark.parametrize(("x1", "x2", "theta"), SHEET_POINTS)
def test_reverse_mode_on_sheet_graph_gives_seed_formulas(
    x1: float, x2: float, theta: float
) -> None:
    t = sheet7.reverse_mode(sheet7.sheet_graph(), {"x1": x1, "x2": x2, "theta": theta}, "f6")
    cos = math.cos(theta * x1 + x2)
    expected = {
        "f6": 1.0,
        "f3": 1.0,
        "f2": cos,
        "f1": cos,
        "f5": 1.0,
        "theta": x1 * cos + x2**2,
        "x1": theta * cos,
        "f4": theta,
        "x2": cos + 2 * theta * x2,
    }
    for name, value in expected.items():
        assert t[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


# --- Known mistakes --------------------------------------------------------------------------


class Raised:
    def __init__(self, error: Exception) -> None:
        self.kind = type(error).__name__


def _outcome(fn: Callable, args: tuple, kwargs: dict) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as error:
        return Raised(error)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Raised) or isinstance(b, Raised):
        return isinstance(a, Raised) and isinstance(b, Raised) and a.kind == b.kind
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same(a[key], b[key]) for key in a)
        )
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-8))


def _rich_graph() -> list:
    """mul(x, x), nodes with several children, sin and square on the path, an unrelated node."""
    return [
        ("x", "input", ()),
        ("y", "input", ()),
        ("z", "input", ()),
        ("a", "mul", ("x", "x")),
        ["u", "sin", ["z"]],
        ("b", "sin", ("a",)),
        ("c", "square", ("y",)),
        ["d", "mul", ["b", "y"]],
        ("e", "add", ("c", "d")),
        ("g", "add", ("e", "b")),
    ]


def _mistake_inputs(rng: np.random.Generator) -> dict[str, tuple[tuple, dict]]:
    """One random valid input per contract function: (args, kwargs)."""
    integers = rng.integers
    return {
        "conv_net_grad": (_net_inputs(rng, (5, 6, 2, 3, 2, 3), (3, 4)), {}),
        "dense_net_grad": (
            (
                rng.normal(size=(3, 4, 2)),
                rng.normal(size=(3, 4, 2, 3)),
                rng.normal(size=3),
                rng.normal(size=(3, 2)),
                rng.normal(size=2),
            ),
            {},
        ),
        "conv_pool_net_grad": (_net_inputs(rng, (7, 8, 2, 3, 2, 2), (2, 3)), {}),
        "conv_output_shape": (
            (int(integers(6, 12)), int(integers(1, 4)), int(integers(5, 8)), 3, 1, 2),
            {},
        ),
        "same_padding": ((int(rng.choice([3, 5, 7, 9])),), {}),
        "conv2d": ((rng.normal(size=(6, 7)), rng.normal(size=(3, 3, 3))), {}),
        "relu": ((rng.normal(size=(4, 5, 2)),), {}),
        "maxpool2d": ((rng.normal(size=(6, 8, 2)),), {}),
        "shift_left": ((rng.normal(size=(5, 6)),), {}),
        "count_changed_after_shift": (
            (integers(0, 5, size=(7, 7)).astype(float), integers(0, 3, (2, 3, 3)).astype(float)),
            {},
        ),
        "reverse_mode": ((_rich_graph(), {n: float(rng.normal()) for n in "xyz"}, "g"), {}),
        "sheet_graph": ((), {}),
    }


# Mistakes that only show on special inputs, with such an input.
SPECIAL_INPUTS: dict[tuple[str, str], tuple[tuple, dict]] = {
    ("conv_output_shape", "ceil"): ((5, 1, 2, 2, 2, 0), {}),  # (5 − 2)/2 = 1.5 rounds to 1
    ("conv_output_shape", "no_checks"): ((2, 1, 1, 5, 1, 0), {}),  # 5×5 filter on 2×2
    ("same_padding", "no_check"): ((4,), {}),
    ("maxpool2d", "hardcoded_k"): ((np.arange(54.0).reshape(6, 9, 1),), {"k": 3}),
    ("maxpool2d", "keeps_partial_windows"): ((np.ones((7, 9, 2)),), {}),
    # negative filters make every relu(conv) 0, so only the pre-ReLU maxima move
    ("count_changed_after_shift", "without_relu"): (
        (sheet7.SHEET_IMAGE, -sheet7.SHEET_FILTERS),
        {},
    ),
}


def _all_mistakes() -> list:
    return [
        pytest.param(name, slug, message, impl, id=f"{name}-{slug}")
        for name, items in MISTAKES.items()
        for slug, message, impl in items
    ]


def test_mistakes_cover_contract_functions_with_unique_slugs() -> None:
    contract = {f.name for f in SHEET7}
    assert set(MISTAKES) == contract
    assert set(_mistake_inputs(np.random.default_rng(0))) == contract
    for items in MISTAKES.values():
        slugs = [slug for slug, _, _ in items]
        assert len(slugs) == len(set(slugs))
    assert {key for key in SPECIAL_INPUTS} <= {
        (name, slug) for name, items in MISTAKES.items() for slug, _, _ in items
    }


def _judged(name: str, fn: Callable) -> Callable:
    """sheet_graph answers are judged by evaluating them; the rest by their return value."""
    if name != "sheet_graph":
        return fn
    return lambda: _evaluate(fn(), {"x1": 0.3, "x2": -1.2, "theta": 0.7})


@pytest.mark.parametrize(("name", "slug", "message", "impl"), _all_mistakes())
def test_mistake_differs_from_reference(name: str, slug: str, message: str, impl) -> None:
    reference = getattr(sheet7, name)
    assert 10 < len(message) < 300
    assert (
        inspect.signature(impl).parameters.keys() == inspect.signature(reference).parameters.keys()
    )
    assert [p.default for p in inspect.signature(impl).parameters.values()] == [
        p.default for p in inspect.signature(reference).parameters.values()
    ]
    args, kwargs = (
        SPECIAL_INPUTS.get((name, slug)) or _mistake_inputs(np.random.default_rng(1))[name]
    )
    wrong = _outcome(_judged(name, impl), args, kwargs)
    if not (name == "sheet_graph" and slug == "not_topological"):
        assert not isinstance(wrong, Raised), f"{slug} raised {getattr(wrong, 'kind', '')}"
    assert not _same(wrong, _outcome(_judged(name, reference), args, kwargs)), slug
