"""References import only numpy and the standard library: the grader imports them on
every run (torch would cost a second each), and the sandboxed worker never sees them."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

from grader.sheets import available


@pytest.mark.parametrize("sheet_id", available())
def test_reference_imports_only_numpy_and_stdlib(sheet_id: str) -> None:
    module = importlib.import_module(f"reference.sheet{sheet_id}")
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots - {"numpy"} <= set(sys.stdlib_module_names) | {"__future__"}
