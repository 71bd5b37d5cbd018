"""Reference solutions for sheet 2 (backpropagation).

Plain numpy and the standard library only: the grader imports this on every run.
Each function follows the sheet's derivation, rewritten only where the literal
formula would overflow (log cosh, softplus, sigmoid), because the contract asks
for finite, accurate answers far beyond that point.
"""

from __future__ import annotations

import math

import numpy as np

LOG2 = math.log(2.0)


# Exercise 1: y = 1 − ρ(x1) − ρ(x2) + ρ(x1 + x2)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def network_params() -> dict:
    """One hidden ReLU unit per ρ term of Eq. (1): ρ(x1), ρ(x2), ρ(x1 + x2)."""
    return {
        "W1": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
        "b1": np.zeros(3),
        "w2": np.array([-1.0, -1.0, 1.0]),
        "b2": 1.0,
    }


def network_output(X: np.ndarray) -> np.ndarray:
    """y for each row of X (N, 2), straight from Eq. (1)."""
    X = np.asarray(X, dtype=np.float64)
    x1, x2 = X[:, 0], X[:, 1]
    return 1.0 - relu(x1) - relu(x2) + relu(x1 + x2)


def predict_class(X: np.ndarray) -> np.ndarray:
    """Class 1 where y < 0, class 2 where y > 0 (y = 0 is never asked)."""
    return np.where(network_output(X) < 0.0, 1, 2).astype(np.int64)


# Exercise 2: E = log cosh(y − t)


def logcosh(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log cosh z = |z| + log(1 + e^{−2|z|}) − log 2: cosh itself overflows past |z| ≈ 710."""
    z = np.abs(np.asarray(y, dtype=np.float64) - np.asarray(t, dtype=np.float64))
    return z + np.log1p(np.exp(-2.0 * z)) - LOG2


def logcosh_grad(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """∂E/∂y = sinh(y − t) / cosh(y − t) = tanh(y − t)."""
    return np.tanh(np.asarray(y, dtype=np.float64) - np.asarray(t, dtype=np.float64))


def dataset_grad(X: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    """∂E/∂w_i = (1/N) Σ_k tanh(y_k − t_k) x_i^(k) for the linear model y_k = w·x_k."""
    X = np.asarray(X, dtype=np.float64)
    y = X @ np.asarray(w, dtype=np.float64)
    return X.T @ np.tanh(y - np.asarray(t, dtype=np.float64)) / X.shape[0]


# Exercise 3: the tanh network with units 3–7


def backprop(x: np.ndarray, t: float, w: dict) -> dict:
    """All ten ∂E/∂w_ij by the sheet's δ recursion, where δ_j = ∂E/∂a_j (δ7 = ∂E/∂y).

    ∂E/∂z_j = δ_j · tanh'(z_j) = δ_j (1 − a_j²), and each weight's gradient is
    ∂E/∂z of the unit it feeds times the activation it carries.
    """
    x1, x2 = float(x[0]), float(x[1])

    a3 = math.tanh(x1 * w["w13"] + x2 * w["w23"])
    a4 = math.tanh(x1 * w["w14"] + x2 * w["w24"])
    a5 = math.tanh(a3 * w["w35"] + a4 * w["w45"])
    a6 = math.tanh(a3 * w["w36"] + a4 * w["w46"])
    y = a5 * w["w57"] + a6 * w["w67"]

    delta7 = math.tanh(y - t)
    delta6 = delta7 * w["w67"]
    delta5 = delta7 * w["w57"]
    dz5 = delta5 * (1.0 - a5**2)
    dz6 = delta6 * (1.0 - a6**2)
    delta3 = dz5 * w["w35"] + dz6 * w["w36"]
    delta4 = dz5 * w["w45"] + dz6 * w["w46"]
    dz3 = delta3 * (1.0 - a3**2)
    dz4 = delta4 * (1.0 - a4**2)

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


# Exercise 4: z3 = x1 w13, z4 = x2 w24, a = ½ z², y = a3 + a4, E = (y − t)²


def grads_w13_w24(x1: float, x2: float, t: float, w13: float, w24: float) -> tuple[float, float]:
    """∂E/∂w13 = 2(y − t) z3 x1 = 2(y − t) x1² w13, and likewise for w24."""
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    return float(2.0 * (y - t) * x1**2 * w13), float(2.0 * (y - t) * x2**2 * w24)


def softplus(v: float) -> float:
    """log(1 + e^v) = max(v, 0) + log(1 + e^{−|v|}), which never overflows."""
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def sigmoid(v: float) -> float:
    """e^v / (1 + e^v), written so that exp only ever sees a non-positive argument."""
    if v >= 0.0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def grad_v(x1: float, x2: float, t: float, v: float) -> float:
    """∂E/∂v = ∂E/∂w13 · σ(v) + ∂E/∂w24 · σ(−v), with w13 = softplus(v), w24 = −softplus(−v)."""
    w13 = softplus(v)
    w24 = -softplus(-v)
    dE_dw13, dE_dw24 = grads_w13_w24(x1, x2, t, w13, w24)
    return float(dE_dw13 * sigmoid(v) + dE_dw24 * sigmoid(-v))
