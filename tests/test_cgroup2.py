"""Per-submission cgroups on cgroup v2, tried on a real cgroup2 mount.

As root, a test mounts the host's cgroup v2 hierarchy at a folder of its own
and points ``GRADER_CGROUP2_ROOT`` at it. On a host whose memory and pids
controllers are bound to cgroup v1 (a hybrid set-up, like the machine this was
written on) that hierarchy offers neither: the grader must then say so and
claim no per-submission cgroup, which is tested for real. The mechanics that do
not depend on which controllers there are (placing the grader, moving into a
leaf of a delegated subtree, the no-internal-process rule, joining between fork
and exec, ``cgroup.kill``, removal, sweeping what dead graders left) are tested
for real with the controllers the mount does offer standing in for memory and
pids. The limits themselves (``memory.max``, ``pids.max``) are checked on a real
hierarchy only where it has those controllers; elsewhere those tests skip and
say why, and the values written are checked on a plain folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ROOT
from grader import isolation as iso_mod
from grader import limits
from grader.isolation import Isolation
from grader.limits import Cgroup2, Limits
from grader.sandbox import Worker

LINUX = sys.platform.startswith("linux")


def _mount() -> tuple[Path | None, str]:
    if not LINUX or os.geteuid() != 0:
        return None, "mounting cgroup2 needs root on Linux"
    where = Path(tempfile.mkdtemp(prefix="cgroup2-test-"))
    proc = subprocess.run(
        ["mount", "-t", "cgroup2", "none", str(where)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        where.rmdir()
        return None, f"cannot mount cgroup2 here: {proc.stderr.strip() or proc.returncode}"
    return where, ""


@pytest.fixture(scope="module")
def mount():
    where, why = _mount()
    if where is None:
        print(f"test_cgroup2: skipped: {why}", file=sys.stderr)
        pytest.skip(why)
    offered = (where / "cgroup.controllers").read_text().split()
    print(f"test_cgroup2: cgroup2 mounted at {where}, controllers: {offered}", file=sys.stderr)
    enabled_before = (where / "cgroup.subtree_control").read_text().split()
    try:
        yield where
    finally:
        for d in sorted(where.glob("*/**/"), key=lambda p: -len(p.parts)) + sorted(
            where.glob("*/")
        ):
            if d.name.startswith(("grader-", "doctor-test-")):
                with contextlib.suppress(OSError):
                    (d / "cgroup.kill").write_text("1")
                with contextlib.suppress(OSError):
                    d.rmdir()
        for c in set((where / "cgroup.subtree_control").read_text().split()) - set(enabled_before):
            with contextlib.suppress(OSError):
                (where / "cgroup.subtree_control").write_text(f"-{c}")
        subprocess.run(["umount", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


@pytest.fixture
def on_mount(mount, monkeypatch):
    """The grader pointed at the mount, looking afresh."""
    monkeypatch.setenv(limits.CGROUP2_ROOT_ENV, str(mount))
    monkeypatch.delenv(limits.CGROUPS_ENV, raising=False)
    monkeypatch.setattr(limits, "_CGROUPS_FAILED", [])
    monkeypatch.setattr(Cgroup2, "_swept", set())
    iso_mod.reset()
    yield mount
    iso_mod.reset()


def _stand_in(mount: Path) -> str:
    """A controller the mount offers, standing in for memory and pids in the mechanics tests."""
    offered = (mount / "cgroup.controllers").read_text().split()
    if not offered:
        pytest.skip("this cgroup2 mount offers no controller at all to enable")
    return offered[0]


@pytest.fixture
def stand_in(on_mount, monkeypatch):
    controller = _stand_in(on_mount)
    monkeypatch.setattr(limits, "CGROUP2_CONTROLLERS", (controller,))
    monkeypatch.setattr(limits, "cgroup2_settings", lambda _limits: {})
    monkeypatch.setattr(limits, "CGROUP2_REQUIRED", ())
    print(f"test_cgroup2: {controller} stands in for memory and pids", file=sys.stderr)
    return controller


def _has_memory_and_pids(mount: Path) -> bool:
    return {"memory", "pids"} <= set((mount / "cgroup.controllers").read_text().split())


# What the grader decides about a real v2 hierarchy.


def test_v1_controllers_win_on_a_hybrid_host_unless_a_v2_mount_is_named(monkeypatch, tmp_path):
    for c in ("memory", "pids"):
        (tmp_path / c).mkdir()
        (tmp_path / c / "cgroup.procs").write_text("")
    (tmp_path / "unified").mkdir()
    monkeypatch.setattr(limits, "CGROUP_ROOT", tmp_path)
    monkeypatch.delenv(limits.CGROUP2_ROOT_ENV, raising=False)
    assert limits.cgroup_layout() == ("v1", tmp_path)
    monkeypatch.setenv(limits.CGROUP2_ROOT_ENV, str(tmp_path / "unified"))
    assert limits.cgroup_layout() == ("v2", tmp_path / "unified")
    (tmp_path / "pids" / "cgroup.procs").unlink()
    monkeypatch.delenv(limits.CGROUP2_ROOT_ENV)
    iso_mod.reset()
    try:
        status = limits.cgroup_status()
        assert (status.version, status.kind) == ("v1", "v1_missing")
    finally:
        iso_mod.reset()


def test_a_v2_mount_without_memory_and_pids_is_no_per_submission_cgroup(on_mount):
    if _has_memory_and_pids(on_mount):
        pytest.skip("this host's cgroup2 mount has memory and pids: the limit tests below run")
    status = limits.cgroup_status()
    assert status.version == "v2" and status.kind == "v2_controllers"
    assert "memory" in status.problem and "pids" in status.problem
    iso = iso_mod.isolation()
    assert not iso.full and "no per-submission cgroup" in iso.note
    assert limits.make_cgroup(Limits()).ok is False


def test_the_root_of_a_v2_hierarchy_is_used_by_root(stand_in, on_mount):
    status = limits.cgroup_status()
    assert (status.version, status.kind, status.problem) == ("v2", "ok", None)
    assert status.where == on_mount
    assert stand_in in (on_mount / "cgroup.subtree_control").read_text().split()


# Joining, killing and removing, for real.

FORKER = """
import os, time
if os.fork() == 0:
    time.sleep(60)
