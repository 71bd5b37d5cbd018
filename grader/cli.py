"""The ``grade`` command line.

Exit status (relied on by scripts and CI): 0 graded (whatever the score),
2 usage error, 1 the grader itself failed, 3 graded below ``--fail-under``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from grader import streams
from grader.sheets import DamagedKit

EXIT_GRADED, EXIT_INTERNAL, EXIT_USAGE, EXIT_FAIL_UNDER = 0, 1, 2, 3
FORMATS = ("rich", "json", "junit", "gradescope", "classroom")
GRADESCOPE_VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")

DESCRIPTION = """\
Grade a deep-learning exercise sheet: a student's .py module or .ipynb notebook
is run in a sandbox, each function of the sheet's contract is called on the
sheet's own examples and on hidden random inputs, and compared with a
reference implementation.

examples:
  grade my_solution.py --sheet 2           grade one file, print a report
  grade notebook.ipynb --sheet 9 --format json > report.json
  grade sheets                             list the sheets and their points
  grade template --sheet 7 -o sheet7.py    write a skeleton to start from (or .ipynb)
  grade contract --sheet 7                 what each function takes, returns, is checked on
  grade batch submissions/ --sheet 2 --csv grades.csv --jobs 2
  grade merge shard1.sqlite shard2.sqlite --db all.sqlite --csv grades.csv
  grade stats --db gradebook.sqlite --sheet 2   per check, per exercise, common mistakes
  grade diff --db gradebook.sqlite         whose score changed in the latest run
  grade override --db gradebook.sqlite alice.py 2.2.logcosh.large 3 --reason "…"
  grade feedback --db gradebook.sqlite -o feedback/   an HTML page per submission
  grade gradescope --sheet 9 -o autograder.zip   Gradescope's autograder
  grade kit --sheet 9 -o kit9/             a self-check kit for students (public checks)
  grade doctor                             what isolation this machine gives, and fixes

formats (--format): rich (for people), json (the report), junit (JUnit XML:
  a testcase per check, for GitLab, Jenkins and GitHub test reporters),
  gradescope (Gradescope's results.json), classroom (the result GitHub
  Classroom's grading reporter reads; base64-encode it into the step's output
  `result`, see the README). The scores in each add up to the report's score.

exit status: 0 graded (any score), 2 usage error, 1 grader failure,
             3 graded but below --fail-under.
"""

GRADE_EPILOG = """\
what the report means:
  passed   the function behaves like the reference on every case of the check
  failed   it returned a wrong answer (the message says which case and how)
  error    it raised, crashed, is missing, or returned something unusable
  timeout  it ran longer than the per-call limit; its later checks are skipped

Public checks show the inputs and the expected values; hidden checks (random
inputs, seeds in the JSON report) only say what went wrong.
The submission runs isolated (no network, no access to your files) with
{timeout:g} s per call by default, and in all at most {total:g} s
(--submission-timeout) and {restarts} restarts of its worker after a crash or
timeout; checks left when either runs out are marked "not run".
Each of its processes gets {cpu} s of CPU time, {address} GiB of address space
and files up to {file} MiB, in a {scratch} MiB scratch directory. Where the
grader can make a per-submission cgroup (as root; on cgroup v2 also in a
delegated cgroup of its own) the submission as a whole is held to {memory} GiB
of memory and {processes} processes; without one these limits bind each process
only (the process count per user, and not at all as root), and the report says
"reduced isolation". `grade doctor` says what this machine gives and how to get
the rest; --require-isolation refuses to grade without full isolation.
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    streams.fit(sys.stdout)  # a Windows pipe or file is cp1252: no ✔, no σ
    try:
        if argv and argv[0] == "sheets":
            return _sheets(argv[1:])
        if argv and argv[0] == "template":
            return _template(argv[1:])
        if argv and argv[0] == "contract":
            return _contract(argv[1:])
        if argv and argv[0] == "batch":
            from grader.batch import main as batch_main

            return batch_main(argv[1:])
        if argv and argv[0] == "merge":
            from grader.merge import main as merge_main

            return merge_main(argv[1:])
        if argv and argv[0] == "stats":
            from grader.stats import main as stats_main

            return stats_main(argv[1:])
        if argv and argv[0] in ("diff", "override"):
            from grader import history

            return history.main(argv[0], argv[1:])
        if argv and argv[0] == "feedback":
            from grader.feedback import main as feedback_main

            return feedback_main(argv[1:])
        if argv and argv[0] == "gradescope":
            from grader.gradescope import main as gradescope_main

            return gradescope_main(argv[1:])
        if argv and argv[0] == "kit":
            return _kit(argv[1:])
        if argv and argv[0] == "doctor":
            from grader.doctor import main as doctor_main

            return doctor_main(argv[1:])
        return _grade(argv)
    except DamagedKit as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except Exception:
        import traceback

        from grader.text import safe

        print("grade: internal error (please report this):", file=sys.stderr)
        # The exception may quote a submission's strings.
        print(safe(traceback.format_exc(), 20_000, lines=True), file=sys.stderr)
        return EXIT_INTERNAL


