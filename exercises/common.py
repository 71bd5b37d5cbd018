"""Small helpers shared by the sheet specs."""

from __future__ import annotations

from collections.abc import Callable

from grader.spec import Mistake

MistakeTable = dict[str, list[tuple[str, str, Callable]]]


def mistakes(table: MistakeTable, function: str) -> list[Mistake]:
    """The known wrong answers for ``function``, as spec models."""
    return [Mistake(name=slug, message=msg, impl=fn) for slug, msg, fn in table.get(function, [])]
