"""The generated documentation: committed, current, and true to the code it describes."""

from __future__ import annotations

import inspect
import re

import pytest

from conftest import EXAMPLES, ROOT, grade_json, run_grade
from grader import cli, docs, report
from grader.comparison import AllClose, Custom, Exact, Labels
from grader.contract import CONTRACT, SETUP
from grader.sheets import available, load

DOCS = ROOT / "docs"


def test_committed_docs_are_what_the_code_generates():
    generated = docs.generate()
    stale = [
        rel
        for rel, text in generated.items()
        if not (DOCS / rel).exists() or (DOCS / rel).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"out of date: {stale}; regenerate with `python -m grader.docs`"
    committed = {str(p.relative_to(DOCS)) for p in (DOCS / "sheets").glob("*.md")}
    assert committed == {rel for rel in generated if rel.startswith("sheets/")}


def test_docs_check_flags_a_stale_file(tmp_path, capsys):
    assert docs.main(["--out", str(tmp_path)]) == 0
    assert docs.main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "sheets" / "sheet2.md").write_text("edited by hand\n", encoding="utf-8")
    assert docs.main(["--out", str(tmp_path), "--check"]) == 1
    assert "sheet2.md" in capsys.readouterr().err


@pytest.mark.parametrize("sheet_id", available())
def test_sheet_reference_has_every_function_and_check(sheet_id):
    text = docs.sheet_reference(sheet_id)
    for fn in CONTRACT[sheet_id]:
        assert fn.details, f"{fn.name} has no details for the reference"
        assert f"### `{fn.signature}`\n\n{fn.details}\n" in text
    sheet = load(sheet_id)
    for exercise, check in sheet.iter_checks():
        assert f"| `{sheet.check_id(exercise, check)}` | {check.points:g} |" in text
    assert "0-based" in text and "σ" in text and "ρ" in text
    assert "1e-6·|expected|" in text  # the default rtol, stated from AllClose itself


@pytest.mark.parametrize("sheet_id", available())
def test_setup_text_names_exercises_the_spec_has(sheet_id):
    assert set(SETUP.get(sheet_id, {})) <= {e.id for e in load(sheet_id).exercises}


def test_contract_command_prints_the_committed_reference(tmp_path):
    proc = run_grade("contract", "--sheet", "9")
    assert proc.returncode == 0
    assert proc.stdout == (DOCS / "sheets" / "sheet9.md").read_text(encoding="utf-8")
    out = tmp_path / "sheet9.md"
    assert run_grade("contract", "--sheet", "9", "-o", out).returncode == 0
    assert out.read_text(encoding="utf-8") == proc.stdout


def test_contract_command_as_text_and_for_an_unknown_sheet():
    proc = run_grade("contract", "--sheet", "2", "--format", "text")
    assert proc.returncode == 0
    assert "grads_w13_w24(x1, x2, t, w13, w24)" in proc.stdout
    assert "<!--" not in proc.stdout and "| --- |" not in proc.stdout
    proc = run_grade("contract", "--sheet", "5")
    assert proc.returncode == 2 and "known sheets" in proc.stderr


def test_comparisons_are_described_by_their_tolerances():
    assert docs.describe_comparison(AllClose()) == "default tolerance"
    tight = AllClose(rtol=1e-9, atol=1e-12, scale_tol=0.0, float32=False)
    assert docs.describe_comparison(tight) == "rtol 1e-9, atol 1e-12, float64 required"
    assert docs.describe_comparison(Exact()) == "exact"
    assert docs.describe_comparison(Labels()) == "exact class labels"
    judge = Custom(name="tree, structurally", fn=lambda e, g, p: None)
    assert docs.describe_comparison(judge) == "tree, structurally"


def test_cli_doc_covers_every_subcommand_and_option():
    dispatched = set(re.findall(r'argv\[0\] == "([a-z-]+)"', inspect.getsource(cli.main)))
    assert dispatched and dispatched <= set(docs.CLI_COMMANDS), (
        f"add {dispatched - set(docs.CLI_COMMANDS)} to grader.docs.CLI_COMMANDS "
        "and run `python -m grader.docs`"
    )
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## `([^`]+)`\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    for command in docs.CLI_COMMANDS:
        proc = run_grade(*([command] if command else []), "--help")
        assert proc.returncode == 0
        section = sections[f"grade {command}".strip()]
        for option in set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", proc.stdout)) - {"--help"}:
            assert option in section, (command, option)


def test_cli_usage_line_follows_argparse():
    import argparse

    p = argparse.ArgumentParser(prog="grade demo")
    p.add_argument("files", nargs="+")
    p.add_argument("--sheet", action="append", required=True, metavar="ID")
    p.add_argument("--db", nargs="?", metavar="FILE")
    p.add_argument("--force", action="store_true")
    expected = "grade demo [-h] --sheet ID [--db [FILE]] [--force] files [files ...]"
    assert docs._usage(p) == expected
    assert " ".join(p.format_usage().split()) == "usage: " + docs._usage(p)


def test_json_report_doc_names_every_field_the_report_emits():
    # partly_wrong has public and hidden checks, seeds, hints and a figure
    emitted = grade_json(EXAMPLES / "sheet2" / "partly_wrong.py", "2")
    check_keys = set().union(*(c.keys() for c in emitted["checks"]))
    todo = "describe it in grader.docs and run `python -m grader.docs`"
    assert set(emitted) == {k for k, _, _ in docs.REPORT_FIELDS}, todo
    assert check_keys == {k for k, _, _ in docs.CHECK_FIELDS}, todo
    assert set(emitted["isolation"]) == {k for k, _, _ in docs.ISOLATION_FIELDS}, todo
    assert set(report.STATUS_STYLE) <= {s for s, _ in docs.STATUSES}, todo
    text = (DOCS / "json-report.md").read_text(encoding="utf-8")
    for key in [*emitted, *check_keys, *(f"isolation.{k}" for k in emitted["isolation"])]:
        assert f"| `{key}` |" in text


def test_readme_and_docs_point_nowhere_outside_the_project():
    for path in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        assert "shared/" not in path.read_text(encoding="utf-8"), path
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for link in re.findall(r"\]\(([^)#]+)\)", readme):
        if "://" not in link:
            assert (ROOT / link).exists(), link
