"""The sandboxed worker: loads a submission and answers calls with plain data.

This file runs *inside* the sandbox, next to ``wire.py`` and ``standins.py`` and
nothing else of the grader. It is the untrusted side: whatever it sends back is treated as the
student's answer, so it needs no secrets and holds none. Requests arrive on
stdin, answers leave on stdout; before student code runs, both are moved to
private descriptors and fds 0-2 point at /dev/null, so prints and ``input()``
cannot touch the protocol.
"""

from __future__ import annotations

import io
import itertools
import os
import signal
import sys
import traceback
import types
import warnings
from collections.abc import Iterator, KeysView, ValuesView
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import standins
import wire

MAX_MESSAGE = 600
MAX_PARAMS = 12  # parameter names sent back after a TypeError
MAX_PARAM_NAME = 40
NUMPY_DEFAULT_ERRSTATE = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
MAX_ITEMS = 10_000_000
SUBMISSION = "submission"


def main() -> None:
    requests, answers = os.dup(0), os.dup(1)
    if hasattr(os, "O_BINARY"):  # Windows: frames are bytes, never text with \r\n turned into \n
        import msvcrt

        for fd in (requests, answers):
            msvcrt.setmode(fd, os.O_BINARY)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.path.pop(0)
    handlers = signal_handlers()
    namespace: dict[str, Any] = {}
    while True:
        try:
            request = wire.read_frame(requests)
        except EOFError:
            os._exit(0)
        try:
            if request["op"] == "load":
                namespace, reply = load(request)
            elif request["op"] == "calls":  # a check's cases, each answered as it finishes
                name = request["function"]
                for index, (args, kwargs) in enumerate(request["calls"]):
                    answer = guarded(call, handlers, namespace, name, args, kwargs)
                    send(answers, answer, {"ok": True, "case": index})
                reply = {"ok": True, "done": len(request["calls"])}
            else:
                reply = call(namespace, request["function"], request["args"], request["kwargs"])
        except BaseException as exc:  # a handler or tracer of the submission firing in our code
            reply = {"ok": False, "error": describe(exc, None)}
        reset(handlers)
        send(answers, reply)


def send(fd: int, reply: dict, case: dict | None = None) -> None:
    """Write one answer; ``case`` wraps it as one case's answer in a stream of them."""

    def frame(reply: dict) -> dict:
        return reply if case is None else {**case, "answer": reply}

    try:
        data = wire.encode(frame(reply), fallback=to_plain)
    except BaseException as exc:  # a value whose conversion itself misbehaves
        data = wire.encode(frame(failure("unconvertible", exc)))
    wire.write_all(fd, data)


def guarded(fn: Any, handlers: dict[int, Any], *args: Any) -> dict:
    """One call, then undo whatever it left behind before the next one runs."""
    try:
        reply = fn(*args)
    except BaseException as exc:
        reply = {"ok": False, "error": describe(exc, None)}
    reset(handlers)
    return reply


def reset(handlers: dict[int, Any]) -> None:
    try:
        restore(handlers)
    except BaseException:  # a tracer that raised on entering restore() is unset by now
        restore(handlers)


def signal_handlers() -> dict[int, Any]:
    """The worker's own handler for every signal a submission may take over."""
    handlers = {}
    uncatchable = {getattr(signal, name, None) for name in ("SIGKILL", "SIGSTOP")}
    for sig in signal.valid_signals():
        if sig in uncatchable:
            continue
        try:
            handlers[sig] = signal.getsignal(sig)
        except (OSError, ValueError):
            continue
    return {sig: h for sig, h in handlers.items() if h is not None}


def untrace() -> None:
    """Drop trace and profile hooks the submission set, before our own code runs on."""
    sys.setprofile(None)
    sys.settrace(None)


def reopen_std_streams() -> None:
    """Give back a standard stream a call closed or dropped, open on the null device.

    ``exit()`` closes ``sys.stdin`` before it raises: without this, another
    function's ``input()`` would fail with "I/O operation on closed file" instead
    of the EOFError whose message tells the student what is wrong, and a
    ``print`` after a closed ``sys.stdout`` would cost a function that is right.
    """
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        try:
            stream = getattr(sys, name, None)
            if stream is None or (isinstance(stream, io.IOBase) and stream.closed):
                setattr(sys, name, open(os.devnull, mode, encoding="utf-8"))  # noqa: SIM115
        except BaseException:
            continue


def restore(handlers: dict[int, Any]) -> None:
    """Undo timers, handlers and trace hooks a call left behind.

    Otherwise an alarm or a tracer set by one function would go off during the
    next call and cost another function's check.
    """
    untrace()
    reopen_std_streams()
    if hasattr(signal, "alarm"):  # POSIX only: Windows has neither alarms nor interval timers
        signal.alarm(0)
    for name in ("ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"):
        if hasattr(signal, name):
            signal.setitimer(getattr(signal, name), 0)
    for sig, handler in handlers.items():
        try:
            if signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)
        except (OSError, ValueError):
            continue


