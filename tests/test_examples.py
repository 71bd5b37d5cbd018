"""The CI examples in examples/ run commands that exist, with options that exist.

Every YAML file there is parsed; each ``grade ...`` command it runs (in a
``run:``, ``script:``, or a container's ``command:``/``args:``) is split as a
shell would and parsed by the very parser ``grade`` uses for it, which must know
every option. The README's YAML snippets are held to the same.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml  # the dev extra

from conftest import ROOT
from grader import docs

EXAMPLES = ROOT / "examples"
SHELL_KEYS = ("run", "script", "before_script", "after_script")
OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1"}
# What GitHub substitutes before the shell sees a line.
EXPRESSIONS = {"matrix.shard": "1"}


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yml", ".yaml"))


def _github(text: str) -> str:
    def value(match: re.Match[str]) -> str:
        return EXPRESSIONS.get(match.group(1).strip(), "EXPR")

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def commands_in_shell(text: str) -> Iterator[list[str]]:
    """The argv after each ``grade`` a shell script runs (``sudo path/to/grade ...`` too)."""
    text = _github(text).replace("\\\n", " ")
    for inner in _substitutions(text):
        yield from commands_in_shell(inner)
    for line in text.splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise AssertionError(f"not a shell line: {line!r} ({exc})") from exc
        for i, token in enumerate(tokens):
            if os.path.basename(token) == "grade" and (i == 0 or tokens[i - 1] != "-v"):
                argv = []
                for arg in tokens[i + 1 :]:
                    if arg in OPERATORS or arg.startswith((">", "2>")):
                        break
                    argv.append(arg)
                yield argv


def _substitutions(text: str) -> list[str]:
    """The insides of the outermost ``$(...)`` in ``text`` (what a shell runs first)."""
    found, depth, start = [], 0, 0
    i = 0
    while i < len(text):
        if text.startswith("$(", i):
            if depth == 0:
                start = i + 2
            depth += 1
            i += 2
            continue
        if text[i] == ")" and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start:i])
        i += 1
    return found


def commands_in(node: object) -> Iterator[list[str]]:
    """Every grade command in a parsed YAML document."""
    if isinstance(node, dict):
        command, args = node.get("command"), node.get("args")
        if isinstance(command, list) or isinstance(args, list):
            argv = [str(a) for a in [*(command or []), *(args or [])]]
            if argv and os.path.basename(argv[0]) == "grade":
                yield argv[1:]
            elif argv[:2] in (["sh", "-c"], ["bash", "-c"]):
                yield from commands_in_shell(argv[2])
        for key, value in node.items():
            if key in SHELL_KEYS:
                for script in value if isinstance(value, list) else [value]:
                    if isinstance(script, str):
                        yield from commands_in_shell(script)
            elif key not in ("command", "args"):
                yield from commands_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from commands_in(item)


def file_commands(path: Path) -> list[list[str]]:
    found = []
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        found += list(commands_in(document))
    return found


@cache
def _parser(command: str) -> argparse.ArgumentParser:
    return docs.command_parser(command)


def problem(argv: list[str]) -> str | None:
    """Why ``grade *argv`` would not parse, or None."""
    first = argv[0] if argv else ""
    command = first if first in docs.CLI_COMMANDS else ""
    if not command and not first.endswith((".py", ".ipynb")) and not first.startswith("-"):
        known = ", ".join(c or "FILE" for c in docs.CLI_COMMANDS)
        return f"`grade {first}` is not a command of the grader (grade {known})"
    parser = _parser(command)
    try:
        _, unknown = parser.parse_known_args(argv[1:] if command else argv)
    except SystemExit:
        return f"`grade {shlex.join(argv)}` does not parse (see the parser's error above)"
    if unknown:
        return f"`grade {shlex.join(argv)}`: {parser.prog} does not know {unknown}"
    return None


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_every_grade_command_in_an_example_exists_with_its_options(path):
    commands = file_commands(path)
    assert commands, f"{path.name} runs no grade command"
    problems = [p for p in map(problem, commands) if p]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_every_example_grades_only_with_full_isolation(path):
    grading = [c for c in file_commands(path) if c and c[0] not in ("doctor", "merge")]
    assert grading, f"{path.name} grades nothing"
    assert all("--require-isolation" in c for c in grading), grading


def test_the_examples_are_the_four_ci_set_ups():
    names = {p.name for p in example_files()}
    assert names == {
        "github-actions.yml",
        "github-classroom.yml",
        "gitlab-ci.yml",
        "kubernetes-indexed-job.yml",
    }


def test_the_github_workflows_unblock_bubblewrap_before_grading():
    for name in ("github-actions.yml", "github-classroom.yml"):
        (workflow,) = yaml.safe_load_all((EXAMPLES / name).read_text(encoding="utf-8"))
        for job in workflow["jobs"].values():
            runs = [step.get("run", "") for step in job["steps"]]
            grading = [i for i, r in enumerate(runs) if "--require-isolation" in r]
            if grading:
                sysctl = "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
                assert sysctl in runs[: grading[0]], name


def test_the_sharded_set_ups_shard_and_merge():
    (github,) = yaml.safe_load_all((EXAMPLES / "github-actions.yml").read_text(encoding="utf-8"))
    assert github["jobs"]["grade"]["strategy"]["matrix"]["shard"] == [1, 2, 3]
    commands = file_commands(EXAMPLES / "github-actions.yml")
    assert commands[1][:6] == ["batch", "submissions/", "--sheet", "9", "--shard", "1/3"]
    merge = next(c for c in commands if c[0] == "merge")
    assert {"--db", "--csv", "--junit"} <= set(merge)

    (gitlab,) = yaml.safe_load_all((EXAMPLES / "gitlab-ci.yml").read_text(encoding="utf-8"))
    assert gitlab["grade"]["parallel"] == 3
    assert gitlab["merge"]["artifacts"]["reports"]["junit"] == "grades.xml"
    assert any("auto" in c for c in file_commands(EXAMPLES / "gitlab-ci.yml"))

    (job,) = yaml.safe_load_all(
        (EXAMPLES / "kubernetes-indexed-job.yml").read_text(encoding="utf-8")
    )
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert "JOB_COMPLETION_INDEX" in env
    assert env["GRADE_SHARD_TOTAL"] == str(job["spec"]["completions"])
    (command,) = file_commands(EXAMPLES / "kubernetes-indexed-job.yml")
    assert command[command.index("--shard") + 1] == "auto"


def test_the_classroom_workflow_feeds_the_reporter():
    (workflow,) = yaml.safe_load_all(
        (EXAMPLES / "github-classroom.yml").read_text(encoding="utf-8")
    )
    (job,) = workflow["jobs"].values()
    grade = next(s for s in job["steps"] if s.get("id") == "grade")
    assert "--format classroom" in grade["run"] and "base64 -w0" in grade["run"]
    assert "result=" in grade["run"] and "$GITHUB_OUTPUT" in grade["run"]
    reporter = job["steps"][-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["env"]["GRADE_RESULTS"] == "${{ steps.grade.outputs.result }}"
    assert reporter["with"]["runners"] == "grade"


def test_the_readme_yaml_snippets_run_real_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    commands = [c for block in blocks for c in commands_in(yaml.safe_load(block))]
    assert commands
    problems = [p for p in map(problem, commands) if p]
    assert not problems, "\n".join(problems)


def test_the_command_finder_finds_what_a_shell_would_run():
    script = 'sudo "$X/bin/grade" batch d/ --sheet 9 \\\n  --shard ${{ matrix.shard }}/3 > log'
    assert list(commands_in_shell(script)) == [["batch", "d/", "--sheet", "9", "--shard", "1/3"]]
    assert list(commands_in_shell("command -v grade")) == []
    inside = 'echo "r=$(grade f.py --sheet 9 | base64 -w0)" >> "$GITHUB_OUTPUT"'
    assert list(commands_in_shell(inside)) == [["f.py", "--sheet", "9"]]
    assert problem(["batch", "d/", "--sheet", "9", "--no-such-option"]) is not None
    assert problem(["nosuchcommand", "--db", "x"]) is not None
    assert problem(["f.py", "--sheet", "2", "--require-isolation"]) is None


def test_the_kit_portability_workflow_runs_real_commands_on_three_platforms():
    path = ROOT / ".github" / "workflows" / "kit-portability.yml"
    commands = file_commands(path)
    assert ["kit", "--sheet", "2", "--sheet", "9", "-o", "kit"] in commands
    assert any(c[:1] == ["doctor"] for c in commands)
    assert sum(c[0].endswith((".py", ".ipynb")) for c in commands) >= 4
    problems = [p for p in map(problem, commands) if p]
    assert not problems, "\n".join(problems)
    (workflow,) = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    job = workflow["jobs"]["kit"]
    assert set(job["strategy"]["matrix"]["os"]) == {
        "ubuntu-latest",
        "macos-latest",
        "windows-latest",
    }
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.12"]
    assert job["defaults"]["run"]["shell"] == "bash"


def _workflow_step(path: Path, words: str) -> dict:
    (workflow,) = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    (step,) = [s for s in workflow["jobs"]["kit"]["steps"] if words in s.get("run", "")]
    return step


@pytest.mark.skipif(shutil.which("bash") is None, reason="the workflow's steps are bash")
def test_the_kit_portability_doctor_step_passes_on_reduced_isolation_only(tmp_path):
    """`grade doctor` exits 1 where isolation is reduced, which macOS, Windows and a runner
    without bubblewrap all are: the step must pass then, and fail on any other error."""
    step = _workflow_step(ROOT / ".github" / "workflows" / "kit-portability.yml", "doctor")
    for status, passes in ((0, True), (1, True), (2, False), (127, False)):
        fake = tmp_path / str(status)
        fake.mkdir()
        (fake / "grade").write_text(f"#!/bin/sh\nexit {status}\n")
        (fake / "grade").chmod(0o755)
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            env={**os.environ, "KIT_BIN": str(fake)},
            capture_output=True,
        )
        assert (proc.returncode == 0) == passes, (status, proc.returncode)