def _grade_parser() -> argparse.ArgumentParser:
    from grader.limits import Limits
    from grader.session import (
        DEFAULT_CALL_TIMEOUT,
        MAX_RESTARTS,
        SUBMISSION_TIMEOUT,
        add_grading_arguments,
    )

    limits = Limits()

    p = argparse.ArgumentParser(
        prog="grade",
        description=DESCRIPTION,
        epilog=GRADE_EPILOG.format(
            timeout=DEFAULT_CALL_TIMEOUT,
            total=SUBMISSION_TIMEOUT,
            restarts=MAX_RESTARTS,
            cpu=limits.cpu_seconds,
            address=(limits.memory_bytes >> 30) + 1,
            memory=limits.memory_bytes >> 30,
            processes=limits.processes,
            file=limits.file_bytes >> 20,
            scratch=limits.scratch_bytes >> 20,
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("submission", type=Path, help="a .py module or .ipynb notebook")
    p.add_argument("--sheet", required=True, help="sheet id: 2, 7, 9 or 10 (see `grade sheets`)")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="rich",
        help="rich report for people (default), or one document on stdout: "
        "json, junit, gradescope, classroom (see formats above)",
    )
    p.add_argument(
        "--hidden-visibility",
        choices=GRADESCOPE_VISIBILITY,
        default="after_published",
        help="--format gradescope: when students see checks on hidden inputs "
        "(default after_published)",
    )
    p.add_argument(
        "--fail-under",
        type=float,
        metavar="SCORE",
        help="exit with status 3 when the score is below SCORE",
    )
    p.add_argument(
        "--require-isolation",
        action="store_true",
        help="exit with status 2 without grading unless full isolation is available here "
        "(bubblewrap and a per-submission cgroup; the reasons and fixes as `grade doctor` "
        "prints them go to stderr)",
    )
    add_grading_arguments(p)
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="grade SUBMISSION even if it, or a folder on its path, is a symbolic link "
        "(refused by default: a link may lead to a file that is not the student's). "
        "Without it, on Linux and macOS, one kind of link is followed: a folder directly in / "
        "that is a link owned by root, in a / that only root can write, such as macOS's /tmp "
        "or Fedora Silverblue's /home; only root can make one",
    )
    return p


def _grade(argv: list[str]) -> int:
    parser = _grade_parser()
    args = parser.parse_args(argv)
    from grader import sheets

    path: Path = args.submission
    if not os.path.lexists(path):
        parser.error(f"no such file: {path}")
    if path.is_dir() and (args.follow_symlinks or not path.is_symlink()):
        parser.error(f"{path} is a directory; grade a folder of submissions with `grade batch`")
    if path.suffix.lower() not in (".py", ".ipynb"):
        parser.error(f"{path} is not a .py module or .ipynb notebook ({_what_to_do(path)})")
    if args.fail_under is not None and not math.isfinite(args.fail_under):
        parser.error(f"--fail-under must be a number, not {args.fail_under}")
    if str(args.sheet).strip() not in sheets.available():
        parser.error(str(sheets.UnknownSheet(args.sheet)))
    if args.require_isolation:
        from grader.doctor import refusal

        refused = refusal()
        if refused is not None:
            sys.stderr.write(refused)
            return EXIT_USAGE

    from grader.loading import LoadError, NotAFile, Source, read_submission
    from grader.session import grading_options, open_session

    options = grading_options(parser, args)
    source: Source | LoadError
    try:
        source = read_submission(path, follow_symlinks=args.follow_symlinks)
    except NotAFile as exc:  # nothing was read: the TA named something that is not a file
        hint = "; --follow-symlinks grades it anyway" if exc.link else ""
        parser.error(f"not graded: {exc}{hint}")
    except LoadError as exc:  # a file that cannot be loaded is graded: 0 with the reason
        source = exc
    opened = open_session(path, options, source)  # the worker boots while we build the spec

    from grader import report
    from grader.runner import grade_session

    with _progress_on_tty() as progress:
        options.progress = progress
        outcome = grade_session(opened, lambda: sheets.load(args.sheet), options)
    if not outcome.isolation.full:
        print(f"grade: warning: reduced isolation: {outcome.isolation.note}", file=sys.stderr)
    if args.format == "json":
        report.print_json(outcome, sys.stdout)
    elif args.format != "rich":
        from grader.ci_formats import document

        sys.stdout.write(document(args.format, report.to_json(outcome), args.hidden_visibility))
    else:
        from rich.console import Console

        report.render(outcome, Console())
    if args.fail_under is not None and outcome.score < args.fail_under:
        kit = sheets.kit_manifest() is not None  # a kit's hidden checks score 0 here
        reachable = outcome.public_max_score if kit else outcome.max_score
        _say_fail_under(outcome.score, reachable, args.fail_under, kit)
        return EXIT_FAIL_UNDER
    return EXIT_GRADED