def load(request: dict) -> tuple[dict[str, Any], dict]:
    """Run the submission's code: one unit for a module, cell by cell for a notebook."""
    filename = request["filename"]
    module = types.ModuleType(SUBMISSION)
    module.__file__ = os.path.abspath(filename)
    sys.modules[SUBMISSION] = module
    try:
        with open(filename, "w", encoding="utf-8") as f:
            f.write("\n".join(request["cells"]))
    except OSError:
        pass
    module.__dict__.update(JUPYTER_NAMES)
    stood_in = standins.install()
    cell_errors = []
    numbers = request.get("numbers") or []
    for index, source in enumerate(request["cells"]):
        number = numbers[index] if index < len(numbers) else index + 1  # as Jupyter shows it
        name = filename if not request["notebook"] else f"{filename} [cell {number}]"
        try:
            exec(compile(source, name, "exec"), module.__dict__)
        except BaseException as exc:
            error = describe(exc, name)
            if not request["notebook"]:
                return {}, {"ok": False, "error": error}
            cell_errors.append({"cell": number, **error})
    functions = sorted(
        k
        for k, v in module.__dict__.items()
        if type(k) is str and callable(v) and JUPYTER_NAMES.get(k) is not v
    )
    reply = {"ok": True, "functions": functions, "cell_errors": cell_errors}
    if stood_in:
        reply["stand_ins"] = list(stood_in)
    return module.__dict__, reply


def display(*objs: Any, **kwargs: Any) -> None:
    """IPython's ``display``: here it shows nothing."""


# Cell magics whose body is Python and runs, as grader.loading reads them in a notebook.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})


class _IPython:
    """What ``get_ipython()`` gives: its methods do what a magic does in a notebook here.

    A notebook saved as .py keeps its magics as ``get_ipython().run_line_magic(...)``
    and ``run_cell_magic(...)`` lines: a line magic or a shell line does nothing, a
    Python cell magic (``%%time``) runs its body where it is called.
    """

    def run_cell_magic(self, magic: Any, line: Any, cell: Any) -> None:
        if magic in PYTHON_CELL_MAGICS and isinstance(cell, str):
            namespace = sys._getframe(1).f_globals
            exec(compile(cell, f"<%%{magic} cell>", "exec"), namespace)

    def __getattr__(self, name: str) -> Any:
        return display


def get_ipython() -> _IPython:
    return _IPython()


# The names Jupyter gives every notebook. Without them a cell (or a notebook saved as
# .py) that shows a result or runs a magic before its definitions would lose them.
JUPYTER_NAMES: dict[str, Any] = {"display": display, "get_ipython": get_ipython}


def call(namespace: dict[str, Any], name: str, args: list, kwargs: dict) -> dict:
    fn = namespace.get(name)
    if fn is None:
        return {"ok": False, "error": {"kind": "missing", "message": f"{name} is not defined"}}
    if not callable(fn):
        message = f"{name} is a {type(fn).__name__}, not a function"
        return {"ok": False, "error": {"kind": "missing", "message": message}}
    error = None
    caught: list[dict] = []
    try:
        value = call_quietly(fn, args, kwargs, caught)
    except BaseException as exc:
        error = exc
    for _ in range(3):  # a hook that raises is unset by raising, so a retry clears the next
        try:
            untrace()
            break
        except BaseException:
            continue
    if error is not None:
        described = describe(error, None)
        if isinstance(error, Exception):  # perhaps its parameters are not the contract's
            described["params"] = parameter_names(fn)
        return {"ok": False, "error": described}
    try:
        reply = {"ok": True, "value": to_plain_deep(value)}
    except BaseException as exc:
        return failure("unconvertible", exc)
    if caught:
        reply["warnings"] = caught
    return reply


def parameter_names(fn: Any) -> list[str] | None:
    """A function's parameters after a failed call, for a hint on how they miss the contract.

    Each is its name, ``*``/``**`` before a variadic one and ``=`` after one with a
    default (never the default itself, whose repr could be anything).
    """
    try:
        import inspect

        out = []
        for param in list(inspect.signature(fn).parameters.values())[:MAX_PARAMS]:
            star = {param.VAR_POSITIONAL: "*", param.VAR_KEYWORD: "**"}.get(param.kind, "")
            default = "=" if param.default is not param.empty else ""
            out.append(f"{star}{str(param.name)[:MAX_PARAM_NAME]}{default}")
        return out
    except BaseException:
        return None


