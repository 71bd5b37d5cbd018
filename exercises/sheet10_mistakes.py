"""Known wrong answers to sheet 10, each with the hint a TA would give.

A student's output that matches one of these implementations gets its message instead of a
bare "wrong value", so the feedback names the slip rather than just the symptom.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reference.sheet10 import (
    _bfs_distances,
    _log_softmax,
    _neighbours,
    _rnn_hidden_states,
    _sigmoid,
    gcn_adjacency,
    layers_to_reach,
    lstm_step,
    rnn_forward,
)

Params = dict[str, np.ndarray]


# ---- RNN ------------------------------------------------------------------------------------


def _rnn_grads_variant(
    x: np.ndarray,
    y: np.ndarray,
    params: Params,
    *,
    all_steps: bool = True,
    truncate: int | None = None,
    tanh_prime: bool = True,
    sign: float = 1.0,
) -> dict[str, np.ndarray]:
    hs = _rnn_hidden_states(x, params)
    p_T = params["W_ph"] @ hs[-1] + params["b_p"]
    dp = sign * (np.exp(_log_softmax(p_T)) - y)
    grads = {
        "W_ph": np.outer(dp, hs[-1]),
        "b_p": dp,
        "W_hh": np.zeros_like(params["W_hh"]),
        "W_hx": np.zeros_like(params["W_hx"]),
        "b_h": np.zeros_like(params["b_h"]),
    }
    dh = params["W_ph"].T @ dp
    first = 1 if truncate is None else max(len(x) - truncate + 1, 1)
    steps = range(len(x), first - 1, -1) if all_steps else [len(x)]
    for t in steps:
        da = dh * (1.0 - hs[t] ** 2) if tanh_prime else dh
        grads["W_hh"] += np.outer(da, hs[t - 1])
        grads["W_hx"] += np.outer(da, x[t - 1])
        grads["b_h"] += da
        dh = params["W_hh"].T @ da
    return grads


def _rnn_grads_last_step_only(x: np.ndarray, y: np.ndarray, params: Params) -> dict:
    return _rnn_grads_variant(x, y, params, all_steps=False)


def _rnn_grads_truncated(x: np.ndarray, y: np.ndarray, params: Params) -> dict:
    return _rnn_grads_variant(x, y, params, truncate=5)


def _rnn_grads_clipped(x: np.ndarray, y: np.ndarray, params: Params) -> dict:
    return {k: np.clip(g, -5.0, 5.0) for k, g in _rnn_grads_variant(x, y, params).items()}


def _rnn_grads_no_tanh_prime(x: np.ndarray, y: np.ndarray, params: Params) -> dict:
    return _rnn_grads_variant(x, y, params, tanh_prime=False)


def _rnn_grads_wrong_sign(x: np.ndarray, y: np.ndarray, params: Params) -> dict:
    return _rnn_grads_variant(x, y, params, sign=-1.0)


def _rnn_grads_transposed(x: np.ndarray, y: np.ndarray, params: Params) -> dict:
    grads = _rnn_grads_variant(x, y, params)
    return {k: g.T if g.ndim == 2 and g.shape[0] == g.shape[1] else g for k, g in grads.items()}


def _rnn_forward_softmax(x: np.ndarray, params: Params) -> np.ndarray:
    return np.exp(_log_softmax(rnn_forward(x, params)))


def _rnn_forward_every_step(x: np.ndarray, params: Params) -> np.ndarray:
    hs = np.array(_rnn_hidden_states(x, params)[1:])
    return hs @ params["W_ph"].T + params["b_p"]


# ---- LSTM -----------------------------------------------------------------------------------


def _lstm_gates(x: np.ndarray, h: np.ndarray, params: Params) -> tuple[np.ndarray, ...]:
    P = params
    g = np.tanh(P["W_gx"] @ x + P["W_gh"] @ h + P["b_g"])
    i = _sigmoid(P["W_ix"] @ x + P["W_ih"] @ h + P["b_i"])
    f = _sigmoid(P["W_fx"] @ x + P["W_fh"] @ h + P["b_f"])
    o = _sigmoid(P["W_ox"] @ x + P["W_oh"] @ h + P["b_o"])
    return g, i, f, o


def _lstm_output_uses_forget_gate(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray]:
    g, i, f, _ = _lstm_gates(x, h, params)
    c_new = g * i + c * f
    return np.tanh(c_new) * f, c_new


def _lstm_no_forget_gate(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray]:
    g, i, _, o = _lstm_gates(x, h, params)
    c_new = g * i + c
    return np.tanh(c_new) * o, c_new


def _lstm_output_without_tanh(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray]:
    g, i, f, o = _lstm_gates(x, h, params)
    c_new = g * i + c * f
    return c_new * o, c_new


def _lstm_swapped_outputs(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray]:
    h_new, c_new = lstm_step(x, h, c, params)
    return c_new, h_new


# ---- parameter count ------------------------------------------------------------------------


def _lstm_count_two_biases(d: int, n: int) -> int:
    return 4 * (d * n + n * n + 2 * n)


def _lstm_count_no_factor_four(d: int, n: int) -> int:
    return d * n + n * n + n


def _lstm_count_no_biases(d: int, n: int) -> int:
    return 4 * (d * n + n * n)


# ---- GCN ------------------------------------------------------------------------------------


def _adjacency_no_self_loops(edges: list[tuple[int, int]], num_nodes: int) -> np.ndarray:
    return gcn_adjacency(edges, num_nodes) - np.eye(num_nodes)


def _adjacency_directed(edges: list[tuple[int, int]], num_nodes: int) -> np.ndarray:
    A = np.eye(num_nodes)
    for u, v in edges:
        A[u, v] = 1.0
    return A


def _gcn_row_normalised(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    A_tilde = A + np.eye(A.shape[0])
    return np.maximum(0.0, (A_tilde / A_tilde.sum(axis=1, keepdims=True)) @ H @ W)


def _gcn_unnormalised(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, (A + np.eye(A.shape[0])) @ H @ W)


def _gcn_no_self_loops(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    deg = A.sum(axis=1)
    d_inv_sqrt = np.where(deg > 0, 1.0 / np.sqrt(np.where(deg > 0, deg, 1.0)), 0.0)
    return np.maximum(0.0, d_inv_sqrt[:, None] * A * d_inv_sqrt[None, :] @ H @ W)


def _gcn_no_relu(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    A_tilde = A + np.eye(A.shape[0])
    d_inv_sqrt = 1.0 / np.sqrt(A_tilde.sum(axis=1))
    return d_inv_sqrt[:, None] * A_tilde * d_inv_sqrt[None, :] @ H @ W


# ---- receptive field ------------------------------------------------------------------------


def _reach_counts_nodes(edges: list[tuple[int, int]], num_nodes: int, src: int, dst: int) -> int:
    return layers_to_reach(edges, num_nodes, src, dst) + 1


def _reach_no_error(edges: list[tuple[int, int]], num_nodes: int, src: int, dst: int) -> int:
    dist = _bfs_distances(_neighbours(edges, num_nodes), src)[dst]
    return -1 if dist is None else dist


def _cover_nodes_minus_one(edges: list[tuple[int, int]], num_nodes: int) -> int:
    return num_nodes - 1


def _cover_radius(edges: list[tuple[int, int]], num_nodes: int) -> int:
    adj = _neighbours(edges, num_nodes)
    eccentricities = []
    for src in range(num_nodes):
        dist = _bfs_distances(adj, src)
        if None in dist:
            raise ValueError("the graph is disconnected")
        eccentricities.append(max(dist))
    return min(eccentricities)


def _cover_double_sweep(edges: list[tuple[int, int]], num_nodes: int) -> int:
    """BFS from node 0 to the first farthest node u, then u's eccentricity: exact on trees,
    a lower bound on the diameter elsewhere."""
    adj = _neighbours(edges, num_nodes)
    dist = _bfs_distances(adj, 0)
    if None in dist:
        raise ValueError("the graph is disconnected")
    u = dist.index(max(dist))
    return max(_bfs_distances(adj, u))


MISTAKES: dict[str, list[tuple[str, str, Callable[..., Any]]]] = {
    "rnn_forward": [
        (
            "returns_softmax",
            "Return the logits p_T = W_ph h_T + b_p, not softmax(p_T).",
            _rnn_forward_softmax,
        ),
        (
            "returns_every_step",
            "Return only the last step's logits p_T, of shape (K,): not p_t for every t, "
            "nor a (1, K) row.",
            _rnn_forward_every_step,
        ),
    ],
    "rnn_grads": [
        (
            "last_step_only",
            "Your ∂L/∂W_hh (and ∂L/∂W_hx, ∂L/∂b_h) only uses the last time step: "
            "backpropagate through every step and sum.",
            _rnn_grads_last_step_only,
        ),
        (
            "truncated_bptt",
            "Backpropagate through all T steps: yours stops after the last 5 (truncated BPTT).",
            _rnn_grads_truncated,
        ),
        (
            "clipped",
            "Don't clip: return the exact gradient, entries beyond ±5 included; clip in training.",
            _rnn_grads_clipped,
        ),
        (
            "no_tanh_derivative",
            "You skipped tanh′: multiply by (1 − h_t²) each time you pass back through h_t.",
            _rnn_grads_no_tanh_prime,
        ),
        (
            "wrong_sign",
            "Sign flipped: ∂L/∂p_T = softmax(p_T) − y, not y − softmax(p_T).",
            _rnn_grads_wrong_sign,
        ),
        (
            "transposed",
            "A gradient is transposed: ∂L/∂W has W's layout, e.g. ∂L/∂W_hh = Σ_t δ_t h_{t−1}ᵀ.",
            _rnn_grads_transposed,
        ),
    ],
    "lstm_step": [
        (
            "output_uses_forget_gate",
            "The output gate controls h: h' = tanh(c') ⊙ o, not tanh(c') ⊙ f.",
            _lstm_output_uses_forget_gate,
        ),
        (
            "no_forget_gate",
            "The old cell is scaled by the forget gate: c' = g ⊙ i + c ⊙ f.",
            _lstm_no_forget_gate,
        ),
        (
            "output_without_tanh",
            "Squash the cell before gating it: h' = tanh(c') ⊙ o.",
            _lstm_output_without_tanh,
        ),
        (
            "swapped_outputs",
            "Return (h_new, c_new) in that order: yours looks swapped.",
            _lstm_swapped_outputs,
        ),
    ],
    "lstm_param_count": [
        (
            "two_biases",
            "Each gate has one bias vector here (PyTorch's second bias is not part of this model).",
            _lstm_count_two_biases,
        ),
        (
            "no_factor_four",
            "There are four gates (g, i, f, o), each with its own weights and bias: multiply by 4.",
            _lstm_count_no_factor_four,
        ),
        (
            "no_biases",
            "Count the biases too: each of the four gates has a bias of length n.",
            _lstm_count_no_biases,
        ),
    ],
    "gcn_adjacency": [
        (
            "no_self_loops",
            "Ã = A + I: add the self-loops (ones on the diagonal).",
            _adjacency_no_self_loops,
        ),
        (
            "directed",
            "The graph is undirected: set both Ã[u, v] and Ã[v, u] for each edge.",
            _adjacency_directed,
        ),
    ],
    "gcn_layer": [
        (
            "row_normalisation",
            "Use the symmetric normalisation D̃^−½ Ã D̃^−½, not the row normalisation D̃^−1 Ã.",
            _gcn_row_normalised,
        ),
        (
            "no_normalisation",
            "Normalise the adjacency: ReLU(D̃^−½ Ã D̃^−½ H W), not ReLU(Ã H W).",
            _gcn_unnormalised,
        ),
        (
            "no_self_loops",
            "A comes without self-loops: form Ã = A + I (and its degrees) yourself.",
            _gcn_no_self_loops,
        ),
        (
            "no_relu",
            "Apply the ReLU at the end: ReLU(D̃^−½ Ã D̃^−½ H W).",
            _gcn_no_relu,
        ),
    ],
    "layers_to_reach": [
        (
            "counts_nodes",
            "One layer per edge on the shortest path, not per node: you are off by one.",
            _reach_counts_nodes,
        ),
        (
            "no_error_when_unreachable",
            "Raise ValueError when dst cannot be reached from src.",
            _reach_no_error,
        ),
    ],
    "layers_to_cover": [
        (
            "nodes_minus_one",
            "Not num_nodes − 1: the answer is the longest shortest path (the diameter).",
            _cover_nodes_minus_one,
        ),
        (
            "radius",
            "That is the radius (the best-placed node); every node must hear from every node: "
            "take the diameter.",
            _cover_radius,
        ),
        (
            "double_sweep",
            "Two BFS sweeps find a tree's diameter but can fall short on other graphs: "
            "BFS from every node.",
            _cover_double_sweep,
        ),
    ],
}
