"""Resource limits for one sandbox, and finding every process it started.

Resource limits are rlimits (CPU, address space, file size, open files) plus,
where cgroup v1 controllers are writable (root), a per-sandbox memory and pids
cgroup: the real process limit (``RLIMIT_NPROC`` does not bind root) and a
reliable way to find and kill every process a submission started.
``GRADER_CGROUPS=off`` skips the cgroups, which leaves the rlimit-only path that
non-root users get. Without cgroups, the pid namespace (bubblewrap, unshare) or,
in plain-process mode, the grader acting as child subreaper (``Orphans``) finds
the processes that double-forked away.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "grader-"
CGROUPS_ENV = "GRADER_CGROUPS"

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Limits:
    """Per-submission resource limits (documented in ``grade --help``)."""

    cpu_seconds: int = 120
    memory_bytes: int = 3 << 30
    file_bytes: int = 64 << 20
    open_files: int = 256
    processes: int = 64
    scratch_bytes: int = 128 << 20


def cgroups_wanted() -> bool:
    off = os.environ.get(CGROUPS_ENV, "").strip().lower() in ("0", "off", "no", "false")
    return sys.platform.startswith("linux") and not off


_CGROUPS_FAILED: list[str] = []  # set when making a real cgroup failed although the probe passed


@cache
def cgroup_problem() -> str | None:
    """Why no per-submission cgroup is in force here, or None when one is.

    Without one, memory is limited per process (RLIMIT_AS) and processes per
    user (RLIMIT_NPROC, which does not bind root): a submission that forks can
    hold more than the limit in all. The isolation report says so.
    """
    if not sys.platform.startswith("linux"):
        return f"no cgroups on this platform ({sys.platform})"
    if not cgroups_wanted():
        return f"turned off by {CGROUPS_ENV}={os.environ.get(CGROUPS_ENV, '').strip()}"
    if _CGROUPS_FAILED:
        return _CGROUPS_FAILED[0]
    controllers = [CGROUP_ROOT / c for c in ("memory", "pids")]
    if all((d / "cgroup.procs").exists() and os.access(d, os.W_OK) for d in controllers):
        return None
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return "this host has cgroup v2 only, which the grader does not use yet"
    if os.geteuid() != 0:
        return "cgroups need root"
    return "the cgroup v1 memory and pids controllers are not available"


def cgroups_failed(reason: str) -> None:
    """A cgroup could not be made after all: later reports must not claim one."""
    if not _CGROUPS_FAILED:
        _CGROUPS_FAILED.append(reason)
    cgroup_problem.cache_clear()


class Cgroup:
    """A v1 memory + pids cgroup for one sandbox, when the machine lets us make one."""

    _swept = False
    _lock = threading.Lock()

    def __init__(self, limits: Limits) -> None:
        self.dirs: list[Path] = []
        limited = 0
        self._sweep_stale()
        name = f"{CGROUP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
        settings = {
            "memory": {"memory.limit_in_bytes": limits.memory_bytes},
            "pids": {"pids.max": limits.processes},
        }
        for controller, values in settings.items():
            d = CGROUP_ROOT / controller / name
            try:
                d.mkdir()
            except OSError:
                continue
            self.dirs.append(d)
            try:
                for key, value in values.items():
                    (d / key).write_text(str(value))
                limited += 1
            except OSError:
                continue
        self.ok = limited == 2
        self._procs_files = [str(d / "cgroup.procs") for d in self.dirs]

    @classmethod
    def _sweep_stale(cls) -> None:
        """Remove cgroups of graders that died without cleaning up (named by their pid)."""
        with cls._lock:
            if cls._swept:
                return
            cls._swept = True
        for controller in ("memory", "pids"):
            with contextlib.suppress(OSError):
                for d in (CGROUP_ROOT / controller).glob(f"{CGROUP_PREFIX}*-*"):
                    owner = d.name[len(CGROUP_PREFIX) :].split("-")[0]
                    if owner.isdigit() and not alive(int(owner)):
                        stale = Cgroup.__new__(Cgroup)
                        stale.dirs = [d]
                        stale.remove()

    def add_self(self) -> None:
        """Called in the child before exec: the sandbox and all it forks live here.

        Plain system calls on paths prepared in the parent: between fork and exec
        a child of a threaded grader (``grade batch``) must not touch Python-level
        locks (file objects, imports) another thread may have held at the fork.
        """
        pid = str(os.getpid()).encode()
        for path in self._procs_files:
            try:
                fd = os.open(path, os.O_WRONLY)
                try:
                    os.write(fd, pid)
                finally:
                    os.close(fd)
            except OSError:
                continue

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in (d / "cgroup.procs").read_text().split())
        return found

    def kill_all(self) -> None:
        for _ in range(1000):  # killed processes leave within a millisecond or two
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.001)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(1000):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.001)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Orphans:
    """Plain-process mode without cgroups: the grader adopts and kills what double-forked.

    As child subreaper the grader inherits every orphaned descendant. A child of
    ours that is not a live worker and sits in another session than ours can only
    be a sandbox's leftover: workers start in their own session, and setsid()
    only ever makes new sessions.
    """

    live: ClassVar[set[int]] = set()
    lock = threading.Lock()
    adopted = False

    @classmethod
    def adopt(cls) -> None:
        with cls.lock:
            if not cls.adopted:
                cls.adopted = prctl(PR_SET_CHILD_SUBREAPER, 1)

    @classmethod
    def sweep(cls) -> None:
        """Kill and reap leftovers until a scan finds none.

        Reaping a killed process completes its exit, which has already handed
        its own children to us, so the next scan sees them.
        """
        if not cls.adopted:
            return
        for _ in range(1000):
            with cls.lock:  # a worker being started in another thread is not a leftover
                found = cls._leftovers()
                for pid in found:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
            if not found:
                return
            for pid in found:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, 0)

    @classmethod
    def _leftovers(cls) -> list[int]:
        me, session = os.getpid(), os.getsid(0)
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in cls.live:
                continue
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[1]) == me and int(fields[3]) != session:
                found.append(int(entry))
        return found


@cache
def libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> bool:
    try:
        return libc().prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def set_rlimits(limits: Limits, nproc: bool) -> None:
    def cap(which: int, value: int) -> None:
        with contextlib.suppress(ValueError, OSError):
            _, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))

    cap(resource.RLIMIT_CPU, limits.cpu_seconds)
    cap(resource.RLIMIT_AS, limits.memory_bytes + (1 << 30))
    cap(resource.RLIMIT_FSIZE, limits.file_bytes)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_CORE, 0)
    if nproc:
        cap(resource.RLIMIT_NPROC, limits.processes)
