"""Proves reference/sheet2.py against truths that do not come from it.

Truths: Eq. (1) and the seed's case analysis typed in by hand, 60-digit decimal
arithmetic, torch autograd in float64, central finite differences, the seed's
closed forms, and asymptotic expansions derived below.
"""

from __future__ import annotations

import inspect
import math
import warnings
from decimal import Decimal, localcontext

import numpy as np
import pytest
import torch

from exercises.sheet2_mistakes import MISTAKES
from grader.contract import SHEET2
from reference import sheet2

F64 = torch.float64
SEEDS = [0, 1, 2, 3, 4]
WEIGHT_NAMES = ["w13", "w23", "w14", "w24", "w35", "w45", "w36", "w46", "w57", "w67"]


@pytest.mark.parametrize("fn", SHEET2, ids=lambda f: f.name)
def test_reference_signatures_follow_contract(fn) -> None:
    params = list(inspect.signature(getattr(sheet2, fn.name)).parameters)
    assert params == [p.strip() for p in fn.params.split(",") if p.strip()]


# Exercise 1


def eq1(x1: float, x2: float) -> float:
    """Eq. (1), typed from the seed."""
    return 1.0 - max(0.0, x1) - max(0.0, x2) + max(0.0, x1 + x2)


def seed_class(x1: float, x2: float) -> int:
    """The seed's piecewise solution of Exercise 1(b), region by region."""
    if x1 < 0 and x2 > 0:
        if x1 + x2 > 0:  # y = x1 + 1
            return 1 if x1 < -1 else 2
        if x1 + x2 < 0:  # y = 1 − x2
            return 2 if x2 <= 1 else 1
    if x1 < 0 and x2 < 0:  # y = 1
        return 2
    if x1 > 0 and x2 > 0:  # y = 1
        return 2
    if x1 > 0 and x2 < 0:
        if x1 + x2 > 0:  # y = 1 + x2
            return 1 if x2 < -1 else 2
        if x1 + x2 < 0:  # y = 1 − x1
            return 2 if x1 < 1 else 1
    raise ValueError(f"({x1}, {x2}) lies on a line the seed's case analysis leaves out")


def test_network_params_shapes() -> None:
    p = sheet2.network_params()
    assert p["W1"].shape == (3, 2)
    assert p["b1"].shape == (3,)
    assert p["w2"].shape == (3,)
    assert isinstance(p["b2"], float)


def test_network_params_compute_eq1() -> None:
    p = sheet2.network_params()
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(200, 2)) * 3, rng.uniform(-50, 50, size=(200, 2))])
    for x in X:
        y_net = p["b2"] + p["w2"] @ np.maximum(p["W1"] @ x + p["b1"], 0.0)
        assert y_net == pytest.approx(eq1(*x), abs=1e-12)


def test_network_output_is_eq1() -> None:
    X = np.random.default_rng(1).uniform(-5, 5, size=(300, 2))
    expected = [eq1(*x) for x in X]
    np.testing.assert_allclose(sheet2.network_output(X), expected, atol=1e-12)


def test_predict_class_on_grid_and_far_points() -> None:
    g = np.arange(-3.0, 3.01, 0.25) + 0.01  # shifted off the axes and off y = 0
    X = np.array([(a, b) for a in g for b in g])
    X = np.concatenate([X, np.random.default_rng(2).uniform(-100, 100, size=(300, 2))])
    pred = sheet2.predict_class(X)
    assert pred.shape == (len(X),)
    assert np.issubdtype(pred.dtype, np.integer)
    assert pred.tolist() == [seed_class(*x) for x in X]
    assert set(pred.tolist()) == {1, 2}


@pytest.mark.parametrize("delta", [1e-3, 1e-4, 1e-6])
def test_predict_class_near_boundary(delta: float) -> None:
    # By the seed, y = 0 on x1 = −1 (x2 ≥ 1) and x2 = 1 (x1 ≤ −1); y(x1, x2) = y(x2, x1)
    # mirrors them. Each point below is δ from that boundary, off the line x1 + x2 = 0.
    s = 1 + 2 * delta + np.linspace(0.0, 5.0, 11)
    one = np.ones_like(s)
    class1 = np.concatenate(
        [np.stack([-(1 + delta) * one, s], 1), np.stack([-s, (1 + delta) * one], 1)]
    )
    class2 = np.concatenate(
        [np.stack([-(1 - delta) * one, s], 1), np.stack([-s, (1 - delta) * one], 1)]
    )
    class1 = np.concatenate([class1, class1[:, ::-1]])
    class2 = np.concatenate([class2, class2[:, ::-1]])
    assert [seed_class(*x) for x in class1] == [1] * len(class1)
    assert [seed_class(*x) for x in class2] == [2] * len(class2)
    assert sheet2.predict_class(class1).tolist() == [1] * len(class1)
    assert sheet2.predict_class(class2).tolist() == [2] * len(class2)


