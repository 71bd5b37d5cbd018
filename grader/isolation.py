"""Which isolation this machine gives, and the command line that sets it up.

On Linux with bubblewrap the worker runs in fresh user, pid, net, ipc, uts and
mount namespaces as an unprivileged uid with no capabilities. It sees a
read-only system (``/usr`` and the Python install, with this grader's own
packages masked), a read-only ``/proc`` of its own, and one writable place: a
private, size-limited tmpfs scratch directory (plus a small ``/dev/shm`` for
multiprocessing). Without bubblewrap it falls back to ``unshare`` or a plain
process, and says so: the isolation in force is part of every report. Full
isolation also needs a per-submission cgroup (see ``limits``: cgroup v1 as root,
cgroup v2 as root or in a delegated subtree); without one the memory and
process limits bind each process, not the submission, and the report says that
too. ``grade doctor`` (``doctor``) says what is missing here and how to get it.

``GRADER_ISOLATION=bubblewrap|unshare|process`` forces a method (tests use it
to exercise the fallbacks); a forced method that does not work here falls back
further, and the note says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grader import winjob
from grader.limits import Limits, cgroup_problem, forget_cgroups, rlimits_available

HERE = Path(__file__).resolve().parent
SCRATCH = "/scratch"
WORKER_DIR = "/opt/grader-worker"
ISOLATION_ENV = "GRADER_ISOLATION"
METHODS = ("bubblewrap", "unshare", "process")
SHM_BYTES = 16 << 20
# Without bubblewrap, a root grader runs each worker as a uid of its own from this range,
# which no account uses: it can then neither write the grader's files, read what only
# root may, nor signal the grader or another submission's worker.
WORKER_UIDS = range(0x5A000000, 0x5A000000 + (1 << 20))


@dataclass(frozen=True)
class Isolation:
    """The isolation in force; ``note`` says plainly what is missing when not ``full``."""

    method: str
    full: bool
    note: str = ""


_BROKEN: set[str] = set()  # methods whose launch failed for real in this process
_VERIFIED: set[str] = set()  # methods tried for real and found working


@cache
def isolation() -> Isolation:
    """Which isolation this machine gives (or the one ``GRADER_ISOLATION`` forces).

    An installed bubblewrap is trusted without a trial run, which would cost a
    launch (15-20 ms) on every grading; a worker that then dies before answering
    asks ``launch_failed``, which tries bubblewrap for real and, if it does not
    work here, drops it so that this is recomputed with the next method.
    """
    asked = os.environ.get(ISOLATION_ENV, "").strip().lower()
    notes = []
    if asked and asked not in METHODS:
        notes.append(f"{ISOLATION_ENV}={asked!r} is not one of {', '.join(METHODS)}; ignored")
        asked = ""
    candidates = METHODS[METHODS.index(asked) :] if asked else METHODS
    method = next(m for m in candidates if m == "process" or _available(m))
    if asked and method != asked:
        notes.append(f"{ISOLATION_ENV}={asked} was asked for but does not work here")
    elif asked and asked != METHODS[0]:
        notes.append(f"reduced on purpose by {ISOLATION_ENV}={asked}")
    cgroup = cgroup_problem()
    if not rlimits_available():
        notes.append(platform_limits_note(sys.platform, winjob.problem()))
    elif cgroup is not None:
        notes.append(
            f"no per-submission cgroup ({cgroup}): memory and process limits apply per "
            "process, not to the submission as a whole"
        )
        if sys.platform == "darwin":
            notes.append(platform_limits_note(sys.platform))
    if method == "bubblewrap":
        return Isolation(method, cgroup is None, "; ".join(notes))
    user = _user_name()
    if own_uid_works(method):
        reach = "any file that every user may read"
        if method == "unshare":
            what = (
                "the submission has no network and its own process tree, and runs as an "
                f"unprivileged uid of its own, not as {user}: it can read {reach}"
            )
        else:
            what = (
                "the submission runs as a plain process with resource limits, as an "
                f"unprivileged uid of its own, not as {user}: it can read {reach} and reach "
                "the network"
            )
    elif method == "unshare":
        what = (
            "the submission has no network and its own process tree, but runs as your user "
            f"({user}): it can read and write your files"
        )
    else:
        what = (
            f"the submission runs as a plain process as your user ({user}) with resource limits "
            "only: it can read and write your files, reach the network and signal the grader"
        )
    if not sys.platform.startswith("linux"):
        notes.append(f"no namespaces on this platform ({sys.platform})")
    elif not asked:
        notes.append("bubblewrap (bwrap) is not available; install it for full isolation")
    return Isolation(method, False, "; ".join([*notes, what]))


def platform_limits_note(platform: str, job_problem: str | None = None) -> str:
    """What a platform without Linux's limits lacks, said plainly (reports and ``grade doctor``).

    On Windows that depends on the job object (``winjob``): ``job_problem`` is why
    there is none, or None when the worker gets one.
    """
    if platform == "darwin":
        return (
            "macOS does not enforce the memory limit (RLIMIT_AS), only the other rlimits, "
            "and a process the submission starts in a new session of its own is not killed "
            "with it"
        )
    if platform == "win32":
        return winjob.isolation_note(job_problem)
    return (
        f"no memory, CPU, file-size or process limits on this platform ({platform}) beyond "
        "the per-call time limit and the submission's wall-time budget, and processes the "
        "submission starts are not killed with it"
    )


def _available(method: str) -> bool:
    if method in _BROKEN:
        return False
    if method == "bubblewrap":
        return sys.platform.startswith("linux") and shutil.which("bwrap") is not None
    return _works(method)


def launch_failed(method: str) -> bool:
    """A worker under ``method`` died before answering: is the method itself broken here?

    If so it is dropped, ``isolation()`` falls back to the next method, and the
    caller should start the worker again; if not, the crash was the submission's.
    """
    if method != "bubblewrap" or method in _BROKEN or method in _VERIFIED:
        return False
    if _works(method):
        _VERIFIED.add(method)
        return False
    _BROKEN.add(method)
    isolation.cache_clear()
    return True


def reset() -> None:
    """Forget what was found (tests that change the environment call this)."""
    _BROKEN.clear()
    _VERIFIED.clear()
    own_uid_works.cache_clear()
    forget_cgroups()
    isolation.cache_clear()


def verified_isolation() -> Isolation:
    """``isolation()`` after a real trial of bubblewrap (for tests and diagnostics)."""
    iso = isolation()
    if iso.method == "bubblewrap" and launch_failed("bubblewrap"):
        iso = isolation()
    return iso


def _works(method: str) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    if method == "bubblewrap":
        bwrap = shutil.which("bwrap")
        return bool(bwrap) and _runs(bwrap_args(bwrap, None, Limits(), ["true"]))
    unshare = shutil.which("unshare")
    return bool(unshare) and _runs([unshare, *unshare_args(), "true"])


def _runs(cmd: list[str], cwd: str | None = None, timeout: float = 10) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=cwd).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def own_uid_wanted(method: str) -> bool:
    """Whether a worker under ``method`` should run as a uid of its own: a root grader's, without
    bubblewrap (whose sandbox has its own unprivileged uid already)."""
    linux = sys.platform.startswith("linux")
    return linux and method in ("unshare", "process") and os.geteuid() == 0


@cache
def own_uid_works(method: str) -> bool:
    """Whether a worker under ``method`` runs as a uid of its own: Python and numpy start,
    and the temp folder that the worker's files and scratch are made in can be entered.

    Tried once for real: a root grader whose Python lives where only root may
    read (a venv in /root), or whose TMPDIR does, keeps running its workers as
    root, and says so.
    """
    if not own_uid_wanted(method):
        return False
    enter = "import numpy, os, sys; os.stat(os.path.join(sys.argv[1], os.curdir))"
    probe = [sys.executable, "-I", "-c", enter, tempfile.gettempdir()]
    if method == "unshare":
        unshare, drop = shutil.which("unshare"), become(WORKER_UIDS[0])
        if unshare is None or drop is None:
            return False
        return _runs([unshare, *unshare_args(), *drop, *probe], cwd="/", timeout=60)
    try:
        proc = subprocess.run(
            probe,
            capture_output=True,
            timeout=60,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "HOME": "/"},
            user=WORKER_UIDS[0],
            group=WORKER_UIDS[0],
            extra_groups=[],
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def become(uid: int) -> list[str] | None:
    """The command that ``unshare`` runs, as root, to start the worker as ``uid``; None
    without ``setpriv`` (util-linux 2.33 or later).

    Not ``unshare --setuid``: a change of uid clears the parent-death signal that
    ``--kill-child`` set, so a worker would outlive a grader that was killed.
    ``setpriv`` sets that signal again after the change.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    ids = str(uid)
    return [setpriv, "--reuid", ids, "--regid", ids, "--clear-groups", "--pdeathsig", "KILL"]


