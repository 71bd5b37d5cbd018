"""Resource limits for one sandbox, and finding every process it started.

Resource limits are rlimits (CPU, address space, file size, open files) plus,
where the grader may make one, a per-sandbox memory and pids cgroup: the real
process limit (``RLIMIT_NPROC`` does not bind root), a memory limit for the
submission as a whole, and a reliable way to find and kill every process a
submission started. On cgroup v1 that takes root (``Cgroup``). On cgroup v2
(``Cgroup2``) it takes root, or a delegated subtree: the grader's own cgroup
when it may write there, as under systemd's ``Delegate=yes``.
``GRADER_CGROUPS=off`` skips the cgroups, which leaves the rlimit-only path that
hosts without cgroups get; ``GRADER_CGROUP2_ROOT`` names the cgroup v2 mount to
use (tests point it at a mount of their own). Without cgroups, the pid namespace
(bubblewrap, unshare) or, in plain-process mode, the grader acting as child
subreaper (``Orphans``) finds the processes that double-forked away.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "grader-"
CGROUPS_ENV = "GRADER_CGROUPS"
CGROUP2_ROOT_ENV = "GRADER_CGROUP2_ROOT"
CGROUP2_CONTROLLERS = ("memory", "pids")
SELF_SUFFIX = "-self"  # the leaf a grader moves itself into, in a delegated v2 subtree

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


@dataclass(frozen=True)
class CgroupStatus:
    """Which cgroups the grader uses here, or why none: what ``grade doctor`` explains.

    ``kind`` names the case for the advice: ``ok``, ``platform``, ``off``,
    ``failed``, ``none`` (no cgroup filesystem), ``v1_root`` (v1 needs root),
    ``v1_missing``, ``v2_controllers`` (memory or pids not available where the
    grader would make its cgroups), ``v2_delegation`` (nowhere it may write),
    ``v2_busy`` (its own cgroup holds other processes).
    """

    version: str | None  # "v1", "v2", or None without cgroups
    kind: str
    problem: str | None  # None when a per-submission cgroup is in force
    where: Path | None = None  # v1: the controllers' root; v2: the parent of the sandboxes'
    own: Path | None = None  # v2: the grader's own cgroup when it was looked at


_STATUS_LOCK = threading.Lock()


@cache
def cgroup_status() -> CgroupStatus:
    """Find (and on cgroup v2 prepare, once) where per-submission cgroups can be made.

    On a delegated v2 subtree this moves the grader into a leaf of its own
    cgroup so that the memory and pids controllers can be enabled there (v2
    allows no processes in a cgroup whose children have controllers).
    """
    with _STATUS_LOCK:
        return _status()


def _status() -> CgroupStatus:
    if not sys.platform.startswith("linux"):
        return CgroupStatus(None, "platform", f"no cgroups on this platform ({sys.platform})")
    if not cgroups_wanted():
        off = os.environ.get(CGROUPS_ENV, "").strip()
        return CgroupStatus(None, "off", f"turned off by {CGROUPS_ENV}={off}")
    version, root = cgroup_layout()
    if _CGROUPS_FAILED:
        return CgroupStatus(version, "failed", _CGROUPS_FAILED[0], root)
    if version == "v2":
        return _v2_status(root)
    if version is None:
        return CgroupStatus(None, "none", f"no cgroup filesystem at {CGROUP_ROOT}")
    controllers = [root / c for c in ("memory", "pids")]
    present = all((d / "cgroup.procs").exists() for d in controllers)
    if present and all(os.access(d, os.W_OK) for d in controllers):
        return CgroupStatus("v1", "ok", None, root)
    if present and os.geteuid() != 0:
        return CgroupStatus("v1", "v1_root", "cgroups need root", root)
    return CgroupStatus(
        "v1", "v1_missing", "the cgroup v1 memory and pids controllers are not available", root
    )


def cgroup_layout() -> tuple[str | None, Path]:
    """Which hierarchy the grader uses: ``GRADER_CGROUP2_ROOT``, else v1 memory+pids, else v2.

    A hybrid host (v1 controllers, and an empty v2 tree at ``unified``) keeps v1.
    """
    asked = os.environ.get(CGROUP2_ROOT_ENV, "").strip()
    if asked:
        return "v2", Path(asked)
    if any((CGROUP_ROOT / c / "cgroup.procs").exists() for c in ("memory", "pids")):
        return "v1", CGROUP_ROOT
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return "v2", CGROUP_ROOT
    return None, CGROUP_ROOT


def _v2_status(root: Path) -> CgroupStatus:
    if not (root / "cgroup.controllers").exists():
        return CgroupStatus("v2", "none", f"no cgroup v2 hierarchy at {root}", root)
    own = own_cgroup2(root)
    if own is not None and own.name.startswith(CGROUP_PREFIX) and own.name.endswith(SELF_SUFFIX):
        return _enable_at(own.parent, own)  # a grader moved here: us, or the one that started us
    if _writable(root):
        return _enable_at(root, own, container=os.geteuid() == 0)
    if own is None:
        return CgroupStatus("v2", "none", f"this process is in no cgroup under {root}", root)
    if not _writable(own):
        why = (
            f"cgroup v2 at {root} is read-only here"
            if os.geteuid() == 0
            else f"cgroup v2: the grader is not root and may not make cgroups under its own {own}"
        )
        return CgroupStatus("v2", "v2_delegation", why, None, own)
    return _enable_at(own, own)


def _writable(d: Path) -> bool:
    files = ("cgroup.procs", "cgroup.subtree_control")
    return os.access(d, os.W_OK) and all(os.access(d / f, os.W_OK) for f in files)


def own_cgroup2(root: Path) -> Path | None:
    """This process's cgroup in the v2 hierarchy mounted at ``root`` (from /proc/self/cgroup)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            rel = line[3:].strip().lstrip("/")
            return root / rel if rel and not rel.endswith("(deleted)") else root
    return None


