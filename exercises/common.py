"""Small helpers shared by the sheet specs."""

from __future__ import annotations

from collections.abc import Callable

from grader.spec import Mistake

MistakeTable = dict[str, list[tuple[str, str, Callable]]]


def mistakes(table: MistakeTable) -> dict[str, list[Mistake]]:
    """A sheet's known wrong answers per function, as spec models."""
    return {
        function: [Mistake(name=slug, message=msg, impl=fn) for slug, msg, fn in rows]
        for function, rows in table.items()
    }
