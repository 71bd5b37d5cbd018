"""Feedback pages: what they show, that student text stays inert, where they are written.

Every page is parsed with ``html.parser`` and held to the promise the pages make:
no script, no event handler, no link or source but an in-page ``#`` or a
``data:`` one, no ESC or other control character, a strict CSP. The payloads
(tags, a closing ``</td>``, quotes, ``javascript:``, ANSI and OSC sequences,
bidi overrides) go through every field of hand-made reports and through a real
submission graded by ``grade batch --feedback``. The last tests open pages in
headless Chromium at a phone's and a desktop's width, keep the screenshots in
``tests/artifacts/feedback/`` for a person to look at, and check that the page
runs nothing and requests nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, ROOT, hostile_sheet2, run_grade
from grader import feedback
from grader.gradebook import Entry, Gradebook, Key
from grader.text import safe

HTML_EVIL = (
    "<script>alert(1)</script></td></tr></table>\"'><img src=x onerror=alert(2)>"
    '<a href="javascript:alert(3)">x</a>javascript:alert(4)'
)
ANSI_EVIL = "\x1b[2J\x1b[H\x1b]52;c;cHduZWQ=\x07\x9b1;1H\u202eTotal: 100 / 100\u2066\u200b\x7f"
EVIL = HTML_EVIL + ANSI_EVIL
NAME = EVIL.replace("/", "of")  # a file or folder name holds no "/"
ARTIFACTS = ROOT / "tests" / "artifacts" / "feedback"
# Tags the pages are made of: anything else in a page came from student text.
OUR_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "section", "h1", "h2",
    "p", "div", "strong", "span", "br", "a", "pre", "table", "thead", "tbody", "tr", "th", "td",
    "figure", "figcaption",
}  # fmt: skip
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b]")


class Page(HTMLParser):
    """A parsed page: its tags with their attributes, and its text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.data.append(data)

    @property
    def text(self) -> str:
        return "".join(self.data)


def assert_inert(text: str, links: frozenset[str] = frozenset()) -> Page:
    """No script, no handler, no foreign link or source, no control character; a strict CSP.

    ``links`` are relative links allowed besides ``#...`` and ``data:`` (the
    index's links to the pages it lists).
    """
    assert "\x1b" not in text and not CONTROL.search(text), CONTROL.findall(text)[:5]
    page = Page(text)
    names = {tag for tag, _ in page.tags}
    assert names <= OUR_TAGS, names - OUR_TAGS
    for tag, attrs in page.tags:
        for key, value in attrs.items():
            assert not key.startswith("on"), (tag, key, value)
            assert key in {"lang", "charset", "http-equiv", "content", "name", "class", "id"} | {
                "href",
                "data-label",
            }, (tag, key)
            if key in ("href", "src"):
                assert value is not None
                assert value.startswith(("#", "data:")) or value in links, (tag, key, value)
    metas = {
        a.get("http-equiv") or a.get("name"): a.get("content") for t, a in page.tags if t == "meta"
    }
    assert metas["Content-Security-Policy"] == feedback.CSP
    assert metas["viewport"] == "width=device-width, initial-scale=1"
    assert "script" not in names
    return page


def check(cid: str, status: str = "failed", **extra: Any) -> dict[str, Any]:
    _, exercise, function, name = cid.split(".")
    return {
        "id": cid,
        "exercise": exercise,
        "function": function,
        "status": status,
        "score": 0.0,
        "max_score": 2.0,
        "message": f"wrong {name}",
        "description": f"checks {name}",
        "visibility": "public",
        **extra,
    }


def hostile_report() -> dict[str, Any]:
    """A report with the payload in every string it can hold, keys and odd numbers included."""
    figure = "\n".join(["11✗✗··" + EVIL] * 3 + ["legend ✗ " + EVIL])
    checks = [
        check("2.1.predict_class.grid", message=EVIL, hint=EVIL, figure=figure),
        check(f"2.1.{NAME}.x{NAME}", status=EVIL, description=EVIL, message=EVIL),
        check("2.2.logcosh.random", visibility="hidden", seed=3, message=EVIL, hint=EVIL),
        check("2.2.logcosh.large", status="hidden", description=EVIL),
        {**check("2.2.logcosh.values"), "exercise": EVIL, "score": EVIL, "max_score": None},
    ]
    return {
        "submission_id": NAME,
        "status": "graded",
        "sheet": EVIL,
        "submission": EVIL,
        "score": 3.5,
        "max_score": 100.0,
        "public_max_score": 80.0,
        "spec_hash": EVIL,
        "grader_version": EVIL,
        "checks": checks,
        "load_error": None,
        "notes": [EVIL, EVIL * 2],
        "isolation": {"method": "process", "full": False, "note": EVIL},
        "seconds": 1.0,
        EVIL: EVIL,
    }


