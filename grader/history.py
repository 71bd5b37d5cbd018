"""``grade diff`` and ``grade override``: what a regrade changed, and a TA's manual decisions.

``grade diff`` compares, for each current submission, the two latest runs that
covered it (table ``run_grades``: every run's score and per-check status and
points, kept even where ``--regrade`` replaced the stored row), so a TA can
announce who gained or lost points and on which checks. For a course graded
in shards each shard is a run of its own; comparing per submission makes the
shards of one regrade line up with the shards of the grading before.

``grade override`` records, lists and removes overrides (``gradebook.Override``):
points a TA gives one check of one submission, with the reason. They apply to
whatever row is current (``gradebook.effective_report``), so a regrade or a
resubmission does not drop them; one whose check no longer exists is named in
a warning by every command that reads it.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from grader.gradebook import (
    RUN_GRADE_COLUMNS,
    Entry,
    Gradebook,
    GradebookError,
    Override,
    points,
    stale_overrides,
)
from grader.stats import UsageError, open_book, pick_sheet
from grader.text import NAME_LIMIT, safe

EXIT_DONE, EXIT_USAGE = 0, 2

DIFF_EPILOG = """\
what is compared:
  for each submission the exports show, the two latest `grade batch` runs
  that graded or reused it: its score in each and every check whose status or
  points changed (old → new). A course graded in shards compares each
  submission's shard runs. Overrides (`grade override`) are not part of a
  run: a changed submission lists those that apply to it, and its score with
  them. Runs are recorded since gradebook schema 3: an older book has none to
  compare until it is graded twice more.

exit status: 0 done (also when nothing changed), 2 usage error (no such or a
             damaged gradebook, one without grades of --sheet).
