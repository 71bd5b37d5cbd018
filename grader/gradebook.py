"""The gradebook: one SQLite row per graded version of a submission, and the CSV made from it.

A row's key is what determines a grade (sheet, submission, the file's sha256, the
run seed and the sheet's list of checks), never when or how often it ran. So a
batch that was interrupted, or run again after a few students resubmitted, finds
every unchanged submission already graded and grades only the rest; earlier
versions of a submission stay in the table as its history. Rows are committed one
at a time by a single writer (the batch's main thread), in WAL mode where the
filesystem allows it, so a crash loses at most the grades in flight and a TA can
read the book while a batch runs.

Because the history stays, the book also says which version of each submission
is *current*: the one the latest batch run covering that submission graded or
reused (table ``current``). That, not the newest ``graded_at``, is what exports
show: a student who reverts to an earlier file has the earlier, older row as
current, and a run with another ``--seed`` makes its own rows current. ``grade
merge`` carries ``current`` along, so shards merged export what one run would.
Each row records the grader version that graded it, and the table ``meta`` the
schema version; an older book gains both when this grader first opens it.

Every ``grade batch`` is a *run* (table ``runs``: a random id, so the shards of
one course never clash in a merge, with its start, sheet, seed, options, grader
version and shard). ``run_grades`` links each row a run graded or reused to it,
with a small copy of its score and of each check's status and points: ``--regrade``
replaces a row of the same key, and ``grade diff`` must still know what the
earlier run said. A TA's manual decisions live in ``overrides``, keyed by sheet,
submission and check, not by file: they outlive regrades and resubmissions, and
``effective_report`` applies them to whatever is current.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from grader.text import NAME_LIMIT, CsvWriter, safe, safe_tree

if TYPE_CHECKING:
    from grader.spec import Sheet

GRADED = "graded"  # loaded and every check ran, whatever the score
NOT_LOADED = "not_loaded"  # the file could not be loaded: every check scored 0
NO_SUBMISSION = "no_submission"  # a student's folder holds no .py or .ipynb
AMBIGUOUS = "ambiguous"  # a student's folder holds several and none stands out
REFUSED = "refused"  # a link, FIFO, device, too large, too many entries: nothing of it was read
GRADER_ERROR = "grader_error"  # the grader itself failed: retried on the next run

CSV_COLUMNS = ["submission", "score", "max_score", "status", "checks_passed", "checks_total"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    sheet      TEXT    NOT NULL,
    submission TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    seed       INTEGER NOT NULL,
    spec       TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    score      REAL    NOT NULL,
    max_score  REAL    NOT NULL,
    message    TEXT    NOT NULL,
    report     TEXT,
    seconds    REAL    NOT NULL,
    graded_at  TEXT    NOT NULL,
    grader     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (sheet, submission, sha256, seed, spec)
)
"""
# Which row of ``grades`` each submission's exports show; see the module's docstring.
CURRENT_SCHEMA = """
CREATE TABLE IF NOT EXISTS current (
    sheet      TEXT    NOT NULL,
    submission TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    seed       INTEGER NOT NULL,
    spec       TEXT    NOT NULL,
    marked_at  TEXT    NOT NULL,
    PRIMARY KEY (sheet, submission)
)
"""
META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
RUNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id         TEXT    PRIMARY KEY,
    started_at TEXT    NOT NULL,
    sheet      TEXT    NOT NULL,
    seed       INTEGER NOT NULL,
    options    TEXT    NOT NULL,
    grader     TEXT    NOT NULL,
    shard      TEXT    NOT NULL
)
"""
# The rows each run graded or reused, with what ``grade diff`` compares (``checks``:
# a JSON object check id -> [status, score]); kept even when a regrade replaces the row.
RUN_GRADES_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_grades (
    run        TEXT    NOT NULL,
    sheet      TEXT    NOT NULL,
    submission TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    seed       INTEGER NOT NULL,
    spec       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    score      REAL    NOT NULL,
    checks     TEXT    NOT NULL,
    PRIMARY KEY (run, sheet, submission)
)
"""
OVERRIDES_SCHEMA = """
CREATE TABLE IF NOT EXISTS overrides (
    sheet      TEXT    NOT NULL,
    submission TEXT    NOT NULL,
    check_id   TEXT    NOT NULL,
    points     REAL    NOT NULL,
    reason     TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    by         TEXT    NOT NULL,
    PRIMARY KEY (sheet, submission, check_id)
)
"""
SCHEMA_VERSION = "3"  # 1: grades only; 2: grades.grader, current, meta; 3: runs, overrides
RUN_COLUMNS = ["id", "started_at", "sheet", "seed", "options", "grader", "shard"]
RUN_GRADE_COLUMNS = [
    *("run", "sheet", "submission", "sha256", "seed", "spec", "status", "score", "checks")
]
OVERRIDE_COLUMNS = ["sheet", "submission", "check_id", "points", "reason", "at", "by"]
KEY_COLUMNS = ["sheet", "submission", "sha256", "seed", "spec"]
COLUMNS = [
    *KEY_COLUMNS,
    *("path", "status", "score", "max_score", "message", "report", "seconds", "graded_at"),
    "grader",
]
CURRENT_COLUMNS = [*KEY_COLUMNS, "marked_at"]
# Seconds to wait for another process's lock (a batch writing the same book) before giving up.
LOCK_TIMEOUT = 30.0
UNKNOWN_VERSION = ""  # rows graded before the version was recorded


