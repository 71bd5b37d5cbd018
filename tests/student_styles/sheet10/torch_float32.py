"""Sheet 10 in torch float32 (torch's default): autograd BPTT, nn.Linear layers for the
LSTM gates, 0-d tensor counts, a sparse adjacency."""

import torch
from torch import nn


def _f(a):
    return torch.as_tensor(a, dtype=torch.float32)


def rnn_forward(x, params):
    P = {k: _f(v) for k, v in params.items()}
    h = P["h0"]
    for t in range(len(x)):
        h = torch.tanh(P["W_hx"] @ _f(x[t]) + P["W_hh"] @ h + P["b_h"])
    return P["W_ph"] @ h + P["b_p"]


def rnn_grads(x, y, params):
    P = {k: _f(v).requires_grad_() for k, v in params.items()}
    h = P["h0"]
    for x_t in _f(x):
        h = torch.tanh(P["W_hx"] @ x_t + P["W_hh"] @ h + P["b_h"])
    p = P["W_ph"] @ h + P["b_p"]
    loss = -(_f(y) * torch.log_softmax(p, dim=0)).sum()
    grads = torch.autograd.grad(loss, [P[k] for k in ("W_ph", "b_p", "W_hh", "W_hx", "b_h")])
    return dict(zip(("W_ph", "b_p", "W_hh", "W_hx", "b_h"), grads))


def lstm_step(x, h, c, params):
    n, d = params["W_gx"].shape
    out = {}
    for gate in "gifo":
        lin_x = nn.Linear(d, n, bias=True)
        lin_h = nn.Linear(n, n, bias=False)
        with torch.no_grad():
            lin_x.weight.copy_(_f(params[f"W_{gate}x"]))
            lin_x.bias.copy_(_f(params[f"b_{gate}"]))
            lin_h.weight.copy_(_f(params[f"W_{gate}h"]))
        out[gate] = lin_x(_f(x)) + lin_h(_f(h))
    c_new = torch.tanh(out["g"]) * torch.sigmoid(out["i"]) + _f(c) * torch.sigmoid(out["f"])
    h_new = torch.tanh(c_new) * torch.sigmoid(out["o"])
    return h_new, c_new  # tensors with grad_fn


def lstm_param_count(d, n):
    return torch.tensor(4 * (d * n + n * n + n))


def gcn_adjacency(edges, num_nodes):
    """Ã as a sparse COO tensor, the way GCN libraries keep it."""
    pairs = [(k, k) for k in range(num_nodes)]
    pairs += [(u, v) for u, v in edges] + [(v, u) for u, v in edges]
    index = torch.tensor(pairs, dtype=torch.long).t()
    return torch.sparse_coo_tensor(index, torch.ones(len(pairs)), (num_nodes, num_nodes)).coalesce()


def gcn_layer(A, H, W):
    A_hat = _f(A) + torch.eye(A.shape[0])
    D = torch.diag(A_hat.sum(1) ** -0.5)
    return torch.relu(D @ A_hat @ D @ _f(H) @ _f(W))


def _bfs(edges, num_nodes, src):
    adj = [[] for _ in range(num_nodes)]
    for u, v in edges:
        adj[u].append(v)
        adj[v].append(u)
    level = {src: 0}
    todo = [src]
    while todo:
        nxt = []
        for u in todo:
            for v in adj[u]:
                if v not in level:
                    level[v] = level[u] + 1
                    nxt.append(v)
        todo = nxt
    return level


def layers_to_reach(edges, num_nodes, src, dst):
    level = _bfs(edges, num_nodes, src)
    if dst not in level:
        raise ValueError(f"{dst} unreachable from {src}")
    return torch.tensor(float(level[dst]))


def layers_to_cover(edges, num_nodes):
    best = 0
    for s in range(num_nodes):
        level = _bfs(edges, num_nodes, s)
        if len(level) != num_nodes:
            raise ValueError("disconnected")
        best = max(best, *level.values())
    return best
