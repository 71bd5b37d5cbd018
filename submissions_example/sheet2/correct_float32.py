"""Sheet 2, correct, as a student who works in torch float32: float32 tensors throughout,
autograd for every gradient, float32 tensors or `.tolist()` lists as answers.

Only `logcosh` and `logcosh_grad` compute in float64: the contract asks for float64-level
accuracy (|error| <= 1e-9 |E| + 1e-12 up to |y - t| = 1e4), which float32 cannot give."""

import torch
import torch.nn.functional as F

F32 = torch.float32


def f32(x):
    return torch.tensor(x, dtype=F32)


# Exercise 1


def network_params():
    # hidden units: rho(x1), rho(x2), rho(x1 + x2)
    return {
        "W1": f32([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
        "b1": torch.zeros(3, dtype=F32),
        "w2": f32([-1.0, -1.0, 1.0]),
        "b2": f32(1.0),
    }


def predict_class(X):
    p = network_params()
    y = p["b2"] + torch.relu(f32(X) @ p["W1"].T + p["b1"]) @ p["w2"]
    return torch.where(y < 0, 1, 2)


# Exercise 2


def _logcosh(d):
    # log cosh d = |d| + log(1 + e^{-2|d|}) - log 2, which never overflows
    d = d.abs()
    return d + torch.log1p(torch.exp(-2 * d)) - torch.log(torch.tensor(2.0, dtype=d.dtype))


def logcosh(y, t):
    # float64 on purpose: float32 cannot meet the required 1e-9 relative accuracy
    y, t = torch.tensor(y, dtype=torch.float64), torch.tensor(t, dtype=torch.float64)
    return _logcosh(y - t)


def logcosh_grad(y, t):
    # float64 on purpose, as in logcosh
    y = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(t, dtype=torch.float64)
    _logcosh(y - t).sum().backward()
    return y.grad


def dataset_grad(X, w, t):
    X, t = f32(X), f32(t)
    w = f32(w).requires_grad_()
    E = _logcosh(X @ w - t).mean()
    E.backward()
    return w.grad.tolist()


# Exercise 3


def backprop(x, t, w):
    W = {k: f32(v).requires_grad_() for k, v in w.items()}
    x1, x2 = f32(x)
    a3 = torch.tanh(x1 * W["w13"] + x2 * W["w23"])
    a4 = torch.tanh(x1 * W["w14"] + x2 * W["w24"])
    a5 = torch.tanh(a3 * W["w35"] + a4 * W["w45"])
    a6 = torch.tanh(a3 * W["w36"] + a4 * W["w46"])
    y = a5 * W["w57"] + a6 * W["w67"]
    E = torch.log(torch.cosh(y - f32(t)))  # as the sheet: |y| <= |w57| + |w67|
    E.backward()
    return {k: v.grad for k, v in W.items()}


# Exercise 4


def _error(x1, x2, t, w13, w24):
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    return (y - t) ** 2


def grads_w13_w24(x1, x2, t, w13, w24):
    w13, w24 = f32(w13).requires_grad_(), f32(w24).requires_grad_()
    _error(f32(x1), f32(x2), f32(t), w13, w24).backward()
    return (w13.grad.item(), w24.grad.item())


def grad_v(x1, x2, t, v):
    v = f32(v).requires_grad_()
    w13, w24 = F.softplus(v), -F.softplus(-v)  # log(1 + e^v) without overflow
    _error(f32(x1), f32(x2), f32(t), w13, w24).backward()
    return v.grad
