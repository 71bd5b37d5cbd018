"""One realistic bug in one function of a correct student-style submission.

Each entry edits a file of tests/student_styles/ (every ``old`` occurs exactly once)
and names the functions that must lose points: the buggy function, plus any of the
file's own functions that call it (then the bug is theirs too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STYLES = Path(__file__).parent / "student_styles"


@dataclass(frozen=True)
class Bug:
    name: str
    sheet: str
    base: str
    edits: tuple[tuple[str, str], ...]
    fails: frozenset[str]

    def source(self) -> str:
        text = (STYLES / f"sheet{self.sheet}" / self.base).read_text(encoding="utf-8")
        for old, new in self.edits:
            assert text.count(old) == 1, (self.name, old)
            text = text.replace(old, new)
        return text


def bug(name: str, sheet: str, base: str, fails: str, *edits: tuple[str, str]) -> Bug:
    return Bug(name, sheet, base, tuple(edits), frozenset(fails.split()))


BUGS = [
    # ---- sheet 2 ----
    bug(
        "network_sign",
        "2",
        "pure_python.py",
        "network_params",
        ('"w2": [-1.0, -1.0, 1.0]', '"w2": [-1.0, 1.0, 1.0]'),
    ),
    bug(
        "predict_missing_bias",
        "2",
        "loops_odd_types.py",
        "predict_class",
        ("return self.b2[0] + h @ self.w2", "return h @ self.w2"),
    ),
    bug(
        "predict_inplace_relu",
        "2",
        "chatty_module.py",
        "predict_class",
        (
            "def relu(z):\n    return np.maximum(z, 0)",
            "def relu(z):\n    z[z < 0] = 0\n    return z",
        ),
    ),
    bug(
        "logcosh_overflows",
        "2",
        "notebook.ipynb",
        "logcosh",
        ("np.logaddexp(y - t, t - y) - np.log(2)", "np.log(np.cosh(y - t))"),
    ),
    bug(
        "logcosh_grad_mean",
        "2",
        "torch_autograd.py",
        "logcosh_grad",
        (
            "E = _logcosh(y - torch.as_tensor(t)).sum()",
            "E = _logcosh(y - torch.as_tensor(t)).mean()",
        ),
    ),
    bug(
        "logcosh_grad_int",
        "2",
        "loops_odd_types.py",
        "logcosh_grad",
        ("out = np.zeros(np.shape(y))", "out = np.zeros(np.shape(y), dtype=int)"),
    ),
    bug(
        "dataset_grad_sum",
        "2",
        "numpy_float32.py",
        "dataset_grad",
        ("return (X.T @ r) / f32(len(t))", "return X.T @ r"),
    ),
    bug(
        "dataset_grad_global_n",
        "2",
        "chatty_module.py",
        "dataset_grad",
        ("RNG = np.random.default_rng(0)", "RNG = np.random.default_rng(0)\nN_SAMPLES = 3"),
        ("/ X.shape[0]", "/ N_SAMPLES"),
    ),
    bug(
        "backprop_sign",
        "2",
        "pure_python.py",
        "backprop",
        ("d7 = math.tanh(y - t)", "d7 = math.tanh(t - y)"),
    ),
    bug(
        "backprop_derivative",
        "2",
        "loops_odd_types.py",
        "backprop",
        ('delta[j] = (1 - a[j] ** 2) * w[f"w{j}7"]', 'delta[j] = (1 - a[j]) * w[f"w{j}7"]'),
    ),
    bug(
        "grads_swapped",
        "2",
        "torch_autograd.py",
        "grads_w13_w24",
        ("    return g13, g24", "    return g24, g13"),
    ),
    bug(
        "grads_swapped_used_by_grad_v",
        "2",
        "pure_python.py",
        "grads_w13_w24 grad_v",
        (
            "return 2 * (y - t) * x1**2 * w13, 2 * (y - t) * x2**2 * w24",
            "return 2 * (y - t) * x2**2 * w24, 2 * (y - t) * x1**2 * w13",
        ),
    ),
    bug(
        "grad_v_chain",
        "2",
        "chatty_module.py",
        "grad_v",
        ("d24 * sigmoid(-v)", "d24 * sigmoid(v)"),
    ),
    # ---- sheet 7 ----
    bug(
        "conv_sign",
        "7",
        "pure_python.py",
        "conv_net_grad",
        ("dy = [y[o] - y_hat[o]", "dy = [y_hat[o] - y[o]"),
    ),
    bug(
        "dense_mean",
        "7",
        "torch_autograd.py",
        "dense_net_grad",
        ("L = 0.5 * torch.sum((_t(y_hat) - y) ** 2)", "L = torch.mean((_t(y_hat) - y) ** 2)"),
    ),
    bug(
        "dense_transposed",
        "7",
        "notebook.ipynb",
        "dense_net_grad",
        ("y = v.T @ h", "y = v @ h"),
    ),
    bug(
        "pool_no_crop",
        "7",
        "numpy_vectorised.py",
        "conv_pool_net_grad",
        ("hc = h[: 2 * Pp, : 2 * Q]", "hc = h"),
    ),
    bug(
        "pool_tanh_derivative",
        "7",
        "numpy_float32.py",
        "conv_pool_net_grad",
        (
            "return _grad_w(I, dh * h * (1 - h), w.shape[0])",
            "return _grad_w(I, dh * (1 - h**2), w.shape[0])",
        ),
    ),
    bug(
        "pool_missing_bias",
        "7",
        "torch_float32.py",
        "conv_pool_net_grad",
        (
            """    Pp, Q, K, O = v.shape
    pooled""",
            """    h = torch.sigmoid(torch.einsum("ijxyc,xyck->ijk", P, w))
    Pp, Q, K, O = v.shape
    pooled""",
        ),
    ),
    bug(
        "shape_one_side_padding",
        "7",
        "notebook.ipynb",
        "conv_output_shape",
        ("o = (n + 2*p - f) // s + 1", "o = (n + p - f) // s + 1"),
    ),
    bug(
        "same_padding_even",
        "7",
        "numpy_vectorised.py",
        "same_padding",
        ("if f < 1 or f % 2 != 1:", "if f < 1:"),
    ),
    bug(
        "conv2d_flipped",
        "7",
        "odd_containers.py",
        "conv2d count_changed_after_shift",
        ("sum(kernels[k, x, y] * img", "sum(kernels[k, F - 1 - x, F - 1 - y] * img"),
    ),
    bug(
        "maxpool_int",
        "7",
        "numpy_float32.py",
        "maxpool2d",
        (
            "out = np.full((H // k, W // k, K), -np.inf, dtype=f32)",
            "out = np.zeros((H // k, W // k, K), dtype=int)",
        ),
    ),
    bug(
        "relu_np_max",
        "7",
        "numpy_vectorised.py",
        "relu count_changed_after_shift",
        ("return x * (x > 0)", "return np.max(x, 0)"),
    ),
    bug(
        "count_conv_units",
        "7",
        "odd_containers.py",
        "count_changed_after_shift",
        (
            "before = maxpool2d(relu(conv2d(image, filters)))",
            "before = relu(conv2d(image, filters))",
        ),
        (
            "after = maxpool2d(relu(conv2d(shift_left(image), filters)))",
            "after = relu(conv2d(shift_left(image), filters))",
        ),
    ),
    bug(
        "count_after_inplace_shift",
        "7",
        "odd_containers.py",
        "count_changed_after_shift",
        ("    image = image.copy()\n", ""),
        (
            """    before = maxpool2d(relu(conv2d(image, filters)))
    after = maxpool2d(relu(conv2d(shift_left(image), filters)))""",
            """    after = maxpool2d(relu(conv2d(shift_left(image), filters)))
    before = maxpool2d(relu(conv2d(image, filters)))""",
        ),
    ),
    bug(
        "shift_right",
        "7",
        "torch_float32.py",
        "shift_left count_changed_after_shift",
        (
            "torch.cat([image[:, 1:], torch.zeros(image.shape[0], 1)], dim=1)",
            "torch.cat([torch.zeros(image.shape[0], 1), image[:, :-1]], dim=1)",
        ),
    ),
    bug(
        "reverse_mul_swapped",
        "7",
        "odd_containers.py",
        "reverse_mode",
        (
            '"mul": (lambda a, b: a * b, lambda a, b: (b, a))',
            '"mul": (lambda a, b: a * b, lambda a, b: (a, b))',
        ),
    ),
    bug(
        "reverse_fixed_output",
        "7",
        "numpy_float32.py",
        "reverse_mode",
        ("t[output] = f32(1)", 't["f6"] = f32(1)'),
    ),
    bug(
        "graph_wrong_f5",
        "7",
        "pure_python.py",
        "sheet_graph",
        ('("f5", "mul", ("theta", "f4"))', '("f5", "mul", ("x2", "f4"))'),
    ),
    # ---- sheet 9 ----
    bug(  # 1/(1+exp(-z)) overflows (RuntimeWarning) for z = -1000
        "sigmoid_naive",
        "9",
        "numpy_float32.py",
        "activation",
        (
            "def _sigmoid(z):\n    e = np.exp(-np.abs(z))",
            (
                "def _naive(z):\n"
                "    return 1 / (1 + np.exp(-z))\n"
                "\n"
                "\n"
                "def _sigmoid(z):\n"
                "    e = np.exp(-np.abs(z))"
            ),
        ),
        (
            '"sigmoid": lambda: _sigmoid(z),',
            '"sigmoid": lambda: _naive(z),',
        ),
    ),
    bug(  # threshold(0) = 0 (z > 0) where the contract says 1
        "threshold_strict",
        "9",
        "pure_python.py",
        "activation",
        (
            "return _elementwise(lambda v: 1 if v >= 0 else 0, z)",
            "return _elementwise(lambda v: 1 if v > 0 else 0, z)",
        ),
    ),
    bug(  # relu'(0) = 1 (z >= 0) where the contract says 0
        "relu_grad_at_zero",
        "9",
        "classes.py",
        "activation_grad",
        (
            '"relu": (lambda z: z * (z > 0), lambda z: (z > 0) * 1.0),',
            '"relu": (lambda z: z * (z > 0), lambda z: (z >= 0) * 1.0),',
        ),
    ),
    bug(  # 1 - tanh(z) instead of 1 - tanh(z)^2
        "tanh_grad_no_square",
        "9",
        "torch_float32.py",
        "activation_grad",
        (
            "return 1 - torch.tanh(z) ** 2",
            "return 1 - torch.tanh(z)",
        ),
    ),
    bug(  # T - S outputs instead of T - S + 1 (the last position dropped)
        "conv1d_off_by_one",
        "9",
        "loops.py",
        "conv1d",
        (
            "for t in range(T - S + 1):\n            acc = 0",
            "for t in range(T - S):\n            acc = 0",
        ),
    ),
    bug(  # true convolution (kernel flipped) instead of the sheet's cross-correlation
        "conv1d_true_convolution",
        "9",
        "pure_python.py",
        "conv1d",
        (
            "total += w[i][j][s] * x[i][t + s]",
            "total += w[i][j][S - 1 - s] * x[i][t + s]",
        ),
    ),
    bug(  # correlation with w where the backward pass needs a full convolution
        "input_grad_not_flipped",
        "9",
        "classes.py",
        "conv1d_input_grad",
        (
            "dx[:, s : s + T_out] += self.w[:, :, s] @ g",
            "dx[:, s : s + T_out] += self.w[:, :, S - 1 - s] @ g",
        ),
    ),
    bug(  # padding S-2 instead of the full S-1 (output one short on each side)
        "input_grad_padding",
        "9",
        "torch_float64.py",
        "conv1d_input_grad",
        (
            "return F.conv_transpose1d(_t(dE_dz)[None], _t(w).permute(1, 0, 2))[0]",
            "return F.conv_transpose1d(_t(dE_dz)[None], _t(w).permute(1, 0, 2), padding=1)[0]",
        ),
    ),
    bug(  # the kernel axis reversed
        "weight_grad_flipped",
        "9",
        "numpy_float32.py",
        "conv1d_weight_grad",
        (
            'return np.einsum("its,jt->ijs", windows, g)',
            'return np.einsum("its,jt->ijs", windows, g)[:, :, ::-1]',
        ),
    ),
    bug(  # an int accumulator truncates float products (integer examples still pass)
        "weight_grad_int_truncation",
        "9",
        "loops.py",
        "conv1d_weight_grad",
        (
            "grad = np.zeros((C_in, C_out, S))",
            "grad = np.zeros((C_in, C_out, S), dtype=int)",
        ),
    ),
    bug(  # sums over A[m][n] (column) instead of A[n][m]: equal only for undirected graphs
        "gnn_A_transposed",
        "9",
        "pure_python.py",
        "gnn_layer",
        (
            "AH = [[sum(A[n][m] * H[m][k]",
            "AH = [[sum(A[m][n] * H[m][k]",
        ),
    ),
    bug(  # A H W^T
        "gnn_W_transposed",
        "9",
        "numpy_float32.py",
        "gnn_layer",
        (
            "return np.maximum(A.astype(f32) @ H.astype(f32) @ W.astype(f32), 0)",
            "return np.maximum(A.astype(f32) @ H.astype(f32) @ W.T.astype(f32), 0)",
        ),
    ),
    bug(  # the ReLU left out
        "gnn_no_relu",
        "9",
        "torch_float32.py",
        "gnn_layer",
        (
            "return torch.relu(torch.linalg.multi_dot([T(A), T(H), T(W)]))",
            "return torch.linalg.multi_dot([T(A), T(H), T(W)])",
        ),
    ),
    bug(  # 1x1 kernel W[o, i] where (C_out, C_in) needs W^T
        "lattice_W_not_transposed",
        "9",
        "numpy_float32.py",
        "lattice_as_cnn",
        (
            "K2 = W.T.astype(f32)[:, :, None, None]",
            "K2 = W.astype(f32)[:, :, None, None]",
        ),
    ),
    bug(  # diagonal neighbours too in the first aggregation
        "lattice_eight_neighbours",
        "9",
        "loops.py",
        "lattice_as_cnn",
        (
            "        agg_in[perm[c], perm[c], 2, 1] = agg_in[perm[c], perm[c], 2, 3] = 1\n",
            (
                "        agg_in[perm[c], perm[c], 2, 1] = agg_in[perm[c],"
                " perm[c], 2, 3] = 1\n"
                "        agg_in[perm[c], perm[c], 1, 1] = agg_in[perm[c],"
                " perm[c], 3, 3] = 1\n"
            ),
        ),
    ),
    bug(  # both ReLUs after all four convs
        "lattice_relus_last",
        "9",
        "pure_python.py",
        "lattice_as_cnn",
        (
            (
                'return [("conv", aggregate), ("conv", mix), ("relu",),'
                ' ("conv", aggregate), ("conv", mix), ("relu",)]'
            ),
            (
                'return [("conv", aggregate), ("conv", mix), ("conv",'
                ' aggregate), ("conv", mix), ("relu",), ("relu",)]'
            ),
        ),
    ),
    bug(  # the centre pixel in the neighbour kernel (A + I instead of A)
        "lattice_self_loop",
        "9",
        "torch_float64.py",
        "lattice_as_cnn",
        (
            "cross = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])",
            "cross = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])",
        ),
    ),
    bug(  # [a_right; a_left] fed to W
        "forward_concat_swapped",
        "9",
        "loops.py",
        "recursive_forward",
        (
            (
                "    for name, left, right in eqs:\n"
                "        values[name] = np.tanh(W.dot(np.hstack((values[left],"
                " values[right]))) + b)\n"
                "    root = eqs[-1][0] if eqs else bracketed.strip()\n"
                "    return float("
            ),
            (
                "    for name, left, right in eqs:\n"
                "        values[name] ="
                " np.tanh(W.dot(np.hstack((values[right], values[left]))) + b)\n"
                "    root = eqs[-1][0] if eqs else bracketed.strip()\n"
                "    return float("
            ),
        ),
    ),
    bug(  # dy/dW from the root node only (shared parameter counted once)
        "grad_W_root_only",
        "9",
        "classes.py",
        "recursive_grad",
        (
            "            gW += np.outer(dz, n.cat)\n",
            "            if n is self.root:\n                gW += np.outer(dz, n.cat)\n",
        ),
    ),
    bug(  # the tanh derivative left out of the backward pass
        "grad_no_tanh_prime",
        "9",
        "numpy_float32.py",
        "recursive_grad",
        (
            "dz = g * (1 - a * a)",
            "dz = g",
        ),
    ),
    bug(  # a word's gradient overwritten, not summed, when the word occurs twice
        "grad_repeated_word_once",
        "9",
        "pure_python.py",
        "recursive_grad",
        (
            "gemb[cache[1]] = [p + q for p, q in zip(gemb[cache[1]], g)]",
            "gemb[cache[1]] = list(g)",
        ),
    ),
    bug(  # dy/du given as u instead of the root activation
        "grad_u_is_u",
        "9",
        "loops.py",
        "recursive_grad",
        (
            'return {"W": dW, "b": db, "u": values[root],',
            'return {"W": dW, "b": db, "u": u,',
        ),
    ),
    bug(  # (name, right, left)
        "equations_children_swapped",
        "9",
        "torch_float64.py",
        "tree_equations",
        (
            'out.append((f"a{len(out) + 1}", l, r))',
            'out.append((f"a{len(out) + 1}", r, l))',
        ),
    ),
    bug(  # nodes numbered in pre-order (parent before its children)
        "equations_pre_order",
        "9",
        "torch_float64.py",
        "tree_equations",
        (
            (
                "        l, r = walk(node[0]), walk(node[1])\n"
                '        out.append((f"a{len(out) + 1}", l, r))\n'
                "        return out[-1][0]"
            ),
            (
                "        k = len(out)\n"
                "        out.append(None)\n"
                "        l, r = walk(node[0]), walk(node[1])\n"
                '        out[k] = (f"a{k + 1}", l, r)\n'
                "        return out[k][0]"
            ),
        ),
    ),
    bug(  # neighbours read from the column A[j][node] (wrong for a directed graph)
        "tree_columns",
        "9",
        "pure_python.py",
        "unrolled_tree",
        (
            "if A[node][j] != 0)",
            "if A[j][node] != 0)",
        ),
    ),
    bug(  # the node itself added as a child (a self-loop the graph does not have)
        "tree_includes_self",
        "9",
        "loops.py",
        "unrolled_tree",
        (
            "        if A[node, j] != 0:\n",
            "        if A[node, j] != 0 or j == node:\n",
        ),
    ),
    bug(  # recursion stops at depth -1: one level too deep
        "tree_one_level_extra",
        "9",
        "classes.py",
        "unrolled_tree",
        (
            (
                "        if depth == 0:\n"
                "            return (node, ())\n"
                "        return (node, tuple(self.tree("
            ),
            (
                "        if depth < 0:\n"
                "            return (node, ())\n"
                "        return (node, tuple(self.tree("
            ),
        ),
    ),
    # ---- sheet 10 ----
    bug(  # only A[u, v] set: a directed adjacency
        "adjacency_directed",
        "10",
        "numpy_float32.py",
        "gcn_adjacency",
        (
            "A[u, v] = A[v, u] = 1\n    return A",
            "A[u, v] = 1\n    return A",
        ),
    ),
    bug(  # A instead of A + I
        "adjacency_no_self_loops",
        "10",
        "pure_python.py",
        "gcn_adjacency",
        (
            "    for k in range(num_nodes):\n        A[k][k] = 1\n    return A  # ints",
            "    return A  # ints",
        ),
    ),
    bug(  # degrees from A but Ã in the product
        "gcn_degree_without_self_loop",
        "10",
        "torch_float32.py",
        "gcn_layer",
        (
            "D = torch.diag(A_hat.sum(1) ** -0.5)",
            "D = torch.diag((A_hat.sum(1) - 1).clamp(min=1) ** -0.5)",
        ),
    ),
    bug(  # integer division truncates the normalisation
        "gcn_int_truncation",
        "10",
        "pure_python.py",
        "gcn_layer",
        (
            "norm = [[At[r][c] / math.sqrt(deg[r] * deg[c])",
            "norm = [[At[r][c] // math.sqrt(deg[r] * deg[c])",
        ),
    ),
    bug(  # ReLU(Ã H W) without D^-1/2 ... D^-1/2
        "gcn_no_normalisation",
        "10",
        "loops.py",
        "gcn_layer",
        (
            "An[r, c] = At[r, c] / (math.sqrt(deg[r]) * math.sqrt(deg[c]))",
            "An[r, c] = At[r, c]",
        ),
    ),
    bug(  # normalises A, not Ã = A + I (inf for isolated nodes)
        "gcn_no_self_loops",
        "10",
        "torch_float64.py",
        "gcn_layer",
        (
            "A = torch.as_tensor(A) + torch.eye(len(A), dtype=torch.float64)",
            "A = torch.as_tensor(A)",
        ),
    ),
    bug(  # D^-1 Ã (random-walk) instead of the symmetric D^-1/2 Ã D^-1/2
        "gcn_row_normalised",
        "10",
        "classes.py",
        "gcn_layer",
        (
            'return np.maximum(np.einsum("i,ij,j->ij", d, A_tilde, d) @ H @ W, 0.0)',
            'return np.maximum(np.einsum("i,ij->ij", d**2, A_tilde) @ H @ W, 0.0)',
        ),
    ),
    bug(  # eccentricity of node 0 only
        "cover_from_node_zero",
        "10",
        "classes.py",
        "layers_to_cover",
        (
            "return Graph(edges, num_nodes).layers(lambda R: R.all())",
            "return Graph(edges, num_nodes).layers(lambda R: R[:, 0].all())",
        ),
    ),
    bug(  # ignores unreachable nodes instead of raising ValueError
        "cover_no_error",
        "10",
        "torch_float32.py",
        "layers_to_cover",
        (
            '        if len(level) != num_nodes:\n            raise ValueError("disconnected")\n',
            "",
        ),
    ),
    bug(  # min eccentricity (radius) instead of max (diameter)
        "cover_radius",
        "10",
        "pure_python.py",
        "layers_to_cover",
        (
            (
                "    worst = 0\n"
                "    for s in range(num_nodes):\n"
                "        dist = _distances(edges, num_nodes, s)\n"
                "        if len(dist) < num_nodes:\n"
                '            raise ValueError("the graph is disconnected")\n'
                "        worst = max(worst, max(dist.values()))\n"
                "    return worst"
            ),
            (
                "    worst = num_nodes\n"
                "    for s in range(num_nodes):\n"
                "        dist = _distances(edges, num_nodes, s)\n"
                "        if len(dist) < num_nodes:\n"
                '            raise ValueError("the graph is disconnected")\n'
                "        worst = min(worst, max(dist.values()))\n"
                "    return worst"
            ),
        ),
    ),
    bug(  # counts nodes on the path, not edges
        "reach_counts_nodes",
        "10",
        "pure_python.py",
        "layers_to_reach",
        (
            "    return dist[dst]\n",
            "    return dist[dst] + 1\n",
        ),
    ),
    bug(  # returns inf instead of raising ValueError
        "reach_no_error",
        "10",
        "numpy_float32.py",
        "layers_to_reach",
        (
            '    if np.isinf(hops):\n        raise ValueError("unreachable")\n',
            "",
        ),
    ),
    bug(  # edges followed in the listed direction only (u to v, never v to u)
        "reach_one_direction",
        "10",
        "torch_float64.py",
        "layers_to_reach",
        (
            (
                "    A = _reach_matrix(edges, num_nodes)\n"
                "    seen = torch.zeros(num_nodes, dtype=torch.float64)"
            ),
            (
                "    A = torch.eye(num_nodes, dtype=torch.float64)\n"
                "    for u, v in edges:\n"
                "        A[v, u] = 1.0\n"
                "    seen = torch.zeros(num_nodes, dtype=torch.float64)"
            ),
        ),
    ),
    bug(  # weights only, no biases
        "count_no_biases",
        "10",
        "classes.py",
        "lstm_param_count",
        (
            "return len(LSTMCell.GATES) * (weights_x + weights_h + biases)",
            "return len(LSTMCell.GATES) * (weights_x + weights_h)",
        ),
    ),
    bug(  # 3 gates instead of 4
        "count_three_gates",
        "10",
        "loops.py",
        "lstm_param_count",
        (
            "return float(4 * per_gate)",
            "return float(3 * per_gate)",
        ),
    ),
    bug(  # torch's LSTMCell count with both bias vectors
        "count_two_biases",
        "10",
        "torch_float64.py",
        "lstm_param_count",
        (
            "return total - cell.bias_hh.numel()",
            "return total",
        ),
    ),
    bug(  # input and forget gates exchanged in the cell update
        "lstm_gates_swapped",
        "10",
        "numpy_float32.py",
        "lstm_step",
        (
            "c_new = np.tanh(zg) * _sigmoid(zi) + c * _sigmoid(zf)",
            "c_new = np.tanh(zg) * _sigmoid(zf) + c * _sigmoid(zi)",
        ),
    ),
    bug(  # returns (c_new, h_new)
        "lstm_swapped_outputs",
        "10",
        "torch_float64.py",
        "lstm_step",
        (
            "return torch.tanh(c_new) * o, c_new",
            "return c_new, torch.tanh(c_new) * o",
        ),
    ),
    bug(  # W_·h applied as h W_·h (the row-vector habit): W_·hᵀ h
        "lstm_recurrent_transposed",
        "10",
        "pure_python.py",
        "lstm_step",
        ('_mv(P[f"W_{gate}h"], h)', '_mv(list(zip(*P[f"W_{gate}h"])), h)'),
    ),
    bug(  # no output gate: h' = tanh(c')
        "lstm_three_gates",
        "10",
        "pure_python.py",
        "lstm_step",
        (
            "h_new = [math.tanh(ck) * ok for ck, ok in zip(c_new, o)]",
            "h_new = [math.tanh(ck) for ck in c_new]",
        ),
    ),
    bug(  # starts from h = 0 instead of h0 (forward only)
        "forward_ignores_h0",
        "10",
        "classes.py",
        "rnn_forward",
        (
            "def rnn_forward(x, params):\n    return VanillaRNN(params).run(x)",
            (
                "def rnn_forward(x, params):\n"
                "    net = VanillaRNN(params)\n"
                "    net.h0 = np.zeros_like(net.h0)\n"
                "    return net.run(x)"
            ),
        ),
    ),
    bug(  # returns softmax(p_T) instead of the logits p_T
        "forward_softmax",
        "10",
        "numpy_float32.py",
        "rnn_forward",
        (
            '    P = _params(params)\n    return P["W_ph"] @ _states(x, P)[-1] + P["b_p"]',
            (
                "    P = _params(params)\n"
                '    p = P["W_ph"] @ _states(x, P)[-1] + P["b_p"]\n'
                "    return np.exp(p) / np.exp(p).sum()"
            ),
        ),
    ),
    bug(  # dL/dW_hx as x_t da_t^T, shape (d, n)
        "grads_W_hx_transposed",
        "10",
        "classes.py",
        "rnn_grads",
        (
            'g["W_hx"] = g["W_hx"] + da[:, None] * self.xs[t - 1][None, :]',
            'g["W_hx"] = g["W_hx"] + self.xs[t - 1][:, None] * da[None, :]',
        ),
    ),
    bug(  # the hidden state updated in place, so every stored state is the last one
        "grads_aliased_states",
        "10",
        "numpy_float32.py",
        "rnn_grads",
        (
            "    x, y = x.astype(F), y.astype(F)\n    hs = _states(x, P)\n",
            (
                "    x, y = x.astype(F), y.astype(F)\n"
                '    h = P["h0"].copy()\n'
                "    hs = [h]\n"
                "    for x_t in x:\n"
                '        h[:] = np.tanh(P["W_hx"] @ x_t + P["W_hh"] @ h + P["b_h"])\n'
                "        hs.append(h)\n"
            ),
        ),
    ),
    bug(  # backpropagates through the last step only
        "grads_last_step_only",
        "10",
        "pure_python.py",
        "rnn_grads",
        (
            "for t in range(len(xs), 0, -1):",
            "for t in range(len(xs), len(xs) - 1, -1):",
        ),
    ),
    bug(  # pairs da_t with h_t instead of h_{t-1} in dW_hh
        "grads_off_by_one",
        "10",
        "loops.py",
        "rnn_grads",
        (
            "dW_hh[j, k] += delta[j] * h[t - 1][k]",
            "dW_hh[j, k] += delta[j] * h[t][k]",
        ),
    ),
    bug(  # y - softmax(p) instead of softmax(p) - y
        "grads_wrong_sign",
        "10",
        "notebook.ipynb",
        "rnn_grads",
        (
            "dp = softmax(p) - y",
            "dp = y - softmax(p)",
        ),
    ),
]