def test_a_page_of_hostile_strings_everywhere_is_inert_and_shows_them_as_text() -> None:
    report = hostile_report()
    html_text = feedback.page(report, {"": EVIL, "1": EVIL})
    page = assert_inert(html_text)
    shown = page.text
    # The payload is shown, as text, as a terminal would show it (safe), not dropped.
    assert safe(HTML_EVIL) in shown
    assert "\\x1b[2J" in shown and "\\u202e" in shown
    assert shown.count("<script>alert(1)</script>") >= 8
    not_loaded = {**report, "load_error": EVIL, "status": "not_loaded", "message": EVIL}
    one_note = assert_inert(feedback.page({**report, "notes": EVIL})).text
    assert one_note.count("note: <script>") == 1  # a string, not a list: one note, not letters
    assert_inert(feedback.page(not_loaded))
    for status in ("no_submission", "refused", "ambiguous", "grader_error", EVIL):
        row = {"submission_id": NAME, "status": status, "sheet": "2", "submission": EVIL}
        row_page = assert_inert(feedback.page({**row, "message": EVIL, "checks": []}))
        assert "<img src=x onerror=alert(2)>" in row_page.text
    names = feedback.file_names([NAME, "b"])
    index = feedback.index([(names[NAME], report), (names["b"], not_loaded)], EVIL)
    assert_inert(index, links=frozenset(names.values()))


def test_the_checker_catches_what_it_is_meant_to() -> None:
    """assert_inert fails on a page where an escape is missing (so the tests above can fail)."""
    good = feedback.page({"sheet": "2", "submission": "a", "checks": []})
    for bad in (
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        "\x1b[2J",
    ):
        with pytest.raises(AssertionError):
            assert_inert(good.replace("<main>", "<main>" + bad))


def test_a_page_says_what_the_terminal_report_says(tmp_path: Path) -> None:
    proc = run_grade(EXAMPLES / "sheet2" / "partly_wrong.py", "--sheet", "2", "--format", "json")
    report = json.loads(proc.stdout)
    page = assert_inert(feedback.page(report, feedback.titles_of(_sheet2())))
    text = page.text
    assert "Sheet 2: Backpropagation" in text
    assert f"Total: {report['score']:g} / 100" in text
    passed = sum(c["status"] == "passed" for c in report["checks"])
    assert f"{passed} of {len(report['checks'])} checks passed" in text
    for c in report["checks"]:
        shown = c["description"] if c["status"] == "passed" else c["message"]
        assert shown in text, c["id"]
        assert (
            c["id"].rsplit(".", 1)[1] + (" (hidden)" if c["visibility"] == "hidden" else "") in text
        )
        if "hint" in c:
            assert c["hint"] in text
    grid = next(c for c in report["checks"] if c["id"] == "2.1.predict_class.grid")
    differing = grid["figure"].count("✗")
    raw = feedback.page(report)
    assert raw.count('<span class="x">✗</span>') == differing > 1
    assert "predict_class: where you differ" in text
    for exercise in _sheet2().exercises:
        assert f"Exercise {exercise.id} · {exercise.title}" in text


def test_hidden_checks_show_what_the_report_has_and_a_kits_hidden_status() -> None:
    secret = check("2.2.logcosh.random", visibility="hidden", seed=7, message="42 of 60 wrong")
    kit = check("2.2.logcosh.large", status="hidden", description="large |y − t|")
    kit["max_score"] = 3.0
    report = {
        "sheet": "2",
        "submission": "mine.py",
        "score": 0.0,
        "max_score": 10.0,
        "public_max_score": 7.0,
        "checks": [secret, kit],
    }
    text = assert_inert(feedback.page(report)).text
    assert "random (hidden)" in text and "42 of 60 wrong" in text
    assert "◌ hidden" in text and "graded after submission" in text and "–/3" in text
    assert "Public checks: 0 / 7" in text and "3 more points are graded after submission" in text
    assert "self-check kit: public checks only" in text


