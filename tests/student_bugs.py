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
]