_TAKEN: set[int] = set()  # the uids this grader's live workers run as
_TAKEN_LOCK = threading.Lock()  # grade batch --jobs starts workers from several threads


def worker_uid() -> int:
    """A uid for one of a root grader's workers that no other worker has: two with one uid
    could signal each other and read each other's scratch. Drawn at random, and drawn
    again while one of this grader's workers has it (``grade batch --jobs``) or a live
    process runs as it (another grader's, CI shards on one machine). Given back by
    ``release_uid``."""
    import secrets

    with _TAKEN_LOCK:
        while True:
            uid = WORKER_UIDS[secrets.randbelow(len(WORKER_UIDS))]
            if uid not in _TAKEN and uid not in _live_uids():
                _TAKEN.add(uid)
                return uid


def _live_uids() -> set[int]:
    """The real uids of the processes running now (from /proc: a process that made
    itself undumpable shows its files as root's, not its status)."""
    uids = set()
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return uids
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"Uid:"):
                        uids.add(int(line.split()[1]))
                        break
        except (OSError, ValueError, IndexError):
            continue  # gone since the listing
    return uids


def release_uid(uid: int) -> None:
    """The worker that ran as ``uid`` is gone for good."""
    with _TAKEN_LOCK:
        _TAKEN.discard(uid)


