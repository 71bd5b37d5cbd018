"""Stand-ins for the display libraries a notebook imports but the sandbox lacks.

Runs inside the sandbox, beside ``worker.py``. Students plot and show progress
as they work (``import matplotlib.pyplot as plt`` in the first cell, often
beside ``import numpy as np``); nothing of that is graded, and the grader does
not install those libraries. Without a stand-in the failed import would cost a
whole module, or a whole cell and every later cell that needs its other
imports. A stand-in is used only when the real library cannot be found, so an
installed one always wins; every call on it does nothing and returns another
stand-in, and the report says which libraries were stood in for.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import sysconfig
import types
from collections.abc import Iterable, Iterator
from typing import Any

# Libraries that only draw, display or report progress: never part of an answer.
LIBRARIES = ("matplotlib", "seaborn", "IPython", "ipywidgets", "tqdm", "plotly")


class Nothing:
    """Any attribute, call, item or context of a stand-in library: does nothing."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in ("subplots", "subplot_mosaic"):
            return subplots
        return Nothing(f"{self._name}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> Nothing:
        return Nothing(self._name)

    def __getitem__(self, key: Any) -> Nothing:
        return Nothing(self._name)

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __enter__(self) -> Nothing:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __repr__(self) -> str:
        return f"<{self._name}: not installed where submissions are graded>"


def subplots(*args: Any, **kwargs: Any) -> tuple[Nothing, Any]:
    """``fig, ax = plt.subplots(...)`` with ``ax`` shaped as matplotlib shapes it.

    Students unpack the axes (``fig, (ax1, ax2) = plt.subplots(1, 2)``) and index
    them (``axes[0, 1]``), so the grid keeps matplotlib's squeeze rule.
    """
    rows = args[0] if len(args) > 0 else kwargs.get("nrows", 1)
    cols = args[1] if len(args) > 1 else kwargs.get("ncols", 1)
    rows = rows if type(rows) is int and 0 < rows <= 100 else 1
    cols = cols if type(cols) is int and 0 < cols <= 100 else 1
    import numpy as np

    axes = np.empty((rows, cols), dtype=object)
    for index in np.ndindex(axes.shape):
        axes[index] = Nothing("Axes")
    if kwargs.get("squeeze", True):
        axes = axes.squeeze()
        if axes.shape == ():
            axes = axes.item()
    return Nothing("Figure"), axes


def tqdm(iterable: Iterable[Any] | None = None, *args: Any, **kwargs: Any) -> Any:
    """``tqdm(xs)`` is ``xs``: a loop over it must still run."""
    return Nothing("tqdm") if iterable is None else iterable


def trange(*args: Any, **kwargs: Any) -> range:
    return range(*args)


class _Library(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if self.__name__.split(".")[0] == "tqdm" and name in ("tqdm", "trange"):
            return tqdm if name == "tqdm" else trange
        if name in ("subplots", "subplot_mosaic"):
            return subplots
        return Nothing(f"{self.__name__}.{name}")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: asked only for what no real finder found."""

    def __init__(self) -> None:
        self.used: list[str] = []

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        top = fullname.split(".")[0]
        if top not in LIBRARIES or asked_by_installed_code():
            return None
        if top not in self.used:
            self.used.append(top)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: Any) -> types.ModuleType:
        return _Library(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []


def _installed_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    keys = ("stdlib", "platstdlib", "purelib", "platlib")
    return tuple(os.path.realpath(paths[k]) + os.sep for k in keys if paths.get(k))


INSTALLED = _installed_roots()


def asked_by_installed_code() -> bool:
    """Whether the import comes from an installed library rather than from the submission.

    torch imports ``tqdm`` inside ``try/except ImportError`` (torch.hub) and falls back
    on its own: it must get the ImportError it expects, and the report must not say the
    student imported tqdm. The importer is the first frame outside the import machinery.
    """
    try:
        frame: Any = sys._getframe(1)
        while frame is not None and _machinery(frame.f_code.co_filename):
            frame = frame.f_back
        if frame is None:
            return False
        return os.path.realpath(frame.f_code.co_filename).startswith(INSTALLED)
    except Exception:  # an odd frame or path: the stand-in, as before
        return False


def _machinery(filename: str) -> bool:
    if filename.startswith("<frozen importlib") or filename == __file__:
        return True
    return os.path.basename(os.path.dirname(filename)) == "importlib"


def install() -> list[str]:
    """Put the stand-ins last on the import path; the list fills with the ones used."""
    finder = _Finder()
    sys.meta_path.append(finder)
    return finder.used
