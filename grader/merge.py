"""``grade merge``: join the gradebooks of a sharded batch (or any batches of one sheet).

Shards graded on N machines (``grade batch --shard I/N``) leave N gradebooks;
merged, they hold every row of all of them (history included) and, per
submission, the row the latest run made current, so the exports equal those of
one unsharded run. Runs (``grade diff``) and a TA's overrides come along: run
ids are random, so shards' runs never clash, and of two overrides of one check
the later wins. Merging is idempotent: merging the same books again, or the
output into itself, changes nothing. Books that would not make one consistent
course are refused before anything is written (exit 2): grades of different
sheets, of different versions of the sheet's checks (spec fingerprints), of
different seeds, or made by different grader versions.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.gradebook import (
    UNKNOWN_VERSION,
    ExportError,
    Gradebook,
    GradebookError,
    apply_overrides,
    spec_fingerprint,
    stale_overrides,
)
from grader.text import safe

if TYPE_CHECKING:
    from grader.spec import Sheet

EXIT_DONE, EXIT_USAGE = 0, 2

EPILOG = """\
what is merged:
  every row of every gradebook (a submission's history included) and, for each
  submission, the version the latest `grade batch` run covering it graded or
  reused: that is what --csv, --junit and --jsonl show, so shards merged write
  exactly the CSV one unsharded run writes. When two books grade the same
  submission, the later run wins. Runs (what `grade diff` compares) and
  overrides (`grade override`; of two for one check, the later wins) come
  along, and the exports apply the overrides. Merging again changes nothing, and OUT may be
  one of the inputs or an earlier merge (the new rows are added to it). Books
  made by `grade batch --shard I/N` remember their shard: a merge of fewer
  than all N warns which are missing.

refused (exit 2, nothing written) when the books' current grades differ in:
  sheet        e.g. one book of sheet 2, one of sheet 9 (pick one with --sheet)
  spec         the sheet's checks changed between the runs (another grader)
  seed         the shards were graded with different --seed values
  grader       different grader versions graded them
  Regrade the odd ones with the same grader and options (`grade batch --regrade`).

exit status: 0 merged, 2 usage error (a missing, damaged or locked gradebook,
             a refused merge, an export that cannot be written).
"""


class MergeRefused(Exception):
    """The books do not form one course; the message lists what differs, book by book."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grade merge",
        description="Join gradebooks (e.g. the shards of `grade batch --shard I/N`) into one,\n"
        "and write its CSV, JUnit XML or JSON lines as `grade batch` does.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("books", nargs="+", type=Path, metavar="DB", help="gradebooks to merge")
    p.add_argument(
        "--db",
        type=Path,
        required=True,
        metavar="OUT",
        help="the merged gradebook: created, or added to when it exists",
    )
    p.add_argument(
        "--sheet", help="merge only this sheet's grades (for books that hold several sheets)"
    )
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write the grades as CSV")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML")
    p.add_argument("--jsonl", type=Path, metavar="FILE", help="also write one JSON report per line")
    return p


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    for book in args.books:
        if not book.is_file():
            parser.error(f"no such gradebook: {book}")
    outputs = (("--csv", args.csv), ("--junit", args.junit), ("--jsonl", args.jsonl))
    for name, path in (*outputs, ("--db", args.db)):
        if path is not None and (path.is_dir() or not path.resolve().parent.is_dir()):
            parser.error(f"{name} {path}: not a file in an existing folder")
    try:
        return _merge(args)
    except (GradebookError, MergeRefused, ExportError) as exc:
        print(f"grade merge: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


class _Book:
    """One input as read: its rows, its current rows and their grader versions."""

    def __init__(self, path: Path, sheet: str | None) -> None:
        self.path = path
        book = Gradebook(path, readonly=True)
        try:
            self.rows = [r for r in book.all_rows() if sheet is None or r[0] == sheet]
            self.current = [c for c in book.current_keys() if sheet is None or c[0] == sheet]
            versions = book.versions()
            self.shard = book.meta().get("shard", "")
            self.runs = [r for r in book.runs() if sheet is None or r[2] == sheet]
            self.run_grades = book.run_grades(sheet)
            self.overrides = book.overrides(sheet)
        finally:
            book.close()
        self.versions = {versions.get((c[0], c[1]), UNKNOWN_VERSION) for c in self.current}

    def facets(self) -> dict[str, set[Any]]:
        """What must agree between books: sheet, spec, seed, grader version."""
        return {
            "sheet": {c[0] for c in self.current},
            "spec": {c[4] for c in self.current},
            "seed": {c[3] for c in self.current},
            "grader": self.versions,
        }


def _merge(args: argparse.Namespace) -> int:
    sheet_id = None if args.sheet is None else str(args.sheet).strip()
    books = [_Book(path, sheet_id) for path in args.books]
    if args.db.exists() and args.db.stat().st_size:  # what OUT holds must agree as well
        books.append(_Book(args.db, sheet_id))
    _check_agree(books)
    sheets_held = {s for b in books for s in b.facets()["sheet"]}
    if not sheets_held:
        wanted = f" of sheet {sheet_id}" if sheet_id else ""
        raise MergeRefused(f"none of these gradebooks holds a grade{wanted}")
    (sheet_id,) = sheets_held
    (spec,) = {s for b in books for s in b.facets()["spec"]}
    sheet = _exportable(sheet_id, spec) if (args.csv or args.junit or args.jsonl) else None

    out = Gradebook(args.db)
    try:
        before = out.count()
        out.absorb(  # one transaction: all of the merge is stored, or none of it
            itertools.chain.from_iterable(b.rows for b in books),
            itertools.chain.from_iterable(b.current for b in books),
            itertools.chain.from_iterable(b.runs for b in books),
            itertools.chain.from_iterable(b.run_grades for b in books),
            itertools.chain.from_iterable(b.overrides for b in books),
        )
        added = out.count() - before
        rows = out.current_rows(sheet_id)
        overrides = out.overrides(sheet_id)
    finally:
        out.close()
    for warning in _missing_shards(books[: len(args.books)]) + stale_overrides(rows, overrides):
        print(f"grade merge: warning: {warning}", file=sys.stderr)
    rows = apply_overrides(rows, overrides)
    print(
        f"merged {len(args.books)} gradebook{'s' * (len(args.books) != 1)} into {args.db}: "
        f"{len(rows)} submissions of sheet {safe(sheet_id, 40)} ({added} new rows)",
        file=sys.stderr,
    )
    if sheet is not None:
        from grader.batch import write_exports

        try:
            write_exports(sheet, rows, csv=args.csv, junit=args.junit, jsonl=args.jsonl)
        except ExportError as exc:
            raise ExportError(
                f"{exc}; {args.db} holds the merge: run the same command again to write the "
                "files (it changes nothing else)"
            ) from None
    return EXIT_DONE


def _missing_shards(books: list[_Book]) -> list[str]:
    """Shards of an N-way split that none of the inputs is: their students are not merged.

    Only a warning: merging shards as they arrive, into one OUT, is fine.
    """
    found: dict[int, set[int]] = defaultdict(set)
    for b in books:
        index, _, total = b.shard.partition("/")
        if index.isdigit() and total.isdigit():
            found[int(total)].add(int(index))
    return [
        f"no shard {', '.join(f'{i}/{total}' for i in missing)} among these gradebooks: "
        "its submissions are not in the merge"
        for total, have in sorted(found.items())
        if (missing := sorted(set(range(1, total + 1)) - have))
    ]


def _check_agree(books: list[_Book]) -> None:
    """Refuse books whose current grades differ in sheet, spec, seed or grader version."""
    for facet in ("sheet", "spec", "seed", "grader"):
        held: dict[str, set[Any]] = defaultdict(set)
        for b in books:
            held[str(b.path)] |= b.facets()[facet]
        if len(set().union(*held.values())) <= 1:
            continue
        shown = "; ".join(
            f"{safe(path, 300)}: {', '.join(sorted(map(_shown, values)))}"
            for path, values in held.items()
            if values
        )
        hint = (
            " (pick one with --sheet)"
            if facet == "sheet"
            else "; regrade with one grader and the same options (`grade batch --regrade`)"
        )
        raise MergeRefused(
            f"these gradebooks hold grades of different {_NAMES[facet]}: {shown}{hint}"
        )


_NAMES = {
    "sheet": "sheets",
    "spec": "versions of the sheet's checks (spec fingerprints)",
    "seed": "seeds (--seed)",
    "grader": "grader versions",
}


def _shown(value: Any) -> str:
    if value == UNKNOWN_VERSION:
        return "unknown (graded before versions were recorded)"
    return safe(value, 80)


def _exportable(sheet_id: str, spec: str) -> Sheet:
    """The sheet to export with: this grader's, if its checks are the ones the books graded."""
    from grader import sheets

    if sheet_id not in sheets.available():
        raise MergeRefused(f"this grader has no sheet {safe(sheet_id, 40)} to write the exports")
    sheet = sheets.load(sheet_id)
    if spec_fingerprint(sheet) != spec:
        raise MergeRefused(
            f"the gradebooks graded a different version of sheet {sheet_id}'s checks "
            f"(spec {spec}) than this grader has (spec {spec_fingerprint(sheet)}): their "
            "exports would not match its columns; merge with the grader that graded them, "
            "or without --csv/--junit/--jsonl"
        )
    return sheet
