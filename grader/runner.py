"""The grading pipeline: spec -> inputs -> worker -> plain results -> comparison -> results.

One worker serves the whole submission. A call that hangs or kills its process
costs only its own check: the worker is killed with everything it started,
restarted and the submission reloaded for the remaining checks. A function that
timed out once is not run again, so a whole run stays bounded.
"""

from __future__ import annotations

import itertools
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grader.comparison import (
    FLOAT32_SCALE_TOL,
    AllClose,
    Unusable,
    computed_in_float32,
    float32_dtype,
    short,
)
from grader.isolation import Isolation, isolation
from grader.loading import LoadError, Source
from grader.sandbox import Reply, neutral_paths
from grader.session import DEFAULT_CALL_TIMEOUT, LOAD_TIMEOUT, Options, Session, open_session
from grader.text import NAME_LIMIT, safe, safe_figure

if TYPE_CHECKING:  # a kit grades without the pydantic spec
    from grader.spec import Case, Check, Exercise, Mistake, Sheet

__all__ = ["DEFAULT_CALL_TIMEOUT", "LOAD_TIMEOUT", "Options", "Outcome", "grade_file"]

MAX_MESSAGE = 700
MAX_NOTES = 50
MAX_NAME_LENGTH = 100  # of a name the worker lists; longer ones are no near miss of ours
MAX_NAMES = 100_000  # names accepted from the worker's list of callables
MAX_CANDIDATES = 5_000  # names compared for a near miss, per missing function
JUDGED_AS_FLOAT32 = "judged as float32 work"


@dataclass(frozen=True)
class CheckResult:
    """One check's result. Every string is made ``safe`` here, so no format can show it raw.

    The submission steers the message and the hint (its exceptions, its
    function names); ``figure`` keeps only the colour codes of the grader's drawing.
    """

    id: str
    exercise: str
    function: str
    status: str  # passed | failed | error | timeout | hidden (listed by a student kit)
    score: float
    max_score: float
    message: str
    description: str
    hidden: bool
    seed: int | None = None
    hint: str | None = None
    figure: str | None = None

    def __post_init__(self) -> None:
        for name in ("id", "exercise", "function", "status"):
            object.__setattr__(self, name, safe(getattr(self, name), NAME_LIMIT))
        object.__setattr__(self, "message", safe(self.message, MAX_MESSAGE, lines=True))
        object.__setattr__(self, "description", safe(self.description, lines=True))
        if self.hint is not None:
            object.__setattr__(self, "hint", safe(self.hint, lines=True))
        object.__setattr__(self, "figure", safe_figure(self.figure))


@dataclass(frozen=True)
class Outcome:
    """The whole grading of one submission, before any formatting.

    Its strings are made ``safe`` on construction, as ``CheckResult``'s are: the
    file name, the load error and the notes (failing cells, magics) all come
    from the submission. Notes are one line each, and at most ``MAX_NOTES``.
    Frozen, with the notes in a tuple, so nothing can slip in afterwards.
    """

    sheet: Sheet
    submission: str
    checks: list[CheckResult]
    isolation: Isolation
    load_error: str | None = None
    notes: Sequence[str] = ()
    seconds: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "submission", safe(self.submission, NAME_LIMIT))
        if self.load_error is not None:
            object.__setattr__(self, "load_error", safe(self.load_error, MAX_MESSAGE, lines=True))
        notes = [safe(note) for note in self.notes]
        if len(notes) > MAX_NOTES:
            notes[MAX_NOTES - 1 :] = [f"… and {len(notes) - MAX_NOTES + 1} more notes"]
        object.__setattr__(self, "notes", tuple(notes))

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return self.sheet.points

    @property
    def public_max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks if not c.hidden), 6)


NO_ANSWER = object()  # a frozen known mistake with no answer to match on a case


@dataclass(frozen=True)
class Raised:
    """The truth for a case whose right answer is to raise, e.g. ValueError."""

    exception: str


def truth(sheet: Sheet, check: Check, case: Case) -> Any:
    try:
        return sheet.expected(check, case)
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        return Raised(type(exc).__name__)


def grade_file(
    path: Path,
    sheet_loader: Callable[[], Sheet],
    options: Options | None = None,
    display_name: str | None = None,
    source: Source | LoadError | None = None,
) -> Outcome:
    """Grade one file from start to end (``source``: its content, if already read)."""
    options = options or Options()
    opened = open_session(path, options, source)
    return grade_session(opened, sheet_loader, options, display_name)