"""

OVERRIDE_EPILOG = """\
an override:
  gives POINTS (from 0 to the check's points) to one check of one submission
  instead of what the grader gave, with a reason; who ($USER) and when are
  recorded. Every export (`grade batch`/`grade merge` --csv, --junit, --jsonl),
  `grade stats` and the feedback pages use it and say it was overridden and
  why. It belongs to the submission, not to one file: a regrade or a
  resubmission keeps it; when the sheet's checks change so that CHECK_ID is
  gone, every command that reads it warns. Recording one for the same check
  again replaces it.

examples:
  grade override --db book.sqlite alice.py 2.2.logcosh.large 3 --reason "overflow only at 1e4"
  grade override --db book.sqlite --list
  grade override --db book.sqlite --remove alice.py 2.2.logcosh.large

exit status: 0 done, 2 usage error (no such submission or check, points out
             of range, no reason, a damaged gradebook).
"""


def main(command: str, argv: list[str]) -> int:
    if command == "diff":
        parser = _diff_parser()
        args = parser.parse_args(argv)
        run = _diff
    else:
        parser = _override_parser()
        args = parser.parse_args(argv)
        run = _override
    try:
        return run(parser, args)
    except (UsageError, GradebookError) as exc:
        print(f"grade {command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


# --- diff ----------------------------------------------------------------------------------


def _diff_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grade diff",
        description="List the submissions whose score changed between the two latest runs\n"
        "(e.g. after `grade batch --regrade`), with the checks that changed.",
        epilog=DIFF_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", type=Path, required=True, metavar="FILE", help="the gradebook")
    p.add_argument("--sheet", help="the sheet (needed when the gradebook holds several)")
    p.add_argument(
        "--format",
        choices=("rich", "json"),
        default="rich",
        help="a table (default) or one JSON document on stdout",
    )
    return p


def changes(book: Gradebook, sheet: str) -> dict[str, Any]:
    """Per current submission: its two latest runs' scores and the checks that changed.

    JSON-ready: ``changed`` (each with ``submission``, ``old_score``,
    ``new_score``, ``effective_score`` with overrides, ``old_run``, ``new_run``,
    ``checks``: ``id``, ``old_status``, ``old_score``, ``new_status``,
    ``new_score``, and ``overrides``), ``compared`` (submissions with two runs),
    ``runs`` and ``warnings``.
    """
    started = {r[0]: r[1] for r in book.runs()}
    current = set(book.current_ids(sheet))
    linked: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in book.run_grades(sheet):
        link = dict(zip(RUN_GRADE_COLUMNS, row, strict=True))
        if link["submission"] in current:
            linked[link["submission"]].append(link)
    overrides: dict[str, list[Override]] = defaultdict(list)
    all_overrides = book.overrides(sheet)
    for o in all_overrides:
        overrides[o.submission].append(o)
    rows = book.current_rows(sheet, brief=True) if all_overrides else {}
    changed, runs_seen = [], set()
    compared = 0
    for submission in sorted(linked):
        links = sorted(linked[submission], key=lambda k: (started.get(k["run"], ""), k["run"]))
        if len(links) < 2:
            continue
        compared += 1
        old, new = links[-2:]
        if abs(float(old["score"]) - float(new["score"])) < 1e-9:
            continue
        runs_seen |= {old["run"], new["run"]}
        mine = {o.check_id: o for o in overrides.get(submission, [])}
        checks = _changed_checks(json.loads(old["checks"]), json.loads(new["checks"]))
        for c in checks:
            if c["id"] in mine:
                c["override"] = {"points": mine[c["id"]].points, "reason": mine[c["id"]].reason}
        effective = float(new["score"])
        if mine and submission in rows:
            from grader.gradebook import effective_entry

            effective = effective_entry(rows[submission], mine.values()).score
        changed.append(
            {
                "submission": safe(submission, NAME_LIMIT),
                "old_score": float(old["score"]),
                "new_score": float(new["score"]),
                "effective_score": effective,
                "old_status": safe(old["status"], NAME_LIMIT),
                "new_status": safe(new["status"], NAME_LIMIT),
                "old_run": old["run"],
                "new_run": new["run"],
                "checks": checks,
                "overrides": [
                    {"check_id": o.check_id, "points": o.points, "reason": o.reason}
                    for o in mine.values()
                ],
            }
        )
    runs = [
        {"id": r[0], "started_at": r[1], "seed": r[3], "grader": r[5], "shard": r[6]}
        for r in book.runs()
        if r[0] in runs_seen
    ]
    return {
        "sheet": safe(sheet, 40),
        "compared": compared,
        "changed": changed,
        "runs": runs,
        "warnings": stale_overrides(rows, all_overrides),
    }


def _changed_checks(old: dict[str, list[Any]], new: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The checks whose status or points differ; one only in one run is "absent" in the other."""
    out = []
    for cid in [*old, *(c for c in new if c not in old)]:
        o, n = old.get(cid, ["absent", 0.0]), new.get(cid, ["absent", 0.0])
        if o[0] != n[0] or abs(float(o[1]) - float(n[1])) > 1e-9:
            out.append(
                {
                    "id": safe(cid, NAME_LIMIT),
                    "old_status": safe(o[0], NAME_LIMIT),
                    "old_score": float(o[1]),
                    "new_status": safe(n[0], NAME_LIMIT),
                    "new_score": float(n[1]),
                }
            )
    return out


def _diff(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    book = open_book(args.db)
    try:
        sheet = pick_sheet(book, args.sheet)
        result = changes(book, sheet)
    finally:
        book.close()
    for warning in result["warnings"]:
        print(f"grade diff: warning: {warning}", file=sys.stderr)
    if not result["compared"]:
        print(
            f"grade diff: no submission of sheet {result['sheet']} in {args.db} was graded by "
            "two runs yet: nothing to compare (runs are recorded since gradebook schema 3)",
            file=sys.stderr,
        )
    if args.format == "json":
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        return EXIT_DONE
    if not result["compared"]:
        return EXIT_DONE
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if result["compared"] and not result["changed"]:
        console.print(
            f"No score changed between the latest two runs ({result['compared']} submissions)."
        )
        return EXIT_DONE
    table = Table(
        title=f"Sheet {result['sheet']}: scores that changed", title_justify="left", show_lines=True
    )
    table.add_column("submission", no_wrap=True)
    table.add_column("old → new", justify="right", no_wrap=True)
    table.add_column("checks that changed (old → new)", ratio=1)
    for c in result["changed"]:
        score = f"{points(c['old_score'])} → {points(c['new_score'])}"
        if abs(c["effective_score"] - c["new_score"]) > 1e-9:
            score += f"\n({points(c['effective_score'])} with overrides)"
        lines = [
            f"{k['id']}: {k['old_status']} {points(k['old_score'])} → "
            f"{k['new_status']} {points(k['new_score'])}"
            + (
                f" (overridden: {points(k['override']['points'])}, {k['override']['reason']})"
                if "override" in k
                else ""
            )
            for k in c["checks"]
        ]
        if c["old_status"] != c["new_status"]:
            lines.insert(0, f"status: {c['old_status']} → {c['new_status']}")
        style = "green" if c["new_score"] > c["old_score"] else "red"
        table.add_row(Text(c["submission"]), Text(score, style=style), Text("\n".join(lines)))
    table.caption = f"{len(result['changed'])} of {result['compared']} submissions changed"
    console.print(table)
    pairs = sorted({(c["old_run"], c["new_run"]) for c in result["changed"]})
    when = {r["id"]: r["started_at"][:16].replace("T", " ") for r in result["runs"]}
    for old, new in pairs:
        console.print(
            Text(f"run {old} ({when.get(old, '?')} UTC) → run {new} ({when.get(new, '?')} UTC)"),
            style="dim",
        )
    return EXIT_DONE


# --- override --------------------------------------------------------------------------------


def _override_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grade override",
        description="Record a TA's manual decision on one check of one submission, list the\n"
        "decisions, or remove one.",
        epilog=OVERRIDE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("submission", nargs="?", metavar="SUBMISSION", help="as the gradebook names it")
    p.add_argument("check_id", nargs="?", metavar="CHECK_ID", help="e.g. 2.2.logcosh.large")
    p.add_argument("points", nargs="?", metavar="POINTS", help="from 0 to the check's points")
    p.add_argument("--db", type=Path, required=True, metavar="FILE", help="the gradebook")
    p.add_argument("--reason", help="why (required to record one): shown wherever it applies")
    p.add_argument("--sheet", help="the sheet (needed when the submission has grades of several)")
    p.add_argument("--list", action="store_true", help="list the overrides")
    p.add_argument(
        "--remove",
        action="store_true",
        help="remove the override of SUBMISSION's CHECK_ID (give no POINTS)",
    )
    p.add_argument(
        "--format",
        choices=("rich", "json"),
        default="rich",
        help="--list: a table (default) or a JSON list",
    )
    return p


def _override(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.list and args.remove:
        parser.error("--list and --remove do not go together")
    if args.list:
        if args.submission is not None:
            parser.error("--list takes no SUBMISSION, CHECK_ID or POINTS")
        return _list(args)
    if args.submission is None or args.check_id is None:
        parser.error("give SUBMISSION and CHECK_ID (or --list)")
    if args.remove:
        if args.points is not None:
            parser.error("--remove takes SUBMISSION and CHECK_ID, no POINTS")
        return _remove(args)
    if args.points is None:
        parser.error("give the POINTS for the check (or --remove, or --list)")
    try:
        given = float(args.points)
    except ValueError:
        parser.error(f"POINTS {safe(args.points, 40)!r} is not a number")
    if not math.isfinite(given):
        parser.error("POINTS must be a finite number")
    reason = (args.reason or "").strip()
    if not reason:
        parser.error("say why with --reason TEXT: it is shown wherever the override applies")
    if not args.db.is_file():
        raise UsageError(f"no such gradebook: {args.db}")
    book = Gradebook(args.db)
    try:
        sheet, entry = _find(book, args.submission, args.sheet)
        check = _check(entry, args.check_id, args.submission)
        top = float(check.get("max_score", 0.0))
        if not 0 <= given <= top:
            raise UsageError(
                f"{points(given)} points for {safe(args.check_id, NAME_LIMIT)}: an override "
                f"gives from 0 to the check's {points(top)} points"
            )
        item = Override(
            sheet,
            args.submission,
            args.check_id,
            given,
            reason,
            by=os.environ.get("USER") or "unknown",
        )
        book.override(item)
        overrides = [o for o in book.overrides(sheet) if o.submission == item.submission]
    finally:
        book.close()
    from grader.gradebook import effective_entry

    score = effective_entry(entry, overrides).score
    print(
        f"override recorded: {item.submission} {item.check_id}: {points(given)} of "
        f"{points(top)} points (the grader gave {points(check.get('score', 0))}; "
        f"{item.reason}); its score is now {points(score)} of {points(entry.max_score)}",
        file=sys.stderr,
    )
    return EXIT_DONE


def _find(book: Gradebook, submission: str, wanted: str | None) -> tuple[str, Entry]:
    """The sheet and current row of ``submission``, or a ``UsageError`` saying what is there."""
    sheets = [pick_sheet(book, wanted)] if wanted is not None else book.sheets()
    if not sheets:
        raise UsageError(f"the gradebook {book.path} holds no grades yet: run `grade batch` first")
    found = [(s, rows[submission]) for s in sheets if submission in (rows := book.current_rows(s))]
    if len(found) > 1:
        held = ", ".join(safe(s, 40) for s, _ in found)
        raise UsageError(
            f"{safe(submission, NAME_LIMIT)} has grades of sheets {held}: pick one with --sheet"
        )
    if not found:
        known = [i for s in sheets for i in book.current_ids(s)]
        close = difflib.get_close_matches(submission, known, n=3)
        hint = f"; did you mean {', '.join(safe(c, NAME_LIMIT) for c in close)}?" if close else ""
        where = f"sheet {safe(sheets[0], 40)} of " if wanted is not None else ""
        raise UsageError(
            f"no submission {safe(submission, NAME_LIMIT)!r} in {where}the gradebook {book.path} "
            f"(a submission is named as in the CSV's first column){hint}"
        )
    return found[0]


def _check(entry: Entry, check_id: str, submission: str) -> dict[str, Any]:
    if entry.report is None:
        raise UsageError(
            f"{safe(submission, NAME_LIMIT)} has no graded report (status {entry.status}): "
            "there is no check to override; fix the entry and run `grade batch` again"
        )
    checks = {c.get("id"): c for c in entry.report.get("checks", [])}
    if check_id not in checks:
        close = difflib.get_close_matches(check_id, [str(k) for k in checks], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(
            f"no check {safe(check_id, NAME_LIMIT)!r} in {safe(submission, NAME_LIMIT)}'s "
            f"grade (check ids look like {next(iter(checks), '2.1.f.case')}){hint}"
        )
    return checks[check_id]


def _remove(args: argparse.Namespace) -> int:
    if not args.db.is_file():
        raise UsageError(f"no such gradebook: {args.db}")
    book = Gradebook(args.db)
    try:
        sheets = [pick_sheet(book, args.sheet)] if args.sheet is not None else book.sheets()
        held = {
            o.sheet
            for s in sheets
            for o in book.overrides(s)
            if (o.submission, o.check_id) == (args.submission, args.check_id)
        }
        if len(held) > 1:
            raise UsageError("that override exists for several sheets: pick one with --sheet")
        if not held or not book.remove_override(held.pop(), args.submission, args.check_id):
            raise UsageError(
                f"no override of {safe(args.check_id, NAME_LIMIT)} for "
                f"{safe(args.submission, NAME_LIMIT)} in {args.db} (see --list)"
            )
    finally:
        book.close()
    print(
        f"override removed: {safe(args.submission, NAME_LIMIT)} "
        f"{safe(args.check_id, NAME_LIMIT)} gets the grader's points again",
        file=sys.stderr,
    )
    return EXIT_DONE


def _list(args: argparse.Namespace) -> int:
    book = open_book(args.db)
    try:
        sheets = [pick_sheet(book, args.sheet)] if args.sheet is not None else book.sheets()
        listed, warnings = [], []
        for s in sheets:
            overrides = book.overrides(s)
            if not overrides:
                continue
            rows = book.current_rows(s, brief=True)
            warnings += stale_overrides(rows, overrides)
            for o in overrides:
                report = rows[o.submission].report if o.submission in rows else None
                graded = {c.get("id"): c.get("score") for c in (report or {}).get("checks", [])}
                listed.append({**o.__dict__, "graded": graded.get(o.check_id)})
    finally:
        book.close()
    for warning in warnings:
        print(f"grade override: warning: {warning}", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(json.dumps(listed, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        return EXIT_DONE
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if not listed:
        Console().print(f"No overrides in {safe(str(args.db), NAME_LIMIT)}.")
        return EXIT_DONE
    table = Table(title="Overrides", title_justify="left", show_lines=True)
    table.add_column("submission / check", no_wrap=True)
    table.add_column("points (graded)", justify="right", no_wrap=True)
    table.add_column("reason · by, when", ratio=1)
    for o in listed:
        graded = "check gone" if o["graded"] is None else points(o["graded"])
        when = o["at"][:16].replace("T", " ")
        table.add_row(
            Text(f"{o['submission']}\n{o['check_id']}"),
            f"{points(o['points'])} ({graded})",
            Text(f"{o['reason']}\n· {o['by']}, {when} UTC (sheet {o['sheet']})"),
        )
    Console().print(table)
    return EXIT_DONE
