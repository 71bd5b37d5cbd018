"""Sheet 9, object-oriented: layer classes with forward/backward, module-level wrappers
named as the contract asks, chatty prints at import and a __main__ demo."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

print("Loading sheet 9 solution ...")
for _k in range(300):
    print(f"  warming up {_k}", end="\r")
print()


class Activation:
    _table = {
        "threshold": (lambda z: np.where(z >= 0, 1.0, 0.0), lambda z: 0.0 * z),
        "sigmoid": (
            lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
            lambda z: 0.25 * (1.0 - np.tanh(0.5 * z) ** 2),
        ),
        "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
        "relu": (lambda z: z * (z > 0), lambda z: (z > 0) * 1.0),
    }

    def __init__(self, name: str):
        self.f, self.df = self._table[name]


def activation(name, z):
    return Activation(name).f(z)


def activation_grad(name, z):
    return Activation(name).df(z)


class Conv1D:
    """z[j, t] = sum_i sum_s w[i, j, s] x[i, t + s] ('valid')."""

    def __init__(self, w):
        self.w = np.array(w, dtype=float)

    def forward(self, x):
        S = self.w.shape[2]
        T_out = x.shape[1] - S + 1
        cols = np.stack([x[:, s : s + T_out] for s in range(S)], axis=-1)  # (C_in, T_out, S)
        return np.tensordot(self.w, cols, axes=([0, 2], [0, 2]))  # (C_out, T_out)

    def backward_input(self, g):
        C_in, C_out, S = self.w.shape
        T_out = g.shape[1]
        dx = np.zeros((C_in, T_out + S - 1))
        for s in range(S):
            dx[:, s : s + T_out] += self.w[:, :, s] @ g
        return dx

    @staticmethod
    def backward_weight(x, g):
        T_out = g.shape[1]
        S = x.shape[1] - T_out + 1
        return np.stack([x[:, s : s + T_out] @ g.T for s in range(S)], axis=-1)


def conv1d(x, w, stride=1):  # an unused extra keyword with a default
    assert stride == 1
    return Conv1D(w).forward(x)


def conv1d_weight_grad(x, dy_dz):
    return Conv1D.backward_weight(x, dy_dz)


def conv1d_input_grad(w, dE_dz):
    return Conv1D(w).backward_input(dE_dz)


@dataclass
class Node:
    left: "Node | str"
    right: "Node | str"
    name: str = ""
    a: np.ndarray = field(default=None, repr=False)
    cat: np.ndarray = field(default=None, repr=False)


class Parser:
    def __init__(self, text):
        self.tokens = deque()
        word = []
        for ch in text:
            if ch.isspace() or ch in "(),":
                if word:
                    self.tokens.append("".join(word))
                    word = []
                if ch in "(),":
                    self.tokens.append(ch)
            else:
                word.append(ch)
        if word:
            self.tokens.append("".join(word))
        self.nodes: list[Node] = []

    def parse(self):
        tok = self.tokens.popleft()
        if tok != "(":
            return tok
        left = self.parse()
        assert self.tokens.popleft() == ","
        right = self.parse()
        assert self.tokens.popleft() == ")"
        node = Node(left, right, name=f"a{len(self.nodes) + 1}")
        self.nodes.append(node)
        return node


def _label(t):
    return t if isinstance(t, str) else t.name


def tree_equations(bracketed):
    p = Parser(bracketed)
    p.parse()
    return [(n.name, _label(n.left), _label(n.right)) for n in p.nodes]


class RecursiveNet:
    def __init__(self, emb, W, b, u):
        self.emb, self.W, self.b, self.u = emb, W, b, u

    def value(self, t):
        return self.emb[t] if isinstance(t, str) else t.a

    def forward(self, bracketed):
        p = Parser(bracketed)
        self.root = p.parse()
        self.nodes = p.nodes
        for n in self.nodes:  # post-order: children first
            n.cat = np.concatenate([self.value(n.left), self.value(n.right)])
            n.a = np.tanh(self.W @ n.cat + self.b)
        return float(self.u @ self.value(self.root))

    def backward(self):
        d = len(self.b)
        delta = {id(self.root): self.u.copy()} if self.nodes else {}
        gW, gb = np.zeros_like(self.W), np.zeros_like(self.b)
        gemb = {}

        def send(child, g):
            if isinstance(child, str):
                gemb[child] = gemb.get(child, np.zeros(d)) + g
            else:
                delta[id(child)] = delta.get(id(child), 0) + g

        if not self.nodes:
            send(self.root, self.u)
        for n in reversed(self.nodes):
            dz = delta[id(n)] * (1 - n.a**2)
            gW += np.outer(dz, n.cat)
            gb += dz
            back = self.W.T @ dz
            send(n.left, back[:d])
            send(n.right, back[d:])
        return {"W": gW, "b": gb, "u": self.value(self.root), "emb": gemb}


def recursive_forward(bracketed, emb, W, b, u):
    return RecursiveNet(emb, W, b, u).forward(bracketed)


def recursive_grad(bracketed, emb, W, b, u):
    net = RecursiveNet(emb, W, b, u)
    net.forward(bracketed)
    return net.backward()


class GNN:
    def __init__(self, A):
        self.A = A

    def layer(self, H, W):
        return np.maximum(0, np.linalg.multi_dot([self.A, H, W]))

    def tree(self, node, depth):
        if depth == 0:
            return (node, ())
        return (node, tuple(self.tree(int(j), depth - 1) for j in sorted(np.nonzero(self.A[node])[0])))


def gnn_layer(A, H, W):
    return GNN(A).layer(H, W)


def unrolled_tree(A, node, depth):
    return GNN(A).tree(node, depth)


def lattice_as_cnn(W):
    """Channels expanded to 2d in the middle: the aggregation is split into
    up/down and left/right neighbour sums, which the 1x1 conv adds back."""
    d = len(W)
    ud = np.array([[0, 1, 0], [0, 0, 0], [0, 1, 0]], float)
    lr = ud.T
    agg = np.zeros((2 * d, d, 3, 3))
    for c in range(d):
        agg[c, c], agg[d + c, c] = ud, lr
    mix = np.concatenate([W.T, W.T], axis=1)[:, :, None, None]  # (d, 2d, 1, 1)
    layers = []
    for _ in range(2):
        layers += [("conv", agg), ("conv", mix), ("relu",)]
    return layers


if __name__ == "__main__":
    x = np.array([[1.0, 2, 4, 8]])
    print(conv1d(x, np.array([[[1.0, 10]]])))
    print(tree_equations("((the, cat), (sat, (on, (the, mat))))"))
    print(math.pi, unrolled_tree(np.array([[0, 1], [1, 0]]), 0, 2))
