"""The sandbox's own logic: masking, fallbacks that announce themselves, cleanup, answer checks.

The end-to-end attacks live in ``test_sandbox_attacks.py``; these tests pin the
pieces those rely on, including the ones this machine does not exercise there
(a non-editable install, a machine without namespaces, a grader without cgroups).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, run_grade
from grader import isolation as iso_mod
from grader import limits, sandbox, wire
from grader.isolation import Isolation, isolation, masked_paths, verified_isolation
from grader.limits import Limits
from grader.sandbox import SelectPipes, ThreadPipes, Worker, malformed_answer

LINUX = sys.platform.startswith("linux")
needs_bwrap = pytest.mark.skipif(
    not (LINUX and verified_isolation().method == "bubblewrap"), reason="needs bubblewrap"
)


@pytest.fixture
def fresh_isolation():
    """Probe again under the test's environment, and again for whoever runs next."""
    iso_mod.reset()
    yield isolation
    iso_mod.reset()


# Masking this grader's packages wherever the sandbox binds them.


def test_non_editable_install_in_site_packages_is_masked():
    sp = "/venv/lib/python3.11/site-packages"
    own = [Path(sp, "grader"), Path(sp, "exercises"), Path(sp, "reference")]
    assert masked_paths(["/venv/bin", sp], own) == sorted(map(str, own))


def test_editable_install_outside_the_bound_roots_needs_no_mask():
    own = [Path("/home/ta/dl-grader/grader"), Path("/home/ta/dl-grader/reference")]
    assert masked_paths(["/venv/lib", "/usr/lib/python3.11"], own) == []


def test_a_similar_name_is_not_inside_a_root():
    assert masked_paths(["/venv/lib"], [Path("/venv/lib2/grader")]) == []
    assert masked_paths(["/venv/lib/site"], [Path("/venv/lib/site-packages/grader")]) == []


def test_symlinked_root_is_masked_at_the_path_the_sandbox_binds(tmp_path):
    real = tmp_path / "real-venv" / "lib"
    (real / "grader").mkdir(parents=True)
    link = tmp_path / "venv"
    link.symlink_to(tmp_path / "real-venv")
    masked = masked_paths([str(link / "lib")], [real / "grader"])
    assert masked == [str(link / "lib" / "grader")]


def test_the_real_install_masks_nothing_it_does_not_need():
    """Here the grader runs from its checkout (editable): nothing of it lies under a root."""
    roots = iso_mod._python_roots()
    own = iso_mod.own_packages()
    assert {p.name for p in own} == {"grader", "exercises", "reference"}
    for mask in masked_paths(roots, own):
        assert Path(mask).name in {"grader", "exercises", "reference"}


@needs_bwrap
def test_masking_hides_a_non_editable_install_for_real(tmp_path):
    """A throwaway 'site-packages' holding copies of our packages, bound like the real one."""
    site = tmp_path / "site-packages"
    for package in ("grader", "exercises", "reference", "harmless"):
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text("")
        (site / package / "secret.py").write_text("ANSWER = 42\n")
    probe = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "seen = {}\n"
        "for name in ('grader', 'exercises', 'reference', 'harmless'):\n"
        "    try:\n"
        "        __import__(name + '.secret')\n"
        "        seen[name] = True\n"
        "    except ImportError:\n"
        "        seen[name] = False\n"
        "print(json.dumps(seen))\n"
    )
    own = [site / "grader", site / "exercises", site / "reference"]
    roots = [*iso_mod._python_roots(), str(site)]
    cmd = iso_mod.bwrap_args(
        shutil.which("bwrap"), None, Limits(), [sys.executable, "-I", "-c", probe], roots, own
    )
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "grader": False,
        "exercises": False,
        "reference": False,
        "harmless": True,
    }


@needs_bwrap
def test_the_sandbox_writes_only_to_its_scratch_and_shm():
    probe = (
        "import os\n"
        "for d in ('/scratch', '/dev/shm', '/tmp', '/', '/dev', '/proc/sys/kernel', '/usr'):\n"
        "    try:\n"
        "        open(os.path.join(d, 'probe'), 'w').close()\n"
        "        print(d)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    cmd = iso_mod.bwrap_args(
        shutil.which("bwrap"), None, Limits(), [sys.executable, "-I", "-c", probe]
    )
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert proc.stdout.split() == ["/scratch", "/dev/shm"], proc.stderr