@pytest.mark.parametrize(
    "ids",
    [
        ["../../etc/passwd", "a/b", "a\\b", ".hidden", "..", ".", "", "index", "index.html"],
        ["Alice", "alice", "ALICE", "a b", "a_b", "a?b", "名前", "\x1b[2J", NAME, "x" * 500],
        [".grade-feedback.json", "-rf", "con", "a" * 90 + "1", "a" * 90 + "2"],
    ],
)
def test_file_names_are_safe_unique_bounded_and_stable(ids: list[str]) -> None:
    names = feedback.file_names(ids)
    assert set(names) == set(ids)
    folded = [n.casefold() for n in names.values()]
    assert len(set(folded)) == len(ids)
    for name in names.values():
        assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.html", name), name
        assert len(name) <= feedback.NAME_STEM_LIMIT + len(".html")
        assert name.casefold() not in (feedback.INDEX, feedback.MANIFEST)
    assert feedback.file_names(reversed(ids)) == names
    if "Alice" in names:  # a name that needs no change is kept; case clashes are numbered
        assert [names[i] for i in ("ALICE", "Alice", "alice")] == [
            "ALICE.html",
            "Alice-2.html",
            "alice-3.html",
        ]


def _sheet2() -> Any:
    from grader import sheets

    return sheets.load("2")


def _book(path: Path, rows: dict[str, Entry], sheet: str = "2") -> Path:
    book = Gradebook(path)
    for i, (submission, entry) in enumerate(rows.items()):
        book.put(Key(sheet, submission, f"{i:064x}", 0, "spec"), entry)
    book.close()
    return path


def _report(submission: str, score: float) -> dict[str, Any]:
    return {
        "sheet": "2",
        "submission": submission,
        "score": score,
        "max_score": 4.0,
        "checks": [check("2.1.predict_class.grid", score=score, max_score=4.0)],
        "load_error": None,
        "notes": [],
    }


def feedback_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return run_grade("feedback", *args)


def test_grade_feedback_writes_a_page_per_current_row_and_an_index(tmp_path: Path) -> None:
    rows = {
        "alice.py": Entry("graded", 4.0, 4.0, report=_report("alice.py", 4.0), path="alice.py"),
        "bob": Entry("no_submission", 0.0, 4.0, "bob/ holds no .py or .ipynb file", path="bob"),
        "carl": Entry("ambiguous", 0.0, 4.0, "carl/ holds a.py and b.py", path="carl"),
        "dan.py": Entry("refused", 0.0, 4.0, "dan.py is a symbolic link", path="dan.py"),
        "eve.py": Entry(
            "not_loaded",
            0.0,
            4.0,
            "SyntaxError",
            {**_report("eve.py", 0), "load_error": "SyntaxError"},
            "eve.py",
        ),
    }
    db = _book(tmp_path / "book.sqlite", rows)
    out = tmp_path / "pages"
    proc = feedback_cli("--db", db, "-o", out, "--sheet", "2")
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in out.iterdir())
    names = feedback.file_names(rows)
    assert written == sorted([*names.values(), "index.html", feedback.MANIFEST])
    for sid, entry in rows.items():
        text = assert_inert((out / names[sid]).read_text(encoding="utf-8")).text
        assert sid in text
        if entry.status != "graded":
            said = "could not load" if entry.report else feedback.ROW_STATUS[entry.status]
            assert entry.message in text and said in text
    index = assert_inert((out / "index.html").read_text(), links=frozenset(names.values()))
    hrefs = [a["href"] for t, a in index.tags if t == "a"]
    assert hrefs == [names[s] for s in sorted(rows)]
    assert "Feedback · sheet 2" in index.text and "5 submissions" in index.text
    assert "4 / 4" in index.text and "no submission" in index.text


