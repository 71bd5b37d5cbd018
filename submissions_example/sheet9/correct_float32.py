"""Sheet 9, correct, as a student who works in torch float32: float32 tensors throughout,
autograd for every gradient (activations, convolution, the recursive network), float32
tensors or `.tolist()` lists as answers."""

import re

import torch

F32 = torch.float32


def f32(x):
    return torch.tensor(x, dtype=F32)


# Lecture recap

ACTIVATIONS = {
    "threshold": lambda z: (z >= 0).to(F32),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def activation(name, z):
    return ACTIVATIONS[name](f32(z))


def activation_grad(name, z):
    if name == "threshold":  # a step: flat everywhere autograd can see
        return torch.zeros_like(f32(z)).tolist()
    z = f32(z).requires_grad_()
    ACTIVATIONS[name](z).sum().backward()  # elementwise, so d(sum)/dz_i = g'(z_i)
    return z.grad.tolist()


# Exercise 1


def _conv1d(x, w):
    S = w.shape[2]
    T_out = x.shape[1] - S + 1
    windows = torch.stack([x[:, t : t + S] for t in range(T_out)])  # (T_out, C_in, S)
    return torch.einsum("tis,ijs->jt", windows, w)


def conv1d(x, w):
    return _conv1d(f32(x), f32(w))


def conv1d_weight_grad(x, dy_dz):
    x, dy_dz = f32(x), f32(dy_dz)
    S = x.shape[1] - dy_dz.shape[1] + 1
    w = torch.zeros(x.shape[0], dy_dz.shape[0], S, dtype=F32, requires_grad=True)
    (_conv1d(x, w) * dy_dz).sum().backward()
    return w.grad


def conv1d_input_grad(w, dE_dz):
    w, dE_dz = f32(w), f32(dE_dz)
    S = w.shape[2]
    x = torch.zeros(w.shape[0], dE_dz.shape[1] + S - 1, dtype=F32, requires_grad=True)
    (_conv1d(x, w) * dE_dz).sum().backward()
    return x.grad.tolist()


# Exercise 2


def _parse(bracketed):
    """'((a, b), c)' -> (('a', 'b'), 'c')."""
    tokens = [tok for tok in re.findall(r"[()]|[^\s(),]+", bracketed)]
    pos = 0

    def read():
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok != "(":
            return tok
        left, right = read(), read()
        pos += 1  # ")"
        return (left, right)

    return read()


def tree_equations(bracketed):
    equations = []

    def name_of(tree):
        if isinstance(tree, str):
            return tree
        left, right = name_of(tree[0]), name_of(tree[1])
        equations.append((f"a{len(equations) + 1}", left, right))
        return equations[-1][0]

    name_of(_parse(bracketed))
    return equations


def _forward(bracketed, emb, W, b, u):
    def vector(tree):
        if isinstance(tree, str):
            return emb[tree]
        return torch.tanh(W @ torch.cat([vector(tree[0]), vector(tree[1])]) + b)

    return u @ vector(_parse(bracketed))


def recursive_forward(bracketed, emb, W, b, u):
    emb = {word: f32(vec) for word, vec in emb.items()}
    return _forward(bracketed, emb, f32(W), f32(b), f32(u)).item()


def recursive_grad(bracketed, emb, W, b, u):
    W, b, u = f32(W).requires_grad_(), f32(b).requires_grad_(), f32(u).requires_grad_()
    emb = {word: f32(vec).requires_grad_() for word, vec in emb.items()}
    _forward(bracketed, emb, W, b, u).backward()

    def grad(x):  # None when x was not used (W, b for a one-word sentence; other words)
        return torch.zeros_like(x) if x.grad is None else x.grad

    return {
        "W": grad(W),
        "b": grad(b).tolist(),
        "u": grad(u),
        "emb": {word: grad(vec) for word, vec in emb.items()},
    }


# Exercise 3


def gnn_layer(A, H, W):
    return torch.relu(f32(A) @ f32(H) @ f32(W))


def unrolled_tree(A, node, depth):
    if depth == 0:
        return (node, ())
    neighbours = torch.nonzero(f32(A[node])).flatten().tolist()
    return (node, tuple(unrolled_tree(A, j, depth - 1) for j in neighbours))


def lattice_as_cnn(W):
    """One GNN layer = sum over the 4 neighbours (a 3x3 cross per channel), then W, then ReLU."""
    W = f32(W)
    d = W.shape[0]
    cross = f32([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    aggregate = torch.zeros(d, d, 3, 3, dtype=F32)
    for c in range(d):
        aggregate[c, c] = cross
    mix = W.T.reshape(d, d, 1, 1)  # out channel j = sum_i H_i W[i, j]
    return [("conv", aggregate), ("conv", mix), ("relu",)] * 2
