"""``grade batch``: grade a folder of submissions into a gradebook, resumably.

Each submission is graded by ``grade_file`` exactly as ``grade`` would, in its own
sandboxed worker process; threads only wait for those processes, so a thread
pool gives the parallelism. One bad submission never stops a batch: whatever
happens to it becomes its row. The main thread is the gradebook's only writer
and commits every result as it arrives, which is what makes a rerun after an
interruption grade only what is missing.

``--shard I/N`` grades the submissions whose id hashes to shard I of N, so N
machines (CI jobs, Kubernetes pods) can share a course and ``grade merge``
joins their gradebooks into what one run would have made.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import stat
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import Progress, ProgressColumn, Task
from rich.text import Text

from grader import ci_formats
from grader.feedback import FeedbackDir, FeedbackError, row_report, titles_of
from grader.gradebook import (
    AMBIGUOUS,
    GRADED,
    GRADER_ERROR,
    NO_SUBMISSION,
    NOT_LOADED,
    REFUSED,
    Entry,
    ExportError,
    Gradebook,
    GradebookError,
    Key,
    Override,
    apply_overrides,
    check_ids,
    effective_entry,
    points,
    spec_fingerprint,
    stale_overrides,
    write_atomic,
    write_csv,
)
from grader.isolation import verified_isolation
from grader.loading import (
    LoadError,
    Refused,
    Source,
    describe,
    parse_submission,
    read_beneath,
)
from grader.report import to_json
from grader.runner import Options, grade_file
from grader.session import add_grading_arguments, grading_options
from grader.spec import Sheet
from grader.text import NAME_LIMIT, safe

if TYPE_CHECKING:
    from rich.console import Console

SUFFIXES = (".py", ".ipynb")
SKIPPED_DIRS = {"__pycache__", "__MACOSX"}
MAX_DEPTH = 32  # folders below a student's folder that are looked into
MAX_ENTRIES = 100_000  # entries looked at in one student's folder
NAMES_SHOWN = 5  # a message lists this many names, then "and N more"
_DIR_FLAGS = (  # getattr: the kit ships this module, and Windows has neither flag
    os.O_RDONLY
    | getattr(os, "O_DIRECTORY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
DEFAULT_DB = Path("gradebook.sqlite")
EXIT_GRADED, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2
# What --shard auto reads, in this order (see shard_from_env).
GITLAB_INDEX, GITLAB_TOTAL = "CI_NODE_INDEX", "CI_NODE_TOTAL"
K8S_INDEX, K8S_TOTALS = "JOB_COMPLETION_INDEX", ("GRADE_SHARD_TOTAL", "JOB_COMPLETIONS")

EPILOG = f"""\
what is a submission:
  every .py / .ipynb file directly in DIR (its id is the file name), and every
  folder in DIR (one per student; its id is the folder name) holding one such
  file, at any depth. A folder holding several is graded by the one named like
  the sheet (sheet2.ipynb, Sheet_02.py, blatt2.ipynb, ex2.py; a notebook wins a
  tie), else by the only one at the folder's top; otherwise it gets a row with
  status "ambiguous". Hidden files and folders, __pycache__ and __MACOSX are
  skipped, as is any other kind of file, except one in DIR named like code
  under another extension (sheet2.py.txt): it gets a row "no_submission".

what is never read:
  anything but a regular file reached without following a symbolic link. A
  link in DIR (to a file or a folder) is a submission of its own with status
  "refused"; links inside a student's folder are not followed, and a
  submission that is a link, FIFO or device is refused, as is a .py over
  5 MiB or an .ipynb over 200 MiB (judged by its size before reading) and a
  student's folder of more than {MAX_ENTRIES:,} entries. Folders more than
  {MAX_DEPTH} levels below a student's folder are not looked into. A refused
  entry's content is not read.

the gradebook (--db, default ./gradebook.sqlite):
  a SQLite table `grades` keyed by sheet, submission, the file's sha256, the
  seed and the sheet's list of checks, holding score, max_score, status, the
  full JSON report, graded_at and the grader's version. Every result is
  committed as soon as it is graded, so after an interruption the same command
  grades only what is missing; a changed file is graded again (older versions
  stay as history; table `current` names the version each submission's
  exports show: the one this run found). A grade is stored under the hash of
  exactly the bytes that were graded. Time limits are not part of the key:
  pass --regrade after changing them. Each run is recorded (table `runs`)
  with the score and check results of every row it graded or reused, so
  `grade diff` lists whose score a regrade changed; a TA's overrides
  (`grade override`) apply to the exports and survive regrades.

status of a row:
  graded         loaded and graded, whatever the score
  not_loaded     the file could not be loaded (syntax error, hang...): score 0
  no_submission  no .py or .ipynb: the student's folder holds none, or the
                 file is code under another extension (a.py.txt): score 0
  ambiguous      the folder holds several and none stands out: score 0
  refused        not read (see above): a link, FIFO or device, too large, too
                 many entries, or nothing to grade but links or deep folders:
                 score 0; the message says which
  grader_error   the grader itself failed on it (exit status 1); retried next run