def test_a_folder_with_files_it_did_not_write_is_refused_and_its_own_is_rewritten(
    tmp_path: Path,
) -> None:
    rows = {
        "alice.py": Entry("graded", 4.0, 4.0, report=_report("alice.py", 4.0)),
        "bob.py": Entry("graded", 1.0, 4.0, report=_report("bob.py", 1.0)),
    }
    db = _book(tmp_path / "book.sqlite", rows)
    out = tmp_path / "pages"
    out.mkdir()
    mine = out / "notes.txt"
    mine.write_text("the TA's own notes")
    proc = feedback_cli("--db", db, "-o", out)
    assert proc.returncode == 2
    assert "did not write (notes.txt)" in proc.stderr and "nothing was written" in proc.stderr
    assert sorted(os.listdir(out)) == ["notes.txt"] and mine.read_text() == "the TA's own notes"
    mine.unlink()
    assert feedback_cli("--db", db, "-o", out).returncode == 0
    before = sorted(os.listdir(out))
    # Rewriting its own pages is fine; a page whose submission is gone is removed.
    book = Gradebook(db)
    book.forget_current("2", ["bob.py"])
    book.close()
    proc = feedback_cli("--db", db, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(out)) == [n for n in before if n != "bob.py.html"]
    (out / feedback.MANIFEST).write_text("not json")
    proc = feedback_cli("--db", db, "-o", out)
    assert proc.returncode == 2 and "not a manifest" in proc.stderr
    (out / "file").write_text("")
    assert feedback_cli("--db", db, "-o", out / "file").returncode == 2
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    proc = feedback_cli("--db", db, "-o", tmp_path / "link")
    assert proc.returncode == 2 and "symbolic link" in proc.stderr
    assert not list((tmp_path / "elsewhere").iterdir())
    assert feedback_cli("--db", db, "-o", out, "--sheet", "7").returncode == 2