def grade_session(
    opened: Session | LoadError,
    sheet_loader: Callable[[], Sheet],
    options: Options,
    display_name: str | None = None,
) -> Outcome:
    """Grade a submission whose worker is already booting (see ``open_session``)."""
    started = time.monotonic()
    if isinstance(opened, LoadError):
        sheet = sheet_loader()
        name = display_name or str(opened.path)
        return _all_failed(sheet, name, f"cannot load the submission: {opened}", "error", started)
    session = opened
    name = display_name or str(session.path)
    try:
        sheet = sheet_loader()
        if options.progress is not None:
            options.progress(0, 0, f"loading {safe(session.path.name, NAME_LIMIT)}")
        reply = session.wait_loaded()
        if reply.status == "timeout":
            message = (
                "loading the submission took longer than "
                f"{min(options.load_timeout, options.submission_timeout):g} s "
                "(an endless loop or a long computation at top level? Loading runs the whole "
                'file: put training runs and demos under `if __name__ == "__main__":`)'
            )
            return _all_failed(sheet, name, message, "timeout", started, session.source.notes)
        if reply.status == "protocol":
            message = (
                f"loading the submission gave an answer the grader could not read: {reply.detail}"
            )
            return _all_failed(sheet, name, message, "error", started, session.source.notes)
        if reply.status != "ok":
            message = f"the submission crashed while loading: {reply.detail}"
            return _all_failed(sheet, name, message, "error", started, session.source.notes)
        if not reply.value.get("ok"):
            error = reply.value["error"]
            message = "the submission failed to load: " + format_error(error, session.shown_name)
            message += _ipython_in_module(error, session.source) or _top_level_hint(error)
            return _all_failed(sheet, name, message, "error", started, session.source.notes)
        notes = list(session.source.notes)
        for cell in reply.value.get("cell_errors", []):
            notes.append(
                f"cell {cell['cell']} failed and was skipped: "
                f"{format_error(cell, session.shown_name)}"
            )
        notes += _stand_in_notes(reply.value.get("stand_ins", []))
        listed = reply.value.get("functions", [])
        defined = [n for n in listed[:MAX_NAMES] if type(n) is str and len(n) <= MAX_NAME_LENGTH]
        notes += _sheet_mismatch(sheet, defined)
        failed = {c["cell"] for c in reply.value.get("cell_errors", []) if type(c["cell"]) is int}
        if failed and session.source.out_of_order:
            notes.append(OUT_OF_ORDER)
        results = _run_checks(sheet, session, options, defined, failed)
        return Outcome(
            sheet, name, results, isolation(), notes=notes, seconds=time.monotonic() - started
        )
    finally:
        session.close()


def _ipython_in_module(error: dict, source: Source) -> str:
    """What to do when a module's syntax error is a notebook's ``!pip`` or ``%magic`` line.

    Colab's "Download .py" keeps them as they are; only a notebook runs them.
    """
    where = error.get("where")
    if error.get("type") != "SyntaxError" or source.notebook or not isinstance(where, dict):
        return ""
    line = where.get("line")
    lines = source.cells[0].splitlines() if source.cells else []
    if type(line) is not int or not 0 < line <= len(lines):
        return ""
    if not lines[line - 1].lstrip().startswith(("!", "%")):
        return ""
    return (
        f"; line {line} is a notebook's shell command or magic (! or %), which only a "
        "notebook runs: delete such lines, or hand in the notebook (.ipynb)"
    )


def _top_level_hint(error: dict) -> str:
    """What to do when a module's own top-level code raised: a demo or a self-test failed."""
    quiet = {"SyntaxError", "IndentationError", "TabError", "ImportError", "EOFError"}
    if error.get("kind") != "exception" or error.get("builtin") in quiet:
        return ""
    if error.get("type") == "ModuleNotFoundError":
        return ""
    return (
        "; the file runs top to bottom when it is loaded, so an error in its top-level code "
        'costs every check: put tests and demos under `if __name__ == "__main__":`'
    )


def _stand_in_notes(libraries: list[str]) -> list[str]:
    if not libraries:
        return []
    names = ", ".join(libraries)
    return [
        f"{names} {'is' if len(libraries) == 1 else 'are'} not installed where submissions run: "
        "the submission imported a stand-in whose calls do nothing (plots and progress bars "
        "are not graded; compute answers with numpy, torch, math and the standard library)"
    ]


