"""Sheet 2 in numpy, all in float32 (answers come back as float32 arrays and scalars)."""

import numpy as np

f32 = np.float32


def network_params():
    return {
        "W1": np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32),
        "b1": np.zeros(3, dtype=np.float32),
        "w2": np.array([-1, -1, 1], dtype=np.float32),
        "b2": np.float32(1),
    }


def predict_class(X):
    X = X.astype(np.float32)
    p = network_params()
    y = p["b2"] + np.maximum(X @ p["W1"].T + p["b1"], 0) @ p["w2"]
    return np.where(y < 0, 1, 2).astype(np.int32)


def logcosh(y, t):
    # the contract asks for float64 accuracy here: float32 cannot give 1e-9
    z = np.abs(np.asarray(y, dtype=np.float64) - t)
    return z + np.log1p(np.exp(-2 * z)) - np.log(2.0)


def logcosh_grad(y, t):
    return np.tanh(y.astype(f32) - t.astype(f32))


def dataset_grad(X, w, t):
    X, w, t = X.astype(f32), w.astype(f32), t.astype(f32)
    r = np.tanh(X @ w - t)
    return (X.T @ r) / f32(len(t))


WEIGHTS = ("w13", "w23", "w14", "w24", "w35", "w45", "w36", "w46", "w57", "w67")


def backprop(x, t, w):
    w = {k: f32(v) for k, v in w.items()}
    x = x.astype(f32)
    t = f32(t)
    a3 = np.tanh(x[0] * w["w13"] + x[1] * w["w23"])
    a4 = np.tanh(x[0] * w["w14"] + x[1] * w["w24"])
    a5 = np.tanh(a3 * w["w35"] + a4 * w["w45"])
    a6 = np.tanh(a3 * w["w36"] + a4 * w["w46"])
    y = a5 * w["w57"] + a6 * w["w67"]
    dy = np.tanh(y - t)
    dz5 = dy * w["w57"] * (1 - a5 * a5)
    dz6 = dy * w["w67"] * (1 - a6 * a6)
    dz3 = (dz5 * w["w35"] + dz6 * w["w36"]) * (1 - a3 * a3)
    dz4 = (dz5 * w["w45"] + dz6 * w["w46"]) * (1 - a4 * a4)
    return dict(
        w13=dz3 * x[0], w23=dz3 * x[1], w14=dz4 * x[0], w24=dz4 * x[1],
        w35=dz5 * a3, w45=dz5 * a4, w36=dz6 * a3, w46=dz6 * a4,
        w57=dy * a5, w67=dy * a6,
    )


def grads_w13_w24(x1, x2, t, w13, w24):
    x1, x2, t, w13, w24 = (f32(v) for v in (x1, x2, t, w13, w24))
    y = f32(0.5) * (x1 * w13) ** 2 + f32(0.5) * (x2 * w24) ** 2
    return np.array([2 * (y - t) * x1 * x1 * w13, 2 * (y - t) * x2 * x2 * w24])


def grad_v(x1, x2, t, v):
    v = f32(v)
    w13 = np.logaddexp(f32(0), v)
    w24 = -np.logaddexp(f32(0), -v)
    g13, g24 = grads_w13_w24(x1, x2, t, w13, w24)
    s = f32(0.5) * (f32(1) + np.tanh(v / 2))  # sigmoid without overflow
    return g13 * s + g24 * (f32(1) - s)