sharding (--shard I/N, 1 <= I <= N):
  grade only the submissions of shard I: those whose id (file or folder name)
  hashes to I, so the shares do not depend on the order of the listing or on
  other students, and N runs (on N machines, into N gradebooks) cover every
  submission exactly once; each run's CSV and other files hold its shard's
  rows. Join the gradebooks with `grade merge`: its CSV is the one an
  unsharded run writes. --shard auto reads the shard from the CI:
    GitLab       parallel: N sets CI_NODE_INDEX (1-based) and CI_NODE_TOTAL
    Kubernetes   an Indexed Job sets JOB_COMPLETION_INDEX (0-based); set
                 GRADE_SHARD_TOTAL (or JOB_COMPLETIONS) to its completions
    GitHub       no variable: pass --shard ${{{{ matrix.shard }}}}/N from a matrix
                 (shard: [1, 2, 3] for N = 3)
  Use one --seed for every shard; `grade merge` refuses to mix seeds.

progress: at a terminal a bar with the count, the rate, the time left and a
  tally of this run's results (full marks, partial, zero, not loaded: any row
  whose status is not "graded"); otherwise (CI, logs) one line per submission.

exit status: 0 the batch was graded (any scores), 2 usage error (also: a
             damaged or locked gradebook, an export that cannot be written),
             1 the grader failed on some submission, 130 interrupted.
"""


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``total``."""

    index: int
    total: int

    def holds(self, submission_id: str) -> bool:
        return shard_of(submission_id, self.total) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


class ShardError(ValueError):
    """A shard that cannot be: the message says what was given and what is expected."""


def shard_of(submission_id: str, total: int) -> int:
    """The shard (1..total) of a submission: a hash of its id alone, the same on every machine."""
    digest = hashlib.sha256(os.fsencode(submission_id)).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def parse_shard(text: str, env: Mapping[str, str] | None = None) -> Shard:
    """``I/N`` (1 <= I <= N), or ``auto``: read from the CI's variables (``shard_from_env``)."""
    if text.strip().lower() == "auto":
        return shard_from_env(os.environ if env is None else env)
    match = re.fullmatch(r"\s*(\d{1,9})\s*/\s*(\d{1,9})\s*", text)
    if match is None:
        raise ShardError(
            f"--shard {safe(text, 40)}: expected I/N with whole numbers, shard I of N "
            "counted from 1 (e.g. 2/3), or auto"
        )
    return _checked(int(match[1]), int(match[2]), f"--shard {text.strip()}")


def _checked(index: int, total: int, given: str) -> Shard:
    if total < 1:
        raise ShardError(f"{given}: N, the number of shards, must be at least 1")
    if not 1 <= index <= total:
        raise ShardError(
            f"{given}: shard {index} of {total} does not exist; I must be between 1 and N "
            "(shards are counted from 1)"
        )
    return Shard(index, total)


def shard_from_env(env: Mapping[str, str]) -> Shard:
    """The shard a CI job was started as: GitLab's ``parallel:``, a Kubernetes Indexed Job."""

    def number(name: str) -> int:
        value = env[name].strip()
        if not (value.isascii() and value.isdigit()) or len(value) > 9:
            raise ShardError(f"--shard auto: {name}={safe(env[name], 40)!r} is not a whole number")
        return int(value)

    if GITLAB_INDEX in env:
        if GITLAB_TOTAL not in env:
            raise ShardError(f"--shard auto: {GITLAB_INDEX} is set but not {GITLAB_TOTAL}")
        index, total = number(GITLAB_INDEX), number(GITLAB_TOTAL)
        given = f"--shard auto ({GITLAB_INDEX}={index}, {GITLAB_TOTAL}={total})"
        return _checked(index, total, given)
    if K8S_INDEX in env:
        total_var = next((v for v in K8S_TOTALS if v in env), None)
        if total_var is None:
            raise ShardError(
                f"--shard auto: {K8S_INDEX} is set (a Kubernetes Indexed Job) but not the "
                f"number of shards: set {K8S_TOTALS[0]} in the pod's env to the Job's completions"
            )
        index, total = number(K8S_INDEX), number(total_var)
        given = f"--shard auto ({K8S_INDEX}={index} counted from 0, {total_var}={total})"
        return _checked(index + 1, total, given)
    if env.get(GITLAB_TOTAL, "").strip() == "1":  # GitLab sets only this without parallel:
        return Shard(1, 1)
    raise ShardError(
        f"--shard auto found no shard in the environment: it reads {GITLAB_INDEX} and "
        f"{GITLAB_TOTAL} (GitLab's parallel:), or {K8S_INDEX} with {K8S_TOTALS[0]} or "
        f"{K8S_TOTALS[1]} (a Kubernetes Indexed Job); elsewhere (GitHub Actions) pass "
        "--shard I/N, e.g. --shard ${{ matrix.shard }}/3"
    )