def _all_failed(
    sheet: Sheet,
    name: str,
    message: str,
    status: str,
    started: float,
    notes: Sequence[str] = (),
) -> Outcome:
    """Every check failed with the load error; the reading's notes kept (a .ipynb read as
    Python says so beside its syntax error)."""
    results = [
        _result(sheet, exercise, check, status, 0.0, "see the load error above", None)
        if check.graded_here
        else _not_here(sheet, exercise, check)
        for exercise, check in sheet.iter_checks()
    ]
    return Outcome(
        sheet,
        name,
        results,
        isolation(),
        notes=list(notes),
        load_error=neutral_paths(message),
        seconds=time.monotonic() - started,
    )


def _result(
    sheet: Sheet,
    exercise: Exercise,
    check: Check,
    status: str,
    score: float,
    message: str,
    seed: int | None,
    hint: str | None = None,
    figure: str | None = None,
) -> CheckResult:
    return CheckResult(
        id=sheet.check_id(exercise, check),
        exercise=exercise.id,
        function=check.function,
        status=status,
        score=score,
        max_score=check.points,
        message=neutral_paths(message),
        description=check.description,
        hidden=check.hidden,
        seed=seed,
        hint=hint,
        figure=figure,
    )


def _run_checks(
    sheet: Sheet,
    session: Session,
    options: Options,
    defined: list[str],
    failed_cells: set[int] | None = None,
) -> list[CheckResult]:
    timed_out: set[str] = set()
    missing: dict[str, Verdict] = {}
    results = []
    total = sum(len(e.checks) for e in sheet.exercises)
    code = session.source.code_digest()
    for exercise, check in sheet.iter_checks():
        cid = sheet.check_id(exercise, check)
        seed = check.seed(cid, options.run_seed, code)
        if options.progress is not None:
            options.progress(len(results), total, cid)
        if not check.graded_here:
            results.append(_not_here(sheet, exercise, check))
            continue
        if check.function in missing:
            known = missing[check.function]
            results.append(
                _result(sheet, exercise, check, "error", 0.0, known.message, seed, known.hint)
            )
            continue
        if check.function in timed_out:
            message = f"not run: {check.function} timed out in an earlier check"
            results.append(_result(sheet, exercise, check, "timeout", 0.0, message, seed))
            continue
        stop = session.stopped()
        if stop is not None:
            message = f"not run: {stop.why}"
            results.append(_result(sheet, exercise, check, stop.status, 0.0, message, seed))
            continue
        verdict = _run_check(sheet, check, session, options, seed)
        if verdict.status == "timeout":
            timed_out.add(check.function)
        if verdict.missing:
            verdict.hint = _did_you_mean(check.function, defined) or _why_missing(
                check.function, session.source, failed_cells or set()
            )
            missing[check.function] = verdict
        results.append(
            _result(
                sheet,
                exercise,
                check,
                verdict.status,
                check.points if verdict.status == "passed" else 0.0,
                verdict.message,
                seed,
                verdict.hint,
                verdict.figure,
            )
        )
    return results


HIDDEN_MESSAGE = "graded after submission (its inputs are not in this kit)"


def _not_here(sheet: Sheet, exercise: Exercise, check: Check) -> CheckResult:
    return _result(sheet, exercise, check, "hidden", 0.0, HIDDEN_MESSAGE, None)


def _did_you_mean(function: str, defined: list[str]) -> str | None:
    """A near-miss name (log_cosh for logcosh) is the commonest way to lose a function.

    The list comes from the untrusted worker: only names that could be a near
    miss (not much longer than ``function``), and at most MAX_CANDIDATES of
    them, are compared, so a module with a million callables costs no more.
    """
    import difflib

    longest = min(MAX_NAME_LENGTH, 2 * len(function) + 8)
    plausible = (n for n in defined if type(n) is str and len(n) <= longest)
    candidates = list(itertools.islice(plausible, MAX_CANDIDATES))
    close = difflib.get_close_matches(function, candidates, n=1, cutoff=0.75)
    if not close:
        bare = function.replace("_", "")
        close = [n for n in candidates if n.lower().replace("_", "") == bare]
    return f"your file defines `{close[0]}`: the contract's name is `{function}`" if close else None