def call_quietly(fn: Any, args: list, kwargs: dict, caught: list[dict]) -> Any:
    """Call ``fn`` under numpy's default error state, noting the warnings it raises.

    Some checks demand a call free of RuntimeWarnings (sigmoid must not overflow),
    judged as the contract says, under numpy's default error state, whatever the
    submission set at import (``np.seterr(all="ignore")``, ``warnings`` filters).
    Each distinct warning is noted once per call ("default" action), the first
    few only, so a warning in a loop costs neither time nor memory.
    """

    def note(message: Any, category: Any, *_: Any, **__: Any) -> None:
        if len(caught) < wire.MAX_WARNINGS:
            caught.append(
                {
                    "category": _warning_class(category),
                    "message": _safe_str(message)[: wire.MAX_WARNING_TEXT],
                }
            )

    with warnings.catch_warnings(), np.errstate(**NUMPY_DEFAULT_ERRSTATE):
        warnings.simplefilter("default")
        warnings.showwarning = note
        return fn(*args, **kwargs)


def _warning_class(category: Any) -> str:
    """The built-in warning class a warning is (numpy's overflow is a RuntimeWarning)."""
    try:
        builtin = next(c for c in category.__mro__ if c.__module__ == "builtins")
        return builtin.__name__[:80]
    except BaseException:
        return "Warning"


def to_plain(x: Any) -> Any:
    """Turn a foreign numeric value (torch tensor, Fraction, array-like) into numpy or float."""
    module = type(x).__module__ or ""
    if module.startswith("torch") and hasattr(x, "detach"):
        t = x.detach().cpu()
        if str(t.layout) != "torch.strided":  # sparse (COO, CSR, ...): the same matrix, dense
            t = t.to_dense()
        if t.is_complex():
            return x
        if not t.dtype.is_floating_point and t.dtype.itemsize > 8:
            return x
        if t.dtype.is_floating_point and t.dtype.itemsize < 4:
            t = t.float()
        return t.resolve_conj().resolve_neg().numpy()
    if isinstance(x, (np.ndarray, np.generic)):
        return x
    if hasattr(x, "__float__") and not hasattr(x, "__len__") and not isinstance(x, complex):
        return float(x)
    if hasattr(x, "__array__") or hasattr(x, "__len__"):
        a = np.asarray(x)
        if a.dtype.kind in "biuf":
            return a
    return x


def to_plain_deep(x: Any) -> Any:
    """Convert eagerly, so a failure is reported as this call's error, not the frame's."""
    if type(x) is list and all(type(v) in wire.PLAIN_SCALARS for v in x):
        return list(x)
    if isinstance(x, (list, tuple)):
        converted = [to_plain_deep(v) for v in x]
        return tuple(converted) if isinstance(x, tuple) else converted
    if isinstance(x, dict):
        return {k: to_plain_deep(v) for k, v in x.items()}
    if isinstance(x, np.floating) and x.dtype.itemsize < 8:
        return np.asarray(x)  # a 0-d array keeps float32 on the wire: float32 work is judged so
    if x is None or isinstance(x, (bool, int, float, str, np.ndarray, np.generic)):
        return x
    if isinstance(x, (Iterator, KeysView, ValuesView)):  # a generator or map of rows
        return to_plain_deep(list(itertools.islice(x, MAX_ITEMS)))
    return to_plain(x)


def failure(kind: str, exc: BaseException) -> dict:
    return {"ok": False, "error": {**describe(exc, None), "kind": kind}}


def describe(exc: BaseException, filename: str | None) -> dict:
    """Name the exception, its message and the submission line it came from."""
    try:
        return _describe(exc, filename)
    except BaseException:  # an exception class built to break whoever inspects it
        return {
            "kind": "exception",
            "type": "BaseException",
            "builtin": "BaseException",
            "message": "<an exception that could not be described>",
            "where": None,
        }


def _describe(exc: BaseException, filename: str | None) -> dict:
    kind = "exit" if isinstance(exc, SystemExit) else "exception"
    builtin = next(
        (c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"), "BaseException"
    )
    where = None
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        line = exc.lineno if type(exc.lineno) is int else None
        where = {"file": os.path.basename(str(exc.filename or "")), "line": line}
        text = f"{exc.msg}"
    else:
        text = _safe_str(exc)
        frames = traceback.extract_tb(exc.__traceback__)
        own = [f for f in frames if os.path.basename(f.filename).startswith(SUBMISSION)]
        if own:
            where = {
                "file": os.path.basename(own[-1].filename),
                "line": own[-1].lineno,
                "function": own[-1].name,
            }
    return {
        "kind": kind,
        "type": type(exc).__name__[:80],
        "builtin": builtin,
        "message": text[:MAX_MESSAGE],
        "where": where,
    }


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:
        return "<exception whose message could not be printed>"


if __name__ == "__main__":
    main()
