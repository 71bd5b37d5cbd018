"""Sheet 9, correct, in torch: autograd for the gradients, F.conv1d, lists for the structures.

Activations come back as float32 (exact enough there); everything with cancellations stays
float64. Node labels of the unrolled trees are 0-d torch tensors, as torch.nonzero gives them.
"""

import torch
import torch.nn.functional as F

f64 = torch.float64


def t(a):
    return torch.as_tensor(a, dtype=f64)


ACT = {
    "threshold": lambda z: (z >= 0).to(z.dtype),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


# Lecture recap
def activation(name, z):
    return ACT[name](torch.as_tensor(z, dtype=torch.float32))


def activation_grad(name, z):
    z = t(z).clone().requires_grad_(True)
    out = ACT[name](z)
    if not out.requires_grad:  # the threshold is flat
        return torch.zeros_like(z).detach()
    out.sum().backward()
    return z.grad


# Exercise 1: the contract's w is (C_in, C_out, S), torch wants (C_out, C_in, S)
def conv1d(x, w):
    return F.conv1d(t(x)[None], t(w).permute(1, 0, 2))[0]


def conv1d_weight_grad(x, dy_dz):
    x, dy_dz = t(x), t(dy_dz)
    S = x.shape[1] - dy_dz.shape[1] + 1
    w = torch.zeros(x.shape[0], dy_dz.shape[0], S, dtype=f64, requires_grad=True)
    (dy_dz * conv1d(x, w)).sum().backward()
    return w.grad


def conv1d_input_grad(w, dE_dz):
    w, dE_dz = t(w), t(dE_dz)
    x = torch.zeros(w.shape[0], dE_dz.shape[1] + w.shape[2] - 1, dtype=f64, requires_grad=True)
    (dE_dz * conv1d(x, w)).sum().backward()
    return x.grad


# Exercise 2
def parse(text):
    text = text.replace("(", " ( ").replace(")", " ) ").replace(",", " ")
    tokens = text.split()

    def read(i):
        if tokens[i] != "(":
            return tokens[i], i + 1
        left, i = read(i + 1)
        right, i = read(i)
        return [left, right], i + 1

    return read(0)[0]


def tree_equations(bracketed):
    eqs = []

    def name(tree):
        if isinstance(tree, str):
            return tree
        left, right = name(tree[0]), name(tree[1])
        eqs.append([f"a{len(eqs) + 1}", left, right])
        return eqs[-1][0]

    name(parse(bracketed))
    return eqs


def _y(tree, emb, W, b, u):
    def phi(tree):
        if isinstance(tree, str):
            return emb[tree]
        return torch.tanh(W @ torch.cat([phi(tree[0]), phi(tree[1])]) + b)

    return u @ phi(tree)


def recursive_forward(bracketed, emb, W, b, u):
    emb = {k: t(v) for k, v in emb.items()}
    return _y(parse(bracketed), emb, t(W), t(b), t(u)).item()


def recursive_grad(bracketed, emb, W, b, u):
    emb = {k: t(v).requires_grad_(True) for k, v in emb.items()}
    W, b, u = (t(p).requires_grad_(True) for p in (W, b, u))
    _y(parse(bracketed), emb, W, b, u).backward()
    zeros = torch.zeros_like(b)
    return {
        "W": W.grad if W.grad is not None else torch.zeros_like(W),
        "b": b.grad if b.grad is not None else zeros,
        "u": u.grad,
        "emb": {k: v.grad if v.grad is not None else zeros for k, v in emb.items()},
    }


# Exercise 3
def gnn_layer(A, H, W):
    return torch.relu(t(A) @ t(H) @ t(W))


def unrolled_tree(A, node, depth):
    if depth == 0:
        return [node, []]
    neighbours = torch.nonzero(t(A)[node]).flatten()
    return [node, [unrolled_tree(A, j, depth - 1) for j in neighbours]]


def lattice_as_cnn(W):
    W = t(W)
    d = W.shape[0]
    plus = torch.tensor([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=torch.float32)
    neighbours = torch.einsum("ij,kl->ijkl", torch.eye(d), plus)
    mix = W.T[:, :, None, None]
    layers = [["conv", neighbours], ["conv", mix], ("relu",)]
    return layers + layers