# Exercise 2


def logcosh_decimal(y: float, t: float) -> float:
    """log cosh(y − t) in 60-digit decimal arithmetic, from exact decimal copies of y and t."""
    with localcontext() as ctx:
        ctx.prec = 60
        z = Decimal(y) - Decimal(t)
        return float(((z.exp() + (-z).exp()) / 2).ln())


def assert_logcosh_accurate(got: np.ndarray, truth: np.ndarray) -> None:
    assert np.all(np.isfinite(got))
    assert np.all(np.abs(got - truth) <= 1e-9 * np.abs(truth) + 1e-12)


def test_logcosh_matches_high_precision_decimal() -> None:
    rng = np.random.default_rng(3)
    mags = np.logspace(-10, 4, 57)
    z = np.concatenate([mags, -mags, [0.0, 1e4, -1e4]])
    t = rng.normal(size=z.shape) * 3
    y = t + z
    truth = np.array([logcosh_decimal(a, b) for a, b in zip(y, t, strict=True)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = sheet2.logcosh(y, t)
    assert got.shape == y.shape
    assert_logcosh_accurate(got, truth)


def test_logcosh_matches_float64_formula_where_cosh_is_safe() -> None:
    z = np.linspace(-20, 20, 400).reshape(20, 20)
    t = np.full_like(z, 0.5)
    got = sheet2.logcosh(z + t, t)
    assert got.shape == z.shape
    assert_logcosh_accurate(got, np.log(np.cosh((z + t) - t)))


def test_logcosh_large_argument_series() -> None:
    # log cosh z = |z| − log 2 + log(1 + e^{−2|z|}) = |z| − log 2 + e^{−2|z|} − O(e^{−4|z|}).
    z = np.concatenate([np.linspace(20, 1e4, 50), -np.linspace(20, 1e4, 50)])
    series = np.abs(z) - math.log(2) + np.exp(-2 * np.abs(z))
    assert_logcosh_accurate(sheet2.logcosh(z, np.zeros_like(z)), series)


def test_logcosh_grad_vs_autograd_and_finite_differences() -> None:
    rng = np.random.default_rng(4)
    y, t = rng.normal(size=(6, 5)) * 4, rng.normal(size=(6, 5)) * 4
    yt = torch.tensor(y, dtype=F64, requires_grad=True)
    torch.log(torch.cosh(yt - torch.tensor(t, dtype=F64))).sum().backward()
    got = sheet2.logcosh_grad(y, t)
    assert got.shape == y.shape
    np.testing.assert_allclose(got, yt.grad.numpy(), rtol=1e-12, atol=1e-14)

    h = 1e-5
    fd = (np.log(np.cosh(y + h - t)) - np.log(np.cosh(y - h - t))) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-7, atol=1e-9)


def test_logcosh_grad_saturates_for_large_residuals() -> None:
    z = np.array([1e4, -1e4, 800.0, -800.0])
    assert sheet2.logcosh_grad(z, np.zeros(4)).tolist() == [1.0, -1.0, 1.0, -1.0]


@pytest.mark.parametrize("seed", SEEDS)
def test_dataset_grad_vs_autograd(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d = rng.integers(1, 9), rng.integers(1, 5)
    X, w, t = rng.normal(size=(n, d)), rng.normal(size=d), rng.normal(size=n)
    wt = torch.tensor(w, dtype=F64, requires_grad=True)
    r = torch.tensor(X, dtype=F64) @ wt - torch.tensor(t, dtype=F64)
    torch.log(torch.cosh(r)).mean().backward()
    got = sheet2.dataset_grad(X, w, t)
    assert got.shape == (d,)
    np.testing.assert_allclose(got, wt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_dataset_grad_vs_finite_differences() -> None:
    rng = np.random.default_rng(5)
    X, w, t = rng.normal(size=(7, 3)), rng.normal(size=3), rng.normal(size=7)

    def E(w: np.ndarray) -> float:
        return float(np.mean(np.log(np.cosh(X @ w - t))))

    h = 1e-6
    fd = [(E(w + h * e) - E(w - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(sheet2.dataset_grad(X, w, t), fd, rtol=1e-7, atol=1e-9)


# Exercise 3


def random_weights(rng: np.random.Generator) -> dict:
    return {name: float(rng.normal()) for name in WEIGHT_NAMES}


def torch_backprop(x: np.ndarray, t: float, w: dict) -> dict:
    """The sheet's forward computations in torch, differentiated by autograd."""
    p = {k: torch.tensor(v, dtype=F64, requires_grad=True) for k, v in w.items()}
    x1, x2 = (torch.tensor(float(v), dtype=F64) for v in x)
    a3 = torch.tanh(x1 * p["w13"] + x2 * p["w23"])
    a4 = torch.tanh(x1 * p["w14"] + x2 * p["w24"])
    a5 = torch.tanh(a3 * p["w35"] + a4 * p["w45"])
    a6 = torch.tanh(a3 * p["w36"] + a4 * p["w46"])
    y = a5 * p["w57"] + a6 * p["w67"]
    torch.log(torch.cosh(y - t)).backward()
    return {k: float(v.grad) for k, v in p.items()}


@pytest.mark.parametrize("seed", SEEDS)
def test_backprop_vs_autograd(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, t, w = rng.normal(size=2) * 2, float(rng.normal() * 2), random_weights(rng)
    got = sheet2.backprop(x, t, w)
    assert sorted(got) == sorted(WEIGHT_NAMES)
    assert all(type(v) is float for v in got.values())
    expected = torch_backprop(x, t, w)
    for k in WEIGHT_NAMES:
        assert got[k] == pytest.approx(expected[k], rel=1e-10, abs=1e-14), k


@pytest.mark.parametrize("seed", SEEDS)
def test_backprop_w13_matches_seed_closed_form(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    x, t, w = rng.normal(size=2) * 2, float(rng.normal() * 2), random_weights(rng)
    x1, x2 = x
    z3 = x1 * w["w13"] + x2 * w["w23"]
    z4 = x1 * w["w14"] + x2 * w["w24"]
    z5 = np.tanh(z3) * w["w35"] + np.tanh(z4) * w["w45"]
    z6 = np.tanh(z3) * w["w36"] + np.tanh(z4) * w["w46"]
    y = np.tanh(z5) * w["w57"] + np.tanh(z6) * w["w67"]
    seed_dE_dw13 = (
        (
            np.tanh(y - t) * w["w57"] * (1 - np.tanh(z5) ** 2) * w["w35"]
            + np.tanh(y - t) * w["w67"] * (1 - np.tanh(z6) ** 2) * w["w36"]
        )
        * (1 - np.tanh(z3) ** 2)
        * x1
    )
    assert sheet2.backprop(x, t, w)["w13"] == pytest.approx(seed_dE_dw13, rel=1e-12, abs=1e-15)


# Exercise 4


def torch_grads_w13_w24(x1: float, x2: float, t: float, w13: float, w24: float) -> list[float]:
    a = torch.tensor(w13, dtype=F64, requires_grad=True)
    b = torch.tensor(w24, dtype=F64, requires_grad=True)
    y = 0.5 * (x1 * a) ** 2 + 0.5 * (x2 * b) ** 2
    ((y - t) ** 2).backward()
    return [float(a.grad), float(b.grad)]


@pytest.mark.parametrize("seed", SEEDS)
def test_grads_w13_w24(seed: int) -> None:
    x1, x2, t, w13, w24 = (float(v) for v in np.random.default_rng(seed).normal(size=5) * 2)
    got = sheet2.grads_w13_w24(x1, x2, t, w13, w24)
    assert isinstance(got, tuple) and len(got) == 2
    assert all(type(g) is float for g in got)
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    seed_form = [2 * (y - t) * x1**2 * w13, 2 * (y - t) * x2**2 * w24]
    assert list(got) == pytest.approx(seed_form, rel=1e-13)
    assert list(got) == pytest.approx(torch_grads_w13_w24(x1, x2, t, w13, w24), rel=1e-12)


def torch_grad_v(x1: float, x2: float, t: float, v: float, stable: bool) -> float:
    """Autograd of E(v); `stable` uses torch's softplus, the naive one log(1 + exp(·))."""
    vt = torch.tensor(v, dtype=F64, requires_grad=True)
    if stable:
        w13 = torch.nn.functional.softplus(vt)
        w24 = -torch.nn.functional.softplus(-vt)
    else:
        w13 = torch.log(1 + torch.exp(vt))
        w24 = -torch.log(1 + torch.exp(-vt))
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    ((y - t) ** 2).backward()
    return float(vt.grad)


@pytest.mark.parametrize("seed", SEEDS)
def test_grad_v_moderate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x1, x2, t = (float(a) for a in rng.normal(size=3) * 2)
    for v in rng.uniform(-8, 8, size=5):
        v = float(v)
        got = sheet2.grad_v(x1, x2, t, v)
        assert type(got) is float
        assert got == pytest.approx(torch_grad_v(x1, x2, t, v, stable=False), rel=1e-10)
        # The seed's Exercise 4(d) expression, with its naive exponentials.
        w13, w24 = math.log(1 + math.exp(v)), -math.log(1 + math.exp(-v))
        y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
        dw13_dv, dw24_dv = math.exp(v) / (1 + math.exp(v)), math.exp(-v) / (1 + math.exp(-v))
        seed_form = 2 * (y - t) * x1**2 * w13 * dw13_dv + 2 * (y - t) * x2**2 * w24 * dw24_dv
        assert got == pytest.approx(seed_form, rel=1e-10)


def grad_v_asymptote(x1: float, x2: float, t: float, v: float) -> float:
    """Leading behaviour of ∂E/∂v for |v| → ∞.

    v → +∞: w13 = v + O(e^{−v}), σ(v) = 1 − O(e^{−v}), w24 = −O(e^{−v}), so the
    w24 term is O(e^{−v}) and ∂E/∂v ≈ 2(½ x1² v² − t) x1² v.
    v → −∞: mirror image, w24 = v + O(e^{v}), σ(−v) → 1, w13 σ(v) = O(e^{2v}),
    so ∂E/∂v ≈ 2(½ x2² v² − t) x2² v. Relative error O(e^{−|v|}).
    """
    xa = x1 if v > 0 else x2
    return 2 * (0.5 * xa**2 * v**2 - t) * xa**2 * v


@pytest.mark.parametrize("v", [30.0, -30.0, 100.0, -100.0, 500.0, -500.0])
def test_grad_v_large(v: float) -> None:
    rng = np.random.default_rng(int(abs(v)))
    for x1, x2, t in rng.normal(size=(4, 3)) * 2:
        x1, x2, t = float(x1), float(x2), float(t)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise"):
                got = sheet2.grad_v(x1, x2, t, v)
        assert math.isfinite(got)
        assert got == pytest.approx(torch_grad_v(x1, x2, t, v, stable=True), rel=1e-12)
        assert got == pytest.approx(grad_v_asymptote(x1, x2, t, v), rel=1e-11)


# Known mistakes: each must be a plausible answer that the reference tells apart.


def _mistake_inputs() -> dict[str, tuple]:
    rng = np.random.default_rng(7)
    g = np.arange(-3.0, 3.01, 0.5) + 0.01
    return {
        "network_params": (),
        "predict_class": (np.array([(a, b) for a in g for b in g]),),
        "logcosh": (np.array([0.3, -2.0, 1e3, -2e3]), np.zeros(4)),
        "logcosh_grad": (rng.normal(size=6) * 2, rng.normal(size=6)),
        "dataset_grad": (rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=5)),
        "backprop": (rng.normal(size=2) * 2, 0.4, random_weights(rng)),
        "grads_w13_w24": (1.3, -0.7, 0.4, 0.9, -1.1),
        "grad_v": (1.3, -0.7, 0.4, 0.6),
    }


def _as_vector(fn_name: str, result: object) -> np.ndarray:
    if fn_name == "network_params":
        X = np.random.default_rng(8).uniform(-3, 3, size=(100, 2))
        hidden = np.maximum(X @ result["W1"].T + result["b1"], 0.0)
        return result["b2"] + hidden @ result["w2"]
    if fn_name == "backprop":
        return np.array([result[k] for k in WEIGHT_NAMES])
    return np.asarray(result, dtype=np.float64).ravel()


def _all_mistakes() -> list[tuple[str, str, str, object]]:
    return [(fn, slug, msg, impl) for fn, items in MISTAKES.items() for slug, msg, impl in items]


def test_mistakes_cover_contract_functions_with_unique_slugs() -> None:
    contract = {f.name for f in SHEET2}
    assert set(_mistake_inputs()) == contract
    assert set(MISTAKES) <= contract
    for items in MISTAKES.values():
        slugs = [slug for slug, _, _ in items]
        assert len(slugs) == len(set(slugs))


@pytest.mark.parametrize(("fn_name", "slug", "message", "impl"), _all_mistakes())
def test_mistake_differs_from_reference(fn_name: str, slug: str, message: str, impl) -> None:
    reference = getattr(sheet2, fn_name)
    assert 10 < len(message) < 300
    assert list(inspect.signature(impl).parameters) == list(inspect.signature(reference).parameters)
    args = _mistake_inputs()[fn_name]
    expected = _as_vector(fn_name, reference(*args))
    got = _as_vector(fn_name, impl(*args))
    assert got.shape == expected.shape
    assert not np.allclose(got, expected, rtol=1e-6, atol=1e-8), slug


def test_naive_logcosh_mistake_is_inf_where_truth_is_finite() -> None:
    (naive,) = [impl for slug, _, impl in MISTAKES["logcosh"] if slug == "naive_overflow"]
    z = np.array([1e3, -1e4])
    assert np.all(np.isinf(naive(z, np.zeros(2))))
    assert np.all(np.isfinite(sheet2.logcosh(z, np.zeros(2))))
