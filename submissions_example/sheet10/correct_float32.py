"""Sheet 10, correct, as a student who works in torch float32: float32 tensors throughout,
autograd for the RNN's gradients, float32 tensors or `.tolist()` lists as answers."""

import torch

F32 = torch.float32


def f32(x):
    return torch.tensor(x, dtype=F32)


# Vanilla RNN


def _rnn(x, p):
    h = p["h0"]
    for x_t in x:
        h = torch.tanh(p["W_hx"] @ x_t + p["W_hh"] @ h + p["b_h"])
    return p["W_ph"] @ h + p["b_p"]


def rnn_forward(x, params):
    p = {k: f32(v) for k, v in params.items()}
    return _rnn(f32(x), p).tolist()


def rnn_grads(x, y, params):
    p = {k: f32(v).requires_grad_() for k, v in params.items()}
    logits = _rnn(f32(x), p)
    L = -(f32(y) * torch.log_softmax(logits, dim=0)).sum()
    L.backward()
    return {k: p[k].grad for k in ("W_ph", "b_p", "W_hh", "W_hx", "b_h")}


# LSTM


def lstm_step(x, h, c, params):
    x, h, c = f32(x), f32(h), f32(c)
    p = {k: f32(v) for k, v in params.items()}

    def gate(name, squash):
        return squash(p[f"W_{name}x"] @ x + p[f"W_{name}h"] @ h + p[f"b_{name}"])

    g = gate("g", torch.tanh)
    i = gate("i", torch.sigmoid)
    f = gate("f", torch.sigmoid)
    o = gate("o", torch.sigmoid)
    c_new = g * i + c * f
    h_new = torch.tanh(c_new) * o
    return h_new, c_new.tolist()


def lstm_param_count(d, n):
    return 4 * (d * n + n * n + n)


# Graph convolution


def gcn_adjacency(edges, num_nodes):
    A = torch.eye(num_nodes, dtype=F32)
    for i, j in edges:
        A[i, j] = A[j, i] = 1.0
    return A


def gcn_layer(A, H, W):
    A_tilde = f32(A) + torch.eye(len(A), dtype=F32)
    d_inv_sqrt = A_tilde.sum(dim=1).rsqrt()
    A_hat = d_inv_sqrt[:, None] * A_tilde * d_inv_sqrt[None, :]
    return torch.relu(A_hat @ f32(H) @ f32(W))


def _hops(edges, num_nodes, src):
    """Breadth-first distances from src (None where unreachable)."""
    neighbours = {v: set() for v in range(num_nodes)}
    for i, j in edges:
        neighbours[i].add(j)
        neighbours[j].add(i)
    dist = [None] * num_nodes
    dist[src] = 0
    frontier = [src]
    while frontier:
        nxt = []
        for v in frontier:
            for u in neighbours[v]:
                if dist[u] is None:
                    dist[u] = dist[v] + 1
                    nxt.append(u)
        frontier = nxt
    return dist


def layers_to_reach(edges, num_nodes, src, dst):
    hops = _hops(edges, num_nodes, src)[dst]
    if hops is None:
        raise ValueError(f"node {dst} cannot be reached from node {src}")
    return hops


def layers_to_cover(edges, num_nodes):
    worst = 0
    for src in range(num_nodes):
        dist = _hops(edges, num_nodes, src)
        if None in dist:
            raise ValueError("the graph is disconnected")
        worst = max(worst, *dist)
    return worst
