"""The float32 allowance goes to float32 work only.

The contract's tolerance is rtol 1e-6. A second judging pass allows for what
float32 rounding loses (about 1e-4 of the answer's scale), but only for answers
that show float32: a float32 or float16 dtype anywhere, or float64 values that
float32 represents exactly (``.tolist()`` of a float32 tensor). A float64
answer off by a relative 1e-4, e.g. a gradient by forward differences, fails.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np
import pytest
import torch
from test_mutations import NO_NUMBERS, perturb

from conftest import grade_in_process, judge_first_case
from grader import wire, worker
from grader.comparison import AllClose, close_mask, computed_in_float32
from grader.contract import CONTRACT
from grader.runner import truth
from grader.sheets import available, load
from reference import sheet2 as ref2


def through_worker(value: Any) -> Any:
    """``value`` as the grader receives it: the worker's conversion, then the wire."""
    frame = wire.encode(worker.to_plain_deep(value), fallback=worker.to_plain)
    (hlen,) = wire.HEADER.unpack(frame[: wire.HEADER.size])
    header = frame[wire.HEADER.size : wire.HEADER.size + hlen]
    return wire.decode(header, frame[wire.HEADER.size + hlen :])


# What counts as float32 work.


@pytest.mark.parametrize(
    "value",
    [
        np.array([0.1, 0.2], dtype=np.float32),
        np.array([0.1, 0.2], dtype=np.float16),
        torch.tensor([0.1, 0.2], dtype=torch.float32),
        torch.tensor(0.1, dtype=torch.float32),
        torch.tensor([0.1], dtype=torch.bfloat16),
        np.float32(0.1),
        [np.float32(0.1), np.float32(0.2)],
        torch.tensor([[0.1, 0.2]], dtype=torch.float32).tolist(),
        torch.tensor(0.1, dtype=torch.float32).item(),
        (torch.tensor(0.1), np.array([0.3])),  # a float32 dtype anywhere counts
        {"W": np.array([0.1, 0.2]), "b": np.float32(0.3)},
        (np.float32(0.1), math.pi),
        [float("nan"), 0.25, float("inf")],
    ],
)
def test_float32_work_is_recognised(value):
    assert computed_in_float32(through_worker(value))


@pytest.mark.parametrize(
    "value",
    [
        np.array([0.1, 0.2]),
        [0.1, 0.2],
        0.1,
        np.float64(0.1),
        torch.tensor([0.1, 0.2], dtype=torch.float64),
        {"W": np.array([0.1, 0.25]), "b": 0.5},  # 0.25 and 0.5 are exact, 0.1 is not
        np.array([1e300]),
        3,
        [1, 2],
        np.array([np.nan]),
        "text",
        None,
    ],
)
def test_float64_work_is_not_taken_for_float32(value):
    assert not computed_in_float32(through_worker(value))


def test_numpy_float32_scalars_keep_their_dtype_across_the_wire():
    got = through_worker((np.float32(0.1), [np.float32(0.2)], {"k": np.float16(0.5)}))
    assert got[0].dtype == np.float32 and got[0].shape == ()
    assert got[1][0].dtype == np.float32 and got[2]["k"].dtype == np.float16
    assert through_worker(np.float64(0.1)) == 0.1
    assert type(through_worker(np.float64(0.1))) is float


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (0.1, np.float32(0.1)),
        ((0.1, 0.2), (np.float32(0.1), np.float32(0.2))),
        ((0.1, 0.2), [np.float32(0.1), np.float32(0.2)]),
        ({"a": 0.1, "b": np.array([1.0, 2.0])}, {"a": np.float32(0.1), "b": [1.0, 2.0]}),
        ([np.array([0.1]), 0.2], [np.array([0.1], dtype=np.float32), np.float32(0.2)]),
    ],
)
def test_float32_scalars_are_compared_like_any_number(expected, got):
    assert AllClose(scale_tol=0.0).judge(expected, through_worker(got), True, 1e-7) is None


# The runner: float64 answers off by 1e-4 fail, float32 ones pass.


def _off_by_1e4(x: Any) -> Any:
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return x
    a = np.asarray(x, dtype=np.float64) * (1 + 1e-4)
    return a if a.ndim else float(a)


def _verdicts(sheet_id: str, function: str, impl, run_seed: int = 0) -> dict:
    return grade_in_process(load(sheet_id), function, impl, run_seed)