def grader_version() -> str:
    """The installed grader's version, recorded with every grade it makes."""
    try:
        return metadata.version("dl-grader")
    except metadata.PackageNotFoundError:
        return "unknown"


def _now() -> str:
    """A UTC timestamp that sorts as text; microseconds so that consecutive runs differ."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class GradebookError(Exception):
    """The gradebook cannot be used (not ours, damaged, locked, disk full); the message says why."""


class ExportError(Exception):
    """An export (CSV, JUnit, JSON lines) could not be written; no partial file was left."""


@dataclass(frozen=True)
class Key:
    """Everything a grade depends on; equal keys mean the stored grade still holds."""

    sheet: str
    submission: str
    sha256: str
    seed: int
    spec: str


@dataclass(frozen=True)
class Entry:
    """One submission's result, as stored and as exported.

    Its strings are made ``safe`` on construction: the path and the message
    name the student's files and folders, and a report read from an older
    gradebook may predate escaping. Every row, made or read, is clean.
    """

    status: str
    score: float
    max_score: float
    message: str = ""
    report: dict[str, Any] | None = None
    path: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", safe(self.status, NAME_LIMIT))
        object.__setattr__(self, "message", safe(self.message, lines=True))
        object.__setattr__(self, "path", safe(self.path, NAME_LIMIT))
        if self.report is not None:
            object.__setattr__(self, "report", safe_tree(self.report))


@dataclass(frozen=True)
class Override:
    """A TA's decision: ``points`` for one check of one submission, and why.

    Its strings are made ``safe`` on construction, like an ``Entry``'s: the
    submission is a student's file name, and the reason is shown in exports.
    """

    sheet: str
    submission: str
    check_id: str
    points: float
    reason: str
    at: str = ""
    by: str = ""

    def __post_init__(self) -> None:
        for name in ("sheet", "submission", "check_id", "by"):
            object.__setattr__(self, name, safe(getattr(self, name), NAME_LIMIT))
        object.__setattr__(self, "reason", safe(self.reason))
        object.__setattr__(self, "points", float(self.points))
        if not self.at:
            object.__setattr__(self, "at", _now())


def effective_report(entry: Entry, overrides: Iterable[Override]) -> dict[str, Any] | None:
    """The stored report with a TA's overrides applied: what every export and page shows.

    Each overridden check gets the override's points as its ``score`` and
    ``override: {points, reason, by, at}`` (its ``status`` stays what the grader
    found, so the reader sees both), and the report's ``score`` is the sum of
    its checks again. Overrides of checks the report lacks (the sheet changed)
    are left out: ``stale_overrides`` names them. Returns None for a row
    without a report; the entry is not changed.
    """
    if entry.report is None:
        return None
    by_check = {o.check_id: o for o in overrides}
    checks = []
    for check in entry.report.get("checks", []):
        o = by_check.get(check.get("id"))
        if o is not None:
            override = {"points": o.points, "reason": o.reason, "by": o.by, "at": o.at}
            check = {**check, "score": o.points, "override": override}
        checks.append(check)
    report = {**entry.report, "checks": checks}
    if any("override" in c for c in checks):
        report["score"] = round(sum(float(c.get("score", 0.0)) for c in checks), 6)
    return report


def effective_entry(entry: Entry, overrides: Iterable[Override]) -> Entry:
    """``entry`` with ``effective_report`` as its report and that report's score as its score."""
    overrides = list(overrides)
    if not overrides or entry.report is None:
        return entry
    report = effective_report(entry, overrides)
    assert report is not None
    return replace(entry, report=report, score=float(report.get("score", entry.score)))


