"""Sheet 2 in plain Python: lists, floats and the math module, no numpy."""

import math


def relu(z):
    return z if z > 0 else 0.0


def network_params():
    # hidden units: rho(x1), rho(x2), rho(x1 + x2)
    return {
        "W1": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        "b1": [0.0, 0.0, 0.0],
        "w2": [-1.0, -1.0, 1.0],
        "b2": 1.0,
    }


def _y(x1, x2):
    return 1 - relu(x1) - relu(x2) + relu(x1 + x2)


def predict_class(X):
    labels = []
    for row in X:
        x1, x2 = float(row[0]), float(row[1])
        labels.append(1 if _y(x1, x2) < 0 else 2)
    return labels


def _elementwise(f, a, b):
    """Apply f to matching entries of two (nested) sequences or numbers."""
    if hasattr(a, "tolist"):
        a = a.tolist()
    if hasattr(b, "tolist"):
        b = b.tolist()
    if isinstance(a, list):
        return [_elementwise(f, u, v) for u, v in zip(a, b)]
    return f(a, b)


def _logcosh1(y, t):
    z = abs(y - t)
    # log cosh z = z + log(1 + e^{-2z}) - log 2, finite for any z
    return z + math.log1p(math.exp(-2 * z)) - math.log(2)


def logcosh(y, t):
    return _elementwise(_logcosh1, y, t)


def logcosh_grad(y, t):
    return _elementwise(lambda a, b: math.tanh(a - b), y, t)


def dataset_grad(X, w, t):
    N = len(X)
    d = len(w)
    grad = [0.0] * d
    for k in range(N):
        yk = sum(w[i] * X[k][i] for i in range(d))
        delta = math.tanh(yk - t[k])
        for i in range(d):
            grad[i] += delta * X[k][i] / N
    return grad


def backprop(x, t, w):
    x1, x2 = x[0], x[1]
    z3 = x1 * w["w13"] + x2 * w["w23"]
    z4 = x1 * w["w14"] + x2 * w["w24"]
    a3, a4 = math.tanh(z3), math.tanh(z4)
    z5 = a3 * w["w35"] + a4 * w["w45"]
    z6 = a3 * w["w36"] + a4 * w["w46"]
    a5, a6 = math.tanh(z5), math.tanh(z6)
    y = a5 * w["w57"] + a6 * w["w67"]
    d7 = math.tanh(y - t)
    d5 = d7 * w["w57"] * (1 - a5**2)
    d6 = d7 * w["w67"] * (1 - a6**2)
    d3 = (d5 * w["w35"] + d6 * w["w36"]) * (1 - a3**2)
    d4 = (d5 * w["w45"] + d6 * w["w46"]) * (1 - a4**2)
    return {
        "w57": d7 * a5,
        "w67": d7 * a6,
        "w35": d5 * a3,
        "w45": d5 * a4,
        "w36": d6 * a3,
        "w46": d6 * a4,
        "w13": d3 * x1,
        "w23": d3 * x2,
        "w14": d4 * x1,
        "w24": d4 * x2,
    }


def grads_w13_w24(x1, x2, t, w13, w24):
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    return 2 * (y - t) * x1**2 * w13, 2 * (y - t) * x2**2 * w24


def _softplus(v):
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _sigmoid(v):
    if v >= 0:
        return 1 / (1 + math.exp(-v))
    e = math.exp(v)
    return e / (1 + e)


def grad_v(x1, x2, t, v):
    w13 = _softplus(v)
    w24 = -_softplus(-v)
    g13, g24 = grads_w13_w24(x1, x2, t, w13, w24)
    return g13 * _sigmoid(v) + g24 * _sigmoid(-v)