@dataclass(frozen=True)
class Submission:
    """One student's entry: the file to grade, or why there is none."""

    id: str
    path: Path | None
    shown: str  # the path relative to DIR, as the report names it
    status: str = GRADED
    message: str = ""
    parts: tuple[str, ...] = ()  # the path below DIR, opened one component at a time


def discover(root: Path, sheet_id: str) -> list[Submission]:
    """Every submission in ``root``, sorted by id; see EPILOG for the rules.

    Nothing is followed below ``root``: entries are judged by ``lstat`` and
    folders opened with ``O_NOFOLLOW`` relative to their parent's descriptor,
    so a link, a FIFO or a device is named, never opened, and however deep or
    wide a student's folder, the walk stays within its budget.
    """
    found: list[tuple[str, Submission]] = []
    root_fd = os.open(root, _DIR_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))
    try:
        for name, mode in sorted(_listing(root_fd)):
            if _skipped(name):
                continue
            suffixed = name.lower().endswith(SUFFIXES)
            shown = readable(name)
            if stat.S_ISREG(mode) and suffixed:
                found.append((name, Submission(shown, root / name, shown, parts=(name,))))
            elif stat.S_ISDIR(mode):
                found.append((name, _from_folder(root, root_fd, name, sheet_id)))
            elif stat.S_ISREG(mode) and _renamed_code(name):
                message = f"{shown} is not a .py or .ipynb file: rename it to end in .py or .ipynb"
                found.append((name, Submission(shown, None, shown, NO_SUBMISSION, message)))
            elif stat.S_ISLNK(mode) or (suffixed and not stat.S_ISREG(mode)):
                refused = Submission(shown, None, shown, REFUSED, _not_read(shown, mode))
                found.append((name, refused))
    finally:
        os.close(root_fd)
    return _own_ids(found)


def _own_ids(found: list[tuple[str, Submission]]) -> list[Submission]:
    """The submissions, each under an id no other has.

    ``readable`` can give a name that is not UTF-8 (Latin-1 ``café.py``, shown as
    ``caf\\xe9.py``) the id that another entry's real name already is; under one
    id, one row's grade would overwrite the other's. The real name keeps its id;
    an escaped one that collides gets `` (2)``, `` (3)``... added.
    """
    taken = {sub.id for name, sub in found if sub.id == name}
    unique = []
    for name, sub in found:
        if sub.id != name:
            base, k = sub.id, 1
            while sub.id in taken:
                k += 1
                sub = replace(sub, id=f"{base} ({k})")
            taken.add(sub.id)
        unique.append(sub)
    return unique


def readable(name: str) -> str:
    """A file name as text every output takes: bytes that are not UTF-8 written as ``\\xNN``.

    A zip made on another system names files in Latin-1 or CP437; Python gives
    such bytes as lone surrogates, which SQLite, JSON and a terminal refuse. The
    name on disk (``Submission.parts``) keeps the bytes, to open the file by.
    """
    if name.isascii():
        return name
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def student_folder(folder: Path, sheet_id: str) -> Submission:
    """One student's folder read as ``discover`` reads each: within the same budgets,
    following no link, and picking the file the same way (``grade gradescope --run``)."""
    parent_fd = os.open(folder.parent, _DIR_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))
    try:
        return _from_folder(folder.parent, parent_fd, folder.name, sheet_id)
    finally:
        os.close(parent_fd)


def _not_read(name: str, mode: int) -> str:
    if stat.S_ISLNK(mode):
        return f"{name} is a symbolic link: links are not followed"
    return f"{name} is {describe(mode)}, not a regular file: not read"


def _renamed_code(name: str) -> bool:
    """A file that is a submission saved under another extension (``sheet2.py.txt``,
    ``a.ipynb.json``): it gets a row saying so instead of being skipped unseen."""
    lower = name.lower()
    return ".py." in lower or ".ipynb." in lower


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_DIRS


def _listing(dir_fd: int, budget: int | None = None) -> Iterator[tuple[str, int]]:
    """The names in a folder with their ``lstat`` modes (vanished entries left out)."""
    with os.scandir(dir_fd) as entries:
        for count, entry in enumerate(entries):
            if budget is not None and count >= budget:
                raise _TooMany
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            yield entry.name, mode


class _TooMany(Exception):
    """A student's folder has more entries than the walk looks at."""


@dataclass
class _Walk:
    """What a walk of one student's folder saw."""

    candidates: list[tuple[tuple[str, ...], int]]  # (path below DIR, lstat mode)
    unseen: list[str]  # what was not looked into: links, unreadable folders
    too_deep: bool = False
    others: list[str] = field(default_factory=list)  # a few other files, for a message