# Choosing the isolation: forceable, and never silently reduced.


def test_forced_process_mode_says_so(monkeypatch, fresh_isolation):
    monkeypatch.setenv("GRADER_ISOLATION", "process")
    iso = fresh_isolation()
    assert iso == Isolation("process", False, iso.note)
    assert "GRADER_ISOLATION=process" in iso.note
    if iso_mod.own_uid_works("process"):  # a root grader whose Python every uid may run
        assert "unprivileged uid of its own, not as root" in iso.note
    else:
        assert "read and write your files" in iso.note


def test_workers_of_one_grader_never_share_a_uid(monkeypatch):
    """``grade batch --jobs`` runs several workers at once: two with one uid could signal
    each other and read each other's scratch. The draw is random; a repeat is drawn again."""
    draws = iter([0, 0, 1])
    monkeypatch.setattr(secrets, "randbelow", lambda n: next(draws))
    first, second = iso_mod.worker_uid(), iso_mod.worker_uid()
    try:
        assert first != second
    finally:
        iso_mod.release_uid(first)
        iso_mod.release_uid(second)
    monkeypatch.setattr(secrets, "randbelow", lambda n: 0)
    again = iso_mod.worker_uid()  # a released uid may be drawn again
    iso_mod.release_uid(again)
    assert again == first


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_uid_that_a_live_process_runs_as_is_never_a_workers(monkeypatch):
    """Another grader's worker (CI shards on one machine) or a process left over has it."""
    busy = iso_mod.WORKER_UIDS[0]
    other = subprocess.Popen(["sleep", "60"], user=busy, group=busy, extra_groups=[])
    try:
        draws = iter([0, 1])
        monkeypatch.setattr(secrets, "randbelow", lambda n: next(draws))
        uid = iso_mod.worker_uid()
        iso_mod.release_uid(uid)
        assert uid == iso_mod.WORKER_UIDS[1]
    finally:
        other.kill()
        other.wait()


def test_unknown_isolation_value_is_reported_not_obeyed(monkeypatch, fresh_isolation):
    monkeypatch.setenv("GRADER_ISOLATION", "chroot")
    iso = fresh_isolation()
    assert "'chroot'" in iso.note and "ignored" in iso.note
    assert iso.method in iso_mod.METHODS


@pytest.mark.skipif(not LINUX or not shutil.which("unshare"), reason="needs unshare")
def test_forced_unshare_mode_says_what_is_missing(monkeypatch, fresh_isolation):
    monkeypatch.setenv("GRADER_ISOLATION", "unshare")
    iso = fresh_isolation()
    assert not iso.full and iso.method in ("unshare", "process")
    assert "GRADER_ISOLATION=unshare" in iso.note