def apply_overrides(rows: dict[str, Entry], overrides: Iterable[Override]) -> dict[str, Entry]:
    """Each row (by submission) made ``effective_entry`` with its overrides."""
    grouped: dict[str, list[Override]] = {}
    for o in overrides:
        grouped.setdefault(o.submission, []).append(o)
    return {s: effective_entry(e, grouped.get(s, ())) for s, e in rows.items()}


def stale_overrides(rows: dict[str, Entry], overrides: Iterable[Override]) -> list[str]:
    """Warnings for overrides that no longer apply: the check or the submission is gone."""
    warnings = []
    for o in overrides:
        entry = rows.get(o.submission)
        if entry is None:
            continue  # a submission gone from the folder: its override waits in the history
        if entry.report is None:
            warnings.append(
                f"the override of {o.check_id} for {o.submission} ({points(o.points)} points: "
                f"{o.reason}) does not apply now: its current row has no graded report "
                f"(status {entry.status})"
            )
            continue
        ids = {c.get("id") for c in entry.report.get("checks", [])}
        if o.check_id not in ids:
            warnings.append(
                f"the override of {o.check_id} for {o.submission} ({points(o.points)} points: "
                f"{o.reason}) no longer applies: its current grade has no such check (the "
                "sheet's checks changed?); remove it with `grade override --remove`, or "
                "record it again under the new check id"
            )
    return warnings


def spec_fingerprint(sheet: Sheet) -> str:
    """Changes when the sheet gains, loses or re-weights a check, so old grades are not reused."""
    checks = [[sheet.check_id(e, c), c.points] for e, c in sheet.iter_checks()]
    return hashlib.sha256(json.dumps(checks).encode()).hexdigest()[:16]


def check_ids(sheet: Sheet) -> list[str]:
    return [sheet.check_id(e, c) for e, c in sheet.iter_checks()]