OUT_OF_ORDER = (
    "in Jupyter this notebook's cells ran out of order (see their execution counts); here "
    "they run top to bottom, as Kernel > Restart & Run All does: run that to see what fails"
)


def _why_missing(function: str, source: Source, failed_cells: set[int]) -> str | None:
    """Why a function the file does define is missing: its notebook cell failed before
    defining it, or it is indented, not at the module's top level.

    Typically under ``if __name__ == "__main__":`` (which does not run when graded),
    or a method copied into a class. Asked only for a missing function, once.
    """
    top = re.compile(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(function)}[ \t]*\(", re.M)
    numbers = source.numbers if len(source.numbers) == len(source.cells) else []
    for number, cell in zip(numbers, source.cells, strict=False):
        if number in failed_cells and top.search(cell):
            return (
                f"`{function}` is defined in cell {number}, which failed before it was defined "
                "(see the notes): fix that cell, or give the definition a cell of its own"
            )
    indented = re.compile(rf"^[ \t]+(?:async[ \t]+)?def[ \t]+{re.escape(function)}[ \t]*\(", re.M)
    if not any(indented.search(cell) for cell in source.cells):
        return None
    return (
        f"your file defines `{function}` indented, inside a block that does not define it "
        'when graded (`if __name__ == "__main__":` does not run; a class or another function '
        "keeps it to itself): move it to the top level"
    )


OTHER_SHEET = "did you mean --sheet {}?"
_OTHER_SHEET = re.compile(re.escape(OTHER_SHEET).replace(r"\{\}", r"(\w+)"))


def suggested_sheet(notes: Any) -> str | None:
    """The sheet a report's notes say the file was written for, if another than graded."""
    for note in notes if isinstance(notes, list) else ():
        found = _OTHER_SHEET.search(note) if isinstance(note, str) else None
        if found:
            return found.group(1)
    return None


def _sheet_mismatch(sheet: Sheet, defined: list[str]) -> list[str]:
    """A note when the file has (next to) none of this sheet's functions but another sheet's.

    A helper of another sheet's name (sheet 2's files define `relu`, one of sheet 7's
    functions) must not hide that the file was written for that other sheet.
    """
    from grader.contract import CONTRACT

    names = set(defined)
    ours = len({f.name for f in CONTRACT[sheet.id]} & names)
    best = max(CONTRACT, key=lambda sid: len({f.name for f in CONTRACT[sid]} & names))
    found = len({f.name for f in CONTRACT[best]} & names)
    if ours and (best == sheet.id or found <= 2 * ours):
        return []
    if best == sheet.id or found == 0:
        return [f"the file defines none of sheet {sheet.id}'s functions"]
    have = (
        f"none of sheet {sheet.id}'s functions"
        if not ours
        else f"only {ours} of sheet {sheet.id}'s {len(CONTRACT[sheet.id])} functions"
    )
    from grader import sheets

    note = f"the file defines {have} but {found} of sheet {best}'s: {OTHER_SHEET.format(best)}"
    if sheets.kit_manifest() is not None and best not in sheets.available():
        note += f" (this kit checks sheet {', '.join(sheets.available())} only)"
    return [note]


@dataclass
class Verdict:
    status: str
    message: str = ""
    hint: str | None = None
    figure: str | None = None
    missing: bool = False


def _run_check(
    sheet: Sheet, check: Check, session: Session, options: Options, seed: int | None
) -> Verdict:
    cases = check.make_cases(seed)
    timeout = check.timeout or options.call_timeout or DEFAULT_CALL_TIMEOUT
    batch = session.call_many(check.function, cases, timeout) if len(cases) > 1 else None
    notes: list[str] = []
    for index, case in enumerate(cases):
        expected = truth(sheet, check, case)
        streamed = batch is not None and index < len(batch)
        reply = batch[index] if streamed else session.call(check.function, case, timeout)
        if reply.status != "ok":
            return _broken_call(reply, _label(check, case), timeout, session, not streamed)
        answer = reply.value
        verdict = judge_answer(
            check,
            case,
            expected,
            answer,
            sheet.mistakes_for(check),
            session.shown_name,
            noise=lambda case=case, expected=expected: sheet.noise(check, case, expected),
            notes=notes,
        )
        if verdict is not None:
            if verdict.status == "error" and verdict.hint is None:
                verdict.hint = _signature_hint(sheet, check.function, answer)
            return verdict
    how = f" ({notes[0]})" if notes else ""
    return Verdict("passed", f"all {len(cases)} case{'s' * (len(cases) != 1)} right{how}")


def _signature_hint(sheet: Sheet, function: str, answer: dict) -> str | None:
    """After an exception: how the function's parameters miss the contract's, if they do.

    ``self`` first (a method copied out of a class), the contract's names in another
    order (arguments are passed by position), or, after a TypeError, a different
    number of them. Other names are the student's choice and get no hint. The
    names come from the worker (untrusted): only a short list of short strings is
    used, and the hint is made safe with the rest of the result.
    """
    from grader.contract import functions

    error = answer.get("error") if isinstance(answer, dict) else None
    params = error.get("params") if isinstance(error, dict) else None
    contract = functions(sheet.id).get(function)
    if contract is None or not isinstance(params, list) or len(params) > 12:
        return None
    if not all(type(p) is str and len(p) <= 44 for p in params):
        return None
    wanted = [p.split("=")[0].strip() for p in contract.params.split(",") if p.strip()]
    names = [p.rstrip("=") for p in params]
    yours = (
        f"your `{function}` takes ({', '.join(params)}); the contract's is `{contract.signature}`"
    )
    if names[:1] == ["self"] and "self" not in wanted:
        return (
            f"`{function}` takes `self` first, as a method copied out of a class: remove "
            f"`self` (the contract: `{contract.signature}`)"
        )
    if names != wanted and sorted(names) == sorted(wanted):
        return f"{yours}: the grader passes the arguments by position, in the contract's order"
    required = sum(1 for p in params if not p.endswith("=") and not p.startswith("*"))
    fits = required <= len(wanted) and (len(params) >= len(wanted) or any("*" in p for p in params))
    if error.get("type") != "TypeError":
        return None
    if not fits:
        return f"{yours}: the grader passes {len(wanted)} argument{'s' * (len(wanted) != 1)}"
    defaulted = [p.split("=")[0].strip() for p in contract.params.split(",") if "=" in p]
    if any(d in names and f"{d}=" not in params for d in defaulted):  # maxpool2d(x, k)
        return f"{yours}, with a default: define it as `def {contract.signature}:`"
    return None


def _label(check: Check, case: Case) -> str:
    return check.function if check.hidden else f"{check.function}({case.label})"


def judge_answer(
    check: Check,
    case: Case,
    expected: Any,
    answer: dict,
    mistakes: list[Mistake],
    shown_name: str | None = None,
    noise: Callable[[], Any] | None = None,
    notes: list[str] | None = None,
) -> Verdict | None:
    """Judge the worker's answer to one case: None when right, else the check's verdict.

    ``answer`` is the worker's reply: ``{"ok": True, "value": ...}`` or
    ``{"ok": False, "error": {...}}``. Tests call this directly with answers
    made in-process, so what they prove is what the runner does. ``noise``
    gives the float32 rounding of this case (asked only for an answer that
    misses); ``notes``, when given, collects how a right answer was judged when
    it needed more than the plain tolerance, for the check's message.
    """
    public = not check.hidden
    label = _label(check, case)
    if not answer.get("ok"):
        error = answer["error"]
        if error.get("kind") == "missing":
            message = f"missing from the submission: {error.get('message', '')}"
            return Verdict("error", message, missing=True)
        if isinstance(expected, Raised) and error.get("builtin") == expected.exception:
            return None
        verdict = _raised(error, label, shown_name)
        verdict.hint = _known_mistake(check, mistakes, case, Raised(str(error.get("builtin"))))
        return verdict
    got = answer.get("value")
    if isinstance(expected, Raised):
        shown = f": got {short(got)}" if public else ""
        return Verdict(
            "failed",
            f"{label} should raise {expected.exception}{shown}",
            hint=_known_mistake(check, mistakes, case, got),
        )
    problem = _compare(check, expected, got, public)
    if problem and noise is not None and check.compare.uses_noise():
        problem = _float32_pass(check, expected, got, public, problem, noise, notes)
    elif problem and _needs_float64(check, problem, got, expected):
        problem += (
            f"; this check demands float64 accuracy (rtol {check.compare.rtol:g}) and your "
            "answer is float32 work, which keeps about 7 digits: compute it in float64"
        )
    if not problem and case.no_warnings:
        warned = _runtime_warning(answer.get("warnings"))
        # the value is right, so no known mistake (each a wrong value) explains the failure;
        # one that is right on this case (threshold's, on a sigmoid case) would "match" it
        return Verdict("failed", f"{label}: {warned}") if warned else None
    if not problem:
        return None
    figure = getattr(check.compare, "figure", None)
    return Verdict(
        "failed",
        f"{label}: {problem}",
        hint=_known_mistake(check, mistakes, case, got),
        figure=figure(expected, got) if callable(figure) else None,
    )


def _float32_pass(
    check: Check,
    expected: Any,
    got: Any,
    public: bool,
    problem: str,
    noise: Callable[[], Any],
    notes: list[str] | None,
) -> str | None:
    """Judge a missed answer once more as float32 work, if it is float32 work.

    The contract accepts float32 computations, which lose more than rtol; a
    float64 answer has no such excuse (forward differences are off by ~1e-5),
    but when it would pass as float32 work the message says why it does not.
    """
    if computed_in_float32(got):
        second = _compare(check, expected, got, public, noise())
        if second is None:
            if notes is not None:
                notes.append(JUDGED_AS_FLOAT32)
            return None
        if not _about_values(second) or not float32_dtype(got):
            # a shape or a type, or float64 work that merely lands on float32 numbers (an
            # input returned as is): rounding has nothing to do with it
            return second
        return f"{second} ({JUDGED_AS_FLOAT32}, allowing for its rounding)"
    if _compare(check, expected, got, public, noise()) is not None:
        return problem
    rtol = getattr(check.compare, "rtol", 1e-6)
    return (
        f"{problem}; close, but a float64 answer must be within rtol {rtol:g} "
        "(an approximation such as finite differences?): only float32 work may "
        "lose what float32 rounding loses"
    )


def _about_values(problem: str) -> bool:
    """Whether a comparator's message is about the numbers (not the shape, type or keys)."""
    return "values differ" in problem or "wrong value" in problem


def _needs_float64(check: Check, problem: str, got: Any, expected: Any) -> bool:
    """A float32 answer missed a check that allows no float32 rounding (logcosh's 1e-9).

    The numbers then look right to 7 digits, so the message must say what to change;
    an answer that is off by more than float32 work could be (``return y``, its numbers
    float32-exact) is a plain mistake, and telling it to use float64 would mislead.
    "Close" is judged without the case's rounding noise, which a student kit does
    not hold for a float64 check, so kit and full grader say the same.
    """
    compare = check.compare
    if not (
        isinstance(compare, AllClose)
        and not compare.float32
        and compare.rtol > 0
        and _about_values(problem)
        and computed_in_float32(got)
    ):
        return False
    near = replace(compare, rtol=max(compare.rtol, 1e-4), scale_tol=FLOAT32_SCALE_TOL)
    try:
        return near.judge(expected, got, public=False) is None
    except Unusable:
        return False


def _runtime_warning(caught: Any) -> str | None:
    """What is wrong with a right value that raised a RuntimeWarning on the way, if it did."""
    for warning in caught or []:
        if warning.get("category") == "RuntimeWarning":
            return (
                f"right value, but it raised RuntimeWarning: {warning.get('message', '')} "
                "(under numpy's default error state), which the contract forbids here: "
                "every step must stay finite"
            )
    return None


def _compare(check: Check, expected: Any, got: Any, public: bool, noise: Any = None) -> str | None:
    try:
        return check.compare.judge(expected, got, public, noise)
    except Unusable as exc:
        return str(exc)
    except Exception as exc:  # an answer no comparator foresaw (a 400-digit int) is still graded
        return f"returned a value that cannot be compared ({type(exc).__name__}: {exc})"


def _broken_call(
    reply: Reply, label: str, timeout: float, session: Session, restart: bool = True
) -> Verdict:
    """The verdict on a call that did not answer; ``restart`` False: ``call_many`` did it."""
    stop = session.stopped()
    if reply.status == "stopped" and stop is not None:
        return Verdict(stop.status, f"not run: {stop.why}")
    if reply.status == "timeout":
        if reply.detail:  # cut short by the submission's budget, not by the call's limit
            message = f"{label} was stopped: {reply.detail}"
        else:
            message = f"{label} did not finish within {timeout:g} s"
        status = "timeout"
    elif reply.status == "crashed":
        message = f"{label} crashed the process: {reply.detail}"
        status = "error"
    else:
        message = f"{label} returned an answer the grader could not read: {reply.detail}"
        status = "error"
    if not (session.restart() if restart else session.stopped() is None):
        stop = session.stopped()
        why = stop.why if stop is not None else "the submission could not be restarted"
        message += f"; {why}, so its remaining checks are not run"
    return Verdict(status, message)


def _raised(error: dict, label: str, shown_name: str | None) -> Verdict:
    if error.get("type") == "NotImplementedError" and error.get("kind") != "unconvertible":
        return Verdict("error", f"{label}: not implemented yet (raises NotImplementedError)")
    return Verdict("error", f"{label} {format_error(error, shown_name)}")


def format_error(error: dict, shown_name: str | None = None) -> str:
    """One line for an exception the worker reported, naming the student's own file.

    Host paths it quotes (the Python installation, the staged worker) are shown
    under neutral names: they mean nothing to a student and map the machine.
    """
    kind = error.get("kind")
    if kind == "exit":
        code = str(error.get("message", ""))
        text = f"called exit({'' if code in ('', 'None') else code})"
    elif kind == "unconvertible":
        text = f"returned a value that could not be converted: {error.get('message', '')}"
    elif error.get("type") == "SyntaxError":
        text = f"has a syntax error: {error.get('message', '')}"
    else:
        text = f"raised {error.get('type', 'an exception')}: {error.get('message', '')}"
    where = error.get("where")
    if where:
        file = str(where.get("file", ""))
        if shown_name and file.startswith("submission."):
            file = shown_name + file[len(file.split(" ")[0]) :]
        place = f"{file}, line {where.get('line')}"
        if where.get("function") and where["function"] != "<module>":
            place += f", in {where['function']}"
        text += f" ({place})"
    if error.get("type") == "ModuleNotFoundError":
        text += "; submissions may import numpy, torch, math and the standard library only"
        if "'google" in str(error.get("message", "")):
            text += " (google.colab exists only on Colab: delete its imports and drive.mount)"
    elif kind == "exit":
        text += f": nothing may exit when graded, {_NOT_AS_A_SCRIPT}"
    elif _CUDA.search(str(error.get("message", ""))):
        text += (
            "; there is no GPU where submissions run: compute on the CPU, e.g. with "
            'torch.device("cuda" if torch.cuda.is_available() else "cpu")'
        )
    elif error.get("type") == "TabError":
        text += ": indent with spaces only (editors can turn tabs into spaces)"
    elif error.get("type") == "EOFError" and "reading a line" in str(error.get("message")):
        text += f": input() gets no keyboard when graded, {_NOT_AS_A_SCRIPT}"
    return neutral_paths(text)


# torch's errors when code asks for a GPU that is not there (a Colab notebook's .cuda()).
_CUDA = re.compile(r"not compiled with CUDA|NVIDIA driver|CUDA-capable device|CUDA driver")

# Why a script's exit() or input() fails here, and what to do instead.
_NOT_AS_A_SCRIPT = (
    "as the grader imports the file and calls its functions with arguments: remove the "
    'call, or move it under `if __name__ == "__main__":`'
)


def _known_mistake(check: Check, mistakes: list[Mistake], case: Case, got: Any) -> str | None:
    """The message of every known mistake that gives the student's outcome.

    An outcome is a value, or ``Raised`` when the student's function raised; a
    mistake that raises the same built-in exception class matches the latter.
    When several mistakes give the same answer (counts often coincide), all are
    named rather than guessing one.
    """
    found = [m.message for m in mistakes if _gives(m, case, got, check)]
    if len(found) <= 1:
        return found[0] if found else None
    return "this answer fits more than one known mistake: " + " — or: ".join(found)


def _gives(mistake: Mistake, case: Case, got: Any, check: Check) -> bool:
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            wrong = mistake.answer(case)
    except Exception as exc:
        wrong = Raised(_builtin_name(exc))
    if wrong is NO_ANSWER:
        return False
    if isinstance(got, Raised) or isinstance(wrong, Raised):
        return isinstance(got, Raised) and isinstance(wrong, Raised) and wrong == got
    try:
        return check.compare.matches(wrong, got)
    except Exception:
        return False


def _builtin_name(exc: BaseException) -> str:
    return next((c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"), "")
