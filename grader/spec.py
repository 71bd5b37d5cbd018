"""The spec models: a sheet has exercises, an exercise has checks.

A check names the one contract function it exercises, its points, where its
inputs come from (fixed cases from the sheet's text, or seeded random cases),
how an answer is judged, and whether it is public or hidden. The known mistakes
belong to the sheet, per function: every check of a function can recognise them.
Expected values are computed from the reference by default and are plain data,
so the public cases can be frozen into a self-check file.

Validation is strict on purpose: a check for a function the contract lacks, a
duplicate id, or points that do not add up fail when the sheet loads, not in
front of a student.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from grader.comparison import AllClose, Comparator
from grader.contract import functions as contract_functions
from grader.walk import SheetWalk


class Model(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True, extra="forbid")


class Case(Model):
    """One call: positional args (and kwargs) of plain data, with a label for messages.

    ``no_warnings`` marks a call the contract wants free of RuntimeWarnings under
    numpy's default error state (sigmoid for |z| ≤ 1000): a right value that
    overflowed on the way still fails. It is per case because a check may mix
    calls the contract treats differently (sigmoid and tanh on the same z).
    """

    label: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = Field(default_factory=dict)
    no_warnings: bool = False


class Mistake(Model):
    """A known wrong answer: if the student's output matches ``impl``'s, say ``message``."""

    name: str
    message: str
    impl: Callable[..., Any]

    def answer(self, case: Case) -> Any:
        return self.impl(*case.args, **case.kwargs)


Generator = Callable[[np.random.Generator], list[Case]]


class Check(Model):
    """One graded behaviour of one contract function."""

    name: str
    function: str
    points: float = Field(gt=0)
    description: str
    hidden: bool = False
    cases: list[Case] | None = None
    generate: Generator | None = None
    expect: Callable[..., Any] | None = None
    compare: Comparator = Field(default_factory=AllClose)
    timeout: float | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Check:
        if (self.cases is None) == (self.generate is None):
            raise ValueError(f"check {self.name!r}: give exactly one of cases= or generate=")
        if self.cases is not None and not self.cases:
            raise ValueError(f"check {self.name!r}: no cases")
        return self

    @property
    def graded_here(self) -> bool:
        """Whether this grader runs the check (a student kit lists its hidden checks only)."""
        return True

    def seed(self, check_id: str, run_seed: int, code: str = "") -> int | None:
        """A stable seed per check, so a run is reproducible and the report can name it.

        The runner passes ``code``, a digest of the submission's code: hidden inputs
        that a submission smuggled out (in an exception's text, say) are then of no
        use to the next version of it, which gets inputs of its own.
        """
        if self.generate is None:
            return None
        key = f"{check_id}:{run_seed}" + (f":{code}" if code else "")
        digest = hashlib.sha256(key.encode()).digest()
        return int.from_bytes(digest[:4], "little")

    def make_cases(self, seed: int | None) -> list[Case]:
        if self.cases is not None:
            return list(self.cases)
        cases = self.generate(np.random.default_rng(seed))
        if not cases:
            raise ValueError(f"check {self.name!r}: generator gave no cases")
        return cases


class Exercise(Model):
    id: str
    title: str
    points: float
    checks: list[Check]

    @model_validator(mode="after")
    def _points_add_up(self) -> Exercise:
        total = sum(c.points for c in self.checks)
        if abs(total - self.points) > 1e-9:
            raise ValueError(
                f"exercise {self.id}: checks give {total:g} points, "
                f"the exercise has {self.points:g}"
            )
        return self


class Sheet(SheetWalk, Model):
    id: str
    title: str
    source: str
    exercises: list[Exercise]
    reference: ModuleType
    mistakes: dict[str, list[Mistake]] = Field(default_factory=dict)
    notes: str = ""

    @field_validator("exercises")
    @classmethod
    def _unique_exercises(cls, value: list[Exercise]) -> list[Exercise]:
        ids = [e.id for e in value]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate exercise ids: {ids}")
        return value

    @model_validator(mode="after")
    def _matches_contract(self) -> Sheet:
        known = contract_functions(self.id)
        for function in self.mistakes:
            if function not in known:
                raise ValueError(f"sheet {self.id}: known mistakes for unknown {function!r}")
        seen: set[str] = set()
        for exercise, check in self.iter_checks():
            if check.function not in known:
                raise ValueError(
                    f"sheet {self.id}: check {check.name!r} names {check.function!r}, "
                    "which the contract does not have"
                )
            cid = self.check_id(exercise, check)
            if cid in seen:
                raise ValueError(f"sheet {self.id}: duplicate check id {cid}")
            seen.add(cid)
            if check.expect is None and not callable(getattr(self.reference, check.function, None)):
                raise ValueError(f"sheet {self.id}: the reference lacks {check.function}")
        return self

    def expected(self, check: Check, case: Case) -> Any:
        """The truth for one case: the check's own ``expect`` or the reference function."""
        fn = check.expect or getattr(self.reference, check.function)
        return fn(*case.args, **case.kwargs)

    def noise(self, check: Check, case: Case, expected: Any) -> Any:
        """How far float32 rounding may move ``expected`` (see ``rounding``)."""
        from grader.rounding import rounding_noise

        return rounding_noise(self, check, case, expected)
