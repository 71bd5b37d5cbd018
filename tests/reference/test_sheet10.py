"""Sheet 10 reference vs independent truths: torch modules and autograd, brute-force
dependency propagation, and the numbers the seed text prints."""

from __future__ import annotations

import inspect
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from exercises.sheet10_mistakes import MISTAKES
from reference import sheet10
from reference.sheet10 import (
    SHEET_EDGES,
    SHEET_NUM_NODES,
    gcn_adjacency,
    gcn_layer,
    layers_to_cover,
    layers_to_reach,
    lstm_param_count,
    lstm_step,
    rnn_forward,
    rnn_grads,
)

F64 = torch.float64
RNN_SHAPES = [(1, 3, 4, 2), (2, 1, 1, 3), (5, 3, 4, 3), (4, 4, 4, 4), (7, 2, 5, 6)]  # T, d, n, K


def _rnn_params(rng: np.random.Generator, d: int, n: int, K: int, scale: float = 0.7) -> dict:
    return {
        "W_hx": rng.normal(0, scale, (n, d)),
        "W_hh": rng.normal(0, scale, (n, n)),
        "b_h": rng.normal(0, scale, n),
        "W_ph": rng.normal(0, scale, (K, n)),
        "b_p": rng.normal(0, scale, K),
        "h0": rng.normal(0, scale, n),
    }