def _user_name() -> str:
    """The account the submission runs as, for the note; Windows names it in USERNAME."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        pass
    if hasattr(os, "geteuid"):
        return f"uid {os.geteuid()}"
    import getpass

    try:
        return getpass.getuser() or "your account"
    except (ImportError, KeyError, OSError):  # no login name set (OSError from 3.13 on)
        return "your account"


def _bwrap_base_args() -> list[str]:
    return [
        "--unshare-all",
        "--unshare-user",
        "--die-with-parent",
        "--new-session",
        "--uid", "65534",
        "--gid", "65534",
        "--cap-drop", "ALL",
        "--disable-userns",
        "--hostname", "sandbox",
    ]  # fmt: skip


def unshare_args() -> list[str]:
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return [*user, "--net", "--pid", "--fork", "--kill-child", "--ipc", "--uts"]


def _python_roots() -> list[str]:
    """What the worker's interpreter needs: each prefix's bin and lib, and site-packages.

    Only these parts of a prefix are bound, so a venv made in a project folder
    does not expose the rest of that folder (gradebooks, other submissions).
    """
    import site

    roots = set()
    for prefix in {sys.base_prefix, sys.prefix}:
        for part in ("bin", "lib", "lib64", "pyvenv.cfg"):
            roots.add(os.path.join(prefix, part))
    roots.update(site.getsitepackages())
    return sorted(r for r in roots if os.path.exists(r))


def own_packages() -> list[Path]:
    """This grader's packages (found without importing them): none may be visible inside."""
    import importlib.util

    found = [HERE]
    for name in ("exercises", "reference", "gradekit"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found += [Path(p) for p in spec.submodule_search_locations]
    return found


def masked_paths(roots: Iterable[str], own: Iterable[Path]) -> list[str]:
    """Where each of ``own`` appears inside the bound ``roots``, as seen in the sandbox.

    A root is bound at its own path; a package found under it (directly or once
    symlinks are resolved, e.g. a non-editable install in site-packages) gets an
    empty read-only tmpfs over it at the matching place under that path.
    """
    found: set[str] = set()
    for root in roots:
        root_forms = {os.path.abspath(root), os.path.realpath(root)}
        for package in own:
            for pkg in {os.path.abspath(package), os.path.realpath(package)}:
                for form in root_forms:
                    if pkg == form:
                        found.add(os.path.abspath(root))
                    elif pkg.startswith(form.rstrip("/") + "/"):
                        found.add(os.path.join(os.path.abspath(root), pkg[len(form) :].lstrip("/")))
    return sorted(found)


def bwrap_args(
    bwrap: str,
    files: str | None,
    limits: Limits,
    command: list[str],
    roots: list[str] | None = None,
    own: list[Path] | None = None,
) -> list[str]:
    """The full bubblewrap command line; ``files`` is the staged worker (None for the probe).

    ``roots`` (bound read-only) and ``own`` (masked) default to this interpreter's
    and this grader's; tests pass their own to prove the masking on a fake install.
    """
    roots = _python_roots() if roots is None else roots
    args = [bwrap, *_bwrap_base_args(), "--proc", "/proc", "--dev", "/dev"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--ro-bind", "/usr", "/usr"]
    # /tmp first: a venv or checkout under /tmp must stay visible above it.
    args += ["--size", str(1 << 20), "--tmpfs", "/tmp"]
    for etc in ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"):
        args += ["--ro-bind-try", etc, etc]
    for root in roots:
        args += ["--ro-bind", root, root]
    for masked in masked_paths(roots, own_packages() if own is None else own):
        args += ["--tmpfs", masked, "--remount-ro", masked]
    if files is not None:
        args += ["--ro-bind", files, WORKER_DIR]
    args += ["--size", str(limits.scratch_bytes), "--tmpfs", SCRATCH]
    args += ["--size", str(SHM_BYTES), "--tmpfs", "/dev/shm"]
    # Last: nothing but /scratch and /dev/shm stays writable. The sandbox's uid maps
    # to the caller's, so a writable /proc would let root's sandbox write /proc/sys.
    for ro in ("/tmp", "/dev", "/proc", "/"):
        args += ["--remount-ro", ro]
    return [*args, "--chdir", SCRATCH, "--", *command]