def _walk(root_fd: int, name: str) -> _Walk:
    """Walk a student's folder without following links, within MAX_DEPTH and MAX_ENTRIES.

    Iterative, holding one descriptor per level being walked: a folder nested a
    thousand deep or holding a million entries costs the budget, not a
    traceback. Raises ``_TooMany`` when the budget runs out.
    """
    walk = _Walk([], [])
    budget = [MAX_ENTRIES]
    # Each level: its descriptor, its path below DIR, and the subfolders still to visit.
    stack: list[tuple[int, tuple[str, ...], Iterator[str]]] = []

    def enter(fd: int, parts: tuple[str, ...]) -> None:
        stack.append((fd, parts, iter([])))  # closed by the finally below if listing fails
        subfolders = []
        try:
            for entry, mode in _listing(fd, budget[0]):
                budget[0] -= 1
                if _skipped(entry):
                    continue
                if stat.S_ISDIR(mode):
                    subfolders.append(entry)
                elif entry.lower().endswith(SUFFIXES):
                    walk.candidates.append(((*parts, entry), mode))
                elif stat.S_ISREG(mode) and len(walk.others) <= NAMES_SHOWN:
                    walk.others.append(readable("/".join((*parts[1:], entry))))
                elif stat.S_ISLNK(mode):
                    walk.unseen.append(
                        f"{readable('/'.join((*parts[1:], entry)))} (a symbolic link)"
                    )
        except OSError as exc:
            where = readable("/".join(parts[1:])) or "."
            walk.unseen.append(f"{where} ({exc.strerror or 'unreadable'})")
        stack[-1] = (fd, parts, iter(sorted(subfolders)))

    try:
        enter(os.open(name, _DIR_FLAGS, dir_fd=root_fd), (name,))
        while stack:
            fd, parts, subfolders = stack[-1]
            sub = next(subfolders, None)
            if sub is None:
                os.close(stack.pop()[0])
            elif len(stack) > MAX_DEPTH:
                walk.too_deep = True
            else:
                try:
                    child = os.open(sub, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:  # replaced by a link since the listing, or unreadable
                    walk.unseen.append(f"{readable('/'.join((*parts[1:], sub)))} ({exc.strerror})")
                    continue
                enter(child, (*parts, sub))
    finally:
        for fd, _, _ in stack:
            os.close(fd)
    walk.candidates.sort()
    return walk


def _from_folder(root: Path, root_fd: int, name: str, sheet_id: str) -> Submission:
    sub_id = readable(name)
    shown = sub_id + "/"
    try:
        walk = _walk(root_fd, name)
    except _TooMany:
        message = (
            f"the folder {shown} holds more than {MAX_ENTRIES:,} entries; the grader does not "
            "look through it (keep only the submission)"
        )
        return Submission(sub_id, None, shown, REFUSED, message)
    except OSError as exc:  # replaced by a link since the listing, say
        message = f"the folder {shown} cannot be read: {exc.strerror or exc}"
        return Submission(sub_id, None, shown, REFUSED, message)
    paths = {root.joinpath(*parts): (parts, mode) for parts, mode in walk.candidates}
    picked = pick(root / name, list(paths), sheet_id)
    if picked is not None:
        parts, mode = paths[picked]
        relative = readable("/".join(parts))
        if not stat.S_ISREG(mode):
            return Submission(sub_id, None, relative, REFUSED, _not_read(relative, mode))
        return Submission(sub_id, picked, relative, parts=parts)
    if paths:
        names = _few([readable("/".join(parts[1:])) for parts, _ in walk.candidates])
        named = len(named_like_sheet(list(paths), sheet_id))
        advice = (
            f"keep one: {named} are named like the sheet (a second download, 'sheet{sheet_id} "
            "(1).py'?)"
            if named > 1
            else f"keep one, or name it like the sheet (e.g. sheet{sheet_id}.ipynb)"
        )
        message = (
            f"the folder {shown} holds several files that could be the submission ({names}); "
            f"{advice}"
        )
        return Submission(sub_id, None, shown, AMBIGUOUS, message)
    message = f"the folder {shown} holds no .py or .ipynb file"
    if walk.others:
        message += f" (it holds {_few(sorted(walk.others))}: is the code among them?)"
    unseen = []
    if walk.unseen:
        unseen.append(f"not looked into: {_few(sorted(walk.unseen))}")
    if walk.too_deep:
        unseen.append(f"folders more than {MAX_DEPTH} levels deep not looked into")
    if unseen:
        return Submission(sub_id, None, shown, REFUSED, f"{message}; {'; '.join(unseen)}")
    return Submission(sub_id, None, shown, NO_SUBMISSION, message)


def _few(names: list[str]) -> str:
    """A few names (each bounded), then how many more: a message stays short."""
    shown = [n if len(n) <= 80 else n[:79] + "…" for n in names[:NAMES_SHOWN]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


def named_like_sheet(candidates: list[Path], sheet_id: str) -> list[Path]:
    """The candidates whose name says the sheet (sheet2.ipynb, Blatt_02.py, ex2.py)."""
    pattern = re.compile(
        r"(?<![a-z])(sheet|blatt|uebung|übung|exercise|ex|assignment|hw)[\s_-]*0*"
        rf"{re.escape(sheet_id)}(?!\d)"
    )
    return [c for c in candidates if pattern.search(c.stem.lower())]


def pick(folder: Path, candidates: list[Path], sheet_id: str) -> Path | None:
    """The one file to grade among a folder's candidates, or None when none stands out."""
    if len(candidates) == 1:
        return candidates[0]
    named = named_like_sheet(candidates, sheet_id)
    notebooks = [c for c in named if c.suffix.lower() == ".ipynb"]
    top = [c for c in candidates if c.parent == folder]
    for group in (named, notebooks, top):
        if len(group) == 1:
            return group[0]
    return None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grade batch",
        description="Grade every submission in DIR into a SQLite gradebook (and a CSV).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="folder of submissions")
    p.add_argument("--sheet", required=True, help="sheet id: 2, 7, 9 or 10 (see `grade sheets`)")
    p.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        metavar="N",
        help="submissions graded at once (default: min(2, CPUs))",
    )
    p.add_argument(
        "--db", type=Path, default=DEFAULT_DB, metavar="FILE", help="gradebook (see below)"
    )
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write the grades as CSV")
    p.add_argument(
        "--junit",
        type=Path,
        metavar="FILE",
        help="also write JUnit XML: a testsuite per submission, a testcase per check",
    )
    p.add_argument("--jsonl", type=Path, metavar="FILE", help="also write one JSON report per line")
    p.add_argument(
        "--feedback",
        type=Path,
        metavar="DIR",
        help="also write a feedback page (HTML) per submission as it is graded, and an "
        "index.html: see `grade feedback --help`; DIR must be new, empty or such a folder",
    )
    p.add_argument(
        "--format",
        choices=("rich", "json"),
        default="rich",
        help="summary on stdout: a table (default) or a JSON list",
    )
    add_grading_arguments(p)
    p.add_argument(
        "--regrade", action="store_true", help="grade everything again, ignoring stored grades"
    )
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="grade only shard I of N (a share fixed by each submission's id), or auto: "
        "from the CI's variables; join the gradebooks with `grade merge` (see below)",
    )
    p.add_argument(
        "--require-isolation",
        action="store_true",
        help="exit with status 2 without grading unless full isolation is available here "
        "(see `grade doctor`)",
    )
    return p


