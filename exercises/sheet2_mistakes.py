"""Known wrong answers to sheet 2, each with the hint a TA would give.

MISTAKES maps a contract function name to (slug, student-facing message, wrong
implementation with the reference's signature). A student answer that matches a
wrong implementation where the reference disagrees gets that message, which says
more than "wrong value".
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from reference.sheet2 import (
    grads_w13_w24,
    network_output,
    network_params,
    relu,
    sigmoid,
    softplus,
)

# Exercise 1


def _params_without_output_bias() -> dict:
    return {**network_params(), "b2": 0.0}


def _params_sum_unit_negated() -> dict:
    return {**network_params(), "w2": np.array([-1.0, -1.0, -1.0])}


def _predict_classes_swapped(X: np.ndarray) -> np.ndarray:
    return np.where(network_output(X) > 0.0, 1, 2).astype(np.int64)


def _predict_without_sum_unit(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    y = 1.0 - relu(X[:, 0]) - relu(X[:, 1])
    return np.where(y < 0.0, 1, 2).astype(np.int64)


# Exercise 2


def _logcosh_naive(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.log(np.cosh(np.asarray(y, dtype=np.float64) - np.asarray(t, dtype=np.float64)))


def _logcosh_grad_negated(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    return -np.tanh(np.asarray(y, dtype=np.float64) - np.asarray(t, dtype=np.float64))


def _logcosh_grad_sinh(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.sinh(np.asarray(y, dtype=np.float64) - np.asarray(t, dtype=np.float64))


def _dataset_grad_sum(X: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    return X.T @ np.tanh(X @ np.asarray(w, dtype=np.float64) - np.asarray(t, dtype=np.float64))


def _dataset_grad_reversed_residual(X: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    residual = np.asarray(t, dtype=np.float64) - X @ np.asarray(w, dtype=np.float64)
    return X.T @ np.tanh(residual) / X.shape[0]


# Exercise 3


def _backprop_variant(
    x: np.ndarray,
    t: float,
    w: dict,
    tanh_prime: Callable[[float], float] = lambda a: 1.0 - a**2,
    first_layer_prime: bool = True,
    through_unit_6: bool = True,
) -> dict:
    """The reference δ recursion with one step switched to a typical slip."""
    x1, x2 = float(x[0]), float(x[1])
    a3 = math.tanh(x1 * w["w13"] + x2 * w["w23"])
    a4 = math.tanh(x1 * w["w14"] + x2 * w["w24"])
    a5 = math.tanh(a3 * w["w35"] + a4 * w["w45"])
    a6 = math.tanh(a3 * w["w36"] + a4 * w["w46"])
    y = a5 * w["w57"] + a6 * w["w67"]

    delta7 = math.tanh(y - t)
    dz5 = delta7 * w["w57"] * tanh_prime(a5)
    dz6 = delta7 * w["w67"] * tanh_prime(a6)
    via6 = 1.0 if through_unit_6 else 0.0
    delta3 = dz5 * w["w35"] + via6 * dz6 * w["w36"]
    delta4 = dz5 * w["w45"] + via6 * dz6 * w["w46"]
    dz3 = delta3 * tanh_prime(a3) if first_layer_prime else delta3
    dz4 = delta4 * tanh_prime(a4) if first_layer_prime else delta4
    return {
        "w13": dz3 * x1,
        "w23": dz3 * x2,
        "w14": dz4 * x1,
        "w24": dz4 * x2,
        "w35": dz5 * a3,
        "w45": dz5 * a4,
        "w36": dz6 * a3,
        "w46": dz6 * a4,
        "w57": delta7 * a5,
        "w67": delta7 * a6,
    }


def _backprop_missing_first_layer_prime(x: np.ndarray, t: float, w: dict) -> dict:
    return _backprop_variant(x, t, w, first_layer_prime=False)


def _backprop_prime_not_squared(x: np.ndarray, t: float, w: dict) -> dict:
    return _backprop_variant(x, t, w, tanh_prime=lambda a: 1.0 - a)


def _backprop_only_through_unit_5(x: np.ndarray, t: float, w: dict) -> dict:
    return _backprop_variant(x, t, w, through_unit_6=False)


# Exercise 4


def _grads_missing_factor_2(
    x1: float, x2: float, t: float, w13: float, w24: float
) -> tuple[float, float]:
    g13, g24 = grads_w13_w24(x1, x2, t, w13, w24)
    return g13 / 2.0, g24 / 2.0


def _grads_x_not_squared(
    x1: float, x2: float, t: float, w13: float, w24: float
) -> tuple[float, float]:
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    return 2.0 * (y - t) * x1 * w13, 2.0 * (y - t) * x2 * w24


def _grad_v_second_term_negated(x1: float, x2: float, t: float, v: float) -> float:
    g13, g24 = grads_w13_w24(x1, x2, t, softplus(v), -softplus(-v))
    return g13 * sigmoid(v) - g24 * sigmoid(-v)


def _grad_v_sigma_v_both(x1: float, x2: float, t: float, v: float) -> float:
    g13, g24 = grads_w13_w24(x1, x2, t, softplus(v), -softplus(-v))
    return g13 * sigmoid(v) + g24 * sigmoid(v)


MISTAKES: dict[str, list[tuple[str, str, Callable]]] = {
    "network_params": [
        (
            "missing_output_bias",
            "The output neuron needs the constant 1 of Eq. (1) as its bias b2.",
            _params_without_output_bias,
        ),
        (
            "sum_unit_sign",
            "ρ(x1 + x2) enters Eq. (1) with a plus sign: its output weight is +1.",
            _params_sum_unit_negated,
        ),
    ],
    "predict_class": [
        (
            "classes_swapped",
            "Classes look swapped: class 1 is where y < 0, class 2 where y > 0.",
            _predict_classes_swapped,
        ),
        (
            "missing_sum_unit",
            "Your boundary ignores the ρ(x1 + x2) term: y = 1 − ρ(x1) − ρ(x2) + ρ(x1 + x2). "
            "Class 1 is only where x1 < −1 and x2 > 1 (or the mirror image).",
            _predict_without_sum_unit,
        ),
    ],
    "logcosh": [
        (
            "naive_overflow",
            "log(cosh(z)) overflows to inf for large |z| (cosh passes 1e308 near |z| = 710). "
            "Use the stable identity log cosh z = |z| + log1p(exp(−2|z|)) − log 2.",
            _logcosh_naive,
        ),
    ],
    "logcosh_grad": [
        (
            "sign_flipped",
            "Sign flipped: ∂/∂y log cosh(y − t) = +tanh(y − t).",
            _logcosh_grad_negated,
        ),
        (
            "sinh_not_tanh",
            "You differentiated cosh but dropped the 1/cosh from the log: "
            "sinh(z)/cosh(z) = tanh(z).",
            _logcosh_grad_sinh,
        ),
    ],
    "dataset_grad": [
        (
            "sum_not_mean",
            "E is the mean over the N points: divide the summed gradient by N.",
            _dataset_grad_sum,
        ),
        (
            "residual_reversed",
            "Residual reversed: the gradient is tanh(w·x_k − t_k) x_k, not tanh(t_k − w·x_k) x_k.",
            _dataset_grad_reversed_residual,
        ),
    ],
    "backprop": [
        (
            "missing_first_layer_tanh_prime",
            "Hidden units 3 and 4 are tanh units too: multiply δ3 and δ4 by 1 − a3² and "
            "1 − a4² before reaching w13, w23, w14, w24.",
            _backprop_missing_first_layer_prime,
        ),
        (
            "tanh_prime_not_squared",
            "tanh'(z) = 1 − tanh²(z): the activation is squared.",
            _backprop_prime_not_squared,
        ),
        (
            "only_through_unit_5",
            "a3 and a4 feed both units 5 and 6: δ3 and δ4 are sums over both paths.",
            _backprop_only_through_unit_5,
        ),
    ],
    "grads_w13_w24": [
        (
            "missing_factor_2",
            "∂/∂y (y − t)² = 2(y − t): the factor 2 is missing.",
            _grads_missing_factor_2,
        ),
        (
            "x_not_squared",
            "z3 = x1 w13 contributes x1 twice (∂a3/∂z3 = z3 = x1 w13, ∂z3/∂w13 = x1): "
            "∂E/∂w13 = 2(y − t) x1² w13.",
            _grads_x_not_squared,
        ),
    ],
    "grad_v": [
        (
            "second_term_sign",
            "∂w24/∂v = +e^{−v}/(1 + e^{−v}) = σ(−v): the two minus signs cancel.",
            _grad_v_second_term_negated,
        ),
        (
            "sigma_v_both",
            "w24 depends on −v, so ∂w24/∂v = σ(−v), not σ(v).",
            _grad_v_sigma_v_both,
        ),
    ],
}
