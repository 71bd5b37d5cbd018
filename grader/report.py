"""Presenting an outcome: a rich table per exercise for people, JSON for scripts.

Every string here was made safe when its ``CheckResult`` or ``Outcome`` was
built (see ``grader.text``); this module adds only that rich is given such text
as ``Text``, never as markup, and JSON gets the figure without its colours.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

from grader.runner import CheckResult, Outcome
from grader.text import plain_figure

STATUS_STYLE = {
    "passed": ("✔ passed", "green"),
    "failed": ("✘ failed", "red"),
    "error": ("! error", "magenta"),
    "timeout": ("⧗ timeout", "yellow"),
    "hidden": ("◌ hidden", "dim"),
}


def to_json(outcome: Outcome) -> dict[str, Any]:
    """The report of ``grader-interface.md``, plus a few extra fields."""
    return {
        "sheet": outcome.sheet.id,
        "submission": outcome.submission,
        "score": outcome.score,
        "max_score": outcome.max_score,
        "public_max_score": outcome.public_max_score,
        "spec_hash": spec_hash(outcome.sheet),
        "grader_version": grader_version(outcome.sheet),
        "checks": [_check_json(c) for c in outcome.checks],
        "load_error": outcome.load_error,
        "notes": list(outcome.notes),
        "isolation": {
            "method": outcome.isolation.method,
            "full": outcome.isolation.full,
            "note": outcome.isolation.note,
        },
        "seconds": round(outcome.seconds, 3),
    }


def _check_json(c: CheckResult) -> dict[str, Any]:
    out = {
        "id": c.id,
        "exercise": c.exercise,
        "function": c.function,
        "status": c.status,
        "score": c.score,
        "max_score": c.max_score,
        "message": c.message,
        "description": c.description,
        "visibility": "hidden" if c.hidden else "public",
    }
    if c.seed is not None:
        out["seed"] = c.seed
    if c.hint:
        out["hint"] = c.hint
    if c.figure:
        out["figure"] = plain_figure(c.figure)
    return out


def spec_hash(sheet: Any) -> str:
    from grader.frozen import spec_hash

    return spec_hash(sheet)


def grader_version(sheet: Any) -> str:
    """The version of the grader that built the kit, or of this grader."""
    stored = getattr(sheet, "grader_version", None)
    if isinstance(stored, str):
        return stored
    from grader import __version__

    return __version__


def print_json(outcome: Outcome, stream: TextIO) -> None:
    stream.write(json.dumps(to_json(outcome), indent=2, allow_nan=False) + "\n")


def render(outcome: Outcome, console: Console) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    sheet = outcome.sheet
    console.print(
        Text.assemble(
            (f"Sheet {sheet.id}: {sheet.title}", "bold"), "  ", (outcome.submission, "cyan")
        )
    )
    console.print(
        Text(
            f"spec {spec_hash(sheet)[:12]} · grader {grader_version(sheet)}"
            + (" · self-check kit: public checks only" if _listed_only(outcome) else ""),
            style="dim",
        )
    )
    if not outcome.isolation.full:
        console.print(Text(f"⚠ reduced isolation: {outcome.isolation.note}", style="yellow"))
    if outcome.load_error:
        console.print(Panel(Text(outcome.load_error), title="could not load", style="red"))
    for note in outcome.notes:
        console.print(Text(f"note: {note}", style="yellow"))
    if outcome.load_error:
        _render_summary(outcome, console)
        return
    figures = []
    for exercise in sheet.exercises:
        rows = [c for c in outcome.checks if c.exercise == exercise.id]
        got = sum(c.score for c in rows)
        score = f"{_pts(got)}/{_pts(exercise.points)}"
        later = sum(c.max_score for c in rows if c.status == "hidden")
        if later:  # a student kit: what it grades, and what is graded after submission
            score = f"{_pts(got)}/{_pts(exercise.points - later)} public, {_pts(later)} later"
        table = Table(
            title=f"Exercise {exercise.id} · {exercise.title}  ({score})",
            title_justify="left",
            expand=True,
            show_lines=False,
        )
        table.add_column("check", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("points", justify="right", no_wrap=True)
        table.add_column("message", ratio=5)
        for c in rows:
            label, style = STATUS_STYLE[c.status]
            name = Text(c.function)
            name.append(f"\n{c.id.rsplit('.', 1)[-1]}" + (" (hidden)" if c.hidden else ""), "dim")
            message = Text(c.message if c.status != "passed" else c.description)
            points = f"{_pts(c.score)}/{_pts(c.max_score)}"
            if c.status == "hidden":
                message = Text(f"{c.description}\ngraded after submission", style="dim")
                points = f"–/{_pts(c.max_score)}"
            if c.hint:
                message.append(f"\nhint: {c.hint}", style="bold yellow")
            table.add_row(
                name,
                Text(label, style=style),
                points,
                message,
            )
            if c.figure:
                figures.append((c, c.figure))
        console.print(table)
    for c, figure in figures:
        title = Text(f"{c.function}: where you differ")
        console.print(Panel(Text.from_ansi(figure), title=title))
    _render_total(outcome, console)


def _render_summary(outcome: Outcome, console: Console) -> None:
    """A submission that did not load: one line per exercise instead of a table of errors."""
    for exercise in outcome.sheet.exercises:
        n = sum(c.exercise == exercise.id for c in outcome.checks)
        console.print(
            f"Exercise {exercise.id} · {exercise.title}: 0/{_pts(exercise.points)} "
            f"({n} checks not run)"
        )
    _render_total(outcome, console)


def _render_total(outcome: Outcome, console: Console) -> None:
    from rich.console import Group
    from rich.text import Text

    passed = sum(c.status == "passed" for c in outcome.checks)
    later = _listed_only(outcome)
    if later:
        rest = outcome.max_score - outcome.public_max_score
        total = Text.assemble(
            ("Public checks: ", "bold"),
            (f"{_pts(outcome.score)} / {_pts(outcome.public_max_score)}", _score_style(outcome)),
            f"; {_pts(rest)} more points are graded after submission",
        )
        count = f"{passed} of {len(outcome.checks) - len(later)} public checks passed"
    else:
        total = Text.assemble(
            ("Total: ", "bold"),
            (f"{_pts(outcome.score)} / {_pts(outcome.max_score)}", _score_style(outcome)),
        )
        count = f"{passed} of {len(outcome.checks)} checks passed"
    console.print(Group(total, Text(count, "dim")))


def _listed_only(outcome: Outcome) -> list[CheckResult]:
    """Checks a student kit lists without running them (its hidden checks)."""
    return [c for c in outcome.checks if c.status == "hidden"]


def _score_style(outcome: Outcome) -> str:
    top = outcome.public_max_score if _listed_only(outcome) else outcome.max_score
    ratio = outcome.score / top if top else 0
    return "bold green" if ratio >= 0.999 else "bold yellow" if ratio >= 0.5 else "bold red"


def _pts(x: float) -> str:
    return f"{x:g}"