def default_jobs() -> int:
    """At most two by default: more workers make per-call time limits flaky on small machines."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(2, cores or 1))


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from grader import sheets

    if not args.dir.exists():
        parser.error(f"no such folder: {args.dir}")
    if not args.dir.is_dir():
        parser.error(
            f"{args.dir} is not a folder; grade a single file with `grade FILE --sheet ID`"
        )
    if str(args.sheet).strip() not in sheets.available():
        parser.error(str(sheets.UnknownSheet(args.sheet)))
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    options = grading_options(parser, args)
    outputs = (("--csv", args.csv), ("--junit", args.junit), ("--jsonl", args.jsonl))
    for name, path in (*outputs, ("--db", args.db)):
        if path is not None and (path.is_dir() or not path.resolve().parent.is_dir()):
            parser.error(f"{name} {path}: not a file in an existing folder")
    shard = None
    if args.shard is not None:
        try:
            shard = parse_shard(args.shard)
        except ShardError as exc:
            parser.error(str(exc))
    if args.require_isolation:
        from grader.doctor import refusal

        refused = refusal()
        if refused is not None:
            sys.stderr.write(refused)
            return 2
    sheet = sheets.load(args.sheet)
    try:
        found = discover(args.dir, sheet.id)
    except OSError as exc:
        parser.error(f"cannot read the folder {args.dir}: {exc.strerror or exc}")
    if not found:
        parser.error(
            f"{args.dir} holds no submissions: no .py or .ipynb file and no folder "
            "(one per student) in it"
        )
    if shard is not None:
        everyone = len(found)
        found = [s for s in found if shard.holds(s.id)]
        print(f"shard {shard}: {len(found)} of {everyone} submissions", file=sys.stderr)
    pages = None
    if args.feedback is not None:
        try:
            pages = FeedbackDir.open(args.feedback)
        except FeedbackError as exc:
            parser.error(f"--feedback: {exc}")
    try:
        book = Gradebook(args.db)
    except GradebookError as exc:
        parser.error(str(exc))
    try:
        return _run(args, options, sheet, found, book, shard, pages)
    except (GradebookError, ExportError) as exc:
        print(f"grade batch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        book.close()


def _run(
    args: argparse.Namespace,
    options: Options,
    sheet: Sheet,
    found: list[Submission],
    book: Gradebook,
    shard: Shard | None,
    pages: FeedbackDir | None = None,
) -> int:
    started = time.monotonic()
    spec = spec_fingerprint(sheet)
    run = book.start_run(
        sheet.id,
        args.seed,
        {
            "timeout": args.timeout,
            "load_timeout": args.load_timeout,
            "submission_timeout": args.submission_timeout,
            "regrade": args.regrade,
        },
        str(shard) if shard else "",
    )
    rows: dict[str, Entry] = {}
    reused: set[str] = set()
    todo: list[tuple[Submission, Key]] = []
    here = {s.id for s in found}
    book.forget_current(  # gone from the folder: no longer exported (still in the history)
        sheet.id,
        [
            s
            for s in book.current_ids(sheet.id)
            if s not in here and (shard is None or shard.holds(s))
        ],
    )
    on_row = None
    if pages is not None:
        pages.plan(here, titles_of(sheet))

        decided: dict[str, list[Override]] = {}
        for o in book.overrides(sheet.id):
            decided.setdefault(o.submission, []).append(o)

        def on_row(submission: str, entry: Entry) -> None:  # as exported: with the overrides
            shown = effective_entry(entry, decided.get(submission, ()))
            pages.write(submission, row_report(submission, shown, sheet.id))

    reused_keys = []
    for sub in found:
        sub, digest = _fingerprint(args.dir, sub)
        key = Key(sheet.id, sub.id, digest, args.seed, spec)
        stored = None if args.regrade else book.get(key)
        if stored is not None and stored.status != GRADER_ERROR:
            rows[sub.id] = stored
            reused.add(sub.id)
            reused_keys.append(key)
        elif sub.path is None:
            rows[sub.id] = Entry(sub.status, 0.0, sheet.points, sub.message, path=sub.shown)
            book.put(key, rows[sub.id], run)
            if on_row is not None:
                on_row(sub.id, rows[sub.id])
        else:
            todo.append((sub, key))
    book.mark_current(reused_keys, run, [rows[k.submission] for k in reused_keys])
    if on_row is not None:
        for sub_id in sorted(reused):
            on_row(sub_id, rows[sub_id])
    book.set_meta("shard", str(shard) if shard else "")  # lets `grade merge` spot a missing one
    if reused:
        print(f"skipped {len(reused)} already graded (in {args.db})", file=sys.stderr)
    iso = verified_isolation()  # tried once here rather than racing in the threads
    if todo and not iso.full:
        print(f"grade: warning: reduced isolation: {iso.note}", file=sys.stderr)
    failures = _grade_all(args.dir, todo, sheet, options, args.jobs, book, rows, run, on_row)
    seconds = time.monotonic() - started
    print(
        f"graded {len(todo)}, reused {len(reused)}, {len(rows)} submissions in {seconds:.1f} s "
        f"({args.jobs} job{'s' * (args.jobs != 1)})",
        file=sys.stderr,
    )
    overrides = book.overrides(sheet.id)
    for warning in stale_overrides(rows, overrides):
        print(f"grade batch: warning: {warning}", file=sys.stderr)
    rows = apply_overrides(rows, overrides)  # a TA's decisions outlive the regrade
    try:
        write_exports(sheet, rows, csv=args.csv, junit=args.junit, jsonl=args.jsonl)
        if pages is not None:
            index = pages.finish(f"Feedback · sheet {sheet.id}")
            n = len(pages.written)
            print(f"wrote {n} feedback page{'s' * (n != 1)} and {index}", file=sys.stderr)
    except ExportError as exc:
        raise ExportError(
            f"{exc}; the grades are stored in {args.db}: run the same command again to write "
            "the files (nothing is graded twice)"
        ) from None
    _summary(rows, reused, args.format)
    wrong_sheet = _wrong_sheet(rows, sheet.id)
    if wrong_sheet:
        print(f"grade batch: warning: {wrong_sheet}", file=sys.stderr)
    return EXIT_INTERNAL if failures else EXIT_GRADED


def _wrong_sheet(rows: dict[str, Entry], sheet_id: str) -> str | None:
    """A warning when most graded files were written for another sheet (a --sheet typo)."""
    from grader.runner import suggested_sheet

    graded = [e for e in rows.values() if e.status == GRADED and e.report]
    votes = Counter(suggested_sheet(e.report.get("notes")) for e in graded)
    best, count = max(((s, n) for s, n in votes.items() if s), key=lambda v: v[1], default=("", 0))
    if not graded or count * 2 < len(graded):
        return None
    return (
        f"{count} of {len(graded)} graded submissions define none of sheet {sheet_id}'s "
        f"functions but sheet {best}'s: was --sheet {best} meant?"
    )


def write_exports(
    sheet: Sheet,
    rows: dict[str, Entry],
    csv: Path | None = None,
    junit: Path | None = None,
    jsonl: Path | None = None,
) -> None:
    """The CSV, JUnit XML and JSON lines of a batch's rows; ``grade merge`` writes the same.

    Each file is written atomically (``write_atomic``); the first that fails
    raises ``ExportError`` and leaves no partial file behind.
    """
    if csv is not None:
        write_csv(csv, check_ids(sheet), rows)
        print(f"wrote {csv}", file=sys.stderr)
    if junit is not None or jsonl is not None:
        reports = [_row_report(s, rows[s], sheet) for s in sorted(rows)]
        for path, render in ((junit, ci_formats.junit), (jsonl, ci_formats.jsonl)):
            if path is not None:
                write_atomic(path, render(reports))
                print(f"wrote {path}", file=sys.stderr)


def _row_report(submission: str, entry: Entry, sheet: Sheet) -> dict:
    return ci_formats.report_of_row(
        submission, entry.status, entry.message, entry.report, sheet.id, entry.max_score, entry.path
    )


def _fingerprint(root: Path, sub: Submission) -> tuple[Submission, str]:
    """The file's sha256, to find a stored grade; for an entry with nothing to grade, a hash of why.

    Only decides what needs grading: the grading itself reads the file again
    and stores its grade under the hash of exactly the bytes it graded. A file
    that cannot be read safely (a link swapped in, grown too large) becomes a
    ``refused`` entry here.
    """
    if sub.path is not None:
        try:
            return sub, _sha256(read_beneath(root, sub.parts, sub.shown))
        except Refused as exc:
            sub = replace(sub, path=None, status=REFUSED, message=str(exc))
    return sub, _reason_hash(sub.status, sub.message)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _reason_hash(status: str, message: str) -> str:
    """Stands for the file's hash where there is no file: a fixed folder gets a new key."""
    return _sha256(f"{status}:{message}".encode())