def points(x: float) -> str:
    """A score as people write it: 100, 87.5, 0.25 (no exponent, no trailing zeros)."""
    text = f"{round(float(x), 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class Gradebook:
    """The SQLite file; used from one thread only.

    ``readonly`` opens an existing book without changing it (``grade merge``
    reads its inputs so): an older book is then read as it is, not migrated.
    Every SQLite failure surfaces as a ``GradebookError`` naming the file.
    """

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path, self.readonly = path, readonly
        try:
            if readonly:
                uri = f"file:{quote(str(path.resolve()))}?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, timeout=LOCK_TIMEOUT)
            else:
                self.db = sqlite3.connect(path, timeout=LOCK_TIMEOUT)
        except sqlite3.Error as exc:
            raise GradebookError(f"cannot open the gradebook {path}: {exc}") from None
        try:
            with self._errors():
                if not readonly:
                    self._create_or_migrate()
                self.db.execute(f"SELECT {', '.join(COLUMNS[:-1])} FROM grades LIMIT 0")
                self.tables = {
                    name for (name,) in self.db.execute("SELECT name FROM sqlite_master")
                }
                self.has_grader = any(
                    row[1] == "grader" for row in self.db.execute("PRAGMA table_info(grades)")
                )
        except GradebookError:
            self.db.close()
            raise

    def _create_or_migrate(self) -> None:
        """Create the tables, or bring a book from before ``current`` and ``meta`` up to date."""
        tables = {name for (name,) in self.db.execute("SELECT name FROM sqlite_master")}
        if tables and "grades" not in tables:  # someone else's database: leave it alone
            raise GradebookError(
                f"{self.path} is not a gradebook this grader can use: a SQLite database "
                "of something else (it has no table `grades`)"
            )
        self.db.execute("PRAGMA journal_mode=WAL")
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")  # the migration happens whole or not at all
            self.db.execute(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(grades)")}
            if "grader" not in columns:
                self.db.execute("ALTER TABLE grades ADD COLUMN grader TEXT NOT NULL DEFAULT ''")
            fresh = "current" not in {
                name for (name,) in self.db.execute("SELECT name FROM sqlite_master")
            }
            self.db.execute(CURRENT_SCHEMA)
            self.db.execute(META_SCHEMA)
            for schema in (RUNS_SCHEMA, RUN_GRADES_SCHEMA, OVERRIDES_SCHEMA):
                self.db.execute(schema)
            if fresh:  # an old book: the best guess at what it showed is each one's newest row
                self.db.execute(
                    f"INSERT INTO current ({', '.join(CURRENT_COLUMNS)}) {_LATEST_PER_SUBMISSION}"
                )
            self.db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
            )

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's errors as a ``GradebookError`` that says what to do about them."""
        try:
            yield
        except sqlite3.Error as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise GradebookError(
                    f"the gradebook {self.path} is locked by another process (a batch or "
                    f"merge still running?); waited {LOCK_TIMEOUT:g} s: let it finish, or "
                    "use another --db"
                ) from None
            if "full" in text:
                raise GradebookError(
                    f"cannot write the gradebook {self.path}: the disk is full ({text}); "
                    "what was stored before is kept: free some space and run again"
                ) from None
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.OperationalError
            ):
                raise GradebookError(
                    f"{self.path} is not a gradebook this grader can use (not a SQLite "
                    f"file, or damaged): {text}"
                ) from None
            raise GradebookError(
                f"{self.path} is not a gradebook this grader can use: {text}"
            ) from None

    def get(self, key: Key) -> Entry | None:
        with self._errors():
            row = self.db.execute(
                "SELECT status, score, max_score, message, report, path, seconds FROM grades "
                f"WHERE {_KEY_MATCH}",
                astuple(key),
            ).fetchone()
        return None if row is None else _entry(row)

    def put(self, key: Key, entry: Entry, run: str | None = None) -> None:
        """Store and commit at once, as the submission's current row (graded by ``run``).

        Committed at once, what is stored survives any later interruption.
        """
        report = json.dumps(entry.report, allow_nan=False) if entry.report is not None else None
        graded_at = _now()  # microseconds: a regrade within the second still wins a merge
        with self._errors(), self.db:
            self.db.execute(
                f"INSERT OR REPLACE INTO grades ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))})",
                (
                    *astuple(key),
                    entry.path,
                    entry.status,
                    entry.score,
                    entry.max_score,
                    entry.message,
                    report,
                    entry.seconds,
                    graded_at,
                    grader_version(),
                ),
            )
            self._mark(key)
            if run is not None:
                self._link(run, key, entry)

    def mark_current(
        self, keys: Iterable[Key], run: str | None = None, entries: Iterable[Entry] = ()
    ) -> None:
        """Make stored rows (grades reused by ``run``) their submissions' current ones.

        ``entries`` are the rows of ``keys`` when the caller has them already (a
        batch does), so linking them to the run reads nothing back.
        """
        known = list(entries)
        with self._errors(), self.db:
            for i, key in enumerate(keys):
                self._mark(key)
                if run is not None:
                    entry = known[i] if i < len(known) else self.get(key)
                    if entry is not None:
                        self._link(run, key, entry)

    def start_run(self, sheet: str, seed: int, options: dict[str, Any], shard: str = "") -> str:
        """Record a new run of ``grade batch`` and return its id (random: unique across shards)."""
        run = uuid.uuid4().hex
        row = (
            run,
            _now(),
            sheet,
            seed,
            json.dumps(options, sort_keys=True),
            grader_version(),
            shard,
        )
        with self._errors(), self.db:
            self.db.execute(
                f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES (?,?,?,?,?,?,?)", row
            )
        return run

    def _link(self, run: str, key: Key, entry: Entry) -> None:
        checks = {
            c["id"]: [c.get("status", ""), c.get("score", 0.0)]
            for c in (entry.report or {}).get("checks", [])
        }
        self.db.execute(
            f"INSERT OR REPLACE INTO run_grades ({', '.join(RUN_GRADE_COLUMNS)}) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (run, *astuple(key), entry.status, entry.score, json.dumps(checks)),
        )

    def runs(self) -> list[tuple[Any, ...]]:
        """Every run, oldest first, in ``RUN_COLUMNS`` order."""
        if "runs" not in self.tables:
            return []
        with self._errors():
            return list(
                self.db.execute(
                    f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY started_at, id"
                )
            )

    def run_grades(self, sheet: str | None = None) -> list[tuple[Any, ...]]:
        """The rows linked to runs (of one sheet, or all), in ``RUN_GRADE_COLUMNS`` order."""
        if "run_grades" not in self.tables:
            return []
        where, args = ("WHERE sheet = ?", (sheet,)) if sheet is not None else ("", ())
        with self._errors():
            return list(
                self.db.execute(
                    f"SELECT {', '.join(RUN_GRADE_COLUMNS)} FROM run_grades {where}", args
                )
            )

    def sheets(self) -> list[str]:
        """The sheets that have current rows, sorted."""
        with self._errors():
            return sorted(
                {s for (s,) in self.db.execute(f"SELECT sheet FROM ({self._current_query()})")}
            )

    def override(self, item: Override) -> None:
        """Record (or replace) a TA's decision on one check of one submission."""
        with self._errors(), self.db:
            self.db.execute(
                f"INSERT OR REPLACE INTO overrides ({', '.join(OVERRIDE_COLUMNS)}) "
                "VALUES (?,?,?,?,?,?,?)",
                astuple(item),
            )

    def remove_override(self, sheet: str, submission: str, check_id: str) -> bool:
        """Remove one override; False when there was none."""
        with self._errors(), self.db:
            gone = self.db.execute(
                "DELETE FROM overrides WHERE sheet = ? AND submission = ? AND check_id = ?",
                (sheet, submission, check_id),
            )
        return gone.rowcount > 0

    def overrides(self, sheet: str | None = None) -> list[Override]:
        """The overrides (of one sheet, or all), sorted by sheet, submission and check."""
        if "overrides" not in self.tables:
            return []
        where, args = ("WHERE sheet = ?", (sheet,)) if sheet is not None else ("", ())
        with self._errors():
            rows = self.db.execute(
                f"SELECT {', '.join(OVERRIDE_COLUMNS)} FROM overrides {where} "
                "ORDER BY sheet, submission, check_id",
                args,
            ).fetchall()
        return [Override(*row) for row in rows]

    def effective_rows(self, sheet: str) -> dict[str, Entry]:
        """``current_rows`` with the sheet's overrides applied (``effective_entry``)."""
        return apply_overrides(self.current_rows(sheet), self.overrides(sheet))

    def _mark(self, key: Key) -> None:
        self.db.execute(
            f"INSERT OR REPLACE INTO current ({', '.join(CURRENT_COLUMNS)}) VALUES (?,?,?,?,?,?)",
            (*astuple(key), _now()),
        )

    def forget_current(self, sheet: str, submissions: Iterable[str]) -> None:
        """Drop these submissions from what the sheet's exports show (gone from the folder).

        Their grades stay as history.
        """
        with self._errors(), self.db:
            self.db.executemany(
                "DELETE FROM current WHERE sheet = ? AND submission = ?",
                [(sheet, s) for s in submissions],
            )

    def current_ids(self, sheet: str) -> list[str]:
        """The submissions the sheet's exports show."""
        with self._errors():
            return [
                s
                for (s,) in self.db.execute(
                    f"SELECT submission FROM ({self._current_query()}) WHERE sheet = ?", (sheet,)
                )
            ]

    def current_keys(self) -> list[tuple[Any, ...]]:
        """Every sheet's current rows as (sheet, submission, sha256, seed, spec, marked_at)."""
        with self._errors():
            return list(self.db.execute(self._current_query()))

    def current_rows(self, sheet: str, brief: bool = False) -> dict[str, Entry]:
        """What the sheet's exports show: each current submission's row, by submission.

        ``brief`` leaves out of each report what only a reader of one report
        needs (``BRIEF_DROPPED``: messages, figures, notes): making those
        ``safe`` is most of the cost of reading a large book, and statistics
        never show them.
        """
        with self._errors():
            rows = self.db.execute(
                "SELECT g.submission, g.status, g.score, g.max_score, g.message, g.report, "
                f"g.path, g.seconds FROM ({self._current_query()}) c "
                f"JOIN grades g USING ({', '.join(KEY_COLUMNS)}) WHERE c.sheet = ?",
                (sheet,),
            ).fetchall()
        return {row[0]: _entry(row[1:], brief) for row in rows}

    def _current_query(self) -> str:
        """The current rows: the table, or for an unmigrated (read-only) old book, the newest."""
        if "current" in self.tables:
            return f"SELECT {', '.join(CURRENT_COLUMNS)} FROM current"
        return _LATEST_PER_SUBMISSION

    def meta(self) -> dict[str, str]:
        """The ``meta`` table: ``schema``, and ``shard`` ("I/N") after a sharded batch."""
        if "meta" not in self.tables:
            return {}
        with self._errors():
            return dict(self.db.execute("SELECT key, value FROM meta"))

    def set_meta(self, key: str, value: str) -> None:
        with self._errors(), self.db:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def count(self) -> int:
        """How many rows ``grades`` holds, history included."""
        with self._errors():
            return self.db.execute("SELECT COUNT(*) FROM grades").fetchone()[0]

    def all_rows(self) -> list[tuple[Any, ...]]:
        """Every row of ``grades`` (history included) in ``COLUMNS`` order."""
        grader = "grader" if self.has_grader else "'' AS grader"
        with self._errors():
            return list(self.db.execute(f"SELECT {', '.join(COLUMNS[:-1])}, {grader} FROM grades"))

    def versions(self) -> dict[tuple[str, str], str]:
        """The grader version of each current row, by (sheet, submission)."""
        grader = "g.grader" if self.has_grader else "''"
        with self._errors():
            return {
                (sheet, sub): version
                for sheet, sub, version in self.db.execute(
                    f"SELECT c.sheet, c.submission, {grader} FROM ({self._current_query()}) c "
                    f"JOIN grades g USING ({', '.join(KEY_COLUMNS)})"
                )
            }

    def absorb(
        self,
        rows: Iterable[tuple[Any, ...]],
        current: Iterable[tuple[Any, ...]],
        runs: Iterable[tuple[Any, ...]] = (),
        run_grades: Iterable[tuple[Any, ...]] = (),
        overrides: Iterable[Override] = (),
    ) -> None:
        """Merge other books' rows, current rows, runs and overrides in, in one transaction.

        On a clash the later ``graded_at`` (a regrade), the later ``marked_at``
        (a later run) and the later override win; equal ones keep what is
        here, and runs are unique by id, so absorbing the same rows again
        changes nothing.
        """
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in KEY_COLUMNS)
        with self._errors(), self.db:
            self.db.executemany(
                f"INSERT INTO grades ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))}) "
                f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {updates} "
                "WHERE excluded.graded_at > grades.graded_at",
                rows,
            )
            self.db.executemany(
                f"INSERT INTO current ({', '.join(CURRENT_COLUMNS)}) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT (sheet, submission) DO UPDATE SET "
                "sha256 = excluded.sha256, seed = excluded.seed, spec = excluded.spec, "
                "marked_at = excluded.marked_at WHERE excluded.marked_at > current.marked_at",
                current,
            )
            self.db.executemany(
                f"INSERT OR IGNORE INTO runs ({', '.join(RUN_COLUMNS)}) VALUES (?,?,?,?,?,?,?)",
                runs,
            )
            self.db.executemany(
                f"INSERT OR IGNORE INTO run_grades ({', '.join(RUN_GRADE_COLUMNS)}) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                run_grades,
            )
            updates = ", ".join(f"{c} = excluded.{c}" for c in OVERRIDE_COLUMNS[3:])
            self.db.executemany(
                f"INSERT INTO overrides ({', '.join(OVERRIDE_COLUMNS)}) VALUES (?,?,?,?,?,?,?) "
                f"ON CONFLICT (sheet, submission, check_id) DO UPDATE SET {updates} "
                "WHERE excluded.at > overrides.at",
                (astuple(o) for o in overrides),
            )

    def close(self) -> None:
        self.db.close()


