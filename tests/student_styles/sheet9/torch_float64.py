"""Sheet 9 with torch: autograd for every derivative, F.conv1d / conv_transpose1d,
tensors returned (some with requires_grad, some 0-d), nn.Conv2d weights for the lattice."""

import re

import torch
import torch.nn.functional as F
from torch import nn

torch.set_default_dtype(torch.float64)


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _act(name, z):
    if name == "threshold":
        return (z >= 0).to(z.dtype)
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    raise ValueError(f"unknown activation {name}")


def activation(name, z):
    return _act(name, _t(z))


def activation_grad(name, z):
    z = _t(z, grad=True)
    out = _act(name, z)
    if not out.requires_grad:  # threshold: piecewise constant
        return torch.zeros_like(z)
    (g,) = torch.autograd.grad(out.sum(), z)
    return g


def conv1d(x, w):
    # F.conv1d is a cross-correlation with weight (C_out, C_in, S)
    return F.conv1d(_t(x)[None], _t(w).permute(1, 0, 2))[0]


def conv1d_weight_grad(x, dy_dz):
    x, g = _t(x), _t(dy_dz)
    S = x.shape[1] - g.shape[1] + 1
    w = torch.zeros(x.shape[0], g.shape[0], S, requires_grad=True)
    z = F.conv1d(x[None], w.permute(1, 0, 2))[0]
    (z * g).sum().backward()
    return w.grad


def conv1d_input_grad(w, dE_dz):
    return F.conv_transpose1d(_t(dE_dz)[None], _t(w).permute(1, 0, 2))[0]


def _parse(s):
    stack = [[]]
    for tok in re.findall(r"[^\s(),]+|[()]", s):
        if tok == "(":
            stack.append([])
        elif tok == ")":
            kids = stack.pop()
            stack[-1].append(tuple(kids))
        else:
            stack[-1].append(tok)
    return stack[0][0]


def tree_equations(bracketed):
    out = []

    def walk(node):
        if isinstance(node, str):
            return node
        l, r = walk(node[0]), walk(node[1])
        out.append((f"a{len(out) + 1}", l, r))
        return out[-1][0]

    walk(_parse(bracketed))
    return out


def _y(tree, emb, W, b, u):
    def a(node):
        if isinstance(node, str):
            return emb[node]
        return torch.tanh(W @ torch.cat([a(node[0]), a(node[1])]) + b)

    return u @ a(tree)


def recursive_forward(bracketed, emb, W, b, u):
    emb = {k: _t(v) for k, v in emb.items()}
    return _y(_parse(bracketed), emb, _t(W), _t(b), _t(u))  # a 0-d tensor


def recursive_grad(bracketed, emb, W, b, u):
    tree = _parse(bracketed)
    used = set(re.findall(r"[^\s(),]+", bracketed))
    E = {k: _t(v, grad=True) for k, v in emb.items()}
    W, b, u = _t(W, True), _t(b, True), _t(u, True)
    y = _y(tree, E, W, b, u)
    leaves = [E[k] for k in used]
    grads = torch.autograd.grad(y, [W, b, u, *leaves], allow_unused=True)
    gW, gb, gu, *ge = grads
    gW = torch.zeros_like(W) if gW is None else gW
    gb = torch.zeros_like(b) if gb is None else gb
    return {"W": gW, "b": gb, "u": gu, "emb": dict(zip(used, ge))}


def gnn_layer(A, H, W):
    return torch.relu(_t(A) @ _t(H) @ _t(W))


def unrolled_tree(A, node, depth):
    A = torch.as_tensor(A)
    if depth == 0:
        return (node, ())
    neighbours = torch.nonzero(A[node]).flatten()  # 0-d int64 tensors as labels
    return (node, tuple(unrolled_tree(A, j, depth - 1) for j in neighbours))


def lattice_as_cnn(W):
    W = _t(W)
    d = W.shape[0]
    neighbours = nn.Conv2d(d, d, 3, padding=1, bias=False)
    mix = nn.Conv2d(d, d, 1, bias=False)
    with torch.no_grad():
        cross = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        neighbours.weight.copy_(torch.eye(d)[:, :, None, None] * cross)
        mix.weight.copy_(W.T[:, :, None, None])
    return [
        ("conv", neighbours.weight),
        ("conv", mix.weight),
        ("relu",),
        ("conv", neighbours.weight),
        ("conv", mix.weight),
        ("relu",),
    ]
