"""Starting, talking to and killing the sandboxed worker process.

The trusted grader never runs student code: it starts ``worker.py`` in a
separate process and exchanges plain-data frames with it (see ``wire``). On
Linux with bubblewrap the worker runs in fresh user, pid, net, ipc, uts and
mount namespaces as an unprivileged uid with no capabilities. It sees a
read-only system (``/usr`` and the Python install, with this grader's own
packages masked), a read-only ``/proc`` of its own, and one writable place: a
private, size-limited tmpfs scratch directory (plus a small ``/dev/shm`` for
multiprocessing). Without bubblewrap it falls back to ``unshare`` or a plain
process, and says so: the isolation in force is part of every report.

``GRADER_ISOLATION=bubblewrap|unshare|process`` forces a method (tests use it
to exercise the fallbacks); a forced method that does not work here falls back
further, and the note says so. ``GRADER_CGROUPS=off`` skips the cgroups, which
leaves the rlimit-only path that non-root users get.

Resource limits are rlimits (CPU, address space, file size, open files) plus,
where cgroup v1 controllers are writable (root), a per-sandbox memory and pids
cgroup: the real process limit (``RLIMIT_NPROC`` does not bind root) and a
reliable way to find and kill every process a submission started. Without
cgroups, the pid namespace (bubblewrap, unshare) or, in plain-process mode, the
grader acting as child subreaper finds the processes that double-forked away.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from grader import wire

HERE = Path(__file__).resolve().parent
MAX_HEADER = 16 << 20
MAX_PAYLOAD = 64 << 20
SCRATCH = "/scratch"
WORKER_DIR = "/opt/grader-worker"
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "grader-"
ISOLATION_ENV = "GRADER_ISOLATION"
CGROUPS_ENV = "GRADER_CGROUPS"
METHODS = ("bubblewrap", "unshare", "process")
SHM_BYTES = 16 << 20

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


@dataclass
class Reply:
    """What came back from one request: a decoded answer, or why there is none."""

    status: str  # "ok" | "timeout" | "crashed" | "protocol"
    value: Any = None
    detail: str = ""


@dataclass(frozen=True)
class Isolation:
    """The isolation in force; ``note`` says plainly what is missing when not ``full``."""

    method: str
    full: bool
    note: str = ""


@cache
def isolation() -> Isolation:
    """Probe once which isolation this machine gives (or the one ``GRADER_ISOLATION`` forces)."""
    asked = os.environ.get(ISOLATION_ENV, "").strip().lower()
    notes = []
    if asked and asked not in METHODS:
        notes.append(f"{ISOLATION_ENV}={asked!r} is not one of {', '.join(METHODS)}; ignored")
        asked = ""
    candidates = METHODS[METHODS.index(asked) :] if asked else METHODS
    method = next(m for m in candidates if m == "process" or _works(m))
    if asked and method != asked:
        notes.append(f"{ISOLATION_ENV}={asked} was asked for but does not work here")
    elif asked and asked != METHODS[0]:
        notes.append(f"reduced on purpose by {ISOLATION_ENV}={asked}")
    if method == "bubblewrap":
        return Isolation(method, True, "; ".join(notes))
    user = _user_name()
    if method == "unshare":
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


def _works(method: str) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    if method == "bubblewrap":
        bwrap = shutil.which("bwrap")
        return bool(bwrap) and _runs(bwrap_args(bwrap, None, Limits(), ["true"]))
    unshare = shutil.which("unshare")
    return bool(unshare) and _runs([unshare, *_unshare_args(), "true"])


def _runs(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _user_name() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}" if hasattr(os, "geteuid") else "your account"


def _cgroups_wanted() -> bool:
    off = os.environ.get(CGROUPS_ENV, "").strip().lower() in ("0", "off", "no", "false")
    return sys.platform.startswith("linux") and not off


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


def _unshare_args() -> list[str]:
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
    for name in ("exercises", "reference"):
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


class Cgroup:
    """A v1 memory + pids cgroup for one sandbox, when the machine lets us make one."""

    _swept = False
    _lock = threading.Lock()

    def __init__(self, limits: Limits) -> None:
        self.dirs: list[Path] = []
        limited = 0
        self._sweep_stale()
        name = f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
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
                    if owner.isdigit() and not _alive(int(owner)):
                        stale = Cgroup.__new__(Cgroup)
                        stale.dirs = [d]
                        stale.remove()

    def add_self(self) -> None:
        """Called in the child before exec: the sandbox and all it forks live here."""
        for d in self.dirs:
            with contextlib.suppress(OSError):
                (d / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in (d / "cgroup.procs").read_text().split())
        return found

    def kill_all(self) -> None:
        for _ in range(200):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(200):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.005)


@cache
def _sweep_stale_dirs() -> None:
    """Remove staged workers and scratch left by graders that were killed (named by pid)."""
    with contextlib.suppress(OSError):
        for d in Path(tempfile.gettempdir()).glob("grader-*-*-*"):
            kind, owner = d.name.split("-")[1:3]
            if kind in ("worker", "scratch") and owner.isdigit() and not _alive(int(owner)):
                _remove_tree(str(d))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Orphans:
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
                cls.adopted = _prctl(PR_SET_CHILD_SUBREAPER, 1)

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
def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> bool:
    try:
        return _libc().prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@dataclass
class Worker:
    """One sandboxed worker process; restartable after a timeout or crash."""

    limits: Limits = field(default_factory=Limits)
    method: Isolation | None = None  # None: what ``isolation()`` found
    proc: subprocess.Popen | None = None
    cgroup: Cgroup | None = None
    _files: str | None = None
    _scratch: str | None = None
    _op: str = ""
    _adopting: bool = False

    def start(self) -> None:
        iso = self.method or isolation()
        self._files = self._files or self._stage_worker_files()
        python = sys.executable
        home = SCRATCH if iso.method == "bubblewrap" else self._scratch_dir()
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": home,
            "TMPDIR": home,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TORCH_NUM_THREADS": "1",
        }
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if key in os.environ:
                env[key] = os.environ[key]
        worker = [python, "-I", os.path.join(self._files, "worker.py")]
        if iso.method == "bubblewrap":
            command = [python, "-I", f"{WORKER_DIR}/worker.py"]
            cmd = bwrap_args(shutil.which("bwrap") or "bwrap", self._files, self.limits, command)
        elif iso.method == "unshare":
            cmd = [shutil.which("unshare") or "unshare", *_unshare_args(), *worker]
        else:
            cmd = worker
        self.cgroup = Cgroup(self.limits) if _cgroups_wanted() else None
        contained = self.cgroup is not None and self.cgroup.ok
        if not iso.full:
            # Same uid as the submission: keep it out of our memory and /proc/<pid>/environ.
            _prctl(PR_SET_DUMPABLE, 0)
        self._adopting = iso.method == "process" and not contained
        if self._adopting and sys.platform.startswith("linux"):
            _Orphans.adopt()
        limits, cgroup = self.limits, self.cgroup
        libc = _libc() if sys.platform.startswith("linux") else None

        def before_exec() -> None:
            if cgroup is not None:
                cgroup.add_self()
            _set_rlimits(limits, nproc=not contained)
            if libc is not None:
                libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

        with _Orphans.lock:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd="/" if iso.method == "bubblewrap" else self._scratch_dir(),
                env=env,
                preexec_fn=before_exec,
                start_new_session=True,
            )
            _Orphans.live.add(self.proc.pid)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def _stage_worker_files(self) -> str:
        """Copy only worker.py and wire.py out, so the sandbox sees nothing else of ours."""
        _sweep_stale_dirs()
        d = tempfile.mkdtemp(prefix=f"grader-worker-{os.getpid()}-")
        for name in ("worker.py", "wire.py"):
            shutil.copy(HERE / name, os.path.join(d, name))
            os.chmod(os.path.join(d, name), 0o444)
        os.chmod(d, 0o555)
        return d

    def _scratch_dir(self) -> str:
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix=f"grader-scratch-{os.getpid()}-")
        return self._scratch

    def request(self, message: dict, timeout: float) -> Reply:
        """Send one request and wait up to ``timeout`` seconds for its answer."""
        return self.send(message) or self.receive(timeout)

    def send(self, message: dict) -> Reply | None:
        """Send without waiting (the worker may still be booting); a Reply only on failure."""
        self._op = str(message.get("op", ""))
        if self.proc is None or self.proc.poll() is not None:
            return Reply("crashed", detail=self._exit_detail())
        try:
            wire.write_all(self.proc.stdin.fileno(), wire.encode(message))
        except (BrokenPipeError, OSError):
            return Reply("crashed", detail=self._exit_detail())
        return None

    def receive(self, timeout: float) -> Reply:
        """Wait up to ``timeout`` seconds for the answer to the last request."""
        if self.proc is None:
            return Reply("crashed", detail=self._exit_detail())
        reply = self._read_reply(time.monotonic() + timeout)
        if reply.status == "ok":
            problem = malformed_answer(self._op, reply.value)
            if problem:
                return Reply("protocol", detail=problem)
        return reply

    def _read_reply(self, deadline: float) -> Reply:
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        need = wire.HEADER.size
        header: bytes | None = None
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                if header is None and len(buf) >= wire.HEADER.size:
                    (hlen,) = wire.HEADER.unpack(bytes(buf[: wire.HEADER.size]))
                    if hlen > MAX_HEADER:
                        return Reply("protocol", detail="the answer was too large")
                    need = wire.HEADER.size + hlen
                    if len(buf) >= need:
                        header = bytes(buf[wire.HEADER.size : need])
                        try:
                            lengths = _buffer_lengths(header)
                        except wire.WireError as exc:
                            return Reply("protocol", detail=str(exc))
                        if sum(lengths) > MAX_PAYLOAD:
                            return Reply("protocol", detail="the answer was too large")
                        need += sum(lengths)
                if header is not None and len(buf) >= need:
                    start = wire.HEADER.size + len(header)
                    try:
                        value = wire.decode(header, bytes(buf[start:need]))
                    except wire.WireError as exc:
                        return Reply("protocol", detail=str(exc))
                    return Reply("ok", value=value)
                left = deadline - time.monotonic()
                if left <= 0:
                    return Reply("timeout")
                if not sel.select(left):
                    continue
                try:
                    chunk = os.read(fd, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    return Reply("crashed", detail=self._exit_detail(wait=True))
                buf += chunk

    def _exit_detail(self, wait: bool = False) -> str:
        if self.proc is None:
            return "the worker was not started"
        code = None
        with contextlib.suppress(subprocess.TimeoutExpired):
            code = self.proc.wait(0.5) if wait else self.proc.poll()
        if code is not None and code < 0:
            name = (
                signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else code
            )
            return f"the process was killed by {name}"
        if code is not None and code > 128 and (self.method or isolation()).method != "process":
            sig = code - 128
            if sig == signal.SIGKILL:
                return "the process was killed (a resource limit was hit, e.g. memory)"
            return f"the process died from signal {sig}"
        if code is not None:
            return f"the process exited with status {code}"
        return "the process stopped answering"

    def kill(self) -> None:
        """Kill the worker and everything it started; nothing of the submission survives."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
            with _Orphans.lock:
                _Orphans.live.discard(self.proc.pid)
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.proc = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self._adopting:
            _Orphans.sweep()

    def close(self) -> None:
        self.kill()
        for d in (self._files, self._scratch):
            if d:
                _remove_tree(d)
        self._files = self._scratch = None