def _grade_all(
    root: Path,
    todo: list[tuple[Submission, Key]],
    sheet: Sheet,
    options: Options,
    jobs: int,
    book: Gradebook,
    rows: dict[str, Entry],
    run: str | None = None,
    on_row: Callable[[str, Entry], None] | None = None,
) -> int:
    """Grade in parallel; store each result the moment it arrives. Returns the grader failures.

    ``on_row`` (a feedback page) is called with each result once it is stored.
    """
    progress = _Progress(len(todo))
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
    futures = {pool.submit(grade_one, root, sub, sheet, options): (sub, key) for sub, key in todo}
    failures = 0
    try:
        for future in as_completed(futures):
            sub, key = futures[future]
            entry, trace, digest = future.result()
            book.put(replace(key, sha256=digest), entry, run)
            rows[sub.id] = entry
            if on_row is not None:
                on_row(sub.id, entry)
            progress.graded(sub.id, entry)
            if trace:
                failures += 1
                where = safe(sub.id, NAME_LIMIT)
                progress.log(
                    f"grade: internal error on {where}:\n{safe(trace, 20_000, lines=True)}"
                )
    except BaseException as exc:  # an interruption, or the gradebook failing (locked, full)
        pool.shutdown(wait=False, cancel_futures=True)
        progress.close()
        print(
            f"{'interrupted' if isinstance(exc, KeyboardInterrupt) else 'stopped'} after "
            f"{progress.done} of {len(todo)}; those are saved in the gradebook: "
            "run the same command again to grade the rest",
            file=sys.stderr,
        )
        raise
    progress.close()
    pool.shutdown()
    return failures


