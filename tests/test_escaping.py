"""The screen cannot lie: text a submission controls never acts on a terminal or a spreadsheet.

A submission chooses its exception types and messages, its function names, its
notebook cells and magics, its file and folder names, and (since its code can
write reply frames of its own) any string in a worker answer. Each is pushed
through the real CLI here, carrying ANSI and OSC sequences, C1 controls and
bidi overrides, and every format is checked: the rich report without colour
(no ESC at all), with colour (nothing but rich's own SGR), the JSON report
(every string of the parsed document), and ``grade batch``'s progress lines,
summary table, JSON listing and CSV (read as text: no cell is a formula).
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, ROOT, hostile_sheet2, run_grade

# Clears the screen, homes the cursor, writes the clipboard (OSC 52), opens a CSI
# the C1 way, reverses the text (bidi) and hides a zero-width space and a NUL.
EVIL = "\x1b[2J\x1b[H\x1b]52;c;cHduZWQ=\x07\x9b1;1H\u202eTotal: 100 / 100\u2066\u200b\x00\x7f"
# The same for names of classes, functions, files and folders (no NUL, no "/").
NAME = EVIL.replace("\x00", "").replace("/", "of")
# Anything a terminal could act on; "\n" is allowed inside table cells and panels.
RAW = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
SGR = re.compile(r"\x1b\[[0-9;]*m")
CORRECT = (EXAMPLES / "sheet2" / "correct.py").read_text()
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def raw_left(text: str) -> list[str]:
    """The characters in ``text`` a terminal would act on (deduplicated, for a readable failure)."""
    return sorted(set(RAW.findall(text)))


def strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string in a parsed JSON document, keys included, with where it is."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        found = []
        for k, v in value.items():
            found += [(f"{path}/{k}", k), *strings(v, f"{path}/{k}")]
        return found
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in strings(v, f"{path}/{i}")]
    return []


def assert_json_clean(document: Any) -> None:
    dirty = [(where, s) for where, s in strings(document) if raw_left(s)]
    assert not dirty, f"raw control or bidi characters in JSON strings: {dirty[:5]}"


def assert_screen_clean(text: str, colour: bool) -> None:
    """No escape at all in a plain render; in a colour one, only rich's SGR codes."""
    shown = SGR.sub("", text) if colour else text
    assert raw_left(shown) == [], f"raw characters reach the terminal: {raw_left(shown)}"


def run(*args: str | Path, colour: bool = False) -> subprocess.CompletedProcess:
    env: dict[str, str | None] = {"FORCE_COLOR": None, "NO_COLOR": None, "COLUMNS": "200"}
    if colour:  # rich then renders in colour into the pipe, as it would at a terminal
        env.update(FORCE_COLOR="1", COLORTERM="truecolor", TERM="xterm-256color")
    return run_grade(*args, env=env)


# Every function of the sheet that reports text gets a hostile string in it.
HOSTILE_PY, HOSTILE_NOTEBOOK = hostile_sheet2(EVIL, NAME, 4, markup="[bold red]markup[/] ")

