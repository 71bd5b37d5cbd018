"""Sheet 2 with torch: autograd does the backward passes, answers stay tensors."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class Eq1(nn.Module):
    """Eq. (1) as layers, hidden units in another order: ρ(x2), ρ(x1 + x2), ρ(x1)."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 3)
        self.out = nn.Linear(3, 1)
        with torch.no_grad():
            self.hidden.weight.copy_(torch.tensor([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]))
            self.hidden.bias.zero_()
            self.out.weight.copy_(torch.tensor([[-1.0, 1.0, -1.0]]))
            self.out.bias.fill_(1.0)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x))).squeeze(-1)


MODEL = Eq1()  # float32 parameters with requires_grad


def network_params():
    return {
        "W1": MODEL.hidden.weight,
        "b1": MODEL.hidden.bias,
        "w2": MODEL.out.weight[0],
        "b2": MODEL.out.bias,  # shape (1,)
    }


def predict_class(X):
    with torch.no_grad():
        y = MODEL(torch.as_tensor(X, dtype=torch.float32))
    return (y > 0).long() + 1


def _logcosh(z):
    # log cosh z = |z| + softplus(-2|z|) - log 2
    a = z.abs()
    return a + F.softplus(-2 * a) - math.log(2.0)


def logcosh(y, t):
    return _logcosh(torch.as_tensor(y) - torch.as_tensor(t))


def logcosh_grad(y, t):
    y = torch.tensor(y, requires_grad=True)
    E = _logcosh(y - torch.as_tensor(t)).sum()
    E.backward()
    return y.grad


def dataset_grad(X, w, t):
    X, t = torch.as_tensor(X), torch.as_tensor(t)
    w = torch.tensor(w, requires_grad=True)
    E = _logcosh(X @ w - t).mean()
    (g,) = torch.autograd.grad(E, w)
    return g


NAMES = ["w13", "w23", "w14", "w24", "w35", "w45", "w36", "w46", "w57", "w67"]


def backprop(x, t, w):
    W = {k: torch.tensor(float(w[k]), dtype=torch.float64, requires_grad=True) for k in NAMES}
    x1, x2 = float(x[0]), float(x[1])
    a3 = torch.tanh(x1 * W["w13"] + x2 * W["w23"])
    a4 = torch.tanh(x1 * W["w14"] + x2 * W["w24"])
    a5 = torch.tanh(a3 * W["w35"] + a4 * W["w45"])
    a6 = torch.tanh(a3 * W["w36"] + a4 * W["w46"])
    y = a5 * W["w57"] + a6 * W["w67"]
    E = _logcosh(y - t)
    E.backward()
    return {k: W[k].grad for k in NAMES}  # 0-d tensors


def grads_w13_w24(x1, x2, t, w13, w24):
    w13 = torch.tensor(w13, dtype=torch.float64, requires_grad=True)
    w24 = torch.tensor(w24, dtype=torch.float64, requires_grad=True)
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    E = (y - t) ** 2
    g13, g24 = torch.autograd.grad(E, [w13, w24])
    return g13, g24


def grad_v(x1, x2, t, v):
    v = torch.tensor(v, dtype=torch.float64, requires_grad=True)
    w13 = F.softplus(v)
    w24 = -F.softplus(-v)
    y = 0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2
    E = (y - t) ** 2
    E.backward()
    return v.grad