@pytest.mark.parametrize("method", ["process", "unshare"])
def test_reduced_isolation_is_announced_in_json_and_on_stderr(method):
    example = EXAMPLES / "sheet2" / "correct.py"
    proc = run_grade(
        example, "--sheet", "2", "--format", "json", timeout=120, env={"GRADER_ISOLATION": method}
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["score"] == 100.0
    assert report["isolation"]["full"] is False
    assert f"GRADER_ISOLATION={method}" in report["isolation"]["note"]
    assert "reduced isolation" in proc.stderr
    assert report["isolation"]["note"] in proc.stderr


# Without a per-submission cgroup the limits bind each process: that is reduced isolation.


@needs_bwrap
def test_bubblewrap_without_cgroups_is_announced_as_reduced():
    example = EXAMPLES / "sheet2" / "correct.py"
    env = {"GRADER_CGROUPS": "off", "GRADER_ISOLATION": None}
    proc = run_grade(example, "--sheet", "2", "--format", "json", timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["score"] == 100.0
    assert report["isolation"]["method"] == "bubblewrap"
    assert report["isolation"]["full"] is False
    assert "no per-submission cgroup" in report["isolation"]["note"]
    assert "GRADER_CGROUPS=off" in report["isolation"]["note"]
    assert "reduced isolation" in proc.stderr


def test_a_cgroup_v2_only_host_is_reduced_isolation(monkeypatch, tmp_path, fresh_isolation):
    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    monkeypatch.setattr(limits, "CGROUP_ROOT", tmp_path)
    monkeypatch.delenv("GRADER_CGROUPS", raising=False)
    iso = fresh_isolation()
    assert not iso.full
    assert "no per-submission cgroup" in iso.note and "cgroup v2" in iso.note


@pytest.mark.skipif(not LINUX, reason="cgroups are Linux")
def test_a_cgroup_that_cannot_be_made_is_not_claimed(monkeypatch, fresh_isolation):
    """The probe may pass and the real cgroup still fail: the report must not claim one."""
    monkeypatch.delenv("GRADER_CGROUPS", raising=False)
    monkeypatch.setattr(sandbox, "cgroup_problem", lambda: None)
    monkeypatch.setattr(limits, "_CGROUPS_FAILED", [])
    monkeypatch.setattr(limits.Cgroup, "__init__", _failed_cgroup)
    worker = Worker(method=Isolation("process", False, "test"))
    worker.start()
    worker.close()
    iso = fresh_isolation()
    assert not iso.full and "making a cgroup for the submission failed" in iso.note


def _failed_cgroup(self, _limits):
    self.dirs, self.ok, self._procs_files = [], False, []


# Cleanup: nothing of a submission outlives its worker.


def _processes_named(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if token in stat and stat[stat.rindex(")") + 2] != "Z":
            found.append(int(entry))
    return found


DOUBLE_FORK = """
import ctypes, os, time

def escape():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, b"TOKEN", 0, 0, 0)
            time.sleep(20)
        os._exit(0)
    os.waitpid(pid, 0)
    return 1
"""


@pytest.mark.skipif(not LINUX, reason="process names and subreapers are Linux")
@pytest.mark.parametrize("cgroups", ["on", "off"])
def test_plain_process_mode_still_kills_what_double_forked(monkeypatch, cgroups):
    """Without namespaces the cgroup, or else the grader as subreaper, finds the escapee."""
    monkeypatch.setenv("GRADER_CGROUPS", cgroups)
    token = f"df{secrets.token_hex(5)}"
    worker = Worker(method=Isolation("process", False, "test"))
    worker.start()
    try:
        load = {"op": "load", "filename": "submission.py", "notebook": False}
        reply = worker.request({**load, "cells": [DOUBLE_FORK.replace("TOKEN", token)]}, 30)
        assert reply.value["ok"], reply
        call = {"op": "call", "function": "escape", "args": [], "kwargs": {}}
        assert worker.request(call, 30).value == {"ok": True, "value": 1}
        deadline = time.monotonic() + 5
        while not _processes_named(token) and time.monotonic() < deadline:
            time.sleep(0.02)  # the grandchild names itself a moment after the call returns
        assert _processes_named(token), "the escapee should be running before the kill"
    finally:
        worker.close()
    deadline = time.monotonic() + 3
    while _processes_named(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    leftovers = _processes_named(token)
    for pid in leftovers:
        os.kill(pid, 9)
    assert not leftovers


def _cgroups_writable() -> bool:
    if not LINUX or os.geteuid() != 0:
        return False
    probe = limits.Cgroup(Limits())
    probe.remove()
    return probe.ok


@pytest.mark.skipif(not _cgroups_writable(), reason="needs writable cgroup v1 controllers")
def test_cgroups_are_removed_and_stale_ones_swept(monkeypatch):
    probe = subprocess.Popen(["true"])
    probe.wait()
    dead = probe.pid
    stale = [
        limits.CGROUP_ROOT / c / f"{limits.CGROUP_PREFIX}{dead}-deadbeef"
        for c in ("memory", "pids")
    ]
    for d in stale:
        d.mkdir(exist_ok=True)
    monkeypatch.setattr(limits.Cgroup, "_swept", False)
    worker = Worker(method=Isolation("process", False, "test"))
    worker.start()
    mine = list(worker.cgroup.dirs)
    assert mine and all(d.exists() for d in mine)
    worker.close()
    assert not any(d.exists() for d in [*mine, *stale])


# Answers are checked like any other untrusted input.


@pytest.mark.parametrize(
    "op, value",
    [
        ("call", [1, 2]),
        ("call", {"ok": 1, "value": 2}),
        ("call", {"ok": True}),
        ("call", {"ok": False, "error": "boom"}),
        ("call", {"ok": False, "error": {"kind": 3, "message": "x"}}),
        ("call", {"ok": False, "error": {"kind": "x", "where": {"line": "12"}}}),
        ("load", {"ok": True, "functions": "f", "cell_errors": []}),
        ("load", {"ok": True, "functions": [], "cell_errors": [{"kind": "x"}]}),
        ("calls", {"ok": True, "answers": [{"ok": True, "value": 1}]}),
        ("calls", {"ok": True, "case": "0", "answer": {"ok": True, "value": 1}}),
        ("calls", {"ok": True, "case": 0, "answer": {"ok": True}}),
        ("calls", {"ok": True, "case": 0, "answer": {"ok": True, "value": 1}, "more": 1}),
        ("calls", {"ok": True, "done": True}),
        ("calls", {"ok": True, "done": 2, "case": 1}),
    ],
)
def test_malformed_answers_are_refused(op, value):
    assert malformed_answer(op, value)


@pytest.mark.parametrize(
    "op, value",
    [
        ("call", {"ok": True, "value": None}),
        ("call", {"ok": False, "error": {"kind": "missing", "message": "f is not defined"}}),
        ("load", {"ok": True, "functions": ["f"], "cell_errors": [{"cell": 2, "kind": "x"}]}),
        ("load", {"ok": False, "error": {"kind": "exception", "where": {"file": "s", "line": 3}}}),
        ("calls", {"ok": True, "case": 2, "answer": {"ok": True, "value": [1.0]}}),
        ("calls", {"ok": True, "done": 4}),
    ],
)
def test_well_formed_answers_pass(op, value):
    assert malformed_answer(op, value) is None


@pytest.mark.parametrize(
    "header",
    [b"[" * 100_000 + b"]" * 100_000, b'{"buffers": [], "body": ' + b"9" * 5000 + b"}", b"\xff"],
)
def test_hostile_headers_are_wire_errors_not_crashes(header):
    with pytest.raises(wire.WireError):
        wire.parse_header(header)
        wire.decode(header, b"")


# A submission that cannot be reloaded after a crash costs one reload, not one per check.


def test_a_failed_reload_is_not_retried_for_every_check(tmp_path):
    head, tail = (EXAMPLES / "sheet2" / "correct.py").read_text().split("def logcosh(y, t):\n")
    reload_hangs = (
        "import os\n"
        "if os.path.exists('loaded-once'):\n"
        "    while True:\n"
        "        pass\n"
        "open('loaded-once', 'w').close()\n"
    )
    crash = "def logcosh(y, t):\n    os._exit(1)\n\n\ndef _unused(y, t):\n"
    path = tmp_path / "submission.py"
    path.write_text(reload_hangs + head + crash + tail)
    env = {**os.environ, "GRADER_ISOLATION": "process"}  # its scratch survives a restart
    started = time.monotonic()
    cmd = [sys.executable, "-m", "grader", str(path), "--sheet", "2", "--format", "json"]
    proc = subprocess.run(
        [*cmd, "--load-timeout", "2", "--timeout", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    checks = json.loads(proc.stdout)["checks"]
    first = next(c for c in checks if c["function"] == "logcosh")
    assert "could not be restarted" in first["message"]
    later = [c for c in checks if c["function"] in ("backprop", "grad_v")]
    assert all(c["score"] == 0 and "restarted" in c["message"] for c in later)
    assert seconds < 20  # one 2 s reload, not one per remaining check


HANGS_WITH_AN_ESCAPEE = """
import ctypes, os, time

ctypes.CDLL(None).prctl(15, b"TOKEN", 0, 0, 0)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"TOKEN", 0, 0, 0)
        time.sleep(30)
    os._exit(0)
while True:
    time.sleep(0.1)
"""


@needs_bwrap
def test_nothing_survives_a_grader_killed_mid_run(tmp_path):
    token = f"kg{secrets.token_hex(5)}"
    path = tmp_path / "submission.py"
    path.write_text(HANGS_WITH_AN_ESCAPEE.replace("TOKEN", token))
    grader = subprocess.Popen(
        [sys.executable, "-m", "grader", str(path), "--sheet", "2", "--format", "json"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while len(_processes_named(token)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_processes_named(token)) == 2, "the loader and its escapee should be running"
    finally:
        grader.kill()
        grader.wait()
    deadline = time.monotonic() + 3
    while _processes_named(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    leftovers = _processes_named(token)
    for pid in leftovers:
        os.kill(pid, 9)
    assert not leftovers


def _dead_pid() -> int:
    probe = subprocess.Popen(["true"])
    probe.wait()
    return probe.pid


def test_dirs_left_by_a_killed_grader_are_swept(tmp_path):
    base = tmp_path / "tmp"
    base.mkdir()
    base.chmod(0o1777)
    dead = _dead_pid()
    stale = [base / f"grader-{kind}-{dead}-test" for kind in ("worker", "scratch")]
    mine = base / f"grader-scratch-{os.getpid()}-test"
    for d in [*stale, mine]:
        (d / "sub").mkdir(parents=True, exist_ok=True)
        (d / "sub" / "file").write_text("x")
    (stale[1] / "sub").chmod(0)  # what a submission may do to its own scratch
    stale[0].chmod(0o555)
    sandbox._sweep(base)
    assert not any(d.exists() for d in stale)
    assert mine.exists()
    assert base.stat().st_mode & 0o7777 == 0o1777


@pytest.mark.skipif(not LINUX, reason="O_PATH and /proc/self/fd are Linux")
def test_a_planted_link_named_like_a_stale_dir_is_neither_followed_nor_chmodded(tmp_path):
    """Anyone can put `grader-worker-<dead pid>-x` in a shared /tmp, pointing anywhere."""
    base, target = tmp_path / "tmp", tmp_path / "precious"
    base.mkdir()
    (target / "inner").mkdir(parents=True)
    (target / "inner" / "data").write_text("keep")
    target.chmod(0o755)
    base.chmod(0o1777)
    link = base / f"grader-worker-{_dead_pid()}-x"
    link.symlink_to(target)
    inner_link = base / f"grader-scratch-{_dead_pid()}-y"
    inner_link.symlink_to(target / "inner")
    sandbox._sweep(base)
    assert target.stat().st_mode & 0o7777 == 0o755
    assert (target / "inner").stat().st_mode & 0o7777 == 0o755
    assert (target / "inner" / "data").read_text() == "keep"
    assert base.stat().st_mode & 0o7777 == 0o1777
    assert link.is_symlink() and inner_link.is_symlink()


def test_links_inside_a_stale_dir_are_removed_not_followed(tmp_path):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "data").write_text("keep")
    target.chmod(0o755)
    stale = tmp_path / f"grader-scratch-{_dead_pid()}-z"
    (stale / "locked").mkdir(parents=True)
    (stale / "locked" / "to_target").symlink_to(target)
    (stale / "locked").chmod(0)
    sandbox._sweep(tmp_path)
    assert not stale.exists()
    assert (target / "data").read_text() == "keep"
    assert target.stat().st_mode & 0o7777 == 0o755


def test_a_removal_that_fails_never_chmods_the_parent(tmp_path, monkeypatch):
    """The loser of a race sees its removal fail: that must not touch the parent (/tmp)."""
    base = tmp_path / "tmp"
    base.mkdir()
    base.chmod(0o1777)
    stale = base / f"grader-worker-{_dead_pid()}-w"
    (stale / "sub").mkdir(parents=True)
    real_rmtree = shutil.rmtree

    def losing_rmtree(path, onerror=None, onexc=None, **kwargs):
        report = onexc or onerror
        report(os.rmdir, path, FileNotFoundError(2, "already gone", path))
        report(os.lstat, str(Path(path) / "sub"), FileNotFoundError(2, "already gone"))
        real_rmtree(path, ignore_errors=True)

    monkeypatch.setattr(sandbox.shutil, "rmtree", losing_rmtree)
    sandbox._sweep(base)
    assert base.stat().st_mode & 0o7777 == 0o1777
    assert not stale.exists()


def test_two_threads_sweeping_at_once_sweep_once(monkeypatch, tmp_path):
    import threading

    swept: list[Path] = []
    gate = threading.Barrier(2)
    monkeypatch.setattr(sandbox, "_swept", False)
    monkeypatch.setattr(sandbox.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(sandbox, "_sweep", lambda base: (swept.append(base), time.sleep(0.2)))

    def sweep() -> None:
        gate.wait()
        sandbox._sweep_stale_dirs()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert swept == [tmp_path]


def test_two_sweeps_racing_over_the_same_stale_dirs_leave_the_parent_alone(tmp_path):
    """Even two graders (two processes, no shared lock) may sweep the same /tmp at once."""
    import threading

    base = tmp_path / "tmp"
    base.mkdir()
    base.chmod(0o1777)
    dead = _dead_pid()
    for i in range(20):
        d = base / f"grader-scratch-{dead}-{i}"
        for j in range(20):
            (d / f"sub{j}").mkdir(parents=True)
            (d / f"sub{j}" / "file").write_text("x")
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            sandbox._sweep(base)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert os.listdir(base) == []
    assert base.stat().st_mode & 0o7777 == 0o1777


@pytest.mark.skipif(not LINUX or not shutil.which("unshare"), reason="needs unshare")
def test_a_bubblewrap_that_cannot_run_here_is_found_out_at_launch(tmp_path):
    """bwrap is trusted untried; when it cannot run (AppArmor, a locked-down
    container), the first worker dies, the grader tries bwrap for real, falls back
    and says so, and the submission is still graded in full."""
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"}
    env.pop("GRADER_ISOLATION", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            str(EXAMPLES / "sheet2" / "correct.py"),
            "--sheet",
            "2",
            "--format",
            "json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["score"] == 100.0
    assert report["isolation"]["method"] == "unshare" and not report["isolation"]["full"]
    assert "reduced isolation" in proc.stderr


# Host paths quoted by the submission's exceptions reach the report under neutral names.

LEAKY = """
import os
import sys

import numpy as np


def logcosh(y, t):
    where = [np.__file__, os.__file__, __file__, sys.modules["wire"].__file__, os.getcwd()]
    raise RuntimeError(" | ".join(where))
"""


@pytest.mark.parametrize("method", ["bubblewrap", "process"])
def test_exceptions_do_not_leak_host_paths_or_the_graders_pid(
    method, monkeypatch, tmp_path, fresh_isolation
):
    from grader import sheets
    from grader.runner import grade_file

    if method == "bubblewrap" and verified_isolation().method != "bubblewrap":
        pytest.skip("needs bubblewrap")
    monkeypatch.setenv("GRADER_ISOLATION", method)
    fresh_isolation()
    path = tmp_path / "submission.py"
    path.write_text(LEAKY)
    outcome = grade_file(path, lambda: sheets.load("2"))
    message = next(c.message for c in outcome.checks if c.function == "logcosh")
    assert "RuntimeError" in message and "<python>/" in message and "<worker>/" in message
    host = {sys.prefix, sys.base_prefix, os.path.realpath(sys.prefix)} - {"/usr", "/usr/local"}
    for prefix in host:
        assert prefix not in message, message
    assert f"-{os.getpid()}-" not in message, message
    assert "grader-scratch-" not in message and "grader-worker-" not in message, message


# Talking to a worker that lies about the protocol never blocks the grader.

FAKE_WORKER = """
import os, sys, time
sys.path.insert(0, {wire_dir!r})
import wire
os.write(1, wire.encode({{"ok": True, "value": 1}}))  # answers without reading the request
time.sleep(30)
"""


def _fake_worker(tmp_path) -> Worker:
    script = tmp_path / "fake.py"
    script.write_text(FAKE_WORKER.format(wire_dir=str(Path(wire.__file__).parent)))
    worker = Worker(method=Isolation("process", False, "test"))
    proc = subprocess.Popen(
        [sys.executable, "-I", str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    worker.connect(proc)
    return worker


@pytest.fixture(params=["select", "threads"])
def transport(request, monkeypatch) -> str:
    """Each transport in turn: the threaded one is what Windows gets."""
    monkeypatch.setenv("GRADER_TRANSPORT", request.param)
    return request.param


def test_a_request_the_worker_never_reads_costs_its_deadline_only(tmp_path, transport):
    worker = _fake_worker(tmp_path)
    assert type(worker._pipes) is {"select": SelectPipes, "threads": ThreadPipes}[transport]
    try:
        big = {"op": "call", "function": "f", "args": ["x" * (4 << 20)], "kwargs": {}}
        started = time.monotonic()
        first = worker.request(big, 5)  # the forged answer arrives while we still write
        assert first.status == "ok" and first.value == {"ok": True, "value": 1}
        second = worker.request(big, 5)
        assert second.status == "protocol" and "before reading" in second.detail
        assert time.monotonic() - started < 5
        assert worker.proc is None  # killed: it is out of step with its requests
    finally:
        worker.close()


def test_a_worker_that_stops_reading_times_out_instead_of_blocking_the_write(tmp_path, transport):
    worker = _fake_worker(tmp_path)
    try:
        worker.receive(5)  # take the forged answer, so that nothing is pending
        started = time.monotonic()
        reply = worker.request({"op": "call", "args": ["x" * (4 << 20)], "kwargs": {}}, 1)
        assert reply.status == "timeout"
        assert time.monotonic() - started < 3
    finally:
        worker.close()


# A check's cases are answered one by one, each within a call's limit.

STREAMED = """
import sys, time

calls = 0


def stream_hangs_third(x):
    global calls
    calls += 1
    while calls == 3:
        pass
    return x * 2


def stream_slow(x):
    time.sleep(0.6)
    return x * 2


def _answers():
    frame = sys._getframe()
    while frame.f_code.co_name != "main":
        frame = frame.f_back
    return frame.f_locals["answers"], frame.f_globals["wire"]


def _forge(fd, wire, value):
    wire.write_all(fd, wire.encode(value))


def stream_forges_one(x):
    fd, wire = _answers()
    _forge(fd, wire, {"ok": True, "case": 0, "answer": {"ok": True, "value": 99}})
    return x * 2


def stream_forges_more(x):
    fd, wire = _answers()
    for case in range(5):
        _forge(fd, wire, {"ok": True, "case": case, "answer": {"ok": True, "value": 99}})
    return x * 2


def stream_big(x):
    import numpy as np

    return np.zeros(6_000_000)  # 48 MB once decoded


def stream_floods(x):
    fd, wire = _answers()
    while True:
        _forge(fd, wire, {"ok": True, "case": 0, "answer": {"ok": True, "value": 99}})
"""


@pytest.fixture
def streamed(submission, transport):
    from grader.session import Options, open_session

    session = open_session(submission(STREAMED), Options())
    assert session.wait_loaded().status == "ok"
    yield session
    session.close()


def _cases(n: int) -> list:
    from grader.spec import Case

    return [Case(label=str(v), args=(v,)) for v in range(1, n + 1)]


def test_stream_a_hang_on_the_third_case_costs_one_limit(streamed):
    """The hanging case is known from its own deadline: no second run, one restart."""
    found: list[float] = []
    restart = streamed.restart
    streamed.restart = lambda: found.append(time.monotonic()) or restart()
    started = time.monotonic()
    replies = streamed.call_many("stream_hangs_third", _cases(4), timeout=2)
    assert found[0] - started < 1.5 * 2
    assert [r.status for r in replies] == ["ok", "ok", "timeout"]
    assert [r.value["value"] for r in replies[:2]] == [2, 4]
    assert streamed.restarts == 1
    assert [r.value["value"] for r in streamed.call_many("stream_slow", _cases(2), 5)] == [2, 4]


def test_stream_a_slow_but_correct_function_gets_each_case_its_limit(streamed):
    """Four cases of 0.6 s each under a 1 s limit: 2.4 s in all, and all answered."""
    started = time.monotonic()
    replies = streamed.call_many("stream_slow", _cases(4), timeout=1.0)
    assert [r.value["value"] for r in replies] == [2, 4, 6, 8]
    assert time.monotonic() - started > 2.4
    assert streamed.restarts == 0


def test_stream_a_forged_frame_neither_shifts_nor_adds_answers(streamed):
    """The forged answer stands for its own case (it could have been returned); the real
    answer after it is out of order, an error of the next case, never that case's answer."""
    replies = streamed.call_many("stream_forges_one", _cases(4), timeout=5)
    assert [r.status for r in replies] == ["ok", "protocol"]
    assert replies[0].value == {"ok": True, "value": 99}
    assert "out of order" in replies[1].detail
    assert streamed.restarts == 1


def test_stream_more_frames_than_cases_make_the_last_case_an_error(streamed):
    replies = streamed.call_many("stream_forges_more", _cases(4), timeout=5)
    assert len(replies) == 4
    assert [r.value for r in replies[:3]] == [{"ok": True, "value": 99}] * 3
    assert replies[3].status == "protocol" and "more answers than cases" in replies[3].detail


def test_stream_a_flood_of_frames_is_bounded(streamed):
    started = time.monotonic()
    replies = streamed.call_many("stream_floods", _cases(4), timeout=5)
    assert [r.status for r in replies] == ["ok", "protocol"]
    assert time.monotonic() - started < 5
    assert [r.value["value"] for r in streamed.call_many("stream_slow", _cases(2), 5)] == [2, 4]


def test_stream_a_checks_answers_share_one_decoded_budget(streamed):
    """Three answers of 48 MiB each: the third would take the check past 128 MiB."""
    replies = streamed.call_many("stream_big", _cases(3), timeout=10)
    assert [r.status for r in replies] == ["ok", "ok", "protocol"]
    assert "too large once decoded" in replies[2].detail
