"""``grade doctor`` and ``--require-isolation``.

The advice is a pure function of a probe, so each machine a grader may meet (a
GitHub runner whose AppArmor blocks user namespaces, a host without bubblewrap,
cgroup v2 without delegation, ...) is fed in as a probe; the probe itself and
the refusal are run for real on this machine.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, run_grade
from grader import doctor
from grader import isolation as iso_mod
from grader.doctor import AS_ROOT, OWN_SCOPE, Probe, diagnose, render
from grader.limits import CgroupStatus

LINUX = sys.platform.startswith("linux")
BLOCKED = "bwrap: setting up uid map: Permission denied"


def machine(**changes) -> Probe:
    """A machine with full isolation (root-less, cgroup v2 delegated), changed as asked."""
    good = Probe(
        platform="linux",
        euid=1001,
        forced="",
        bwrap="/usr/bin/bwrap",
        bwrap_error=None,
        unshare_works=True,
        sysctls={
            "kernel.apparmor_restrict_unprivileged_userns": 0,
            "kernel.unprivileged_userns_clone": None,
            "user.max_user_namespaces": 63000,
        },
        package_manager="apt-get",
        cgroup=CgroupStatus("v2", "ok", None, Path("/sys/fs/cgroup/user.slice/x")),
        cgroup_error=None,
    )
    return dataclasses.replace(good, **changes)


def v2(kind: str, problem: str) -> dict:
    return {"cgroup": CgroupStatus("v2", kind, problem), "cgroup_error": problem}


def fixes(d) -> list[str]:
    return [fix for f in d.findings for fix in f.fixes]


def test_a_machine_with_bubblewrap_and_a_cgroup_has_full_isolation():
    d = diagnose(machine())
    assert d.full and d.method == "bubblewrap"
    assert all(f.ok for f in d.findings) and fixes(d) == []
    assert render(d).startswith("isolation: full (submissions run under bubblewrap)")


def test_apparmor_blocking_user_namespaces_gets_the_sysctl():
    sysctls = {**machine().sysctls, "kernel.apparmor_restrict_unprivileged_userns": 1}
    d = diagnose(machine(bwrap_error=BLOCKED, sysctls=sysctls, unshare_works=False))
    assert not d.full and d.method == "process"
    sandbox = d.findings[0]
    assert not sandbox.ok and "AppArmor" in sandbox.detail and BLOCKED in sandbox.detail
    assert sandbox.fixes[0] == "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
    assert "fix: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in render(d)


def test_apparmor_is_not_blamed_for_root_which_it_does_not_restrict():
    sysctls = {**machine().sysctls, "kernel.apparmor_restrict_unprivileged_userns": 1}
    d = diagnose(
        machine(euid=0, bwrap_error="bwrap: Creating new namespace failed", sysctls=sysctls)
    )
    assert not d.full and d.method == "unshare"
    assert "AppArmor" not in d.findings[0].detail and fixes(d) == []


@pytest.mark.parametrize(
    "sysctl, value, fix",
    [
        (
            "kernel.unprivileged_userns_clone",
            0,
            "sudo sysctl -w kernel.unprivileged_userns_clone=1",
        ),
        ("user.max_user_namespaces", 0, "sudo sysctl -w user.max_user_namespaces=10000"),
    ],
)
def test_user_namespaces_turned_off_get_their_sysctl(sysctl, value, fix):
    sysctls = {**machine().sysctls, sysctl: value}
    d = diagnose(
        machine(bwrap_error="bwrap: No permissions to create new namespace", sysctls=sysctls)
    )
    assert not d.full and fixes(d) == [fix]
    assert f"{sysctl} = 0" in d.findings[0].detail


@pytest.mark.parametrize(
    "manager, fix",
    [("apt-get", "sudo apt-get install -y bubblewrap"), ("dnf", "sudo dnf install -y bubblewrap")],
)
def test_no_bubblewrap_gets_the_install_command(manager, fix):
    d = diagnose(machine(bwrap=None, package_manager=manager))
    assert not d.full and d.method == "unshare"
    assert "not installed" in d.findings[0].detail and fixes(d) == [fix]


def test_a_forced_method_is_reduced_and_says_how_to_undo_it():
    d = diagnose(machine(forced="process"))
    assert not d.full and d.method == "process"
    assert fixes(d) == ["unset GRADER_ISOLATION"]


def test_cgroup_v2_without_delegation_gets_root_or_a_delegated_scope():
    d = diagnose(machine(**v2("v2_delegation", "cgroup v2: the grader is not root")))
    assert not d.full and d.method == "bubblewrap"
    cgroup, limits = d.findings[1], d.findings[2]
    assert not cgroup.ok and "no per-submission cgroup" in cgroup.detail
    assert cgroup.fixes == (AS_ROOT, OWN_SCOPE)
    assert OWN_SCOPE == "systemd-run --user --scope -p Delegate=yes grade ..."
    assert limits.state == "per process only"


def test_a_shared_cgroup_gets_a_scope_of_its_own():
    d = diagnose(machine(**v2("v2_busy", "the cgroup v2 group /x holds other processes")))
    assert not d.full and fixes(d) == [OWN_SCOPE]


def test_cgroup_v2_without_memory_and_pids_says_where_they_are_missing():
    problem = "the cgroup v2 controllers memory, pids are not available in /sys/fs/cgroup/x"
    d = diagnose(machine(**v2("v2_controllers", problem)))
    assert not d.full and problem in d.findings[1].detail
    assert fixes(d) == [OWN_SCOPE, AS_ROOT]


def test_cgroup_v1_needs_root():
    status = CgroupStatus("v1", "v1_root", "cgroups need root")
    d = diagnose(machine(cgroup=status, cgroup_error="cgroups need root"))
    assert not d.full and fixes(d) == [AS_ROOT]


def test_cgroups_turned_off_say_how_to_turn_them_on():
    status = CgroupStatus(None, "off", "turned off by GRADER_CGROUPS=off")
    d = diagnose(machine(cgroup=status, cgroup_error=status.problem))
    assert not d.full and fixes(d) == ["unset GRADER_CGROUPS"]


def test_a_test_cgroup_that_could_not_be_made_is_not_full_isolation():
    d = diagnose(machine(cgroup_error="making a test cgroup with the limits failed"))
    assert not d.full and not d.findings[1].ok


def test_another_platform_has_no_sandbox():
    d = diagnose(machine(platform="darwin", bwrap=None, unshare_works=False))
    assert not d.full and d.method == "process" and "darwin" in d.findings[0].detail


def test_what_bubblewrap_said_is_shown_escaped():
    d = diagnose(machine(bwrap_error="bwrap: \x1b[2Jboom\u202e"))
    text = render(d)
    assert "\x1b" not in text and "\u202e" not in text and "\\x1b[2Jboom" in text


# For real, on this machine.


def test_the_probe_really_launches_bubblewrap(tmp_path, monkeypatch):
    fake = tmp_path / "bwrap"
    fake.write_text(f"#!/bin/sh\necho '{BLOCKED}' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    p = doctor.probe()
    assert p.bwrap == str(fake) and p.bwrap_error == BLOCKED
    assert not diagnose(p).full


class _Unjoinable:
    """A cgroup that is made but that no process joins (a delegation without the right to move)."""

    ok = True

    def add_self(self) -> None:
        pass

    def pids(self) -> set[int]:
        return set()

    def remove(self) -> None:
        self.removed = True


@pytest.mark.skipif(not LINUX, reason="cgroups are Linux")
def test_the_probe_really_joins_its_test_cgroup(monkeypatch):
    from grader import limits

    monkeypatch.setattr(limits, "cgroup_status", lambda: CgroupStatus("v2", "ok", None))
    made = _Unjoinable()
    monkeypatch.setattr(limits, "make_cgroup", lambda _limits: made)
    p = doctor.probe()
    assert p.cgroup_error == "a process could not join the test cgroup" and made.removed
    assert not diagnose(p).findings[1].ok


FULL_HERE = LINUX and iso_mod.verified_isolation().full


@pytest.mark.skipif(not FULL_HERE, reason="this machine does not give full isolation")
def test_doctor_on_this_machine_finds_full_isolation():
    proc = run_grade("doctor")
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("isolation: full (submissions run under bubblewrap)")
    assert "cgroup: ok" in proc.stdout and "test cgroup was made" in " ".join(proc.stdout.split())


@pytest.mark.skipif(not LINUX, reason="cgroups are Linux")
def test_doctor_without_cgroups_exits_1_with_the_fix():
    proc = run_grade("doctor", env={"GRADER_CGROUPS": "off"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "isolation: REDUCED" in proc.stdout and "fix: unset GRADER_CGROUPS" in proc.stdout


# --require-isolation


@pytest.mark.parametrize(
    "env, fix",
    [
        ({"GRADER_ISOLATION": "process"}, "unset GRADER_ISOLATION"),
        ({"GRADER_CGROUPS": "off"}, "unset GRADER_CGROUPS"),
    ],
)
def test_grade_refuses_without_full_isolation(env, fix):
    example = EXAMPLES / "sheet2" / "correct.py"
    proc = run_grade(
        str(example), "--sheet", "2", "--format", "json", "--require-isolation", env=env
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "refusing to grade" in proc.stderr and f"fix: {fix}" in proc.stderr


def test_batch_refuses_without_full_isolation_and_writes_nothing(tmp_path):
    db, csv = tmp_path / "book.sqlite", tmp_path / "grades.csv"
    proc = run_grade(
        "batch",
        str(EXAMPLES / "sheet2"),
        "--sheet",
        "2",
        "--db",
        str(db),
        "--csv",
        str(csv),
        "--require-isolation",
        env={"GRADER_CGROUPS": "off"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "refusing to grade" in proc.stderr and "fix: unset GRADER_CGROUPS" in proc.stderr
    assert not db.exists() and not csv.exists()


@pytest.mark.skipif(not FULL_HERE, reason="this machine does not give full isolation")
def test_with_full_isolation_require_isolation_grades_as_usual():
    example = EXAMPLES / "sheet2" / "correct.py"
    proc = run_grade(str(example), "--sheet", "2", "--format", "json", "--require-isolation")
    assert proc.returncode == 0, proc.stderr
    assert '"full": true' in proc.stdout