def _controllers(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def _enable_at(parent: Path, own: Path | None, container: bool = False) -> CgroupStatus:
    """Enable memory and pids for ``parent``'s children, moving the grader out of it if need be.

    v2 lets a cgroup other than the root enable controllers for its children
    only while it holds no process itself: when the grader is in ``parent``, it
    moves into a leaf ``grader-<pid>-self`` first, and back if others remain.
    A writable hierarchy root that still refuses (``container``: root in a
    container, whose cgroup namespace makes its own cgroup look like the root)
    holds only the container's processes: they all move into that leaf, as
    container init scripts do.
    """
    needed = set(CGROUP2_CONTROLLERS)
    missing = sorted(needed - _controllers(parent / "cgroup.controllers"))
    if missing:
        return CgroupStatus(
            "v2",
            "v2_controllers",
            f"the cgroup v2 controllers {', '.join(missing)} are not available in {parent}",
            parent,
            own,
        )
    if needed <= _controllers(parent / "cgroup.subtree_control"):
        return CgroupStatus("v2", "ok", None, parent, own)
    enable = " ".join(f"+{c}" for c in CGROUP2_CONTROLLERS)
    try:
        (parent / "cgroup.subtree_control").write_text(enable)
        return CgroupStatus("v2", "ok", None, parent, own)
    except OSError as exc:
        if exc.errno != errno.EBUSY or own != parent:
            return _enable_failed(parent, own, exc)
    leaf = parent / f"{CGROUP_PREFIX}{os.getpid()}{SELF_SUFFIX}"
    try:
        leaf.mkdir(exist_ok=True)
        (leaf / "cgroup.procs").write_text(str(os.getpid()))
        (parent / "cgroup.subtree_control").write_text(enable)
    except OSError as exc:
        if not (container and exc.errno == errno.EBUSY):
            _undo_leaf(parent, leaf)
            return _enable_failed(parent, own, exc)
        try:
            _move_all(parent, leaf)
            (parent / "cgroup.subtree_control").write_text(enable)
        except OSError as again:
            return _enable_failed(parent, own, again)
    return CgroupStatus("v2", "ok", None, parent, leaf)


def _move_all(parent: Path, leaf: Path) -> None:
    """Move every process in ``parent`` into ``leaf``, again while some fork meanwhile."""
    for _ in range(10):
        pids = (parent / "cgroup.procs").read_text().split()
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):  # it exited meanwhile
                (leaf / "cgroup.procs").write_text(pid)


def _enable_failed(parent: Path, own: Path | None, exc: OSError) -> CgroupStatus:
    if exc.errno == errno.EBUSY:
        return CgroupStatus(
            "v2",
            "v2_busy",
            f"the cgroup v2 group {parent} holds other processes than the grader, so no "
            "controllers can be enabled for cgroups under it",
            parent,
            own,
        )
    return CgroupStatus(
        "v2",
        "failed",
        f"cgroup v2: enabling memory and pids in {parent} failed: {exc.strerror}",
        parent,
        own,
    )


def _undo_leaf(parent: Path, leaf: Path) -> None:
    with contextlib.suppress(OSError):
        (parent / "cgroup.procs").write_text(str(os.getpid()))
    with contextlib.suppress(OSError):
        leaf.rmdir()


@cache
def cgroup_problem() -> str | None:
    """Why no per-submission cgroup is in force here, or None when one is.

    Without one, memory is limited per process (RLIMIT_AS) and processes per
    user (RLIMIT_NPROC, which does not bind root): a submission that forks can
    hold more than the limit in all. The isolation report says so.
    """
    return cgroup_status().problem


def forget_cgroups() -> None:
    """Look again at the next ``cgroup_status`` (tests that change the environment)."""
    cgroup_status.cache_clear()
    cgroup_problem.cache_clear()


def cgroups_failed(reason: str) -> None:
    """A cgroup could not be made after all: later reports must not claim one."""
    if not _CGROUPS_FAILED:
        _CGROUPS_FAILED.append(reason)
    forget_cgroups()