print("up", flush=True)
time.sleep(60)
"""


def test_a_sandbox_cgroup_is_joined_before_exec_killed_and_removed(stand_in, on_mount):
    cg = limits.make_cgroup(Limits())
    assert isinstance(cg, Cgroup2) and cg.ok
    (d,) = cg.dirs
    assert d.parent == on_mount and (d / "cgroup.kill").exists()
    proc = subprocess.Popen(
        [sys.executable, "-c", FORKER], stdout=subprocess.PIPE, text=True, preexec_fn=cg.add_self
    )
    try:
        assert proc.stdout.readline() == "up\n"
        pids = cg.pids()
        assert proc.pid in pids and len(pids) == 2  # the child it forked is in it too
        line = Path(f"/proc/{proc.pid}/cgroup").read_text().splitlines()[-1]
        assert line == f"0::/{d.name}"
        cg.remove()
        assert proc.wait(5) == -9
        assert not d.exists()
        assert not any(limits.alive(p) and _not_zombie(p) for p in pids)
    finally:
        proc.kill()
        proc.wait()


def _not_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.parametrize("method", ["process", "bubblewrap"])
def test_the_worker_runs_in_a_v2_cgroup_chosen_at_runtime(stand_in, on_mount, method):
    if method == "bubblewrap" and iso_mod.verified_isolation().method != "bubblewrap":
        pytest.skip("needs bubblewrap")
    worker = Worker(method=Isolation(method, False, "test"))
    worker.start()
    try:
        assert isinstance(worker.cgroup, Cgroup2) and worker.cgroup.ok
        (d,) = worker.cgroup.dirs
        load = {"op": "load", "filename": "s.py", "notebook": False}
        source = "import os\ndef who():\n    return open('/proc/self/cgroup').read()\n"
        assert worker.request({**load, "cells": [source]}, 60).value["ok"]
        call = {"op": "call", "function": "who", "args": [], "kwargs": {}}
        answer = worker.request(call, 30).value
        assert answer["ok"], answer
        if method == "process":  # inside bubblewrap /proc/self/cgroup is the sandbox's own view
            assert answer["value"].strip().endswith(f"0::/{d.name}")
        assert worker.proc.pid in worker.cgroup.pids()
    finally:
        worker.close()
    assert not d.exists()
    assert limits.cgroup_problem() is None


def test_what_dead_graders_left_is_swept_but_not_what_live_ones_use(stand_in, on_mount):
    probe = subprocess.Popen(["true"])
    probe.wait()
    dead, live = probe.pid, os.getppid()
    stale = on_mount / f"grader-{dead}-deadbeef"
    stale_self = on_mount / f"grader-{dead}{limits.SELF_SUFFIX}"
    busy_self = on_mount / f"grader-{dead}-x{limits.SELF_SUFFIX}"
    alive_one = on_mount / f"grader-{live}-cafecafe"
    for d in (stale, stale_self, alive_one, busy_self):
        d.mkdir()
    # A leftover in the stale sandbox cgroup is killed; a process in a -self leaf is not ours.
    leftover = subprocess.Popen(["sleep", "60"], preexec_fn=_joiner(stale))
    bystander = subprocess.Popen(["sleep", "60"], preexec_fn=_joiner(busy_self))
    try:
        cg = limits.make_cgroup(Limits())
        assert cg.ok
        assert leftover.wait(5) == -9
        assert not stale.exists() and not stale_self.exists()
        assert alive_one.exists() and busy_self.exists()
        assert bystander.poll() is None
        cg.remove()
    finally:
        for p in (leftover, bystander):
            p.kill()
            p.wait()
        for d in (alive_one, busy_self):
            with contextlib.suppress(OSError):
                d.rmdir()


def _joiner(d: Path):
    procs = str(d / "cgroup.procs")

    def join() -> None:
        fd = os.open(procs, os.O_WRONLY)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)

    return join


# A delegated subtree: the grader in a cgroup it may write, as under systemd's Delegate=yes.

DELEGATED = """
import json, os, subprocess, sys
sys.path.insert(0, {root!r})
from grader import limits
from grader.limits import Limits
limits.CGROUP2_CONTROLLERS = ({controller!r},)
limits.cgroup2_settings = lambda _limits: {{}}
limits.CGROUP2_REQUIRED = ()
if {uid} != 0:
    os.setgid({uid}); os.setuid({uid})
