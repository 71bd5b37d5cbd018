"""The gradebook: one SQLite row per graded version of a submission, and the CSV made from it.

A row's key is what determines a grade (sheet, submission, the file's sha256, the
run seed and the sheet's list of checks), never when or how often it ran. So a
batch that was interrupted, or run again after a few students resubmitted, finds
every unchanged submission already graded and grades only the rest; earlier
versions of a submission stay in the table as its history. Rows are committed one
at a time by a single writer (the batch's main thread), in WAL mode where the
filesystem allows it, so a crash loses at most the grades in flight and a TA can
read the book while a batch runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import astuple, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    PRIMARY KEY (sheet, submission, sha256, seed, spec)
)
"""
COLUMNS = [
    *("sheet", "submission", "sha256", "seed", "spec", "path", "status", "score", "max_score"),
    *("message", "report", "seconds", "graded_at"),
]


class GradebookError(Exception):
    """The gradebook file cannot be opened or is not ours; the message says which."""


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
    """The SQLite file; used from one thread only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, timeout=30)
        except sqlite3.Error as exc:
            raise GradebookError(f"cannot open the gradebook {path}: {exc}") from None
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(SCHEMA)
            self.db.commit()
            self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM grades LIMIT 0")
        except sqlite3.Error as exc:
            self.db.close()
            raise GradebookError(f"{path} is not a gradebook this grader can use: {exc}") from None

    def get(self, key: Key) -> Entry | None:
        row = self.db.execute(
            "SELECT status, score, max_score, message, report, path, seconds FROM grades "
            "WHERE sheet = ? AND submission = ? AND sha256 = ? AND seed = ? AND spec = ?",
            astuple(key),
        ).fetchone()
        if row is None:
            return None
        status, score, max_score, message, report, path, seconds = row
        return Entry(
            status, score, max_score, message, json.loads(report) if report else None, path, seconds
        )

    def put(self, key: Key, entry: Entry) -> None:
        """Store and commit at once: what is stored survives any later interruption."""
        report = json.dumps(entry.report, allow_nan=False) if entry.report is not None else None
        graded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.db:
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
                ),
            )

    def close(self) -> None:
        self.db.close()


def write_csv(path: Path, ids: list[str], rows: dict[str, Entry]) -> None:
    """One row per submission, sorted, with a column per check: the same grades, the same bytes.

    Written to a temporary file and renamed, so a reader never sees half a CSV;
    every cell through ``CsvWriter``, so no cell is a formula to a spreadsheet.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        out = CsvWriter(f)
        out.writerow([*CSV_COLUMNS, *ids])
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
                ]
            )
    os.replace(tmp, path)
