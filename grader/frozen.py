"""A sheet's public checks frozen into plain data, and graded from that data.

The student kit cannot hold the reference, the known mistakes' code or the hidden
inputs, so everything grading a public check needs is computed once, by the full
grader, and written as ``wire`` frames (JSON plus raw array bytes, never pickle or
code). The core frame holds the checks and every public case's inputs and truth; the
derived frame what follows from them: how far float32 rounding may move each truth
(``rounding.rounding_noise``) and what each known mistake answers (in the truth's
form, see ``Comparator.as_truth``). Comparators are data too: a class and its fields,
where a field that is code names a function of the engine (``grader.*``). Hidden
checks keep their id, description, points and comparator (as the published student
docs do), never a case.

``spec_hash`` is the sha256 of the core frame and of a digest of the hidden checks'
truths at seed 0: the full grader computes it in a few ms without running the known
mistakes, a kit built from the same spec reports the same hash, and a kit checks its
own data with it (the derived frame by its sha256 in the kit's manifest).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from grader import wire
from grader.comparison import Comparator
from grader.runner import NO_ANSWER, Raised, _builtin_name, truth
from grader.sheets import DamagedKit
from grader.walk import SheetWalk

if TYPE_CHECKING:
    from grader.spec import Check, Sheet

FORMAT = 1
ENGINE = "grader."  # the only modules frozen data may name


class NotFreezable(ValueError):
    """A spec the kit cannot carry (a comparator that is not engine code, an odd value)."""


# Freezing (full grader side) --------------------------------------------------------------------


@dataclass(frozen=True)
class Frozen:
    """A sheet as a kit holds it.

    ``core``: what defines the sheet (checks, comparators, public inputs and truths,
    the hints' texts). ``derived``: what the core, the reference and the known
    mistakes imply (float32 allowances and the mistakes' answers), computed only for a
    kit. ``hidden_digest``: sha256 of the hidden checks' truths at seed 0.
    """

    core: bytes
    derived: bytes
    hidden_digest: str

    @property
    def spec_hash(self) -> str:
        return hash_of(self.core, self.hidden_digest)


def freeze(sheet: Sheet, derived: bool = True) -> Frozen:
    """``sheet`` frozen; ``derived=False`` skips running the known mistakes and the
    rounding analysis, which ``spec_hash`` does not need (a few ms instead of tens)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # known mistakes overflow on purpose
        return _freeze(sheet, derived)


def _freeze(sheet: Sheet, with_derived: bool) -> Frozen:
    hidden = []
    exercises = []
    derived: dict[str, list] = {}
    for exercise in sheet.exercises:
        checks = []
        for check in exercise.checks:
            cid = sheet.check_id(exercise, check)
            entry: dict[str, Any] = {
                "name": check.name,
                "function": check.function,
                "points": check.points,
                "description": check.description,
                "hidden": check.hidden,
                "timeout": check.timeout,
                "compare": comparator_data(check.compare),  # the public docs say it too
            }
            if check.hidden:
                cases = check.make_cases(check.seed(cid, 0))
                hidden.append([cid, [_outcome(truth(sheet, check, c)) for c in cases]])
            else:
                cases = check.make_cases(None)
                truths = [truth(sheet, check, c) for c in cases]
                entry["cases"] = [
                    {
                        "label": c.label,
                        "args": c.args,
                        "kwargs": c.kwargs,
                        "no_warnings": c.no_warnings,
                        "truth": _outcome(t),
                    }
                    for c, t in zip(cases, truths, strict=True)
                ]
                if with_derived:
                    derived[cid] = [
                        _derive(sheet, check, c, t) for c, t in zip(cases, truths, strict=True)
                    ]
            checks.append(entry)
        exercises.append(
            {
                "id": exercise.id,
                "title": exercise.title,
                "points": exercise.points,
                "checks": checks,
            }
        )
    body = {
        "format": FORMAT,
        "id": sheet.id,
        "title": sheet.title,
        "source": sheet.source,
        "notes": sheet.notes,
        "exercises": exercises,
        "mistakes": {
            function: [[m.name, m.message] for m in mistakes]
            for function, mistakes in sheet.mistakes.items()
        },
    }
    return Frozen(
        core=_encode(body, sheet.id),
        derived=_encode({"format": FORMAT, "checks": derived}, sheet.id) if with_derived else b"",
        hidden_digest=hashlib.sha256(_encode(hidden, sheet.id)).hexdigest(),
    )


def hash_of(core: bytes, hidden_digest: str) -> str:
    return hashlib.sha256(core + hidden_digest.encode("ascii")).hexdigest()


_HASHES: dict[int, tuple[Any, str]] = {}


def spec_hash(sheet: Any) -> str:
    """The sheet's ``spec_hash``: stored in a kit, computed (once per process) from a spec."""
    stored = getattr(sheet, "spec_hash", None)
    if isinstance(stored, str):
        return stored
    cached = _HASHES.get(id(sheet))
    if cached is None or cached[0] is not sheet:
        cached = (sheet, freeze(sheet, derived=False).spec_hash)
        _HASHES[id(sheet)] = cached
    return cached[1]


def _derive(sheet: Sheet, check: Check, case: Any, expected: Any) -> list:
    """[float32 allowance, {mistake name: its answer}] for one public case."""
    noise = None
    if not isinstance(expected, Raised) and check.compare.uses_noise():
        noise = sheet.noise(check, case, expected)
    answers = {}
    for mistake in sheet.mistakes_for(check):
        answer = _mistake_answer(check, mistake, case)
        if answer is not None:
            answers[mistake.name] = answer
    return [noise, answers]


def _mistake_answer(check: Check, mistake: Any, case: Any) -> list | None:
    """What the mistake answers, as the runner sees it; None when it can never match."""
    try:
        value = mistake.impl(*case.args, **case.kwargs)
    except Exception as exc:
        return _outcome(Raised(_builtin_name(exc)))
    try:
        return _outcome(check.compare.as_truth(value))
    except Exception:  # the runner's matching fails the same way: no match
        return None


def _outcome(value: Any) -> list:
    """A truth or answer as [raised exception name or None, value]."""
    return [value.exception, None] if isinstance(value, Raised) else [None, value]


def _encode(obj: Any, sheet_id: str) -> bytes:
    frame = wire.encode(obj)
    (hlen,) = wire.HEADER.unpack(frame[: wire.HEADER.size])
    if b'"$x"' in frame[wire.HEADER.size : wire.HEADER.size + hlen]:
        raise NotFreezable(f"sheet {sheet_id}: a value that is not plain data")
    return frame


def comparator_data(compare: Comparator) -> dict[str, Any]:
    """A comparator as its class and fields; code is named, never copied."""
    fields = {}
    for f in dataclasses.fields(compare):
        value = getattr(compare, f.name)
        fields[f.name] = {"code": _engine_name(value)} if callable(value) else value
    return {"class": _engine_name(type(compare)), "fields": fields}


def _engine_name(obj: Any) -> str:
    module, qualname = getattr(obj, "__module__", ""), getattr(obj, "__qualname__", "")
    name = f"{module}:{qualname}"
    if not module.startswith(ENGINE) or "<" in qualname or _resolve(name) is not obj:
        raise NotFreezable(
            f"{name} is not a module-level function or class of the engine (grader.*); "
            "a student kit can carry only engine code: move it to grader/judges/"
        )
    return name


def _resolve(name: str) -> Any:
    module, _, qualname = name.partition(":")
    if not module.startswith(ENGINE):
        raise DamagedKit(f"the data names code outside the engine ({name})")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


# Loading (kit side) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FrozenCase:
    label: str
    args: tuple
    kwargs: dict
    no_warnings: bool
    truth: Any  # a value, or Raised
    noise: Any
    answers: dict[str, Any]  # mistake name -> its answer (a value or Raised)


@dataclass(frozen=True)
class FrozenMistake:
    name: str
    message: str

    def answer(self, case: FrozenCase) -> Any:
        return case.answers.get(self.name, NO_ANSWER)


@dataclass(frozen=True)
class FrozenCheck:
    name: str
    function: str
    points: float
    description: str
    hidden: bool
    cases: list[FrozenCase]
    compare: Comparator
    timeout: float | None

    @property
    def graded_here(self) -> bool:
        """Hidden checks are listed, never run: their inputs are not in the kit."""
        return not self.hidden

    def seed(self, check_id: str, run_seed: int, code: str = "") -> None:
        return None

    def make_cases(self, seed: int | None) -> list[FrozenCase]:
        return list(self.cases)


@dataclass(frozen=True)
class FrozenExercise:
    id: str
    title: str
    points: float
    checks: list[FrozenCheck]


@dataclass(frozen=True)
class FrozenSheet(SheetWalk):
    """What the runner needs of a ``Sheet``, read from a kit's data."""

    id: str
    title: str
    source: str
    notes: str
    exercises: list[FrozenExercise]
    mistakes: dict[str, list[FrozenMistake]]
    spec_hash: str
    grader_version: str

    def expected(self, check: FrozenCheck, case: FrozenCase) -> Any:
        return case.truth

    def noise(self, check: FrozenCheck, case: FrozenCase, expected: Any) -> Any:
        return case.noise


def thaw(
    core: bytes, derived: bytes, hidden_digest: str, spec_hash: str, grader_version: str
) -> FrozenSheet:
    """A kit's sheet from its data; ``DamagedKit`` when that is not what was built (the
    caller has checked ``derived`` against its recorded sha256)."""
    if hash_of(core, hidden_digest) != spec_hash:
        raise DamagedKit("its data does not match its spec_hash (altered or truncated)")
    try:
        body, extra = _decode(core), _decode(derived)
        if body.get("format") != FORMAT or extra.get("format") != FORMAT:
            raise DamagedKit(f"its data is not of format {FORMAT}")
        return _sheet(body, extra["checks"], spec_hash, grader_version)
    except DamagedKit:
        raise
    except Exception as exc:  # malformed data of any kind: never grade against it
        raise DamagedKit(f"its data cannot be read ({type(exc).__name__}: {exc})") from None


def _decode(frame: bytes) -> Any:
    (hlen,) = wire.HEADER.unpack(frame[: wire.HEADER.size])
    header = frame[wire.HEADER.size : wire.HEADER.size + hlen]
    return wire.decode(header, frame[wire.HEADER.size + hlen :])


def _sheet(body: dict, derived: dict, spec_hash: str, grader_version: str) -> FrozenSheet:
    exercises = []
    for e in body["exercises"]:
        checks = []
        for c in e["checks"]:
            cid = f"{body['id']}.{e['id']}.{c['function']}.{c['name']}"
            checks.append(_check(c, [] if c["hidden"] else derived[cid]))
        exercises.append(FrozenExercise(e["id"], e["title"], e["points"], checks))
    mistakes = {
        function: [FrozenMistake(name, message) for name, message in rows]
        for function, rows in body["mistakes"].items()
    }
    return FrozenSheet(
        id=body["id"],
        title=body["title"],
        source=body["source"],
        notes=body["notes"],
        exercises=exercises,
        mistakes=mistakes,
        spec_hash=spec_hash,
        grader_version=grader_version,
    )


def _check(c: dict, derived: list) -> FrozenCheck:
    cases = [
        FrozenCase(
            label=k["label"],
            args=tuple(k["args"]),
            kwargs=dict(k["kwargs"]),
            no_warnings=k["no_warnings"],
            truth=_thawed(k["truth"]),
            noise=noise,
            answers={name: _thawed(a) for name, a in answers.items()},
        )
        for k, (noise, answers) in zip(c.get("cases", []), derived, strict=True)
    ]
    return FrozenCheck(
        name=c["name"],
        function=c["function"],
        points=c["points"],
        description=c["description"],
        hidden=c["hidden"],
        cases=cases,
        compare=_comparator(c["compare"]),
        timeout=c.get("timeout"),
    )


def _thawed(outcome: list) -> Any:
    raised, value = outcome
    return Raised(raised) if raised is not None else value


def _comparator(data: dict) -> Comparator:
    cls = _resolve(data["class"])
    if not (isinstance(cls, type) and issubclass(cls, Comparator)):
        raise DamagedKit(f"{data['class']} is not a comparator")
    fields = {
        name: _resolve(v["code"]) if isinstance(v, dict) and set(v) == {"code"} else v
        for name, v in data["fields"].items()
    }
    return cls(**fields)