FLOAT_FUNCTIONS = [
    pytest.param(sheet_id, fn.name, id=f"{sheet_id}-{fn.name}")
    for sheet_id in available()
    for fn in CONTRACT[sheet_id]
    if fn.name not in NO_NUMBERS
]


@pytest.mark.parametrize(("sheet_id", "function"), FLOAT_FUNCTIONS)
def test_a_float64_answer_off_by_1e4_fails(sheet_id, function):
    reference = getattr(importlib.import_module(f"reference.sheet{sheet_id}"), function)

    def off(*args, **kwargs):
        return perturb(reference(*args, **kwargs), _off_by_1e4)

    verdicts = _verdicts(sheet_id, function, off)
    if all(v.status == "passed" for v in verdicts.values()):
        # Only integer answers (counts, labels, shapes) are left untouched by the slip.
        plain = _verdicts(sheet_id, function, reference)
        assert all(v.status == "passed" for v in plain.values())
        sample = perturb(reference(*_first_case(sheet_id, function).args), _off_by_1e4)
        assert _no_floats(sample), f"{function}: off by 1e-4 in float64 passes"


def _first_case(sheet_id: str, function: str):
    sheet = load(sheet_id)
    for exercise, check in sheet.iter_checks():
        if check.function == function:
            return check.make_cases(check.seed(sheet.check_id(exercise, check), 0))[0]
    raise AssertionError(function)