_KEY_MATCH = " AND ".join(f"{k} = ?" for k in KEY_COLUMNS)
# For a book from before ``current``: each submission's newest row (ties: the largest key).
_LATEST_PER_SUBMISSION = f"""
SELECT {", ".join(CURRENT_COLUMNS[:-1])}, graded_at AS marked_at FROM (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY sheet, submission ORDER BY graded_at DESC, sha256 DESC, seed DESC, spec DESC
    ) AS n FROM grades
) WHERE n = 1
"""


# What ``current_rows(brief=True)`` drops: from the report, and from each of its checks.
BRIEF_DROPPED = ({"notes", "isolation"}, {"message", "description", "figure"})


def _entry(row: tuple[Any, ...], brief: bool = False) -> Entry:
    status, score, max_score, message, report, path, seconds = row
    parsed = json.loads(report) if report else None
    if brief and isinstance(parsed, dict):
        top, per_check = BRIEF_DROPPED
        parsed = {k: v for k, v in parsed.items() if k not in top}
        if isinstance(parsed.get("checks"), list):
            parsed["checks"] = [
                {k: v for k, v in c.items() if k not in per_check} if isinstance(c, dict) else c
                for c in parsed["checks"]
            ]
    return Entry(status, score, max_score, message, parsed, path, seconds)