def make_cgroup(limits: Limits) -> Cgroup | Cgroup2:
    """A cgroup of the kind ``cgroup_status`` found for one sandbox (check its ``ok``)."""
    status = cgroup_status()
    if status.version == "v2":
        return Cgroup2(limits, status.where if status.kind == "ok" else None)
    return Cgroup(limits)


class SandboxCgroup:
    """What v1's and v2's sandbox cgroups do alike: join, list, kill and remove.

    Subclasses make ``dirs`` (one per hierarchy the sandbox lives in) and
    ``_procs_files`` (their ``cgroup.procs``, as strings ready for ``add_self``).
    """

    dirs: list[Path]
    _procs_files: list[str]

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


class Cgroup(SandboxCgroup):
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


def cgroup2_settings(limits: Limits) -> dict[str, int]:
    """What a v2 sandbox cgroup is given; the files after ``pids.max`` only where they exist.

    ``memory.swap.max`` 0 keeps swap from stretching the memory limit, and
    ``memory.oom.group`` 1 makes an OOM kill take the whole sandbox at once (the
    worker is restarted either way, as after an OOM kill on v1).
    """
    return {
        "memory.max": limits.memory_bytes,
        "pids.max": limits.processes,
        "memory.swap.max": 0,
        "memory.oom.group": 1,
    }


CGROUP2_REQUIRED = ("memory.max", "pids.max")


class Cgroup2(SandboxCgroup):
    """A cgroup v2 for one sandbox, with memory and process limits, under ``parent``.

    The same interface as the v1 ``Cgroup``; ``kill_all`` uses ``cgroup.kill``
    where the kernel has it.
    """

    _swept: ClassVar[set[Path]] = set()
    _lock = threading.Lock()

    def __init__(self, limits: Limits, parent: Path | None) -> None:
        self.dirs: list[Path] = []
        self.ok = False
        self._procs_files: list[str] = []
        if parent is None:
            return
        self._sweep_stale(parent)
        d = parent / f"{CGROUP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
        try:
            d.mkdir()
        except OSError:
            return
        self.dirs = [d]
        self._procs_files = [str(d / "cgroup.procs")]
        try:
            for key, value in cgroup2_settings(limits).items():
                if key in CGROUP2_REQUIRED or (d / key).exists():
                    (d / key).write_text(str(value))
        except OSError:
            return
        self.ok = True

    @classmethod
    def _sweep_stale(cls, parent: Path) -> None:
        """Remove what graders that died left under ``parent`` (named by their pid).

        A dead grader's sandbox cgroup is killed and removed; its ``-self`` leaf
        is only removed when empty: what is left in it is not a submission's.
        """
        with cls._lock:
            if parent in cls._swept:
                return
            cls._swept.add(parent)
        with contextlib.suppress(OSError):
            for d in parent.glob(f"{CGROUP_PREFIX}*-*"):
                owner = d.name[len(CGROUP_PREFIX) :].split("-")[0]
                if not owner.isdigit() or alive(int(owner)) or not d.is_dir():
                    continue
                if d.name.endswith(SELF_SUFFIX):
                    with contextlib.suppress(OSError):
                        d.rmdir()
                    continue
                stale = Cgroup2.__new__(Cgroup2)
                stale.dirs = [d]
                stale.remove()

    def kill_all(self) -> None:
        """``cgroup.kill`` kills all in it at once, forks in flight included; else signals."""
        for d in self.dirs:
            with contextlib.suppress(OSError):
                (d / "cgroup.kill").write_text("1")
        super().kill_all()


def alive(pid: int) -> bool:
    """Whether ``pid`` may still run; True where that cannot be asked safely.

    On Windows ``os.kill(pid, 0)`` would send CTRL_C_EVENT rather than probe, so
    every pid counts as alive there: a sweep then leaves other graders' leftovers
    alone rather than guess.
    """
    if sys.platform == "win32":
        return True
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
    """``prctl(2)`` where it exists (Linux); False elsewhere, and when it failed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return libc().prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def rlimit_setter(limits: Limits, nproc: bool) -> Callable[[], None] | None:
    """What caps a process's resources to ``limits``, to call between fork and exec.

    None where the platform has no rlimits (Windows). ``resource`` is imported
    here, in the parent and not at the top of the module: the engine must import
    on Windows, and a child of a threaded grader must not import between fork
    and exec.
    """
    try:
        import resource
    except ImportError:
        return None

    def cap(which: int, value: int) -> None:
        with contextlib.suppress(ValueError, OSError):
            _, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))

    def set_rlimits() -> None:
        cap(resource.RLIMIT_CPU, limits.cpu_seconds)
        cap(resource.RLIMIT_AS, limits.memory_bytes + (1 << 30))
        cap(resource.RLIMIT_FSIZE, limits.file_bytes)
        cap(resource.RLIMIT_NOFILE, limits.open_files)
        cap(resource.RLIMIT_CORE, 0)
        if nproc:
            cap(resource.RLIMIT_NPROC, limits.processes)

    return set_rlimits


def rlimits_available() -> bool:
    """Whether this platform has rlimits (POSIX ``resource``); Windows has none."""
    return rlimit_setter(Limits(), nproc=False) is not None
