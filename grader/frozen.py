"""A sheet's public checks frozen into plain data, and graded from that data.

The student kit cannot hold the reference, the known mistakes' code or the hidden
inputs, so everything grading a public check needs is computed once, by the full
grader, and written as one ``wire`` frame (JSON plus raw array bytes, never pickle or
code): every public case's inputs and truth, how far float32 rounding may move that
truth (``rounding.rounding_noise``), and what each known mistake answers on it (in
the truth's form, see ``Comparator.as_truth``). Comparators are data too: a class and
its fields, where a field that is code names a function of the engine (``grader.*``).
Hidden checks keep their id, description, points and comparator (as the published
student docs do), never a case.

``spec_hash`` is the sha256 of that frame and of a digest of the hidden part (the
hidden checks' truths at seed 0), so the full grader and a
kit built from the same spec report the same hash, and a kit can check its own data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import importlib.util
import json
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grader import wire
from grader.comparison import Comparator
from grader.runner import NO_ANSWER, Raised, _builtin_name, truth
from grader.sheets import SHEET_MODULES, DamagedKit

if TYPE_CHECKING:
    from grader.spec import Check, Sheet

FORMAT = 1
ENGINE = "grader."  # the only modules frozen data may name


class NotFreezable(ValueError):
    """A spec the kit cannot carry (a comparator that is not engine code, an odd value)."""


# Freezing (full grader side) --------------------------------------------------------------------


def freeze(sheet: Sheet) -> tuple[bytes, str]:
    """The public frame of ``sheet`` and the hex digest of its hidden part."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # known mistakes overflow on purpose
        return _freeze(sheet)


def _freeze(sheet: Sheet) -> tuple[bytes, str]:
    hidden = []
    exercises = []
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
                entry["cases"] = [_freeze_case(sheet, check, c) for c in check.make_cases(None)]
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
    frame = _encode(body, sheet.id)
    return frame, hashlib.sha256(_encode(hidden, sheet.id)).hexdigest()


def hash_of(frame: bytes, hidden_digest: str) -> str:
    return hashlib.sha256(frame + hidden_digest.encode("ascii")).hexdigest()


_HASHES: dict[int, tuple[Any, str]] = {}


def spec_hash(sheet: Any) -> str:
    """The sheet's ``spec_hash``: stored in a kit; computed from a spec once per process,
    and for the installed specs cached on disk until a source file changes, because
    freezing runs the reference and the known mistakes (tens of ms per report)."""
    stored = getattr(sheet, "spec_hash", None)
    if isinstance(stored, str):
        return stored
    cached = _HASHES.get(id(sheet))
    if cached is not None and cached[0] is sheet:
        return cached[1]
    path = _cache_file(sheet)
    value = _read(path) if path is not None else None
    if value is None:
        value = hash_of(*freeze(sheet))
        if path is not None:
            _write(path, value)
    _HASHES[id(sheet)] = (sheet, value)
    return value


def _cache_file(sheet: Any) -> Path | None:
    """Where the hash of an installed spec is cached, named by everything it depends on:
    every source file of the engine, the specs and the references (path, size, mtime),
    and the versions of Python, numpy and this format."""
    module = sys.modules.get(SHEET_MODULES.get(sheet.id, ""))
    if module is None or getattr(module, "SHEET", None) is not sheet:
        return None  # a spec built in memory (tests): never cached
    roots = [Path(__file__).resolve().parent]
    for name in ("exercises", "reference"):
        found = importlib.util.find_spec(name)
        roots += [Path(p) for p in (found.submodule_search_locations or [])] if found else []
    stamp = [FORMAT, sys.version, np.__version__, sheet.id]
    try:
        for root in roots:
            for path in sorted(root.rglob("*.py")):
                st = path.stat()
                stamp.append([str(path), st.st_size, st.st_mtime_ns])
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except (OSError, RuntimeError):
        return None
    key = hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:32]
    return base / "dl-grader" / f"spec-hash-{key}"


def _read(path: Path) -> str | None:
    try:
        value = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else None


def _write(path: Path, value: str) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(value, "ascii")
        os.replace(tmp, path)


def _freeze_case(sheet: Sheet, check: Check, case: Any) -> dict[str, Any]:
    expected = truth(sheet, check, case)
    noise = None
    if not isinstance(expected, Raised) and check.compare.uses_noise():
        noise = sheet.noise(check, case, expected)
    answers = {}
    for mistake in sheet.mistakes_for(check):
        answer = _mistake_answer(check, mistake, case)
        if answer is not None:
            answers[mistake.name] = answer
    return {
        "label": case.label,
        "args": case.args,
        "kwargs": case.kwargs,
        "truth": _outcome(expected),
        "noise": noise,
        "answers": answers,
    }


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

    def seed(self, check_id: str, run_seed: int) -> None:
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
class FrozenSheet:
    """What the runner needs of a ``Sheet``, read from a kit's data."""

    id: str
    title: str
    source: str
    notes: str
    exercises: list[FrozenExercise]
    mistakes: dict[str, list[FrozenMistake]]
    spec_hash: str
    grader_version: str

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    def iter_checks(self):
        for exercise in self.exercises:
            for check in exercise.checks:
                yield exercise, check

    def mistakes_for(self, check: FrozenCheck) -> list[FrozenMistake]:
        return self.mistakes.get(check.function, [])

    def check_id(self, exercise: FrozenExercise, check: FrozenCheck) -> str:
        return f"{self.id}.{exercise.id}.{check.function}.{check.name}"

    def expected(self, check: FrozenCheck, case: FrozenCase) -> Any:
        return case.truth

    def noise(self, check: FrozenCheck, case: FrozenCase, expected: Any) -> Any:
        return case.noise


def thaw(frame: bytes, hidden_digest: str, spec_hash: str, grader_version: str) -> FrozenSheet:
    """A kit's sheet from its frame; ``DamagedKit`` when the data is not what was built."""
    if hash_of(frame, hidden_digest) != spec_hash:
        raise DamagedKit("its data does not match its spec_hash (altered or truncated)")
    try:
        (hlen,) = wire.HEADER.unpack(frame[: wire.HEADER.size])
        header = frame[wire.HEADER.size : wire.HEADER.size + hlen]
        body = wire.decode(header, frame[wire.HEADER.size + hlen :])
        if body.get("format") != FORMAT:
            raise DamagedKit(f"its data has format {body.get('format')!r}, not {FORMAT}")
        return _sheet(body, spec_hash, grader_version)
    except DamagedKit:
        raise
    except Exception as exc:  # malformed data of any kind: never grade against it
        raise DamagedKit(f"its data cannot be read ({type(exc).__name__}: {exc})") from None


def _sheet(body: dict, spec_hash: str, grader_version: str) -> FrozenSheet:
    exercises = [
        FrozenExercise(
            id=e["id"],
            title=e["title"],
            points=e["points"],
            checks=[_check(c) for c in e["checks"]],
        )
        for e in body["exercises"]
    ]
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


def _check(c: dict) -> FrozenCheck:
    cases = [
        FrozenCase(
            label=k["label"],
            args=tuple(k["args"]),
            kwargs=dict(k["kwargs"]),
            truth=_thawed(k["truth"]),
            noise=k["noise"],
            answers={name: _thawed(a) for name, a in k["answers"].items()},
        )
        for k in c.get("cases", [])
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