status = limits.cgroup_status()
out = {{"kind": status.kind, "problem": status.problem, "where": str(status.where),
        "own": str(status.own), "me": open("/proc/self/cgroup").read().splitlines()[-1]}}
if status.kind == "ok":
    cg = limits.make_cgroup(Limits())
    child = subprocess.Popen(["sleep", "30"], preexec_fn=cg.add_self)
    out["ok"] = cg.ok
    out["child_in"] = child.pid in cg.pids()
    out["sandbox"] = str(cg.dirs[0])
    cg.remove()
    out["child_status"] = child.wait(5)
    out["removed"] = not cg.dirs[0].exists()
print(json.dumps(out))
"""


def _delegated(
    mount: Path, controller: str, uid: int, chown: bool, company: bool, container: bool = False
) -> dict:
    """Run a grader process in a fresh cgroup D under the mount (D chowned to ``uid`` if asked).

    ``container``: in a cgroup namespace of its own, with cgroup2 mounted anew, so that D
    looks like the root of the hierarchy, as a container's cgroup does from inside.
    """
    d = mount / f"doctor-test-{os.getpid()}-{os.urandom(3).hex()}"
    d.mkdir()
    if chown:  # what systemd does for a unit with Delegate=yes and User=
        for path in (d, d / "cgroup.procs", d / "cgroup.subtree_control", d / "cgroup.threads"):
            os.chown(path, uid, uid)
    other = subprocess.Popen(["sleep", "60"], preexec_fn=_joiner(d)) if company else None
    inner = Path(tempfile.mkdtemp(prefix="cgroup2-test-ns-")) if container else mount
    env = {**os.environ, limits.CGROUP2_ROOT_ENV: str(inner)}
    env.pop(limits.CGROUPS_ENV, None)
    script = DELEGATED.format(root=str(ROOT), controller=controller, uid=uid)
    command = [sys.executable, "-c", textwrap.dedent(script)]
    if container:
        shell = 'mount -t cgroup2 none "$0" && exec "$@"'
        command = ["unshare", "--cgroup", "--mount", "--propagation", "private"]
        command += ["sh", "-c", shell, str(inner), sys.executable, "-c", textwrap.dedent(script)]
    try:
        proc = subprocess.run(
            command,
            preexec_fn=_joiner(d),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        result["dir"] = str(d)
        result["left"] = sorted(p.name for p in d.iterdir() if p.is_dir())
        result["enabled"] = (d / "cgroup.subtree_control").read_text().split()
        if other is not None:
            result["other"] = Path(f"/proc/{other.pid}/cgroup").read_text().splitlines()[-1]
        return result
    finally:
        if container:
            with contextlib.suppress(OSError):
                inner.rmdir()
        if other is not None:
            other.kill()
            other.wait()
        deadline = time.monotonic() + 5
        for leaf in d.glob("grader-*"):
            while leaf.exists() and time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    leaf.rmdir()
        with contextlib.suppress(OSError):
            d.rmdir()


def test_a_delegated_subtree_moves_the_grader_into_a_leaf(stand_in, on_mount):
    """Not root: the grader uses its own cgroup D, which it may write, as under Delegate=yes."""
    result = _delegated(on_mount, stand_in, 65534, chown=True, company=False)
    assert result["kind"] == "ok", result
    assert result["ok"] and result["child_in"] and result["removed"], result
    assert result["child_status"] == -9
    d = Path(result["dir"])
    assert result["where"] == str(d)
    leaf = Path(result["own"])
    assert leaf.parent == d and leaf.name.endswith(limits.SELF_SUFFIX)
    assert result["me"] == f"0::/{leaf.relative_to(on_mount)}"
    assert Path(result["sandbox"]).parent == d


def test_a_delegated_cgroup_shared_with_other_processes_is_reported_busy(stand_in, on_mount):
    result = _delegated(on_mount, stand_in, 65534, chown=True, company=True)
    assert result["kind"] == "v2_busy", result
    assert "other processes" in result["problem"]
    d = Path(result["dir"])
    assert result["me"] == f"0::/{d.relative_to(on_mount)}"  # moved back where it was
    assert result["left"] == []  # its leaf removed


def test_root_in_a_container_moves_the_container_into_a_leaf(stand_in, on_mount):
    """In its cgroup namespace a container's cgroup looks like the root but holds processes."""
    result = _delegated(on_mount, stand_in, 0, chown=False, company=True, container=True)
    assert result["kind"] == "ok", result
    assert result["ok"] and result["child_in"] and result["removed"], result
    d = Path(result["dir"])
    leaf = Path(result["own"])
    assert leaf.name.endswith(limits.SELF_SUFFIX) and result["me"] == f"0::/{leaf.name}"
    assert result["other"] == f"0::/{d.relative_to(on_mount)}/{leaf.name}"  # moved too
    assert stand_in in result["enabled"]