# Student code replaces the worker's next reply with a frame of its own: first the
# answer to loading (names and cell errors the worker would never send), then the
# answer to every call of logcosh_grad (an error record of its own making).
FORGED_PY = (
    CORRECT
    + f"""

import sys

EVIL = {EVIL!r}
_wire = sys.modules["wire"]
_write = _wire.write_all


def _forge(answer):
    frame = _wire.encode(answer)

    def instead(fd, data):
        _wire.write_all = _write
        _write(fd, frame)

    _wire.write_all = instead


_ERROR = {{
    "kind": "exception",
    "type": "Forged" + EVIL,
    "builtin": "Exception" + EVIL,
    "message": "forged " + EVIL,
    "where": {{"file": "submission.py" + EVIL, "line": 1, "function": "fn" + EVIL}},
}}


def logcosh_grad(y, t):
    _forge({{"ok": False, "error": _ERROR}})
    return np.tanh(y - t)


del logcosh
_forge(
    {{
        "ok": True,
        "functions": ["logcosh" + EVIL[:4], "logcosh_grad", "predict_class"],
        "cell_errors": [{{"cell": 1, **_ERROR}}],
    }}
)
"""
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Grade the hostile submissions in every format, three runs at a time."""
    base = tmp_path_factory.mktemp("hostile")
    py = base / f"my\x1b]0;owned\x07\u202esub{NAME}.py"
    py.write_text(HOSTILE_PY, encoding="utf-8")
    nb = base / "note\u202ebook\x1b[31m.ipynb"
    nb.write_text(json.dumps(HOSTILE_NOTEBOOK), encoding="utf-8")
    forged = base / "forged.py"
    forged.write_text(FORGED_PY, encoding="utf-8")
    broken = base / f"broken{NAME}.py"
    broken.write_text(f"class Stop(Exception):\n    pass\n\nraise Stop({EVIL!r})\n")
    jobs = {
        "py-json": ((py, "--sheet", "2", "--format", "json"), False),
        "py-plain": ((py, "--sheet", "2"), False),
        "py-colour": ((py, "--sheet", "2"), True),
        "nb-json": ((nb, "--sheet", "2", "--format", "json"), False),
        "nb-colour": ((nb, "--sheet", "2"), True),
        "forged-json": ((forged, "--sheet", "2", "--format", "json"), False),
        "forged-colour": ((forged, "--sheet", "2"), True),
        "load-json": ((broken, "--sheet", "2", "--format", "json"), False),
        "load-colour": ((broken, "--sheet", "2"), True),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {k: pool.submit(run, *args, colour=c) for k, (args, c) in jobs.items()}
        return {k: f.result() for k, f in futures.items()}


@pytest.mark.parametrize("name", ["py", "nb", "forged", "load"])
def test_json_report_has_no_raw_escape_in_any_string(name: str, runs) -> None:
    proc = runs[f"{name}-json"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert_json_clean(report)
    assert "\\x1b[2J" in proc.stdout.replace("\\\\", "\\"), "the hostile text should show, escaped"


def test_every_student_field_is_shown_escaped_in_json(runs) -> None:
    py = json.loads(runs["py-json"].stdout)
    checks = {c["id"]: c for c in py["checks"]}
    assert "\\x1b]0;owned\\x07\\u202e" in py["submission"]
    grad = checks["2.2.logcosh_grad.values"]["message"]
    assert "raised Boom\\x1b[2J" in grad and "Total: 100 / 100" in grad
    assert "\\x9b1;1H\\u202e" in grad and "\\u2066\\u200b\\x00\\x7f" in grad
    assert "in grad\\x1b[2J" in checks["2.2.dataset_grad.example"]["message"]
    assert "[bold red]markup[/]" in checks["2.2.dataset_grad.example"]["message"]
    assert "my\\x1b]0;owned" in grad, "the student's own file is named, escaped"
    hint = checks["2.2.logcosh.values"].get("hint", "")
    assert "logcosh\\x1b[2J" in hint, checks["2.2.logcosh.values"]
    assert "\x1b" not in checks["2.1.predict_class.grid"]["figure"]
    assert "✗" in checks["2.1.predict_class.grid"]["figure"]

    nb = json.loads(runs["nb-json"].stdout)
    notes = "\n".join(nb["notes"])
    assert "note\\u202ebook\\x1b[31m" in nb["submission"]
    assert "skipped (%%\\x1b[2J" in notes
    assert "RuntimeError: \\x1b[2J" in notes and "note\\u202ebook" in notes
    assert all("\n" not in n for n in nb["notes"]), "a note is one line: it could forge one"

    forged = json.loads(runs["forged-json"].stdout)
    checks = {c["id"]: c for c in forged["checks"]}
    message = checks["2.2.logcosh_grad.values"]["message"]
    assert "Forged\\x1b[2J" in message and "in fn\\x1b[2J" in message, (
        "the forged frame did not reach the grader; if the worker now stops forging, "
        "forge differently: the grader must still treat every answer as hostile"
    )
    assert "forged \\x1b[2J" in message
    assert "Forged\\x1b[2J" in "".join(forged["notes"])
    assert "logcosh\\x1b[2J" in checks["2.2.logcosh.values"].get("hint", "")

    broken = json.loads(runs["load-json"].stdout)
    assert "raised Stop: \\x1b[2J" in broken["load_error"]
    assert "(broken\\x1b[2J" in broken["load_error"], "names the student's file, escaped"


@pytest.mark.parametrize(
    ("name", "colour"),
    [
        ("py-plain", False),
        ("py-colour", True),
        ("nb-colour", True),
        ("forged-colour", True),
        ("load-colour", True),
    ],
)
def test_rich_report_shows_no_escape_but_its_own_colours(name: str, colour: bool, runs) -> None:
    proc = runs[name]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_screen_clean(proc.stdout, colour)
    assert_screen_clean(proc.stderr, colour=False)
    assert ("\x1b[" in proc.stdout) == colour, "colour only when asked for"
    totals = re.findall(r"^Total: .*$", SGR.sub("", proc.stdout), re.MULTILINE)
    assert len(totals) == 1, totals
    if not name.startswith("nb"):  # the notebook is right apart from its hostile cells
        assert totals[0] != "Total: 100 / 100", totals
    if name.startswith("py"):
        assert "markup[/]" in proc.stdout, "rich markup in a message is shown, not obeyed"
        assert "where you differ" in proc.stdout and "✗" in proc.stdout  # the figure still shows


def test_figure_keeps_its_colours_only() -> None:
    from grader.text import plain_figure, safe_figure

    drawn = "\x1b[2m1\x1b[0m\x1b[1;31m✗\x1b[0m\nlegend"
    assert safe_figure(drawn) == drawn
    hostile = safe_figure("\x1b[2m1\x1b[0m\x1b[2J\x1b]52;c;eA==\x07\u202ex")
    assert hostile is not None and SGR.sub("", hostile) == "1\\x1b[2J\\x1b]52;c;eA==\\x07\\u202ex"
    assert plain_figure(drawn) == "1✗\nlegend"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("\x1b]52;c;eA==\x07", "\\x1b]52;c;eA==\\x07"),
        ("\x9b2J", "\\x9b2J"),
        ("a\x7fb\x00c", "a\\x7fb\\x00c"),
        ("\u202eevil\u202c", "\\u202eevil\\u202c"),
        (
            "\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
            "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c",
        ),
        ("zero\u200bwidth\ufeff\u00ad", "zero\\u200bwidth\\ufeff\\xad"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("tab\tcr\rnl\n", "tab\\tcr\\rnl\\n"),
        ("\udc80lone surrogate", "\\udc80lone surrogate"),
        ("\U000e0041tag", "\\U000e0041tag"),
        ("ρ(x1 + x2) σ(−v) ✗ · … übung 中文 😀", "ρ(x1 + x2) σ(−v) ✗ · … übung 中文 😀"),
        ("[bold]not markup[/]", "[bold]not markup[/]"),
        ("e" + "\u0301" * 6, "e" + "\u0301" * 4 + "\\u0301" + "\u0301"),
    ],
)
def test_safe_escapes_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    from grader.text import safe

    assert safe(text) == shown
    assert safe(shown) == shown


def test_safe_keeps_newlines_only_when_asked_and_bounds_length() -> None:
    from grader.text import safe

    assert safe("a\nb", lines=True) == "a\nb"
    assert safe("a\nb") == "a\\nb"
    long = safe("\x1b" * 100, limit=50)
    assert len(long) <= 50 and long.endswith("…") and long[:-1].replace("\\x1b", "") == ""
    assert safe(long, limit=50) == long
    assert len(safe("x" * 10_000)) == 1000


def test_results_are_made_safe_where_they_are_built() -> None:
    """Every string field of CheckResult, Outcome and Entry, whoever builds them."""
    from rich.console import Console

    from grader import report, sheets
    from grader.gradebook import Entry
    from grader.isolation import Isolation
    from grader.runner import CheckResult, Outcome

    sheet = sheets.load("2")
    checks = [
        CheckResult(
            id=f"2.1.predict_class.{EVIL}",
            exercise="1",
            function="predict_class" + EVIL,
            status=status,
            score=0.0,
            max_score=1.0,
            message=EVIL + "\n" + EVIL,
            description=EVIL,
            hidden=False,
            hint=EVIL,
            figure="\x1b[2m1\x1b[0m" + EVIL,
        )
        for status in ("failed", "passed")
    ]
    outcome = Outcome(
        sheet,
        EVIL,
        checks,
        Isolation("bubblewrap", True, ""),
        notes=[EVIL + "\nTotal: 100 / 100"] * 60,
    )
    assert len(outcome.notes) == 50 and "11 more" in outcome.notes[-1]
    assert_json_clean(report.to_json(outcome))
    for colour in (False, True):
        out = io.StringIO()
        console = Console(
            file=out, force_terminal=colour, color_system="truecolor" if colour else None, width=160
        )
        report.render(outcome, console)
        assert_screen_clean(out.getvalue(), colour)
    failed = Outcome(sheet, EVIL, checks, Isolation("process", False, "reduced"), load_error=EVIL)
    out = io.StringIO()
    report.render(failed, Console(file=out, force_terminal=True, color_system="truecolor"))
    assert_screen_clean(out.getvalue(), colour=True)

    entry = Entry("refused" + EVIL, 0.0, 1.0, EVIL, {"checks": [{"message": EVIL}]}, EVIL)
    assert not raw_left(entry.status + entry.message + entry.path)
    assert_json_clean(entry.report)


def test_csv_cells_are_never_formulas(tmp_path: Path) -> None:
    from grader.gradebook import Entry, write_csv
    from grader.text import csv_cell

    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "＝1", -3.5):
        assert csv_cell(text).startswith("'")
    assert csv_cell("\t=1") == "\\t=1" and csv_cell("\r=1") == "\\r=1"  # inert text
    assert csv_cell("alice.py") == "alice.py" and csv_cell(87.5) == "87.5"
    rows = {
        '=HYPERLINK("http://x")': Entry("graded", 1.0, 2.0),
        "-2+3": Entry("graded", 1.0, 2.0),
        EVIL: Entry("graded", 1.0, 2.0),
    }
    out = tmp_path / "grades.csv"
    write_csv(out, ["=cmd|' /C calc'!A0"], rows)
    assert_csv_clean(out)


def assert_csv_clean(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    assert raw_left(text.replace("\n", "")) == []
    cells = list(csv.reader(io.StringIO(text)))
    bad = [c for row in cells for c in row if c.startswith(FORMULA_START)]
    assert not bad, f"cells a spreadsheet evaluates: {bad}"
    return cells


def test_batch_names_reach_no_terminal_and_no_spreadsheet_raw(tmp_path: Path) -> None:
    """File and folder names with formulas and escapes, through ``grade batch``, every output."""
    root = tmp_path / "course"
    root.mkdir()
    names = ["=1+1.py", "+cmd.py", "-2.py", "@SUM(A1).py", "\tx.py", "\rx.py", f"e{NAME}.py"]
    for name in names:
        (root / name).write_text("")  # empty: cannot load, graded 0 without a worker
    for folder in ("=HYPERLINK(1)", f"f{NAME}"):
        (root / folder).mkdir()
        (root / folder / "sheet2.py").write_text("def f(:\n")
    (root / "good.py").write_text(CORRECT)
    (root / "ambiguous").mkdir()  # its row's message names both files
    for name in (f"a{NAME}.py", f"b{NAME}.ipynb"):
        (root / "ambiguous" / name).write_text("")
    db, grades = tmp_path / "book.sqlite", tmp_path / "grades.csv"
    rich = run("batch", root, "--sheet", "2", "--db", db, "--csv", grades, colour=True)
    assert rich.returncode == 0, rich.stderr[-3000:]
    assert_screen_clean(rich.stdout, colour=True)
    assert_screen_clean(rich.stderr, colour=True)
    assert "e\\x1b[2J" in rich.stderr and "f\\x1b[2J" in rich.stdout.replace("\n", "")
    cells = assert_csv_clean(grades)
    assert len(cells) == 1 + len(names) + 4
    assert "ambiguous" in rich.stdout and "a\\x1b[2J" in rich.stdout
    assert {"'=1+1.py", "'+cmd.py", "'-2.py", "'@SUM(A1).py", "\\tx.py", "\\rx.py"} <= {
        row[0] for row in cells
    }
    listing = run("batch", root, "--sheet", "2", "--db", db, "--format", "json")
    assert listing.returncode == 0, listing.stderr[-3000:]
    rows = json.loads(listing.stdout)
    assert_json_clean(rows)
    assert any("b\\x1b[2J" in row["message"] for row in rows), rows
    assert_screen_clean(listing.stderr, colour=False)


def test_traceback_of_a_grader_failure_is_escaped() -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from grader import cli

        def boom(argv):
            raise RuntimeError({EVIL!r})

        cli._grade = boom
        sys.exit(cli.main(["x.py", "--sheet", "2"]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 1
    assert "RuntimeError: \\x1b[2J" in proc.stderr
    assert_screen_clean(proc.stderr, colour=False)