def grade_one(
    root: Path, sub: Submission, sheet: Sheet, options: Options
) -> tuple[Entry, str | None, str]:
    """Grade one submission, never raising: a grader failure becomes its row (and a traceback).

    The file is read once, safely (see ``loading.read_beneath``); the grade is
    keyed by the hash of exactly those bytes, so a file swapped between the
    hash and the grading cannot have one version's grade stored for another.
    Returns the entry, a traceback if the grader failed, and the hash to key
    the entry by.
    """
    started = time.monotonic()
    assert sub.path is not None
    try:
        data = read_beneath(root, sub.parts, sub.shown)
    except Refused as exc:
        entry = Entry(REFUSED, 0.0, sheet.points, str(exc), path=sub.shown)
        return entry, None, _reason_hash(REFUSED, str(exc))
    digest = _sha256(data)
    try:
        source: Source | LoadError = parse_submission(data, sub.parts[-1])
    except LoadError as exc:
        source = exc
    del data
    try:
        outcome = grade_file(sub.path, lambda: sheet, options, sub.shown, source)
        report = to_json(outcome)
        json.dumps(report, allow_nan=False)  # fail here, in this row, not in the gradebook
    except Exception as exc:
        message = f"the grader failed on this submission: {type(exc).__name__}: {exc}"
        entry = Entry(
            GRADER_ERROR,
            0.0,
            sheet.points,
            message,
            path=sub.shown,
            seconds=time.monotonic() - started,
        )
        return entry, traceback.format_exc(), digest
    status = NOT_LOADED if outcome.load_error else GRADED
    entry = Entry(
        status,
        outcome.score,
        outcome.max_score,
        outcome.load_error or "",
        report,
        sub.shown,
        outcome.seconds,
    )
    return entry, None, digest


TALLY = ("full marks", "partial", "zero", "not loaded")
_TALLY_STYLES = {"full marks": "green", "partial": "yellow", "zero": "red", "not loaded": "red"}


