"""``grade stats``: what a class did on a sheet, read from the gradebook's current rows.

Nothing is graded again: every figure comes from the stored JSON reports of the
rows the exports show, with a TA's overrides applied (``effective_entry``), so
the statistics agree with the CSV. Three views of the same numbers: per check
(how many passed, failed, errored, timed out, and the points the class lost
there, worst first), per exercise (mean, median, a histogram of scores), and
the known mistakes the class made most (the ``hint`` of a check whose answer
matched one). Every string shown or written came from a submission's report
and goes through ``safe`` (terminal, JSON, SVG) or ``CsvWriter`` (CSV).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from grader.gradebook import (
    Entry,
    ExportError,
    Gradebook,
    GradebookError,
    points,
    stale_overrides,
    write_atomic,
)
from grader.text import NAME_LIMIT, CsvWriter, safe

EXIT_DONE, EXIT_USAGE = 0, 2
STATUSES = ("passed", "failed", "error", "timeout", "hidden")
BINS = 10  # histogram bars: tenths of the exercise's points
BAR_WIDTH = 40  # characters of the longest terminal bar
_EIGHTHS = " ▏▎▍▌▋▊▉█"

EPILOG = """\
what is counted:
  the current row of every submission (what `grade batch --csv` exports), with
  the TA's overrides (`grade override`) applied. Per check: how many
  submissions passed, failed, errored or timed out on it ("hidden": a check a
  student kit could not run; "not graded": rows without a report, such as a
  refused or ambiguous entry or a folder with no submission), the pass rate
  among those that ran it, and the points the class lost on it; the check
  with the most points lost comes first. Per exercise and for the sheet: the
  mean, the median and a histogram of the scores (a row without a report
  scores 0, as in the CSV). Mistakes: the known mistakes (a check's hint)
  and how many submissions made each.

formats (--format): rich (tables and histograms for a terminal), json
  (`checks`, `exercises`, `mistakes`, `score`, `submissions`), csv (one row
  per check, exercise, histogram bar and mistake; its first column says
  which). --plot FILE also draws the histograms as an SVG image.

exit status: 0 done, 2 usage error (no such or a damaged gradebook, one
             without grades of --sheet, a file that cannot be written).
"""


class UsageError(Exception):
    """A command on the gradebook cannot run as asked; the message says why (exit 2)."""


def open_book(path: Path) -> Gradebook:
    """An existing gradebook opened read-only (a report never changes or creates it)."""
    if not path.is_file():
        raise UsageError(f"no such gradebook: {path}")
    return Gradebook(path, readonly=True)


def pick_sheet(book: Gradebook, wanted: str | None) -> str:
    """The sheet to report on: ``wanted``, which the book must hold, or the one it holds."""
    held = book.sheets()
    if not held:
        raise UsageError(f"the gradebook {book.path} holds no grades yet: run `grade batch` first")
    if wanted is None:
        if len(held) > 1:
            shown = ", ".join(safe(s, 40) for s in held)
            raise UsageError(
                f"the gradebook {book.path} holds sheets {shown}: pick one with --sheet"
            )
        return held[0]
    wanted = str(wanted).strip()
    if wanted not in held:
        shown = ", ".join(safe(s, 40) for s in held)
        raise UsageError(
            f"the gradebook {book.path} holds grades of sheet {shown}, not of sheet "
            f"{safe(wanted, 40)}: is it the right --db, or the right --sheet?"
        )
    return wanted


def compute(sheet: str, rows: dict[str, Entry]) -> dict[str, Any]:
    """The statistics of a sheet's effective current rows (by submission), as JSON-ready data."""
    checks: dict[str, dict[str, Any]] = {}
    exercises: dict[str, dict[str, Any]] = {}
    mistakes: Counter[tuple[str, str]] = Counter()
    mistake_checks: dict[tuple[str, str], set[str]] = defaultdict(set)
    per_exercise: dict[str, list[float]] = defaultdict(list)
    no_report = 0
    for entry in rows.values():
        report = entry.report
        if report is None:
            no_report += 1
            continue
        made: set[tuple[str, str]] = set()
        scored: dict[str, float] = defaultdict(float)
        for c in report.get("checks", []):
            cid, exercise = str(c.get("id", "")), str(c.get("exercise", ""))
            stat = checks.get(cid)
            if stat is None:
                stat = checks[cid] = {
                    "id": cid,
                    "exercise": exercise,
                    "function": str(c.get("function", "")),
                    "max_score": float(c.get("max_score", 0.0)),
                    **dict.fromkeys(STATUSES, 0),
                    "points_lost": 0.0,
                    "overridden": 0,
                }
                ex = exercises.setdefault(exercise, {"id": exercise, "max_score": 0.0})
                ex["max_score"] += stat["max_score"]
            status = c.get("status")
            stat[status if status in STATUSES else "error"] += 1
            score = float(c.get("score", 0.0))
            stat["points_lost"] += max(0.0, float(c.get("max_score", 0.0)) - score)
            stat["overridden"] += "override" in c
            scored[exercise] += score
            if c.get("hint") and status != "passed":
                key = (str(c.get("function", "")), str(c["hint"]))
                made.add(key)
                mistake_checks[key].add(cid)
        for exercise in scored:
            per_exercise[exercise].append(scored[exercise])
        mistakes.update(made)
    for stat in checks.values():
        ran = stat["passed"] + stat["failed"] + stat["error"] + stat["timeout"]
        stat["pass_rate"] = round(stat["passed"] / ran, 4) if ran else None
        stat["not_graded"] = no_report
        stat["points_lost"] = round(stat["points_lost"], 6)
    for ex in exercises.values():
        # a row without a report (or without this exercise's checks) scored 0 on it
        scores = per_exercise[ex["id"]] + [0.0] * (len(rows) - len(per_exercise[ex["id"]]))
        ex.update(_summary(scores, ex["max_score"]))
    sheet_max = max((e.max_score for e in rows.values()), default=0.0)
    return {
        "sheet": sheet,
        "submissions": len(rows),
        "statuses": dict(sorted(Counter(e.status for e in rows.values()).items())),
        "score": {"max_score": sheet_max, **_summary([e.score for e in rows.values()], sheet_max)},
        "checks": sorted(
            checks.values(),
            key=lambda s: (
                -s["points_lost"],
                2.0 if s["pass_rate"] is None else s["pass_rate"],
                s["id"],
            ),
        ),
        "exercises": list(exercises.values()),
        "mistakes": [
            {"function": f, "hint": h, "count": n, "checks": sorted(mistake_checks[(f, h)])}
            for (f, h), n in sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }


def _summary(scores: list[float], max_score: float) -> dict[str, Any]:
    """Mean, median and a histogram of ``BINS`` bars over 0..max_score (the last bar holds max)."""
    counts = [0] * BINS
    for s in scores:
        at = int(s / max_score * BINS) if max_score > 0 else 0
        counts[min(max(at, 0), BINS - 1)] += 1
    width = max_score / BINS
    return {
        "mean": round(statistics.fmean(scores), 4) if scores else None,
        "median": round(statistics.median(scores), 4) if scores else None,
        "histogram": [
            {"from": round(i * width, 6), "to": round((i + 1) * width, 6), "count": n}
            for i, n in enumerate(counts)
        ],
    }


# --- the formats -------------------------------------------------------------------------


def to_json(stats: dict[str, Any]) -> str:
    return json.dumps(stats, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


CSV_COLUMNS = [
    *("section", "id", "exercise", "function", "max_score"),
    *(*STATUSES, "not_graded", "pass_rate", "points_lost", "overridden"),
    *("mean", "median", "from", "to", "count", "hint"),
]


def to_csv(stats: dict[str, Any]) -> str:
    """One table: a row per check, exercise, histogram bar and mistake; ``section`` says which."""
    buffer = io.StringIO()
    out = CsvWriter(buffer)
    out.writerow(CSV_COLUMNS)

    def row(section: str, **cells: Any) -> None:
        out.writerow([section, *(_cell(cells.get(c)) for c in CSV_COLUMNS[1:])])

    for c in stats["checks"]:
        row("check", **c)
    for e in stats["exercises"]:
        row("exercise", **{k: v for k, v in e.items() if k != "histogram"})
    score = stats["score"]
    row("sheet", id=stats["sheet"], max_score=score["max_score"], mean=score["mean"],
        median=score["median"], count=stats["submissions"])  # fmt: skip
    for name, hist in _histograms(stats):
        for bar in hist:
            row("histogram", id=name, **bar)
    for m in stats["mistakes"]:
        row("mistake", id=" ".join(m["checks"]), function=m["function"], hint=m["hint"],
            count=m["count"])  # fmt: skip
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return points(value)
    return str(value)


def _histograms(stats: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(name, bars) of the sheet's histogram, then each exercise's."""
    return [("sheet", stats["score"]["histogram"])] + [
        (f"exercise {e['id']}", e["histogram"]) for e in stats["exercises"]
    ]


def render(stats: dict[str, Any], console: Any) -> None:
    """Tables and block-bar histograms for a terminal; student text only ever as ``Text``."""
    from rich.table import Table
    from rich.text import Text

    score = stats["score"]
    statuses = ", ".join(f"{n} {safe(s, 40)}" for s, n in stats["statuses"].items())
    console.print(
        Text(
            f"Sheet {safe(stats['sheet'], 40)}: {stats['submissions']} submissions ({statuses}); "
            f"mean {_num(score['mean'])}, median {_num(score['median'])} of "
            f"{points(score['max_score'])} points",
            style="bold",
        )
    )
    table = Table(title="Checks, the hardest first", title_justify="left")
    hidden = any(c["hidden"] for c in stats["checks"])
    ungraded = any(c["not_graded"] for c in stats["checks"])
    overridden = any(c["overridden"] for c in stats["checks"])
    columns = ["check", "pass", "fail", "error", "timeout"]
    columns += ["hidden"] * hidden + ["ungraded"] * ungraded + ["rate", "lost"]
    columns += ["by TA"] * overridden
    for i, name in enumerate(columns):
        if i == 0:
            table.add_column(name, overflow="fold", min_width=16)
        else:  # short headings, never cut: a number's meaning is in the caption
            table.add_column(name, justify="right", min_width=len(name))
    table.caption = (
        "pass, fail, error, timeout: submissions; rate: passed among those that ran the "
        "check; lost: the class's points lost on it"
        + ("; ungraded: rows without a report (refused, ambiguous…)" if ungraded else "")
        + ("; by TA: overridden (grade override)" if overridden else "")
    )
    for c in stats["checks"]:
        rate = c["pass_rate"]
        style = (
            "dim"
            if rate is None
            else "green"
            if rate >= 0.9
            else "yellow"
            if rate >= 0.5
            else "red"
        )
        cells: list[Any] = [Text(safe(c["id"], NAME_LIMIT))]
        cells += [str(c[s]) for s in ("passed", "failed", "error", "timeout")]
        cells += [str(c["hidden"])] * hidden + [str(c["not_graded"])] * ungraded
        cells += [
            Text("–" if rate is None else f"{rate:.0%}", style=style),
            points(c["points_lost"]),
        ]
        cells += [str(c["overridden"])] * overridden
        table.add_row(*cells)
    console.print(table)

    exercises = Table(title="Exercises", title_justify="left")
    for i, name in enumerate(("exercise", "mean", "median", "points")):
        exercises.add_column(name, justify="left" if i == 0 else "right")
    for e in stats["exercises"]:
        exercises.add_row(
            Text(safe(e["id"], 40)), _num(e["mean"]), _num(e["median"]), points(e["max_score"])
        )
    console.print(exercises)
    for name, hist in _histograms(stats):
        console.print(Text(f"Scores: {safe(name, 60)}", style="bold"))
        console.print(Text("\n".join(histogram_lines(hist))), highlight=False)

    if stats["mistakes"]:
        mistakes = Table(title="Known mistakes, the most made first", title_justify="left")
        mistakes.add_column("submissions", justify="right")
        mistakes.add_column("function", no_wrap=True)
        mistakes.add_column("mistake (the hint shown)", ratio=1)
        for m in stats["mistakes"]:
            mistakes.add_row(
                str(m["count"]), Text(safe(m["function"], NAME_LIMIT)), Text(safe(m["hint"]))
            )
        console.print(mistakes)
    else:
        console.print(Text("No known mistake was made.", style="dim"))


def histogram_lines(bars: list[dict[str, Any]], width: int = BAR_WIDTH) -> list[str]:
    """`` 90–100 │████████▍ 17``: one line per bar, scaled to the longest, in eighths of a block."""
    top = max((b["count"] for b in bars), default=0)
    labels = [f"{points(b['from'])}–{points(b['to'])}" for b in bars]
    pad = max((len(s) for s in labels), default=0)
    lines = []
    for label, bar in zip(labels, bars, strict=True):
        eighths = round(bar["count"] / top * width * 8) if top else 0
        if bar["count"] and not eighths:
            eighths = 1  # a bar that holds someone is never drawn empty
        blocks = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
        lines.append(f"{label:>{pad}} │{blocks} {bar['count']}")
    return lines


def _num(x: float | None) -> str:
    return "–" if x is None else points(round(x, 2))


# --- the SVG plot ------------------------------------------------------------------------

_PANEL_W, _PANEL_H, _MARGIN = 600, 200, 40


def to_svg(stats: dict[str, Any]) -> str:
    """The histograms as an SVG image, drawn by hand (see ``plot`` for why).

    Every text is made ``safe`` and XML-escaped, so a check or exercise name
    from a report can neither break the document nor add markup to it.
    """
    panels = _histograms(stats)
    height = len(panels) * (_PANEL_H + _MARGIN) + _MARGIN
    width = _PANEL_W + 2 * _MARGIN
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{_x('Sheet ' + str(stats['sheet']) + ': score distributions')}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for i, (name, bars) in enumerate(panels):
        top = _MARGIN + i * (_PANEL_H + _MARGIN)
        base = top + _PANEL_H - 20
        most = max((b["count"] for b in bars), default=0) or 1
        step = _PANEL_W / max(len(bars), 1)
        out.append(f'<g><text x="{_MARGIN}" y="{top - 8}" font-weight="bold">{_x(name)}</text>')
        out.append(
            f'<line x1="{_MARGIN}" y1="{base}" x2="{_MARGIN + _PANEL_W}" y2="{base}" '
            'stroke="black"/>'
        )
        for j, bar in enumerate(bars):
            h = (_PANEL_H - 40) * bar["count"] / most
            x = _MARGIN + j * step
            label = f"{points(bar['from'])}–{points(bar['to'])}"
            tip = _x(f"{name}, {label}: {bar['count']}")
            out.append(
                f'<rect x="{x + 2:.1f}" y="{base - h:.1f}" width="{step - 4:.1f}" height="{h:.1f}" '
                f'fill="#4a7ab5"><title>{tip}</title></rect>'
            )
            mid = x + step / 2
            out.append(
                f'<text x="{mid:.1f}" y="{base - h - 4:.1f}" text-anchor="middle">'
                f"{bar['count']}</text>"
            )
            out.append(
                f'<text x="{mid:.1f}" y="{base + 14}" text-anchor="middle" font-size="10">'
                f"{_x(label)}</text>"
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _x(text: str) -> str:
    """Text for an SVG: ``safe`` (no control character, which XML 1.0 forbids), then escaped."""
    return escape(safe(text, NAME_LIMIT), {'"': "&quot;"})


# --- the command -------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grade stats",
        description="What the class did on a sheet, from the gradebook (nothing is graded):\n"
        "per check, per exercise, and the known mistakes made most.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", type=Path, required=True, metavar="FILE", help="the gradebook")
    p.add_argument(
        "--sheet", help="the sheet to report on (needed when the gradebook holds several)"
    )
    p.add_argument(
        "--format",
        choices=("rich", "json", "csv"),
        default="rich",
        help="tables and histograms (default), one JSON document, or CSV, on stdout",
    )
    p.add_argument("--plot", type=Path, metavar="FILE", help="also draw the histograms as SVG")
    return p


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.plot is not None and (args.plot.is_dir() or not args.plot.resolve().parent.is_dir()):
        parser.error(f"--plot {args.plot}: not a file in an existing folder")
    try:
        book = open_book(args.db)
        try:
            sheet = pick_sheet(book, args.sheet)
            rows = book.current_rows(sheet, brief=True)
            overrides = book.overrides(sheet)
        finally:
            book.close()
        from grader.gradebook import apply_overrides

        for warning in stale_overrides(rows, overrides):
            print(f"grade stats: warning: {warning}", file=sys.stderr)
        stats = compute(sheet, apply_overrides(rows, overrides))
        if args.plot is not None:
            plot(stats, args.plot)
    except (UsageError, GradebookError, ExportError) as exc:
        print(f"grade stats: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        sys.stdout.write(to_json(stats))
    elif args.format == "csv":
        sys.stdout.write(to_csv(stats))
    else:
        from rich.console import Console

        render(stats, Console())
    return EXIT_DONE


def plot(stats: dict[str, Any], path: Path) -> None:
    """Write ``to_svg`` atomically.

    Drawn by hand: a few rectangles and labels do not justify a plotting
    library (matplotlib is tens of megabytes and slow to import), and a
    hand-written SVG escapes every label the same way as the rest.
    """
    write_atomic(path, to_svg(stats))
    print(f"wrote {path}", file=sys.stderr)
