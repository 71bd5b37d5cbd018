"""Sheet 2 — a partly wrong submission with mistakes TAs see every year."""

import numpy as np


def relu(z):
    return np.maximum(z, 0.0)


def network_params():
    return {
        "W1": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
        "b1": np.zeros(3),
        "w2": np.array([-1.0, -1.0, 1.0]),
        "b2": 1.0,
    }


def predict_class(X):
    # forgot the rho(x1 + x2) unit
    y = 1 - relu(X[:, 0]) - relu(X[:, 1])
    return np.where(y < 0, 1, 2)


def logcosh(y, t):
    # naive: overflows for large |y - t|
    return np.log(np.cosh(y - t))


def logcosh_grad(y, t):
    return np.tanh(y - t)


def dataset_grad(X, w, t):
    # forgot the 1/N of the mean
    return X.T @ np.tanh(X @ w - t)


def backprop(x, t, w):
    x1, x2 = x
    a3 = np.tanh(x1 * w["w13"] + x2 * w["w23"])
    a4 = np.tanh(x1 * w["w14"] + x2 * w["w24"])
    a5 = np.tanh(a3 * w["w35"] + a4 * w["w45"])
    a6 = np.tanh(a3 * w["w36"] + a4 * w["w46"])
    y = a5 * w["w57"] + a6 * w["w67"]
    d7 = np.tanh(y - t)
    d5 = d7 * w["w57"] * (1 - a5**2)
    d6 = d7 * w["w67"] * (1 - a6**2)
    d3 = (d5 * w["w35"] + d6 * w["w36"]) * (1 - a3**2)
    d4 = (d5 * w["w45"] + d6 * w["w46"]) * (1 - a4**2)
    return {
        "w13": d3 * x1,
        "w23": d3 * x2,
        "w14": d4 * x1,
        "w24": d4 * x2,
        "w35": d5 * a3,
        "w45": d5 * a4,
        "w36": d6 * a3,
        "w46": d6 * a4,
        "w57": d7 * a5,
        "w67": d7 * a6,
    }


def grads_w13_w24(x1, x2, t, w13, w24):
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    return 2 * (y - t) * x1**2 * w13, 2 * (y - t) * x2**2 * w24


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def grad_v(x1, x2, t, v):
    w13 = np.log(1 + np.exp(v))
    w24 = -np.log(1 + np.exp(-v))
    g13, g24 = grads_w13_w24(x1, x2, t, w13, w24)
    # sign slip: d w24 / dv taken as -sigmoid(-v)
    return g13 * sigmoid(v) - g24 * sigmoid(-v)
