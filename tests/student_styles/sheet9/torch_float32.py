"""Sheet 9 in torch float32 (the default dtype): nn.Conv1d modules, nn.Sequential-style
thinking, autograd everywhere, 0-d tensors and python floats mixed."""

import torch
from torch import nn


def T(a):
    return torch.as_tensor(a, dtype=torch.float32)


ACT = {
    "threshold": lambda z: torch.heaviside(z, torch.tensor(1.0)),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": nn.functional.relu,
}


def activation(name, z):
    return ACT[name](T(z))


def activation_grad(name, z):
    z = T(z)
    if name == "threshold":
        return torch.zeros_like(z)
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - torch.tanh(z) ** 2
    return (z > 0).float()


def _conv_module(w):
    c_in, c_out, S = w.shape
    m = nn.Conv1d(c_in, c_out, S, bias=False)
    with torch.no_grad():
        m.weight.copy_(T(w).permute(1, 0, 2))
    return m


def conv1d(x, w):
    return _conv_module(w)(T(x).unsqueeze(0)).squeeze(0)  # has grad_fn


def conv1d_weight_grad(x, dy_dz):
    x, g = T(x), T(dy_dz)
    c_in, c_out, S = x.shape[0], g.shape[0], x.shape[1] - g.shape[1] + 1
    m = _conv_module(torch.zeros(c_in, c_out, S))
    m(x.unsqueeze(0)).squeeze(0).mul(g).sum().backward()
    return m.weight.grad.permute(1, 0, 2)


def conv1d_input_grad(w, dE_dz):
    g = T(dE_dz)
    c_in, c_out, S = w.shape
    x = torch.zeros(c_in, g.shape[1] + S - 1, requires_grad=True)
    out = _conv_module(w)(x.unsqueeze(0)).squeeze(0)
    out.backward(g)
    return x.grad


def _tree(s):
    import re

    tokens = iter(re.findall(r"[^\s(),]+|[(),]", s))

    def item():
        tok = next(tokens)
        if tok == "(":
            left = item()
            next(tokens)
            right = item()
            next(tokens)
            return [left, right]
        return tok

    return item()


def tree_equations(bracketed):
    eq = []

    def visit(n):
        if isinstance(n, str):
            return n
        n = [visit(c) for c in n]
        eq.append(tuple(["a" + str(len(eq) + 1)] + n))
        return eq[-1][0]

    visit(_tree(bracketed))
    return eq


def _forward(bracketed, emb, W, b, u):
    def a(n):
        if isinstance(n, str):
            return emb[n]
        return torch.tanh(W @ torch.cat((a(n[0]), a(n[1]))) + b)

    return torch.dot(u, a(_tree(bracketed)))


def recursive_forward(bracketed, emb, W, b, u):
    return _forward(bracketed, {k: T(v) for k, v in emb.items()}, T(W), T(b), T(u)).item()


def recursive_grad(bracketed, emb, W, b, u):
    emb = {k: T(v).requires_grad_() for k, v in emb.items()}
    W, b, u = (T(p).requires_grad_() for p in (W, b, u))
    y = _forward(bracketed, emb, W, b, u)
    y.backward()
    zero = torch.zeros_like
    return {
        "W": W.grad if W.grad is not None else zero(W),
        "b": b.grad if b.grad is not None else zero(b),
        "u": u.grad,
        "emb": {k: v.grad for k, v in emb.items() if v.grad is not None},
    }


def gnn_layer(A, H, W):
    return torch.relu(torch.linalg.multi_dot([T(A), T(H), T(W)]))


def unrolled_tree(A, node, depth):
    if depth == 0:
        return (node, [])
    row = T(A)[node]
    return (node, [unrolled_tree(A, j, depth - 1) for j in range(len(row)) if row[j] != 0])


def lattice_as_cnn(W):
    W = T(W)
    d = W.shape[0]
    cross = T([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    neighbours = torch.einsum("oi,hw->oihw", torch.eye(d), cross)
    one_by_one = W.t().reshape(d, d, 1, 1)
    return [["conv", neighbours], ["conv", one_by_one], ["relu"]] * 2
