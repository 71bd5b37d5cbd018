"""Feedback pages: one self-contained HTML file per submission, rendered from its JSON report.

A page says what the terminal report says (``grader.report``), for a student
who gets a file rather than a terminal: it must open anywhere, on a phone too,
offline, and do nothing but show text. So each page carries its own CSS, a
Content-Security-Policy that forbids every fetch and script, and no script;
every string from the report goes through ``text.safe`` (a stored report may
predate escaping) and then ``html.escape``, so no student text becomes markup.

The pages are rendered from the report dict (``report.to_json``, or a row of
the gradebook via ``ci_formats.report_of_row``), never from an ``Outcome``:
``grade batch --feedback`` and ``grade feedback`` (from a gradebook) write the
same page for the same row.

A feedback folder holds a manifest of the files this tool wrote there. The
tool writes only into an empty or missing folder, or one whose every entry
the manifest lists: a TA who points ``-o`` at their home folder gets exit 2
instead of losing a file named ``index.html``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.gradebook import (
    GRADED,
    Entry,
    ExportError,
    Gradebook,
    GradebookError,
    points,
    write_atomic,
)
from grader.text import NAME_LIMIT, TEXT_LIMIT, safe

MANIFEST = ".grade-feedback.json"
INDEX = "index.html"
NAME_STEM_LIMIT = 80  # characters of a page's file name taken from the submission id
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
EXIT_OK, EXIT_USAGE = 0, 2
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")
KIT_HIDDEN = "hidden"
STATUS_LABEL = {
    "passed": "✔ passed",
    "failed": "✘ failed",
    "error": "! error",
    "timeout": "⧗ timeout",
    KIT_HIDDEN: "◌ hidden",
}
ROW_STATUS = {
    GRADED: "graded",
    "not_loaded": "could not be loaded",
    "no_submission": "no submission",
    "ambiguous": "ambiguous: several files, none stands out",
    "refused": "refused: not read",
    "grader_error": "the grader failed on it",
}
DIFFERS = "✗"  # how grader.judges.sheet2.draw_disagreement marks a differing cell

STYLE = """
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#666;--line:#ddd;--card:#f6f6f8;
--ok:#137333;--bad:#b3261e;--err:#8e24aa;--warn:#9a6700;--hint:#fff4d6}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8ea;--bg:#16161a;--muted:#a0a0a8;
--line:#3a3a40;--card:#212126;--ok:#6dd58c;--bad:#ff8a80;--err:#e1a6f0;--warn:#f2c14e;
--hint:#3a3220}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:60rem;padding:1rem;font:16px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:break-word}
h1{font-size:1.35rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .4rem}
.meta,.muted{color:var(--muted);font-size:.9rem}
.total{font-size:1.5rem;font-weight:700;margin:.6rem 0 0}
.box{border-left:4px solid var(--warn);background:var(--card);padding:.5rem .75rem;margin:.6rem 0}
.box.bad{border-color:var(--bad)}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.box pre,td pre{white-space:pre-wrap;margin:.2rem 0;font-size:.85rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.45rem .5rem;border-bottom:1px solid var(--line);
overflow-wrap:anywhere}
table.checks td:first-child{overflow-wrap:break-word}
th{font-size:.85rem;color:var(--muted);font-weight:600}
td.pts,th.pts{text-align:right;white-space:nowrap}
.fn{font-weight:600}.st{white-space:nowrap;font-weight:600}
.passed{color:var(--ok)}.failed{color:var(--bad)}.error{color:var(--err)}
.timeout{color:var(--warn)}.hidden{color:var(--muted)}
.msg{white-space:pre-wrap}
.override{border-left:3px solid var(--ok);padding:.2rem .5rem;margin-top:.35rem;
white-space:pre-wrap}
.hint{background:var(--hint);border-radius:4px;padding:.3rem .5rem;margin-top:.35rem;
white-space:pre-wrap}
figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}
.plane{display:inline-block;max-width:100%;overflow-x:auto;background:var(--card);
padding:.4rem;border-radius:6px}
.plane pre{margin:0;line-height:1.05;font-size:clamp(5px,calc((100vw - 3.5rem)/37),13px)}
.plane .x{color:var(--bad);font-weight:700}
.legend{white-space:pre-wrap;font-size:.85rem;color:var(--muted);margin-top:.3rem}
a{color:inherit}
@media (max-width:640px){
body{padding:.75rem}
table.checks,table.checks tbody{display:block}
table.checks thead{display:none}
table.checks tr{display:block;border-bottom:1px solid var(--line);padding:.4rem 0}
table.checks td{display:block;border:0;padding:.1rem 0}
table.checks td.st,table.checks td.pts{display:inline-block;margin-right:1rem}
table.checks td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);
font-weight:400}
}
"""


def _text(value: Any, limit: int = TEXT_LIMIT, lines: bool = True) -> str:
    """Student-controlled text as HTML: ``safe`` first (what a terminal shows), then escaped."""
    return html.escape(safe(value if isinstance(value, str) else str(value), limit, lines), True)


def _name(value: Any) -> str:
    return _text(value, NAME_LIMIT, lines=False)


def _pts(value: Any) -> str:
    try:
        return points(float(value))
    except (TypeError, ValueError, OverflowError):
        return "?"


def _num(value: Any) -> float:
    """A number from a report that may be hand-made or damaged: 0 for anything else."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number and abs(number) != float("inf") else 0.0


