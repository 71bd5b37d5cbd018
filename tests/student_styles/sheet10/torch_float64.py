"""Sheet 10 with torch float64 and autograd: rnn_grads by backward(), LSTM step with
torch, the parameter count read off torch.nn.LSTMCell, graph answers as tensors."""

import torch
import torch.nn.functional as F
from torch import nn


def _p(params, grad=False):
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=grad) for k, v in params.items()}


def _forward(x, P):
    h = P["h0"]
    for x_t in torch.as_tensor(x, dtype=torch.float64):
        h = torch.tanh(P["W_hx"] @ x_t + P["W_hh"] @ h + P["b_h"])
    return P["W_ph"] @ h + P["b_p"]


def rnn_forward(x, params):
    return _forward(x, _p(params))


def rnn_grads(x, y, params):
    P = _p(params, grad=True)
    p = _forward(x, P)
    loss = F.cross_entropy(p[None], torch.as_tensor(y)[None])  # y as class probabilities
    loss.backward()
    return {k: P[k].grad for k in ("W_ph", "b_p", "W_hh", "W_hx", "b_h")}


def lstm_step(x, h, c, params):
    P = _p(params)
    x, h, c = (torch.as_tensor(v) for v in (x, h, c))

    def gate(name, act):
        return act(P[f"W_{name}x"] @ x + P[f"W_{name}h"] @ h + P[f"b_{name}"])

    g, i, f, o = gate("g", torch.tanh), gate("i", torch.sigmoid), gate("f", torch.sigmoid), gate("o", torch.sigmoid)
    c_new = g * i + c * f
    return torch.tanh(c_new) * o, c_new


def lstm_param_count(d, n):
    # LSTMCell keeps two bias vectors (b_ih and b_hh) per gate; the sheet's model has one.
    cell = nn.LSTMCell(d, n)
    total = sum(p.numel() for p in cell.parameters())
    return total - cell.bias_hh.numel()


def gcn_adjacency(edges, num_nodes):
    A = torch.eye(num_nodes, dtype=torch.int64)
    if edges:
        e = torch.tensor(edges)
        A[e[:, 0], e[:, 1]] = 1
        A[e[:, 1], e[:, 0]] = 1
    return A


def gcn_layer(A, H, W):
    A = torch.as_tensor(A) + torch.eye(len(A), dtype=torch.float64)
    d = A.sum(dim=1).pow(-0.5)
    return torch.relu(d[:, None] * A * d[None, :] @ torch.as_tensor(H) @ torch.as_tensor(W))


def _reach_matrix(edges, num_nodes):
    return gcn_adjacency(edges, num_nodes).to(torch.float64)


def layers_to_reach(edges, num_nodes, src, dst):
    A = _reach_matrix(edges, num_nodes)
    seen = torch.zeros(num_nodes, dtype=torch.float64)
    seen[src] = 1
    for k in range(num_nodes):
        if seen[dst] > 0:
            return torch.tensor(k)  # a 0-d int64 tensor
        seen = (A @ seen > 0).double()
    raise ValueError("dst is not reachable from src")


def layers_to_cover(edges, num_nodes):
    A = _reach_matrix(edges, num_nodes)
    R = torch.eye(num_nodes, dtype=torch.float64)
    for k in range(num_nodes):
        if bool((R > 0).all()):
            return k
        R = ((A @ R) > 0).double()
    raise ValueError("disconnected graph")
