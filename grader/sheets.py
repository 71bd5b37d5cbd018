"""Which sheets exist, and loading one spec by id."""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.spec import Sheet

SHEET_MODULES = {
    "2": "exercises.sheet2",
    "7": "exercises.sheet7",
    "9": "exercises.sheet9",
    "10": "exercises.sheet10",
}


class UnknownSheet(KeyError):
    def __str__(self) -> str:
        return f"unknown sheet {self.args[0]!r}; known sheets: {', '.join(available())}"


def available() -> list[str]:
    """Sheets whose spec module is present (in numeric order)."""
    found = []
    for sheet_id, module in SHEET_MODULES.items():
        if importlib.util.find_spec(module) is not None:
            found.append(sheet_id)
    return found


def load(sheet_id: str) -> Sheet:
    sheet_id = str(sheet_id).strip()
    if sheet_id not in available():
        raise UnknownSheet(sheet_id)
    return importlib.import_module(SHEET_MODULES[sheet_id]).SHEET