def tally_of(entry: Entry) -> str:
    """The tally bucket of a result: one of ``TALLY``; every status but graded is "not loaded"."""
    if entry.status != GRADED:
        return "not loaded"
    if entry.max_score and entry.score >= entry.max_score - 1e-9:
        return "full marks"
    return "partial" if entry.score > 0 else "zero"


class _Progress:
    """Progress on stderr: a rich bar at a terminal, plain lines for logs, CI and tests.

    At a terminal the bar shows the count, the rate (over the whole run, which
    is steadier than rich's windowed speed when one submission takes minutes),
    the time left at that rate and the tally of results so far; the lines
    (internal errors, and the per-submission lines) print above it. ``console``
    forces the bar onto any rich Console (tests use a forced-terminal one).
    """

    def __init__(self, total: int, console: Console | None = None) -> None:
        self.total, self.done = total, 0
        self.tally: Counter[str] = Counter()
        self.bar: Progress | None = None
        if total and (console is not None or sys.stderr.isatty()):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn

            self.bar = Progress(
                "grading",
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                _EtaColumn(),
                TimeElapsedColumn(),
                _TallyColumn(),
                console=console or Console(stderr=True),
            )
            self.task = self.bar.add_task("grading", total=total, tally=self.tally)
            self.bar.start()

    def graded(self, submission: str, entry: Entry) -> None:
        self.done += 1
        self.tally[tally_of(entry)] += 1
        name = safe(submission, NAME_LIMIT)
        line = f"graded {self.done}/{self.total} {name} {points(entry.score)}"
        if entry.status != GRADED:
            line += f" ({entry.status})"
        self.log(line)
        if self.bar is not None:
            self.bar.advance(self.task)

    def log(self, line: str) -> None:
        """Print a line made ``safe`` by the caller; as Text, so rich reads no markup in it."""
        if self.bar is not None:
            self.bar.console.print(Text(line), highlight=False)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _rate(task: Task) -> float | None:
    """Submissions per second since the start, or None before the first one is done."""
    elapsed = task.elapsed
    return task.completed / elapsed if task.completed and elapsed else None


class _RateColumn(ProgressColumn):
    """``1.25/s``: submissions graded per second, averaged over the run."""

    def render(self, task: Task) -> Text:
        rate = _rate(task)
        if rate is None:
            return Text("–/s", style="progress.data.speed")
        shown = f"{rate:.2f}/s" if rate >= 0.1 else f"{1 / rate:.0f} s each"
        return Text(shown, style="progress.data.speed")


class _EtaColumn(ProgressColumn):
    """``ETA 0:01:23``: the time left at the run's rate."""

    def render(self, task: Task) -> Text:
        rate = _rate(task)
        if rate is None or task.total is None:
            return Text("ETA -:--:--", style="progress.remaining")
        left = int((task.total - task.completed) / rate + 0.5)
        return Text(
            f"ETA {left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}", style="progress.remaining"
        )


class _TallyColumn(ProgressColumn):
    """The results so far: full marks, partial, zero, not loaded."""

    def render(self, task: Task) -> Text:
        tally: Counter[str] = task.fields["tally"]
        text = Text()
        for i, bucket in enumerate(TALLY):
            if i:
                text.append(" · ", style="dim")
            text.append(f"{tally[bucket]} {bucket}", style=_TALLY_STYLES[bucket])
        return text


def _summary(rows: dict[str, Entry], reused: set[str], fmt: str) -> None:
    ordered = sorted(rows)
    if fmt == "json":
        listing = [
            {
                "submission": safe(s, NAME_LIMIT),
                "score": rows[s].score,
                "max_score": rows[s].max_score,
                "status": rows[s].status,
                "message": rows[s].message,
                "reused": s in reused,
            }
            for s in ordered
        ]
        sys.stdout.write(json.dumps(listing, indent=2, allow_nan=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Batch", title_justify="left")
    for column, justify in (("submission", "left"), ("score", "right"), ("passed", "right")):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("status / message", ratio=1)
    for s in ordered:
        e = rows[s]
        checks = (e.report or {}).get("checks", [])
        passed = f"{sum(c['status'] == 'passed' for c in checks)}/{len(checks)}" if checks else "-"
        note = e.status if not e.message else f"{e.status}: {safe(e.message, 160)}"
        style = _score_style(e) if e.status == GRADED else "red"
        table.add_row(
            Text(safe(s, NAME_LIMIT)),
            Text(f"{points(e.score)}/{points(e.max_score)}", style=style),
            passed,
            Text(note, style="dim" if e.status == GRADED else "red"),
        )
    mean = sum(rows[s].score for s in ordered) / len(ordered) if ordered else 0.0
    table.caption = f"{len(ordered)} submissions, mean score {points(round(mean, 2))}"
    Console().print(table)


def _score_style(entry: Entry) -> str:
    ratio = entry.score / entry.max_score if entry.max_score else 0
    return "green" if ratio >= 0.999 else "yellow" if ratio >= 0.5 else "red"