def malformed_answer(op: str, value: Any) -> str | None:
    """Why ``value`` is not an answer the worker could have sent, or None.

    The worker runs student code in its own process, so its answers are
    checked like any other untrusted input before the runner reads them.
    """
    bad = "the answer did not have the worker's shape"
    if type(value) is not dict or type(value.get("ok")) is not bool:
        return bad
    if not value["ok"]:
        return None if _is_error(value.get("error")) else bad
    if op == "load":
        functions, cells = value.get("functions", []), value.get("cell_errors", [])
        if type(functions) is not list or not all(type(f) is str for f in functions):
            return bad
        if type(cells) is not list or not all(
            _is_error(c) and type(c.get("cell")) is int for c in cells
        ):
            return bad
    elif "value" not in value:
        return bad
    return None


def _is_error(error: Any) -> bool:
    if type(error) is not dict:
        return False
    if any(type(error.get(k, "")) is not str for k in ("kind", "type", "builtin", "message")):
        return False
    where = error.get("where")
    if where is None:
        return True
    return (
        type(where) is dict
        and type(where.get("file", "")) is str
        and type(where.get("line", 0)) in (int, type(None))
        and type(where.get("function", "")) is str
    )


def _buffer_lengths(header: bytes) -> list[int]:
    try:
        lengths = json.loads(header)["buffers"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise wire.WireError("malformed header") from None
    if not isinstance(lengths, list) or not all(type(n) is int and n >= 0 for n in lengths):
        raise wire.WireError("malformed buffer table")
    return lengths


def _remove_tree(path: str) -> None:
    """Remove a scratch tree even where the submission took away permissions."""

    def unlock(func: Any, name: str, _: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            os.chmod(name, stat.S_IRWXU)
            func(name)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=unlock)
    else:
        shutil.rmtree(path, onerror=unlock)
    if os.path.exists(path):
        shutil.rmtree(path, ignore_errors=True)


def _set_rlimits(limits: Limits, nproc: bool) -> None:
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