def _what_to_do(path: Path) -> str:
    """What a student does with a file of another kind: unpack, hand in the source, rename."""
    suffix = path.suffix.lower()
    if suffix in (".zip", ".gz", ".tgz", ".tar", ".7z", ".rar"):
        return "an archive: unpack it and grade the .py or .ipynb inside"
    if suffix in (".pdf", ".html", ".htm"):
        return "an export: grade the .py or .ipynb it was made from"
    return "if it holds your code, rename it to end in .py, or .ipynb for a notebook"


def _say_fail_under(score: float, reachable: float, fail_under: float, kit: bool) -> None:
    """Exit status 3 is explained on stderr: a CI log that shows full marks must say why."""
    why = f"grade: score {score:g} is below --fail-under {fail_under:g}: exit status 3"
    if fail_under > reachable:
        where = "the kit's public checks give at most" if kit else "this sheet's maximum is"
        why += f" ({where} {reachable:g}, so no submission reaches it)"
    print(why, file=sys.stderr)


@contextlib.contextmanager
def _progress_on_tty() -> Iterator[Callable[[int, int, str], None] | None]:
    """A transient status line on stderr while grading, only for a person at a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.text import Text

    with Console(stderr=True).status("starting the sandbox…") as status:

        def update(done: int, total: int, what: str) -> None:
            text = f"{what}…" if not total else f"check {done + 1}/{total}: {what}"
            status.update(Text(text))  # a file name may look like markup

        yield update


def _sheets(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="grade sheets", description="List the sheets.").parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    from grader import sheets

    table = Table(title="Sheets")
    for col in ("sheet", "title", "exercises", "checks", "points"):
        table.add_column(col)
    for sheet_id in sheets.available():
        sheet = sheets.load(sheet_id)
        parts = " + ".join(f"{e.points:g}" for e in sheet.exercises)
        n = sum(len(e.checks) for e in sheet.exercises)
        table.add_row(sheet_id, sheet.title, parts, str(n), f"{sheet.points:g}")
    Console().print(table)
    return EXIT_GRADED


def _template(argv: list[str]) -> int:
    from grader.contract import CONTRACT
    from grader.template import notebook, skeleton

    p = argparse.ArgumentParser(
        prog="grade template",
        description="Write a skeleton submission: every function of the sheet stubbed out.",
    )
    p.add_argument("--sheet", required=True, help="sheet id")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file to write: a .py module, or a Jupyter notebook if it ends in .ipynb "
        "(default: the .py module on stdout)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = p.parse_args(argv)
    sheet_id = str(args.sheet).strip()
    if sheet_id not in CONTRACT:
        p.error(f"unknown sheet {sheet_id!r}; known sheets: {', '.join(CONTRACT)}")
    if args.output is None:
        sys.stdout.write(skeleton(sheet_id))
        return EXIT_GRADED
    suffix = args.output.suffix.lower()
    if suffix not in (".py", ".ipynb"):
        p.error(f"{args.output}: the grader reads .py modules and .ipynb notebooks")
    if args.output.exists() and not args.force:
        p.error(f"{args.output} exists; pass --force to overwrite it")
    text = notebook(sheet_id, args.output.name) if suffix == ".ipynb" else skeleton(sheet_id)
    args.output.write_text(text, encoding="utf-8")
    print(
        f"wrote {args.output}: fill in each function, then run "
        f"`grade {args.output} --sheet {sheet_id}`",
        file=sys.stderr,
    )
    return EXIT_GRADED


def _contract(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="grade contract",
        description="Print the student reference of a sheet: every function's arguments, "
        "shapes and return value, the conventions, and how each function is checked and "
        "compared (the text of docs/sheets/).",
    )
    p.add_argument("--sheet", required=True, help="sheet id")
    p.add_argument(
        "--format",
        choices=("md", "text"),
        default="md",
        help="markdown (default) or text laid out for reading in a terminal",
    )
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    args = p.parse_args(argv)
    from grader import sheets
    from grader.docs import sheet_reference

    sheet_id = str(args.sheet).strip()
    if sheet_id not in sheets.available():
        p.error(str(sheets.UnknownSheet(sheet_id)))
    text = sheet_reference(sheet_id)
    if args.format == "text":
        from rich.console import Console
        from rich.markdown import Markdown

        markdown = Markdown(text.split("\n", 1)[1])  # without the "generated" comment
        if args.output is None and sys.stdout.isatty():
            Console().print(markdown)
            return EXIT_GRADED
        stream = io.StringIO()
        Console(file=stream, width=100, color_system=None).print(markdown)
        text = "\n".join(line.rstrip() for line in stream.getvalue().splitlines()) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return EXIT_GRADED


def _kit(argv: list[str]) -> int:
    try:
        from grader.kit import main as kit_main
    except ImportError:  # a student kit ships without its builder
        print(
            "grade kit: this is a student kit; building a kit needs the full grader",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return kit_main(argv)


def run() -> None:
    """Console-script entry: exit without tearing the interpreter down.

    Everything of ours is closed and flushed by then (the worker is killed and its
    files removed before ``main`` returns); skipping the teardown of numpy and
    pydantic saves about 50 ms per run, a tenth of grading a sheet.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or EXIT_INTERNAL
    os._exit(code)


if __name__ == "__main__":
    run()
