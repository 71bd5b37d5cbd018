"""Sheet 2, correct, mixed style: torch autograd for exercise 3, lists and float32 elsewhere."""

import math

import numpy as np
import torch


def network_params():
    # hidden units in a different order than the sheet's: rho(x1 + x2), rho(x2), rho(x1)
    return {
        "W1": np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]),
        "b1": np.zeros(3),
        "w2": np.array([1.0, -1.0, -1.0]),
        "b2": 1.0,
    }


def predict_class(X):
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    y = 1 - relu(X[:, 0]) - relu(X[:, 1]) + relu(X[:, 0] + X[:, 1])
    return np.where(y < 0, 1, 2)


def logcosh(y, t):
    z = np.abs(y - t)
    return z + np.log1p(np.exp(-2 * z)) - np.log(2)


def logcosh_grad(y, t):
    return np.tanh(y - t)


def dataset_grad(X, w, t):
    return (np.tanh(X @ w - t) @ X) / len(t)


def backprop(x, t, w):
    W = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in w.items()}
    x1, x2 = float(x[0]), float(x[1])
    a3 = torch.tanh(x1 * W["w13"] + x2 * W["w23"])
    a4 = torch.tanh(x1 * W["w14"] + x2 * W["w24"])
    a5 = torch.tanh(a3 * W["w35"] + a4 * W["w45"])
    a6 = torch.tanh(a3 * W["w36"] + a4 * W["w46"])
    y = a5 * W["w57"] + a6 * W["w67"]
    E = torch.log(torch.cosh(y - t))
    E.backward()
    return {k: v.grad for k, v in W.items()}


def grads_w13_w24(x1, x2, t, w13, w24):
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    return [2 * (y - t) * x1**2 * w13, 2 * (y - t) * x2**2 * w24]


def _softplus(v):
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _sigmoid(v):
    return 0.5 * (1 + math.tanh(v / 2))


def grad_v(x1, x2, t, v):
    w13, w24 = _softplus(v), -_softplus(-v)
    g13, g24 = grads_w13_w24(x1, x2, t, w13, w24)
    return np.float32(g13 * _sigmoid(v) + g24 * _sigmoid(-v)).astype(np.float64)