# A submission whose exceptions, function names, notebook cells and file and folder
# names carry the payload; predict_class is wrong, so its page draws the plane.
HOSTILE_PY, HOSTILE_NOTEBOOK = hostile_sheet2(EVIL, NAME, 9)


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A class of hostile submissions graded by ``grade batch --feedback``: (pages, gradebook)."""
    base = tmp_path_factory.mktemp("hostile")
    subs = base / "subs"
    (subs / f"stud{NAME}").mkdir(parents=True)
    (subs / f"stud{NAME}" / "sheet2.py").write_text(HOSTILE_PY, encoding="utf-8")
    (subs / f"nb{NAME}.ipynb").write_text(json.dumps(HOSTILE_NOTEBOOK), encoding="utf-8")
    (subs / f"broken{NAME}.py").write_text(f"raise SystemExit({EVIL!r})\n", encoding="utf-8")
    (subs / f"empty{NAME}").mkdir()
    (subs / f"two{NAME}").mkdir()
    (subs / f"two{NAME}" / "a.py").write_text("x = 1\n")
    (subs / f"two{NAME}" / "b.py").write_text("x = 2\n")
    (subs / f"link{NAME}.py").symlink_to(EXAMPLES / "sheet2" / "correct.py")
    db, pages = base / "book.sqlite", base / "pages"
    proc = run_grade("batch", subs, "--sheet", "2", "--db", db, "--feedback", pages)
    assert proc.returncode == 0, proc.stderr
    return pages, db


def test_a_graded_hostile_class_gives_inert_pages(hostile_batch: tuple[Path, Path]) -> None:
    pages, _ = hostile_batch
    listed = set(json.loads((pages / feedback.MANIFEST).read_text())["files"])
    written = {p.name for p in pages.iterdir()} - {feedback.MANIFEST}
    assert listed == written and len(written) == 7
    statuses = set()
    for name in sorted(written - {feedback.INDEX}):
        text = (pages / name).read_text(encoding="utf-8")
        page = assert_inert(text)
        assert "<script>alert(1)<ofscript>" in page.text or "<script>alert(1)</script>" in page.text
        statuses |= {s for s in [*feedback.ROW_STATUS.values(), "could not load"] if s in page.text}
    assert {"could not load", "no submission", "refused: not read"} <= statuses
    assert any("ambiguous" in s for s in statuses)
    py = next(pages.glob("stud*.html")).read_text(encoding="utf-8")
    assert '<span class="x">✗</span>' in py and "where you differ" in py
    assert "hint:" in py  # the near-miss name is quoted in a hint
    nb = assert_inert(next(pages.glob("nb*.html")).read_text(encoding="utf-8")).text
    assert "note:" in nb and "RuntimeError" in nb
    assert_inert((pages / feedback.INDEX).read_text(), links=frozenset(written))


def test_batch_pages_equal_grade_feedback_pages(
    hostile_batch: tuple[Path, Path], tmp_path: Path
) -> None:
    pages, db = hostile_batch
    again = tmp_path / "again"
    proc = feedback_cli("--db", db, "-o", again)
    assert proc.returncode == 0, proc.stderr
    for name in os.listdir(pages):
        assert (again / name).read_bytes() == (pages / name).read_bytes(), name


def test_batch_refuses_a_foreign_feedback_folder_before_grading(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.py").write_text("x = 1\n")
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "index.html").write_text("the course's own index")
    db = tmp_path / "book.sqlite"
    proc = run_grade("batch", subs, "--sheet", "2", "--db", db, "--feedback", pages)
    assert proc.returncode == 2
    assert "--feedback" in proc.stderr and "did not write (index.html)" in proc.stderr
    assert (pages / "index.html").read_text() == "the course's own index"
    assert not db.exists()


def test_batch_writes_each_page_as_its_row_is_stored(tmp_path: Path, monkeypatch) -> None:
    """A batch stopped half-way leaves the pages of what it stored, all listed in the manifest."""
    from grader import batch

    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        (subs / name).write_text("x = 1\n")
    seen: list[set[str]] = []
    real = batch.grade_one

    def one_then_stop(root: Path, sub: Any, sheet: Any, options: Any) -> Any:
        seen.append(set(os.listdir(tmp_path / "pages")))
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real(root, sub, sheet, options)

    monkeypatch.setattr(batch, "grade_one", one_then_stop)
    with pytest.raises(KeyboardInterrupt):
        db, pages = str(tmp_path / "b.sqlite"), str(tmp_path / "pages")
        batch.main([str(subs), "--sheet", "2", "--jobs", "1", "--db", db, "--feedback", pages])
    assert seen[0] == {feedback.MANIFEST}  # the names are listed before any page is written
    left = set(os.listdir(tmp_path / "pages"))
    assert left == {feedback.MANIFEST, "a.py.html"}  # the one graded and stored, no index
    listed = json.loads((tmp_path / "pages" / feedback.MANIFEST).read_text())["files"]
    assert left - {feedback.MANIFEST} <= set(listed)


# --- in a real browser ----------------------------------------------------------

BROWSER_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-sandbox",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--proxy-server=127.0.0.1:9",  # nothing can reach the network, whatever asks
)
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
# Injected into a page to show the browser checks below can see a script run and a fetch.
PROBE = (
    '<p id="probe">probe</p><img src="http://feedback-probe.invalid/x.png">'
    "<script>document.getElementById('probe').setAttribute('data-ran','yes')</script>"
)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
    )
    if found is None:
        pytest.skip(
            "chromium is not installed (scripts/test.sh installs it with apt-get as root or "
            "with sudo): the feedback pages were not opened in a browser"
        )
    return found


def browse(chromium: str, page: Path, tmp: Path, *args: str) -> tuple[str, list[str]]:
    """Open ``page``: what the browser's DOM is afterwards, and every URL the page requested.

    The net log records the browser's own traffic too (update checks); a request
    the page made is one whose initiator is an origin (``null`` for a file).
    """
    log = tmp / f"{page.stem}-{len(list(tmp.iterdir()))}.netlog.json"
    proc = subprocess.run(
        [
            chromium,
            *BROWSER_FLAGS,
            f"--user-data-dir={tmp / 'profile'}",
            f"--log-net-log={log}",
            *args,
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    events = json.loads(log.read_text())["events"]
    urls = {}
    for event in events:
        params = event.get("params") or {}
        urls.setdefault(event["source"]["id"], {}).update(
            {k: params[k] for k in ("url", "initiator") if k in params}
        )
    requested = [
        u["url"]
        for u in urls.values()
        if "url" in u and u.get("initiator", "not an origin") != "not an origin"
    ]
    return proc.stdout, requested


def _real_pages(tmp: Path) -> Path:
    """Pages of the bundled examples (a wrong predict_class, a broken file) and a hostile row."""
    rows = {}
    for name in ("partly_wrong.py", "broken.py", "correct.py"):
        proc = run_grade(EXAMPLES / "sheet2" / name, "--sheet", "2", "--format", "json")
        report = json.loads(proc.stdout)
        status = "not_loaded" if report["load_error"] else "graded"
        rows[name] = Entry(status, report["score"], 100.0, report["load_error"] or "", report)
    rows[f"x{NAME}"] = Entry("graded", 3.5, 100.0, report=hostile_report())
    rows["empty_folder"] = Entry("no_submission", 0.0, 100.0, "empty_folder/ holds no .py file")
    db = _book(tmp / "book.sqlite", rows)
    assert feedback_cli("--db", db, "-o", tmp / "pages").returncode == 0
    return tmp / "pages"


def test_pages_in_chromium_at_phone_and_desktop_width_run_and_fetch_nothing(
    chromium: str, tmp_path: Path
) -> None:
    pages = _real_pages(tmp_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    names = feedback.file_names(["partly_wrong.py", "broken.py", f"x{NAME}", "empty_folder"])
    shots = []
    for page in [pages / n for n in names.values()] + [pages / feedback.INDEX]:
        for label, (width, height) in SIZES.items():
            shot = ARTIFACTS / f"{page.stem[:30]}-{label}.png"
            shot.unlink(missing_ok=True)
            browse(
                chromium, page, tmp_path, f"--screenshot={shot}", f"--window-size={width},{height}"
            )
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
            shots.append(shot)
        dom, requested = browse(chromium, page, tmp_path, "--dump-dom")
        assert requested == [], requested
        before, after = Page(page.read_text(encoding="utf-8")), Page(dom)
        assert "script" not in {t for t, _ in after.tags}
        assert after.text.split() == before.text.split()  # the DOM is the page: nothing ran
        assert [t for t, _ in after.tags] == [t for t, _ in before.tags]
    print(f"\nfeedback screenshots for a person to look at: {ARTIFACTS}", file=sys.stderr)
    assert len(shots) == 10


def test_the_browser_checks_see_a_script_and_a_fetch_and_the_csp_stops_both(
    chromium: str, tmp_path: Path
) -> None:
    page = feedback.page({"sheet": "2", "submission": "a.py", "checks": []})
    bare = tmp_path / "bare.html"
    bare.write_text(f"<!DOCTYPE html><html><body>{PROBE}</body></html>")
    dom, requested = browse(chromium, bare, tmp_path, "--dump-dom")
    assert 'data-ran="yes"' in dom and requested == ["http://feedback-probe.invalid/x.png"]
    ours = tmp_path / "ours.html"
    ours.write_text(page.replace("<main>", "<main>" + PROBE), encoding="utf-8")
    dom, requested = browse(chromium, ours, tmp_path, "--dump-dom")
    assert 'data-ran="yes"' not in dom and requested == []


def test_a_book_of_several_sheets_gets_a_page_per_sheet_and_submission(tmp_path: Path) -> None:
    db = tmp_path / "book.sqlite"
    book = Gradebook(db)
    for sheet in ("2", "9"):
        report = {**_report("alice.py", 1.0), "sheet": sheet}
        book.put(Key(sheet, "alice.py", "0" * 64, 0, "s"), Entry("graded", 1.0, 4.0, report=report))
    book.close()
    proc = feedback_cli("--db", db, "-o", tmp_path / "all")
    assert proc.returncode == 0, proc.stderr
    pages = sorted(p.name for p in (tmp_path / "all").glob("*.html"))
    assert pages == ["index.html", "sheet2-alice.py.html", "sheet9-alice.py.html"]
    assert "Sheet 9" in (tmp_path / "all" / "sheet9-alice.py.html").read_text()
    proc = feedback_cli("--db", db, "-o", tmp_path / "nine", "--sheet", "9")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "nine").glob("*.html")) == [
        "alice.py.html",
        "index.html",
    ]


def test_pages_show_a_tas_override_in_grade_feedback_and_batch(tmp_path: Path) -> None:
    """An override's points make the check's score and the total; its reason is shown, escaped."""
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(EXAMPLES / "sheet2" / "partly_wrong.py", subs / "bo.py")
    db = tmp_path / "book.sqlite"
    proc = run_grade("batch", subs, "--sheet", "2", "--db", db)
    assert proc.returncode == 0, proc.stderr
    reason = "sign slip only <script>alert(1)</script>"
    proc = run_grade("override", "--db", db, "bo.py", "2.2.logcosh.large", "2", "--reason", reason)
    assert proc.returncode == 0, proc.stderr
    proc = feedback_cli("--db", db, "-o", tmp_path / "pages")
    assert proc.returncode == 0, proc.stderr
    assert "wrote 1 page and" in proc.stderr
    text = assert_inert((tmp_path / "pages" / "bo.py.html").read_text()).text
    assert f"changed by your TA to 2 points: {reason}" in text
    assert "Total: 56 / 100" in text  # 54 graded, + 2 by the override
    index = (tmp_path / "pages" / "index.html").read_text()
    assert "56 / 100" in index
    proc = run_grade("batch", subs, "--sheet", "2", "--db", db, "--feedback", tmp_path / "b")
    assert proc.returncode == 0, proc.stderr
    assert "wrote 1 feedback page and" in proc.stderr
    assert (tmp_path / "b" / "bo.py.html").read_bytes() == (
        tmp_path / "pages" / "bo.py.html"
    ).read_bytes()