def _document(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{title}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def page(report: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> str:
    """One submission's page from its report (a batch row's report, or ``report.to_json``).

    ``titles`` maps exercise ids (and ``""`` for the sheet) to titles, when the
    sheet is at hand; a report alone names exercises by id.
    """
    titles = titles or {}
    sheet = _name(report.get("sheet", ""))
    shown = report.get("submission_id") or report.get("submission", "")
    submission = _name(shown)
    status = str(report.get("status", GRADED))
    checks = [c for c in report.get("checks", []) if isinstance(c, Mapping)]
    sheet_title = f": {_name(titles[''])}" if titles.get("") else ""
    body = [
        "<header>",
        f"<h1>Sheet {sheet}{sheet_title}</h1>",
        f'<p class="meta">{submission}</p>',
    ]
    if report.get("submission") and report.get("submission") != shown:
        body.append(f'<p class="meta">file: {_name(report["submission"])}</p>')
    body.append(_total(report, checks))
    extra = []
    if report.get("spec_hash"):
        extra.append(f"spec {_name(str(report['spec_hash'])[:12])}")
    if report.get("grader_version"):
        extra.append(f"grader {_name(report['grader_version'])}")
    if any(c.get("status") == KIT_HIDDEN for c in checks):
        extra.append("self-check kit: public checks only")
    if extra:
        body.append(f'<p class="meta">{" · ".join(extra)}</p>')
    body.append("</header>")
    if status != GRADED and not report.get("load_error"):  # else the load error says it
        body.append(
            f'<div class="box bad"><strong>{_text(ROW_STATUS.get(status, status))}</strong>'
            + (f"<pre>{_text(report['message'])}</pre>" if report.get("message") else "")
            + "</div>"
        )
    isolation = report.get("isolation")
    if isinstance(isolation, Mapping) and not isolation.get("full", True):
        body.append(f'<div class="box">reduced isolation: {_text(isolation.get("note", ""))}</div>')
    if report.get("load_error"):
        body.append(
            '<div class="box bad"><strong>could not load</strong>'
            f"<pre>{_text(report['load_error'])}</pre></div>"
        )
    notes = report.get("notes")
    for note in notes if isinstance(notes, list) else [notes] if notes else []:
        body.append(f'<div class="box">note: {_text(note)}</div>')
    for exercise, rows in _by_exercise(checks):
        body += _exercise(exercise, rows, titles, bool(report.get("load_error")))
    title = f"Sheet {sheet} · {submission} · {_pts(report.get('score', 0))}"
    return _document(title, ["<main>", *body, "</main>"])


def _total(report: Mapping[str, Any], checks: list[Mapping[str, Any]]) -> str:
    hidden = [c for c in checks if c.get("status") == KIT_HIDDEN]
    passed = sum(c.get("status") == "passed" for c in checks)
    score = _pts(report.get("score", 0))
    if hidden:
        public = report.get("public_max_score", report.get("max_score", 0))
        later = sum(_num(c.get("max_score")) for c in hidden)
        return (
            f'<p class="total">Public checks: {score} / {_pts(public)}</p>'
            f'<p class="muted">{_pts(later)} more points are graded after submission; '
            f"{passed} of {len(checks) - len(hidden)} public checks passed</p>"
        )
    total = f'<p class="total">Total: {score} / {_pts(report.get("max_score", 0))}</p>'
    if not checks:
        return total
    return total + f'<p class="muted">{passed} of {len(checks)} checks passed</p>'


def _by_exercise(
    checks: list[Mapping[str, Any]],
) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Checks grouped by exercise, in the report's (the sheet's) order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for c in checks:
        groups.setdefault(str(c.get("exercise", "")), []).append(c)
    return list(groups.items())


def _exercise(
    exercise: str, rows: list[Mapping[str, Any]], titles: Mapping[str, str], not_loaded: bool
) -> list[str]:
    got = sum(_num(c.get("score")) for c in rows)
    top = sum(_num(c.get("max_score")) for c in rows)
    later = sum(_num(c.get("max_score")) for c in rows if c.get("status") == KIT_HIDDEN)
    score = f"{_pts(got)}/{_pts(top)}"
    if later:
        score = f"{_pts(got)}/{_pts(top - later)} public, {_pts(later)} later"
    title = f" · {_name(titles[exercise])}" if titles.get(exercise) else ""
    head = f'<h2>Exercise {_name(exercise)}{title} <span class="muted">({score})</span></h2>'
    if not_loaded:  # as the terminal: one line, not a table of the same error
        return ["<section>", head, f'<p class="muted">{len(rows)} checks not run</p>', "</section>"]
    out = [
        "<section>",
        head,
        '<table class="checks"><thead><tr><th>check</th><th>status</th>'
        '<th class="pts">points</th><th>message</th></tr></thead><tbody>',
    ]
    figures = []
    for c in rows:
        status = str(c.get("status", ""))
        hidden = c.get("visibility") == "hidden"
        check = str(c.get("id", "")).rsplit(".", 1)[-1]
        label = STATUS_LABEL.get(status, status)
        pts = f"{_pts(c.get('score', 0))}/{_pts(c.get('max_score', 0))}"
        message = c.get("description", "") if status == "passed" else c.get("message", "")
        if status == KIT_HIDDEN:
            pts = f"–/{_pts(c.get('max_score', 0))}"
            message = f"{c.get('description', '')}\ngraded after submission"
        cell = f'<div class="msg">{_text(message)}</div>'
        override = c.get("override")
        if isinstance(override, Mapping):  # its points are the check's score already
            cell += (
                f'<div class="override"><strong>changed by your TA to '
                f"{_pts(override.get('points'))} points:</strong> "
                f"{_text(override.get('reason', ''))}</div>"
            )
        if c.get("hint"):
            cell += f'<div class="hint"><strong>hint:</strong> {_text(c["hint"])}</div>'
        if c.get("figure"):
            anchor = f"fig-{len(figures) + 1}-{_slug(exercise)}"
            figures.append((anchor, c))
            cell += f'<div><a href="#{anchor}">see the picture below</a></div>'
        status_class = status if status in STATUS_LABEL else "error"
        out.append(
            f'<tr><td data-label="check"><span class="fn">{_name(c.get("function", ""))}</span>'
            f'<br><span class="muted">{_name(check)}{" (hidden)" if hidden else ""}</span></td>'
            f'<td data-label="status" class="st {status_class}">{_text(label, lines=False)}</td>'
            f'<td data-label="points" class="pts">{pts}</td>'
            f'<td data-label="message">{cell}</td></tr>'
        )
    out.append("</tbody></table>")
    for anchor, c in figures:
        out.append(_figure(anchor, c))
    out.append("</section>")
    return out


def _slug(text: str) -> str:
    return _UNSAFE_IN_NAME.sub("_", safe(text, 40))


def _figure(anchor: str, check: Mapping[str, Any]) -> str:
    """The drawing of where an answer differs: the plane in a <pre>, differing cells in red.

    The last line of the drawing is its legend, set apart so the plane keeps its
    own small, square-ish font on a phone.
    """
    lines = safe(str(check["figure"]), 20 * TEXT_LIMIT, lines=True).split("\n")
    legend = lines.pop() if len(lines) > 1 and not _is_plane_row(lines[-1]) else ""
    mark = f'<span class="x">{DIFFERS}</span>'
    plane = "\n".join(html.escape(line, True).replace(DIFFERS, mark) for line in lines)
    return (
        f'<figure id="{anchor}"><figcaption>{_name(check.get("function", ""))}: '
        f"where you differ</figcaption>"
        f'<div class="plane"><pre>{plane}</pre></div>'
        + (f'<div class="legend">{html.escape(legend, True).replace(DIFFERS, mark)}</div>')
        + "</figure>"
    )


def _is_plane_row(line: str) -> bool:
    return bool(line) and set(line) <= {"1", "·", DIFFERS}


def index(items: Iterable[tuple[str, Mapping[str, Any]]], title: str = "Feedback") -> str:
    """The list of pages: ``items`` is (file name, report) per page, shown in the given order."""
    rows = []
    for name, report in items:
        status = str(report.get("status", GRADED))
        shown = report.get("submission_id") or report.get("submission", "")
        note = ROW_STATUS.get(status, status)
        rows.append(
            f'<tr><td data-label="submission"><a href="{html.escape(name, True)}">'
            f"{_name(shown)}</a></td>"
            f'<td data-label="sheet">{_name(report.get("sheet", ""))}</td>'
            f'<td data-label="score" class="pts">{_pts(report.get("score", 0))} / '
            f"{_pts(report.get('max_score', 0))}</td>"
            f'<td data-label="status">{_text(note, lines=False)}</td></tr>'
        )
    body = [
        "<main>",
        f"<h1>{_text(title, lines=False)}</h1>",
        f'<p class="muted">{len(rows)} submissions</p>',
        '<table class="checks"><thead><tr><th>submission</th><th>sheet</th>'
        '<th class="pts">score</th><th>status</th></tr></thead><tbody>',
        *rows,
        "</tbody></table>",
        "</main>",
    ]
    return _document(_text(title, lines=False), body)


def file_names(ids: Iterable[str]) -> dict[str, str]:
    """A page's file name per submission id: the same for the same set of ids.

    Made of ASCII letters, digits, ``.``, ``_`` and ``-`` only (no path
    separator, nothing a shell or a browser reads specially), never starting
    with a dot, at most ``NAME_STEM_LIMIT`` characters before ``.html``. An id
    that had to be changed gets a short hash of itself, so ``a b`` and ``a_b``
    differ; names that still clash (``Alice``, ``alice`` on a case-insensitive
    disk; ``index``) get ``-2``, ``-3`` in sorted order.
    """
    taken = {INDEX.casefold(), MANIFEST.casefold()}
    names = {}
    for sid in sorted(set(ids)):
        stem = _UNSAFE_IN_NAME.sub("_", sid).lstrip(".")
        if stem != sid or not stem:
            digest = hashlib.sha256(os.fsencode(sid)).hexdigest()[:8]
            stem = f"{stem[: NAME_STEM_LIMIT - 9]}-{digest}".lstrip("-")
        stem = stem[:NAME_STEM_LIMIT]
        name, n = f"{stem}.html", 1
        while name.casefold() in taken:
            n += 1
            name = f"{stem[: NAME_STEM_LIMIT - 4]}-{n}.html"
        taken.add(name.casefold())
        names[sid] = name
    return names


class FeedbackError(Exception):
    """The feedback folder cannot be used; the message says why and what to do."""


@dataclass
class FeedbackDir:
    """A folder of feedback pages and its manifest of what this tool wrote there.

    ``open`` refuses a folder holding anything the manifest does not list;
    ``plan`` records the names about to be written before any is (a crash
    then leaves nothing unlisted); ``finish`` writes the index and removes
    pages of an earlier run whose submission is gone.
    """

    path: Path
    previous: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)
    written: dict[str, dict[str, Any]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> FeedbackDir:
        if path.is_symlink():  # its pages would land wherever the link leads
            raise FeedbackError(f"{path} is a symbolic link; give the folder itself")
        if path.exists() and not path.is_dir():
            raise FeedbackError(f"{path} is not a folder")
        if not path.exists():
            try:
                path.mkdir(parents=False)
            except OSError as exc:
                raise FeedbackError(f"cannot create {path}: {exc.strerror or exc}") from None
            return cls(path)
        try:
            entries = set(os.listdir(path))
        except OSError as exc:
            raise FeedbackError(f"cannot read {path}: {exc.strerror or exc}") from None
        previous: set[str] = set()
        if MANIFEST in entries:
            try:
                listed = json.loads((path / MANIFEST).read_text(encoding="utf-8"))["files"]
                previous = {str(n) for n in listed if isinstance(n, str)}
            except (OSError, ValueError, KeyError, TypeError):
                raise FeedbackError(
                    f"{path / MANIFEST} is not a manifest this grader wrote; "
                    "choose an empty or new folder"
                ) from None
        foreign = sorted(entries - previous - {MANIFEST})
        if foreign:
            shown = ", ".join(safe(n, NAME_LIMIT) for n in foreign[:5])
            more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
            raise FeedbackError(
                f"{path} holds files this grader did not write ({shown}{more}); "
                "nothing was written: choose an empty or new folder"
            )
        return cls(path, previous)

    def plan(self, ids: Iterable[str], titles: Mapping[str, str] | None = None) -> None:
        """Fix the page names of these submissions and list them (with the old ones) first."""
        self.names = file_names(ids)
        self.titles = dict(titles or {})
        self._manifest(self.previous | set(self.names.values()) | {INDEX})

    def write(self, submission: str, report: Mapping[str, Any]) -> Path:
        name = self.names[submission]
        target = self.path / name
        write_atomic(target, page(report, self.titles))
        self.written[name] = dict(report)
        return target

    def finish(self, title: str = "Feedback") -> Path:
        """Write the index of the pages written, and drop the earlier run's leftover pages."""
        ordered = sorted(self.written.items(), key=lambda kv: _sort_key(kv[1]))
        target = self.path / INDEX
        write_atomic(target, index(ordered, title))
        keep = set(self.written) | {INDEX}
        for stale in self.previous - keep:
            try:
                (self.path / stale).unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise ExportError(f"cannot remove {self.path / stale}: {exc.strerror}") from None
        self._manifest(keep)
        return target

    def _manifest(self, names: set[str]) -> None:
        text = json.dumps({"written_by": "dl-grader feedback", "files": sorted(names)}, indent=1)
        write_atomic(self.path / MANIFEST, text + "\n")


def _sort_key(report: Mapping[str, Any]) -> tuple[str, str]:
    return str(report.get("sheet", "")), str(
        report.get("submission_id") or report.get("submission", "")
    )


def titles_of(sheet: Any) -> dict[str, str]:
    """Exercise titles by id (``""``: the sheet's), for headings a report alone lacks."""
    out = {"": str(sheet.title)}
    out.update({str(e.id): str(e.title) for e in sheet.exercises})
    return out


def row_report(submission: str, entry: Entry, sheet_id: str) -> dict[str, Any]:
    from grader import ci_formats

    return ci_formats.report_of_row(
        submission,
        entry.status,
        entry.message,
        entry.report,
        sheet_id,
        entry.max_score,
        entry.path,
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grade feedback",
        description="Write a feedback page (one self-contained HTML file) per submission "
        "of a gradebook, and an index.html listing them: the terminal report's content, "
        "readable on a phone, with no script and nothing fetched from the network.",
        epilog="""\
what is written:
  DIR/index.html and one page per current row of the gradebook (the version
  of each submission its exports show, with the overrides of `grade
  override` applied and their reasons shown), named after the submission id with
  anything but letters, digits, '.', '_' and '-' replaced (and a short hash
  added when a name had to change). Rows without a report (no_submission,
  refused, not_loaded, ambiguous, grader_error) get a page with their status
  and message. Student text is escaped as in every other format.

what is never overwritten:
  DIR may be missing, empty, or a folder this command (or grade batch
  --feedback) wrote before: its file .grade-feedback.json lists what was
  written, and those pages are rewritten (pages of submissions no longer in
  the gradebook are removed). A folder holding anything else is refused with
  exit status 2, and nothing is written.
""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", type=Path, required=True, metavar="FILE", help="the gradebook to read")
    p.add_argument(
        "-o", "--output", type=Path, required=True, metavar="DIR", help="folder to write"
    )
    p.add_argument("--sheet", help="only this sheet's submissions (default: every sheet's)")
    return p


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.db.is_file():
        parser.error(f"no such gradebook: {args.db}")
    try:
        book = Gradebook(args.db, readonly=True)
    except GradebookError as exc:
        parser.error(str(exc))
    try:
        sheet_ids = sorted({str(k[0]) for k in book.current_keys()})
        if args.sheet is not None:
            wanted = str(args.sheet).strip()
            if wanted not in sheet_ids:
                parser.error(
                    f"the gradebook {args.db} holds no submission of sheet {safe(wanted, 40)}"
                    + (f" (it holds sheet {', '.join(map(safe, sheet_ids))})" if sheet_ids else "")
                )
            sheet_ids = [wanted]
        rows = {sid: book.effective_rows(sid) for sid in sheet_ids}  # with the TA's overrides
    except GradebookError as exc:
        print(f"grade feedback: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        book.close()
    try:
        out = FeedbackDir.open(args.output)
    except FeedbackError as exc:
        print(f"grade feedback: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    several = len(sheet_ids) > 1
    reports = {}
    for sid in sheet_ids:
        for submission, entry in rows[sid].items():
            key = f"sheet{sid}-{submission}" if several else submission
            reports[key] = row_report(submission, entry, sid)
    titles = _titles(sheet_ids[0]) if len(sheet_ids) == 1 else {}
    try:
        out.plan(reports, titles)
        for key, report in reports.items():
            out.write(key, report)
        target = out.finish(_index_title(sheet_ids))
    except ExportError as exc:
        print(f"grade feedback: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {len(reports)} page{'s' * (len(reports) != 1)} and {target}", file=sys.stderr)
    return EXIT_OK


def _titles(sheet_id: str) -> dict[str, str]:
    """The sheet's titles when this grader knows the sheet; a report renders without them."""
    from grader import sheets

    if sheet_id not in sheets.available():  # a book from another grader: headings show ids
        return {}
    return titles_of(sheets.load(sheet_id))


def _index_title(sheet_ids: list[str]) -> str:
    if len(sheet_ids) == 1:
        return f"Feedback · sheet {sheet_ids[0]}"
    return "Feedback"
