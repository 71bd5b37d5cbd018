"""Reference solutions for sheet 10: recurrent and graph networks.

Plain numpy that reads like the sheet's equations; the grader compares students against it.
"""

from __future__ import annotations

from collections import deque

import numpy as np

# The assignment's graph: a…f = 0…5.
SHEET_EDGES: list[tuple[int, int]] = [
    (0, 1),  # a–b
    (0, 4),  # a–e
    (0, 5),  # a–f
    (1, 2),  # b–c
    (1, 3),  # b–d
    (2, 3),  # c–d
    (3, 5),  # d–f
    (4, 5),  # e–f
]
SHEET_NUM_NODES = 6


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _log_softmax(p: np.ndarray) -> np.ndarray:
    """Shifted by the max so large logits neither overflow nor give log(0)."""
    shifted = p - p.max()
    return shifted - np.log(np.exp(shifted).sum())


def _rnn_hidden_states(x: np.ndarray, params: dict[str, np.ndarray]) -> list[np.ndarray]:
    """h_0 … h_T; BPTT needs every one of them, not just the last."""
    hs = [params["h0"]]
    for x_t in x:
        hs.append(np.tanh(params["W_hx"] @ x_t + params["W_hh"] @ hs[-1] + params["b_h"]))
    return hs


def rnn_forward(x: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """Logits p_T = W_ph h_T + b_p of the last step (the loss only looks at step T)."""
    h_T = _rnn_hidden_states(x, params)[-1]
    return params["W_ph"] @ h_T + params["b_p"]


def rnn_grads(x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """∂L/∂θ for L = −Σ_k y_k log softmax(p_T)_k by backpropagation through time:
    W_hh, W_hx and b_h act at every step, so their gradients sum the contributions
    of all T steps, while W_ph and b_p act only at T."""
    W_hh, W_ph = params["W_hh"], params["W_ph"]
    hs = _rnn_hidden_states(x, params)
    p_T = W_ph @ hs[-1] + params["b_p"]
    dp = y.sum() * np.exp(_log_softmax(p_T)) - y  # = softmax(p_T) − y for one-hot y

    grads = {
        "W_ph": np.outer(dp, hs[-1]),
        "b_p": dp,
        "W_hh": np.zeros_like(W_hh),
        "W_hx": np.zeros_like(params["W_hx"]),
        "b_h": np.zeros_like(params["b_h"]),
    }
    dh = W_ph.T @ dp
    for t in range(len(x), 0, -1):
        da = dh * (1.0 - hs[t] ** 2)  # through tanh
        grads["W_hh"] += np.outer(da, hs[t - 1])
        grads["W_hx"] += np.outer(da, x[t - 1])
        grads["b_h"] += da
        dh = W_hh.T @ da
    return grads


def lstm_step(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step; returns (h', c') in that order."""
    P = params
    g = np.tanh(P["W_gx"] @ x + P["W_gh"] @ h + P["b_g"])
    i = _sigmoid(P["W_ix"] @ x + P["W_ih"] @ h + P["b_i"])
    f = _sigmoid(P["W_fx"] @ x + P["W_fh"] @ h + P["b_f"])
    o = _sigmoid(P["W_ox"] @ x + P["W_oh"] @ h + P["b_o"])
    c_new = g * i + c * f
    h_new = np.tanh(c_new) * o
    return h_new, c_new


def lstm_param_count(d: int, n: int) -> int:
    """Four gates, each with W_·x (n×d), W_·h (n×n) and one bias (n)."""
    return 4 * (d * n + n * n + n)


def gcn_adjacency(edges: list[tuple[int, int]], num_nodes: int) -> np.ndarray:
    """Ã = A + I: the self-loop lets a node keep its own features through a layer."""
    A = np.zeros((num_nodes, num_nodes))
    for u, v in edges:
        A[u, v] = A[v, u] = 1.0
    return A + np.eye(num_nodes)


def gcn_layer(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    """ReLU(D̃^−½ Ã D̃^−½ H W); the symmetric normalisation keeps feature scales
    independent of node degree."""
    A_tilde = A + np.eye(A.shape[0])
    d_inv_sqrt = 1.0 / np.sqrt(A_tilde.sum(axis=1))
    A_hat = d_inv_sqrt[:, None] * A_tilde * d_inv_sqrt[None, :]
    return np.maximum(0.0, A_hat @ H @ W)


def _neighbours(edges: list[tuple[int, int]], num_nodes: int) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(num_nodes)]
    for u, v in edges:
        adj[u].append(v)
        adj[v].append(u)
    return adj


def _bfs_distances(adj: list[list[int]], src: int) -> list[int | None]:
    dist: list[int | None] = [None] * len(adj)
    dist[src] = 0
    queue = deque([src])
    while queue:
        u = queue.popleft()
        for v in adj[u]:
            if dist[v] is None:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist


def layers_to_reach(edges: list[tuple[int, int]], num_nodes: int, src: int, dst: int) -> int:
    """Each GCN layer moves information one edge, so this is the BFS distance src → dst."""
    dist = _bfs_distances(_neighbours(edges, num_nodes), src)[dst]
    if dist is None:
        raise ValueError(f"node {dst} cannot be reached from node {src}")
    return dist


def layers_to_cover(edges: list[tuple[int, int]], num_nodes: int) -> int:
    """Every node must hear from every node: the graph's diameter (longest shortest path)."""
    adj = _neighbours(edges, num_nodes)
    diameter = 0
    for src in range(num_nodes):
        dist = _bfs_distances(adj, src)
        if None in dist:
            raise ValueError("the graph is disconnected")
        diameter = max(diameter, *dist)
    return diameter