def _torch_rnn(params: dict, d: int, n: int) -> torch.nn.RNN:
    rnn = torch.nn.RNN(d, n, nonlinearity="tanh", dtype=F64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["W_hx"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["W_hh"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b_h"]))
        rnn.bias_hh_l0.zero_()
    return rnn


def _torch_rnn_logits(rnn: torch.nn.RNN, x: np.ndarray, params: dict, W_ph, b_p) -> torch.Tensor:
    h0 = torch.from_numpy(params["h0"]).unsqueeze(0)
    _, h_T = rnn(torch.from_numpy(x), h0)
    return W_ph @ h_T[0] + b_p


# ---- RNN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("T", "d", "n", "K"), RNN_SHAPES)
def test_rnn_forward_matches_torch_rnn(T: int, d: int, n: int, K: int) -> None:
    rng = np.random.default_rng(T * 1000 + d * 100 + n * 10 + K)
    params, x = _rnn_params(rng, d, n, K), rng.normal(size=(T, d))
    rnn = _torch_rnn(params, d, n)
    expected = _torch_rnn_logits(
        rnn, x, params, torch.from_numpy(params["W_ph"]), torch.from_numpy(params["b_p"])
    )
    got = rnn_forward(x, params)
    assert got.shape == (K,)
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("T", "d", "n", "K"), RNN_SHAPES)
@pytest.mark.parametrize("scale", [0.7, 40.0])
def test_rnn_grads_match_torch_autograd(T: int, d: int, n: int, K: int, scale: float) -> None:
    """scale=40 saturates tanh and gives logits in the hundreds: checks the stable softmax."""
    rng = np.random.default_rng(7 + T * 1000 + d * 100 + n * 10 + K)
    params, x = _rnn_params(rng, d, n, K, scale), rng.normal(size=(T, d))
    label = int(rng.integers(K))
    y = np.eye(K)[label]

    rnn = _torch_rnn(params, d, n)
    W_ph = torch.tensor(params["W_ph"], requires_grad=True)
    b_p = torch.tensor(params["b_p"], requires_grad=True)
    logits = _torch_rnn_logits(rnn, x, params, W_ph, b_p)
    F.cross_entropy(logits.unsqueeze(0), torch.tensor([label])).backward()
    expected = {
        "W_ph": W_ph.grad,
        "b_p": b_p.grad,
        "W_hh": rnn.weight_hh_l0.grad,
        "W_hx": rnn.weight_ih_l0.grad,
        "b_h": rnn.bias_ih_l0.grad,
    }

    got = rnn_grads(x, y, params)
    assert set(got) == set(expected)
    for key, grad in expected.items():
        assert got[key].shape == params[key].shape, key
        assert np.all(np.isfinite(got[key])), key
        np.testing.assert_allclose(got[key], grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)


def test_rnn_grads_reach_the_first_step() -> None:
    """Guards against a BPTT that silently truncates: x_1 must influence ∂L/∂W_hx."""
    rng = np.random.default_rng(3)
    params, x = _rnn_params(rng, 2, 3, 2), rng.normal(size=(4, 2))
    y = np.array([0.0, 1.0])
    x_changed = x.copy()
    x_changed[0] += 1.0
    assert not np.allclose(rnn_grads(x, y, params)["W_hx"], rnn_grads(x_changed, y, params)["W_hx"])


# ---- LSTM -----------------------------------------------------------------------------------

GATES = ("i", "f", "g", "o")  # torch's stacking order


def _lstm_params(rng: np.random.Generator, d: int, n: int) -> dict:
    params = {}
    for gate in GATES:
        params[f"W_{gate}x"] = rng.normal(size=(n, d))
        params[f"W_{gate}h"] = rng.normal(size=(n, n))
        params[f"b_{gate}"] = rng.normal(size=n)
    return params


@pytest.mark.parametrize(("d", "n"), [(1, 1), (3, 4), (5, 2), (4, 4)])
def test_lstm_step_matches_torch_lstm_cell(d: int, n: int) -> None:
    rng = np.random.default_rng(d * 10 + n)
    params = _lstm_params(rng, d, n)
    x, h, c = rng.normal(size=d), rng.normal(size=n), rng.normal(size=n)
    cell = torch.nn.LSTMCell(d, n, dtype=F64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(np.vstack([params[f"W_{g}x"] for g in GATES])))
        cell.weight_hh.copy_(torch.from_numpy(np.vstack([params[f"W_{g}h"] for g in GATES])))
        cell.bias_ih.copy_(torch.from_numpy(np.concatenate([params[f"b_{g}"] for g in GATES])))
        cell.bias_hh.zero_()
        h_exp, c_exp = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    h_new, c_new = lstm_step(x, h, c, params)
    np.testing.assert_allclose(h_new, h_exp.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_new, c_exp.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("d", "n"), [(1, 1), (3, 4), (10, 7), (128, 64)])
def test_lstm_param_count_matches_torch_with_one_bias(d: int, n: int) -> None:
    lstm = torch.nn.LSTM(d, n)
    torch_count = sum(p.numel() for p in lstm.parameters())
    second_bias = lstm.bias_hh_l0.numel()
    assert lstm_param_count(d, n) == torch_count - second_bias


@pytest.mark.parametrize(("d", "n"), [(1, 1), (2, 3), (50, 20)])
def test_lstm_param_count_matches_seed_formula(d: int, n: int) -> None:
    # seed: "4*(dxn) + 4*(nxn) + 4*n trainable parameters"
    assert lstm_param_count(d, n) == 4 * (d * n) + 4 * (n * n) + 4 * n


# ---- GCN ------------------------------------------------------------------------------------

SEED_A_TILDE = np.array(  # typed from the seed, Question 3 of 3.1
    [
        [1, 1, 0, 0, 1, 1],
        [1, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0, 1],
        [1, 0, 0, 0, 1, 1],
        [1, 0, 0, 1, 1, 1],
    ],
    dtype=float,
)


def test_gcn_adjacency_of_sheet_graph_equals_seed_matrix() -> None:
    np.testing.assert_array_equal(gcn_adjacency(SHEET_EDGES, SHEET_NUM_NODES), SEED_A_TILDE)


def _random_graph(rng: np.random.Generator, num_nodes: int, p: float) -> list[tuple[int, int]]:
    pairs = itertools.combinations(range(num_nodes), 2)
    edges = [(u, v) if rng.random() < 0.5 else (v, u) for u, v in pairs if rng.random() < p]
    rng.shuffle(edges)
    return [tuple(map(int, e)) for e in edges]


def _random_graphs() -> list[tuple[list[tuple[int, int]], int]]:
    rng = np.random.default_rng(10)
    graphs = [([], 1), ([], 3), ([(0, 1)], 2), ([(0, 1)], 3), (SHEET_EDGES, SHEET_NUM_NODES)]
    graphs += [([(i, i + 1) for i in range(6)], 7)]  # a path: diameter 6
    for num_nodes, p in itertools.product(range(2, 9), (0.15, 0.3, 0.6)):
        graphs.append((_random_graph(rng, num_nodes, p), num_nodes))
    return graphs


GRAPHS = _random_graphs()


@pytest.mark.parametrize(("edges", "num_nodes"), GRAPHS)
def test_gcn_adjacency_symmetric_with_self_loops(edges: list, num_nodes: int) -> None:
    A_tilde = gcn_adjacency(edges, num_nodes)
    assert A_tilde.shape == (num_nodes, num_nodes)
    np.testing.assert_array_equal(A_tilde, A_tilde.T)
    np.testing.assert_array_equal(np.diag(A_tilde), np.ones(num_nodes))
    for u, v in edges:
        assert A_tilde[u, v] == 1.0 == A_tilde[v, u]
    assert A_tilde.sum() == num_nodes + 2 * len(edges)


def _torch_gcn_layer(A: torch.Tensor, H: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    A_tilde = A + torch.eye(A.shape[0], dtype=F64)
    D_inv_sqrt = torch.diag(A_tilde.sum(dim=1) ** -0.5)
    return torch.relu(D_inv_sqrt @ A_tilde @ D_inv_sqrt @ H @ W)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("edges", "num_nodes"), GRAPHS[:12])
def test_gcn_layer_matches_torch(edges: list, num_nodes: int, weighted: bool) -> None:
    rng = np.random.default_rng(num_nodes + len(edges))
    A = np.zeros((num_nodes, num_nodes))
    for u, v in edges:
        A[u, v] = A[v, u] = rng.uniform(0.5, 2.0) if weighted else 1.0
    H, W = rng.normal(size=(num_nodes, 3)), rng.normal(size=(3, 2))
    expected = _torch_gcn_layer(*(torch.from_numpy(a) for a in (A, H, W)))
    np.testing.assert_allclose(gcn_layer(A, H, W), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_gcn_layer_sheet_graph_by_hand() -> None:
    """Node c (degree 2 + self-loop) averages b, c, d with weights 1/√(d̃_c d̃_j)."""
    A = SEED_A_TILDE - np.eye(6)
    H, W = np.arange(1.0, 7.0)[:, None], np.ones((1, 1))
    deg = SEED_A_TILDE.sum(axis=1)  # typed matrix: a 4, b 4, c 3, d 4, e 3, f 4
    expected_c = sum(H[j, 0] / np.sqrt(deg[2] * deg[j]) for j in (1, 2, 3))
    assert gcn_layer(A, H, W)[2, 0] == pytest.approx(expected_c, rel=1e-12)


# ---- receptive field: brute force --------------------------------------------------------


def _dependency_after(edges: list, num_nodes: int, layers: int) -> np.ndarray:
    """dep[dst, src]: after `layers` GCN layers dst's output depends on src's input
    (boolean powers of Ã)."""
    step = np.eye(num_nodes, dtype=int)
    for u, v in edges:
        step[u, v] = step[v, u] = 1
    reach = np.eye(num_nodes, dtype=int)
    for _ in range(layers):
        reach = ((reach @ step) > 0).astype(int)
    return reach.astype(bool)


def _jacobian_dependency(edges: list, num_nodes: int, layers: int) -> np.ndarray:
    """dep[dst, src] from torch autograd of stacked GCN layers with positive weights and
    inputs, so ReLU never hides a dependency."""
    A = torch.zeros(num_nodes, num_nodes, dtype=F64)
    for u, v in edges:
        A[u, v] = A[v, u] = 1.0
    W = torch.full((1, 1), 0.9, dtype=F64)

    def net(H: torch.Tensor) -> torch.Tensor:
        for _ in range(layers):
            H = _torch_gcn_layer(A, H, W)
        return H

    H0 = torch.linspace(1.0, 2.0, num_nodes, dtype=F64).unsqueeze(1)
    J = torch.autograd.functional.jacobian(net, H0)  # (N, 1, N, 1)
    return (J[:, 0, :, 0] != 0).numpy()


def _brute_layers_to_reach(edges: list, num_nodes: int, src: int, dst: int) -> int | None:
    for layers in range(num_nodes):
        if _dependency_after(edges, num_nodes, layers)[dst, src]:
            return layers
    return None


@pytest.mark.parametrize(("edges", "num_nodes"), GRAPHS)
def test_layers_to_reach_matches_brute_force(edges: list, num_nodes: int) -> None:
    for src, dst in itertools.product(range(num_nodes), repeat=2):
        expected = _brute_layers_to_reach(edges, num_nodes, src, dst)
        if expected is None:
            with pytest.raises(ValueError):
                layers_to_reach(edges, num_nodes, src, dst)
        else:
            assert layers_to_reach(edges, num_nodes, src, dst) == expected, (src, dst)


@pytest.mark.parametrize(("edges", "num_nodes"), GRAPHS)
def test_layers_to_cover_matches_brute_force(edges: list, num_nodes: int) -> None:
    covered = [
        layers for layers in range(num_nodes) if _dependency_after(edges, num_nodes, layers).all()
    ]
    if not covered:
        with pytest.raises(ValueError):
            layers_to_cover(edges, num_nodes)
    else:
        assert layers_to_cover(edges, num_nodes) == covered[0]


@pytest.mark.parametrize(("edges", "num_nodes"), [GRAPHS[i] for i in (2, 3, 4, 5, 12, 20)])
def test_torch_jacobian_agrees_with_layer_counts(edges: list, num_nodes: int) -> None:
    """The dependency the contract means, measured on real stacked GCN layers."""
    for layers in range(num_nodes):
        dep = _jacobian_dependency(edges, num_nodes, layers)
        for src, dst in itertools.product(range(num_nodes), repeat=2):
            try:
                needed = layers_to_reach(edges, num_nodes, src, dst)
            except ValueError:
                needed = None
            assert dep[dst, src] == (needed is not None and needed <= layers), (layers, src, dst)


def test_sheet_graph_receptive_field() -> None:
    b, c, e = 1, 2, 4
    # b–a–e: two edges, so two layers (the seed writes "three updates" but also "two edges").
    assert layers_to_reach(SHEET_EDGES, SHEET_NUM_NODES, b, e) == 2
    # c is three edges from e either way round (c–b–a–e, c–d–f–e): the diameter.
    assert layers_to_reach(SHEET_EDGES, SHEET_NUM_NODES, c, e) == 3
    assert layers_to_cover(SHEET_EDGES, SHEET_NUM_NODES) == 3


def test_receptive_field_edge_cases() -> None:
    assert layers_to_cover([], 1) == 0
    assert layers_to_reach([], 1, 0, 0) == 0
    assert layers_to_reach([(0, 1)], 3, 2, 2) == 0
    with pytest.raises(ValueError):
        layers_to_reach([(0, 1)], 3, 0, 2)
    with pytest.raises(ValueError):
        layers_to_cover([(0, 1)], 3)


# ---- known mistakes -------------------------------------------------------------------------


def _mistake_inputs() -> dict[str, list[tuple]]:
    rng = np.random.default_rng(2024)
    rnn = [
        (rng.normal(size=(T, d)), np.eye(K)[0], _rnn_params(rng, d, n, K))
        for T, d, n, K in RNN_SHAPES
    ]
    lstm = [
        (rng.normal(size=d), rng.normal(size=n), rng.normal(size=n), _lstm_params(rng, d, n))
        for d, n in [(3, 4), (2, 2)]
    ]
    # T = 8 with W_hh = I and small states: the gradient reaches every step (a BPTT cut after
    # 5 steps shows); x × 100 with W_hx / 100: same states, ∂L/∂W_hx × 100 (clipping shows)
    memory = _rnn_params(rng, 2, 3, 2, scale=0.2) | {"W_hh": np.eye(3)}
    rnn.append((rng.normal(size=(8, 2)), np.eye(2)[1], memory))
    x, y, p = rnn[2]
    rnn.append((100.0 * x, y, p | {"W_hx": p["W_hx"] / 100.0}))
    sheet_A = SEED_A_TILDE - np.eye(6)
    gcn = [(sheet_A, rng.normal(size=(6, 3)), rng.normal(size=(3, 2)))]
    two_parts = [(0, 1), (2, 3)]
    return {
        "rnn_forward": [(x, p) for x, _, p in rnn],
        "rnn_grads": rnn,
        "lstm_step": lstm,
        "lstm_param_count": [(3, 4), (1, 1)],
        "gcn_adjacency": [(SHEET_EDGES, SHEET_NUM_NODES)],
        "gcn_layer": gcn,
        "layers_to_reach": [(SHEET_EDGES, 6, 1, 4), (two_parts, 4, 0, 3)],
        # K4 without the edge 2–3: two BFS sweeps from node 0 find 1, the diameter is 2
        "layers_to_cover": [
            (SHEET_EDGES, 6),
            (two_parts, 4),
            ([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3)], 4),
        ],
    }


MISTAKE_INPUTS = _mistake_inputs()


def _outcome(fn, args: tuple):
    try:
        return fn(*args)
    except ValueError:
        return ValueError


def _same(a, b) -> bool:
    if a is ValueError or b is ValueError:
        return a is b
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b, strict=True))
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-8)


MISTAKE_CASES = [(name, *m) for name, ms in MISTAKES.items() for m in ms]


@pytest.mark.parametrize(
    ("name", "slug", "message", "wrong"),
    MISTAKE_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in MISTAKE_CASES],
)
def test_mistake_differs_from_reference(name: str, slug: str, message: str, wrong) -> None:
    right = getattr(sheet10, name)
    assert list(inspect.signature(wrong).parameters) == list(inspect.signature(right).parameters)
    assert 0 < len(message) <= 120
    assert any(
        not _same(_outcome(wrong, args), _outcome(right, args)) for args in MISTAKE_INPUTS[name]
    )


def test_mistake_table_is_well_formed() -> None:
    contract = {
        "rnn_forward",
        "rnn_grads",
        "lstm_step",
        "lstm_param_count",
        "gcn_adjacency",
        "gcn_layer",
        "layers_to_reach",
        "layers_to_cover",
    }
    assert set(MISTAKES) == contract
    for mistakes in MISTAKES.values():
        slugs = [slug for slug, _, _ in mistakes]
        assert len(slugs) == len(set(slugs))
