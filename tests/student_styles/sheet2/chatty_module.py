"""Sheet 2: helpers, a dataclass, keyword arguments, lots of printing and a demo."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

np.set_printoptions(precision=3)
np.seterr(all="ignore")
print("Loading my sheet 2 solution ...")
for i in range(2000):
    print(f"warming up {i}", file=sys.stderr if i % 2 else sys.stdout)

RNG = np.random.default_rng(0)


def relu(z):
    return np.maximum(z, 0)


def sigmoid(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))


def softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


@dataclass
class TanhNet:
    w: dict

    def forward(self, x):
        self.x = x
        self.a3 = math.tanh(x[0] * self.w["w13"] + x[1] * self.w["w23"])
        self.a4 = math.tanh(x[0] * self.w["w14"] + x[1] * self.w["w24"])
        self.a5 = math.tanh(self.a3 * self.w["w35"] + self.a4 * self.w["w45"])
        self.a6 = math.tanh(self.a3 * self.w["w36"] + self.a4 * self.w["w46"])
        return self.a5 * self.w["w57"] + self.a6 * self.w["w67"]

    def backward(self, dy):
        w = self.w
        g = {"w57": dy * self.a5, "w67": dy * self.a6}
        d5 = dy * w["w57"] * (1 - self.a5**2)
        d6 = dy * w["w67"] * (1 - self.a6**2)
        g.update(w35=d5 * self.a3, w45=d5 * self.a4, w36=d6 * self.a3, w46=d6 * self.a4)
        d3 = (d5 * w["w35"] + d6 * w["w36"]) * (1 - self.a3**2)
        d4 = (d5 * w["w45"] + d6 * w["w46"]) * (1 - self.a4**2)
        g.update(w13=d3 * self.x[0], w23=d3 * self.x[1], w14=d4 * self.x[0], w24=d4 * self.x[1])
        return g


def network_params() -> dict:
    return {
        "W1": np.eye(3, 2) + np.array([[0, 0], [0, 0], [1, 1]]),
        "b1": np.zeros(3),
        "w2": -np.ones(3) + np.array([0, 0, 2]),
        "b2": np.float64(1),
    }


def predict_class(X: np.ndarray) -> np.ndarray:
    x1, x2 = X.T
    y = 1 - relu(x1) - relu(x2) + relu(x1 + x2)
    labels = np.full(len(X), 2)
    labels[y < 0] = 1
    return labels


def logcosh(y, t):
    d = y - t
    return np.abs(d) + np.log1p(np.exp(-2 * np.abs(d))) - math.log(2)


def logcosh_grad(y, t):
    return np.tanh(y - t)


def dataset_grad(X, w, t):
    residual = logcosh_grad(X @ w, t)
    return X.T.dot(residual) / X.shape[0]


def backprop(x, t, w):
    net = TanhNet(dict(w))
    y = net.forward(x)
    return net.backward(logcosh_grad(y, t))


def grads_w13_w24(x1, x2, t, w13, w24):
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    return (2 * (y - t) * x1**2 * w13, 2 * (y - t) * x2**2 * w24)


def grad_v(x1, x2, t, v, *, check=False):
    w13, w24 = softplus(v), -softplus(-v)
    d13, d24 = grads_w13_w24(x1=x1, x2=x2, t=t, w13=w13, w24=w24)
    return float(d13 * sigmoid(v) + d24 * sigmoid(-v))


if __name__ == "__main__":
    X = RNG.normal(size=(5, 2))
    print(predict_class(X))
    print(grad_v(0.7, -1.2, 0.3, 500.0))
    raise SystemExit(0)
