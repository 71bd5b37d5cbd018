"""How a sheet is walked: apart from the pydantic spec so that a kit, which
grades from a frozen copy of the sheet, never imports pydantic (tens of ms a run).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any


class SheetWalk:
    """How a sheet is walked, shared by the spec and a kit's frozen copy of it.

    Check ids, totals and the known mistakes of a function must be computed the
    same way on both sides, or a kit's verdicts would drift from the TA's.
    """

    if TYPE_CHECKING:  # provided by the subclass; not fields of their own for pydantic
        id: str
        exercises: list[Any]
        mistakes: dict[str, list[Any]]

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    def iter_checks(self) -> Iterator[tuple[Any, Any]]:
        for exercise in self.exercises:
            for check in exercise.checks:
                yield exercise, check

    def mistakes_for(self, check: Any) -> list[Any]:
        """The known wrong answers every check of this function can recognise."""
        return self.mistakes.get(check.function, [])

    def check_id(self, exercise: Any, check: Any) -> str:
        return f"{self.id}.{exercise.id}.{check.function}.{check.name}"