def test_a_cgroup_the_grader_may_not_write_is_no_delegation(stand_in, on_mount):
    result = _delegated(on_mount, stand_in, 65534, chown=False, company=False)
    assert result["kind"] == "v2_delegation", result
    assert "not root" in result["problem"] and "cgroup v2" in result["problem"]


# The limits themselves.


def test_the_limits_a_v2_sandbox_is_given(tmp_path):
    """On a plain folder (no kernel behind it): which files get which values."""
    cg = Cgroup2(Limits(memory_bytes=1 << 30, processes=32), tmp_path)
    assert cg.ok
    (d,) = cg.dirs
    assert (d / "memory.max").read_text() == str(1 << 30)
    assert (d / "pids.max").read_text() == "32"
    assert not (d / "memory.swap.max").exists()  # only where the kernel offers it
    assert limits.cgroup2_settings(Limits())["memory.swap.max"] == 0
    assert limits.cgroup2_settings(Limits())["memory.oom.group"] == 1


BOMBS = """
import os, time

def eat():
    kids = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            block = bytearray(1 << 30)
            for i in range(0, len(block), 4096):
                block[i] = 1
            time.sleep(30)
            os._exit(0)
        kids.append(pid)
    time.sleep(20)
    return 1

def forks():
    n = 0
    try:
        for _ in range(500):
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            n += 1
    except OSError:
        return n
    return n

def fine():
    return 7
"""


def test_memory_and_pids_limits_hold_on_a_real_v2_hierarchy(on_mount):
    if not _has_memory_and_pids(on_mount):
        pytest.skip(
            "this host's cgroup v2 hierarchy has no memory and pids controllers "
            "(they are bound to cgroup v1): memory.max and pids.max are not exercised"
        )
    worker = Worker(limits=Limits(memory_bytes=2 << 30), method=Isolation("process", False, "t"))
    worker.start()
    try:
        assert isinstance(worker.cgroup, Cgroup2) and worker.cgroup.ok
        (d,) = worker.cgroup.dirs
        assert (d / "memory.max").read_text().strip() == str(2 << 30)
        assert (d / "pids.max").read_text().strip() == "64"
        load = {"op": "load", "filename": "s.py", "notebook": False, "cells": [BOMBS]}
        assert worker.request(load, 60).value["ok"]

        def call(name: str):
            return worker.request({"op": "call", "function": name, "args": [], "kwargs": {}}, 40)

        assert call("forks").value == {"ok": True, "value": pytest.approx(60, abs=4)}
        worker.kill()
        worker.start()
        worker.request(load, 60)
        assert call("eat").status == "crashed"  # the OOM kill costs this call only
        worker.kill()
        worker.start()
        worker.request(load, 60)
        assert call("fine").value == {"ok": True, "value": 7}
    finally:
        worker.close()