def csv_text(ids: list[str], rows: dict[str, Entry]) -> str:
    """One row per submission, sorted, with a column per check: the same grades, the same bytes.

    Every cell goes through ``CsvWriter``, so no cell is a formula to a spreadsheet.
    Rows made ``effective_entry`` show overridden points; when any row has one,
    a last column ``overrides`` says which checks and why (it is absent
    otherwise, so a book without overrides writes the CSV it always wrote).
    """
    buffer = io.StringIO()
    out = CsvWriter(buffer)
    overridden = any(
        "override" in c for e in rows.values() for c in (e.report or {}).get("checks", [])
    )
    out.writerow([*CSV_COLUMNS, *ids, *(["overrides"] if overridden else [])])
    for submission in sorted(rows):
        entry = rows[submission]
        checks = (entry.report or {}).get("checks", [])
        scores = {c["id"]: c["score"] for c in checks}
        passed = sum(c["status"] == "passed" for c in checks)
        out.writerow(
            [
                submission,
                points(entry.score),
                points(entry.max_score),
                entry.status,
                passed,
                len(ids),
                *(points(scores[i]) if i in scores else "" for i in ids),
                *([_overrides_cell(checks)] if overridden else []),
            ]
        )
    return buffer.getvalue()


def _overrides_cell(checks: list[dict[str, Any]]) -> str:
    """``2.2.x.random: 3 points (reason); ...``: a row's overridden checks, for the CSV."""
    return "; ".join(
        f"{c['id']}: {points(c['override']['points'])} points ({c['override']['reason']})"
        for c in checks
        if "override" in c
    )


def write_csv(path: Path, ids: list[str], rows: dict[str, Entry]) -> None:
    """The CSV of ``csv_text``, written atomically (``write_atomic``)."""
    write_atomic(path, csv_text(ids, rows))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once, at import, before any thread could race the two calls


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file in ``path``'s folder, then rename it over ``path``.

    A reader never sees half a file, and a failure (a full disk, a vanished
    folder) leaves neither a half-written ``path`` nor the temporary file, and
    an older ``path`` untouched: it raises ``ExportError`` with the reason.
    The file gets the permissions a plain ``open`` would give it.
    """
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