def _no_floats(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_no_floats(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_no_floats(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind != "f" or bool((value == np.round(value)).all())
    return not isinstance(value, float)


SHEET2_GRADS = ["logcosh_grad", "dataset_grad", "backprop", "grads_w13_w24", "grad_v"]


@pytest.mark.parametrize("function", SHEET2_GRADS)
def test_the_same_slip_in_float32_still_passes(function):
    """Off by 1e-4 of the scale is what float32 may lose inside a computation."""
    reference = getattr(ref2, function)

    def off32(*args, **kwargs):
        return perturb(reference(*args, **kwargs), lambda x: np.float32(_off_by_1e4(x)))

    for run_seed in (0, 1):
        verdicts = _verdicts("2", function, off32, run_seed)
        assert all(v.status == "passed" for v in verdicts.values()), verdicts


H = 1e-5


def _forward_difference(f, x: float) -> float:
    return (f(x + H) - f(x)) / H


def _fd_logcosh_grad(y, t):
    y, t = np.asarray(y, dtype=np.float64), np.asarray(t, dtype=np.float64)
    return (ref2.logcosh(y + H, t) - ref2.logcosh(y, t)) / H


def _fd_dataset_grad(X, w, t):
    def E(w):
        return float(np.mean(ref2.logcosh(X @ w, t)))

    return np.array([(E(w + H * e) - E(w)) / H for e in np.eye(len(w))])


def _backprop_error(x, t, w) -> float:
    a3 = math.tanh(x[0] * w["w13"] + x[1] * w["w23"])
    a4 = math.tanh(x[0] * w["w14"] + x[1] * w["w24"])
    a5 = math.tanh(a3 * w["w35"] + a4 * w["w45"])
    a6 = math.tanh(a3 * w["w36"] + a4 * w["w46"])
    return float(ref2.logcosh(np.array(a5 * w["w57"] + a6 * w["w67"]), np.array(t)))


def _fd_backprop(x, t, w):
    def along(k: str):
        return lambda v: _backprop_error(x, t, {**w, k: v})

    return {k: _forward_difference(along(k), w[k]) for k in w}


def _error4(x1, x2, t, w13, w24) -> float:
    return (0.5 * (x1 * w13) ** 2 + 0.5 * (x2 * w24) ** 2 - t) ** 2


def _fd_grads_w13_w24(x1, x2, t, w13, w24):
    return (
        _forward_difference(lambda v: _error4(x1, x2, t, v, w24), w13),
        _forward_difference(lambda v: _error4(x1, x2, t, w13, v), w24),
    )


def _fd_grad_v(x1, x2, t, v):
    return _forward_difference(
        lambda v: _error4(x1, x2, t, ref2.softplus(v), -ref2.softplus(-v)), v
    )


FORWARD_DIFFERENCES = {
    "logcosh_grad": _fd_logcosh_grad,
    "dataset_grad": _fd_dataset_grad,
    "backprop": _fd_backprop,
    "grads_w13_w24": _fd_grads_w13_w24,
    "grad_v": _fd_grad_v,
}


@pytest.mark.parametrize("function", SHEET2_GRADS)
def test_gradients_by_forward_differences_fail(function):
    verdicts = _verdicts("2", function, FORWARD_DIFFERENCES[function])
    failed = [cid for cid, v in verdicts.items() if v.status != "passed"]
    assert failed, f"{function} by forward differences (h = {H:g}) passes"


# Messages say how the answer was judged.


def _judge(function: str, impl, notes: list[str] | None = None):
    sheet = load("2")
    check = next(c for _, c in sheet.iter_checks() if c.function == function)
    return judge_first_case(sheet, check, impl, notes)


def test_a_pass_as_float32_work_is_noted():
    notes: list[str] = []
    verdict = _judge(
        "dataset_grad", lambda *a: (ref2.dataset_grad(*a) * (1 + 1e-5)).astype(np.float32), notes
    )
    assert verdict is None
    assert any("judged as float32 work" in n for n in notes)
    notes.clear()
    assert _judge("dataset_grad", ref2.dataset_grad, notes) is None
    assert notes == []


def test_a_float32_answer_that_fails_says_so():
    verdict = _judge("dataset_grad", lambda *a: (ref2.dataset_grad(*a) * 1.001).astype(np.float32))
    assert verdict.status == "failed" and "judged as float32 work" in verdict.message


def test_a_float64_near_miss_says_float32_rounding_is_for_float32_work():
    verdict = _judge("dataset_grad", lambda *a: ref2.dataset_grad(*a) * (1 + 1e-5))
    assert verdict.status == "failed"
    assert "float64" in verdict.message and "rtol 1e-06" in verdict.message
    far = _judge("dataset_grad", lambda *a: ref2.dataset_grad(*a) * 1.01)
    assert "float32" not in far.message


# Judges that compute their own values (a network checked as a function) follow the same rule.


def _network(b2: Any, dtype: type = np.float64) -> dict:
    params = ref2.network_params()
    return {**{k: np.asarray(v, dtype=dtype) for k, v in params.items() if k != "b2"}, "b2": b2}


def test_a_network_off_by_1e4_fails_in_float64_and_passes_in_float32():
    sheet = load("2")
    check = next(c for _, c in sheet.iter_checks() if c.function == "network_params")
    case = check.make_cases(None)[0]
    expected = truth(sheet, check, case)
    off64 = _network(1.0 + 1e-4)
    off32 = _network(np.float32(1.0 + 1e-4), np.float32)
    assert check.compare.judge(expected, through_worker(_network(1.0)), True) is None
    assert "differ" in check.compare.judge(expected, through_worker(off64), True)
    assert check.compare.judge(expected, through_worker(off32), True) is None


def test_close_mask_gives_the_float32_allowance_only_when_asked():
    want = np.linspace(-2.0, 2.0, 9)
    have = want + 5e-5
    assert close_mask(have, want).all()
    assert not close_mask(have, want, float32=False).any()
    assert close_mask(want + 1e-7, want, float32=False).all()


def _judge_check(check_id: str, impl):
    sheet = load("2")
    check = next(c for e, c in sheet.iter_checks() if sheet.check_id(e, c) == check_id)
    return judge_first_case(sheet, check, impl)


def _logcosh(y, t, dtype=np.float64):
    z = np.abs(np.asarray(y, dtype=dtype) - np.asarray(t, dtype=dtype))
    return z + np.log1p(np.exp(-2 * z)) - dtype(np.log(2.0))


def test_float32_work_on_a_float64_check_is_told_to_use_float64():
    """logcosh.large looks right to 7 digits in float32: the message says what to change."""
    verdict = _judge_check("2.2.logcosh.large", lambda y, t: _logcosh(y, t, np.float32))
    assert verdict.status == "failed" and "compute it in float64" in verdict.message
    assert _judge_check("2.2.logcosh.large", _logcosh) is None
    wrong = _judge_check("2.2.logcosh.large", lambda y, t: _logcosh(y, t) + 1.0)
    assert "float64" not in wrong.message and "float32" not in wrong.message


def test_a_wrong_type_from_float32_work_is_not_said_to_allow_for_rounding():
    """A dict for a pair, its numbers float32-exact: rounding has nothing to do with it."""
    verdict = _judge_check(
        "2.4.grads_w13_w24.example", lambda *a: {"w13": 0.5, "w24": np.float32(0.25)}
    )
    assert verdict.status == "failed" and "dict" in verdict.message
    assert "float32" not in verdict.message
