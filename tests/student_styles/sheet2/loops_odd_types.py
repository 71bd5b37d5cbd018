"""Sheet 2 with explicit loops and unusual but allowed return types.

Integer parameters, a scaled hidden unit (ReLU is positively homogeneous), b2 as a
one-element array, 1-element arrays for scalar gradients, tuples of np.float64.
"""

import numpy as np


class Net:
    """The network of Eq. (1) with its hidden units in yet another order."""

    W1 = np.array([[0, 2], [1, 1], [1, 0]], dtype=np.int64)  # unit 0 is 2·x2
    b1 = np.zeros(3, dtype=np.int64)
    w2 = np.array([-0.5, 1.0, -1.0])
    b2 = np.array([1])

    def __call__(self, X):
        h = np.zeros((len(X), 3))
        for n in range(len(X)):
            for j in range(3):
                s = self.b1[j]
                for i in range(2):
                    s += self.W1[j, i] * X[n, i]
                h[n, j] = max(s, 0.0)
        return self.b2[0] + h @ self.w2


NET = Net()


def network_params():
    return {"W1": NET.W1, "b1": NET.b1, "w2": NET.w2, "b2": NET.b2}


def predict_class(X):
    y = NET(X)
    out = np.empty(len(X), dtype=np.int64)
    for n in range(len(X)):
        out[n] = 1 if y[n] < 0 else 2
    return out


def logcosh(y, t):
    z = np.abs(np.subtract(y, t))
    out = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        a = z[idx]
        out[idx] = a - np.log(2) + np.log1p(np.exp(-2 * a))
    return out


def logcosh_grad(y, t):
    out = np.zeros(np.shape(y))
    for idx in np.ndindex(out.shape):
        out[idx] = np.tanh(y[idx] - t[idx])
    return out


def dataset_grad(X, w, t):
    N, d = X.shape
    g = np.zeros(d)
    for k in range(N):
        r = np.tanh(np.dot(X[k], w) - t[k])
        for i in range(d):
            g[i] = g[i] + r * X[k, i]
    return tuple(g / N)  # a tuple of np.float64


def backprop(x, t, w):
    x1, x2 = x
    a = {}
    a[3] = np.tanh(x1 * w["w13"] + x2 * w["w23"])
    a[4] = np.tanh(x1 * w["w14"] + x2 * w["w24"])
    a[5] = np.tanh(a[3] * w["w35"] + a[4] * w["w45"])
    a[6] = np.tanh(a[3] * w["w36"] + a[4] * w["w46"])
    y = a[5] * w["w57"] + a[6] * w["w67"]
    delta = {7: np.tanh(y - t)}
    for j in (5, 6):
        delta[j] = (1 - a[j] ** 2) * w[f"w{j}7"] * delta[7]
    for j in (3, 4):
        delta[j] = (1 - a[j] ** 2) * sum(w[f"w{j}{k}"] * delta[k] for k in (5, 6))
    inputs = {1: x1, 2: x2, **a}
    grads = {}
    for name in w:
        i, j = int(name[1]), int(name[2])
        grads[name] = np.array([delta[j] * inputs[i]])  # one-element arrays
    return grads


def grads_w13_w24(x1, x2, t, w13, w24):
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    dEdy = 2 * (y - t)
    return [np.float64(dEdy * x1 * x1 * w13), np.float64(dEdy * x2 * x2 * w24)]


def grad_v(x1, x2, t, v):
    w13 = np.logaddexp(0, v)
    w24 = -np.logaddexp(0, -v)
    g13, g24 = grads_w13_w24(x1, x2, t, w13, w24)
    dw13 = np.exp(-np.logaddexp(0, -v))  # sigmoid(v)
    dw24 = np.exp(-np.logaddexp(0, v))  # sigmoid(-v)
    return np.array([[g13 * dw13 + g24 * dw24]])  # a 1×1 array
