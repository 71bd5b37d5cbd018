"""Starting, talking to and killing the sandboxed worker process.

The trusted grader never runs student code: it starts ``worker.py`` in a
separate process and exchanges plain-data frames with it (see ``wire``). On
Linux with bubblewrap the worker runs in fresh user, pid, net, ipc and mount
namespaces as an unprivileged uid with no capabilities, sees a read-only system
(the Python install, with this grader's own packages masked) and one private
tmpfs scratch directory. Without bubblewrap it falls back to ``unshare`` or a
plain process group, and says so: the isolation in force is part of every report.

Resource limits are rlimits (CPU, address space, file size, open files) plus,
where cgroup v1 controllers are writable, a per-sandbox memory and pids cgroup,
which gives each submission its own process budget and a clean way to find and
kill every process it started.
"""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from grader import wire

HERE = Path(__file__).resolve().parent
MAX_HEADER = 16 << 20
MAX_PAYLOAD = 256 << 20
SCRATCH = "/scratch"
WORKER_DIR = "/opt/grader-worker"
CGROUP_ROOT = Path("/sys/fs/cgroup")


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
    method: str
    full: bool
    note: str = ""


@cache
def isolation() -> Isolation:
    """Probe once which isolation this machine gives."""
    if sys.platform.startswith("linux"):
        bwrap = shutil.which("bwrap")
        if bwrap and _runs([bwrap, *_bwrap_base_args(), "--ro-bind", "/", "/", "true"]):
            return Isolation("bubblewrap", True)
        unshare = shutil.which("unshare")
        if unshare and _runs([unshare, *_unshare_args(), "true"]):
            return Isolation(
                "unshare",
                False,
                "bubblewrap is not available: the submission has no network and its own "
                "process tree, but can read the filesystem (install bubblewrap)",
            )
    return Isolation(
        "process",
        False,
        "no namespaces on this platform: the submission runs as a separate process with "
        "resource limits only; it can read your files and reach the network",
    )


def _runs(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


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
    """Directories the worker's interpreter needs: the install, the venv, site-packages."""
    import site

    roots = {sys.base_prefix, sys.prefix, *site.getsitepackages()}
    return sorted(r for r in roots if os.path.isdir(r))


def _masked_paths(roots: list[str]) -> list[str]:
    """This grader's own packages, wherever they sit inside a directory the worker sees."""
    import exercises
    import reference

    own = [HERE, Path(exercises.__file__).parent, Path(reference.__file__).parent]
    found = []
    for path in own:
        p = str(path.resolve())
        if any(p == r or p.startswith(r.rstrip("/") + "/") for r in roots):
            found.append(p)
    return found


class Cgroup:
    """A v1 memory + pids cgroup for one sandbox, when the machine lets us make one."""

    def __init__(self, limits: Limits) -> None:
        self.dirs: list[Path] = []
        name = f"grader-{uuid.uuid4().hex[:12]}"
        settings = {
            "memory": {"memory.limit_in_bytes": limits.memory_bytes},
            "pids": {"pids.max": limits.processes},
        }
        for controller, values in settings.items():
            base = CGROUP_ROOT / controller
            try:
                d = base / name
                d.mkdir()
                self.dirs.append(d)
                for key, value in values.items():
                    (d / key).write_text(str(value))
            except OSError:
                continue
        self.ok = len(self.dirs) == 2

    def add_self(self) -> None:
        """Called in the child before exec: the sandbox and all it forks live here."""
        for d in self.dirs:
            with contextlib.suppress(OSError):
                (d / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (d / "cgroup.procs").read_text().split())
        return found

    def kill_all(self) -> None:
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.01)


@dataclass
class Worker:
    """One sandboxed worker process; restartable after a timeout or crash."""

    limits: Limits = field(default_factory=Limits)
    proc: subprocess.Popen | None = None
    cgroup: Cgroup | None = None
    _files: str | None = None
    _scratch: str | None = None

    def start(self) -> None:
        iso = isolation()
        self._files = self._files or self._stage_worker_files()
        python = sys.executable
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": SCRATCH if iso.method == "bubblewrap" else self._scratch_dir(),
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
        if iso.method == "bubblewrap":
            cmd = self._bwrap_command(python)
            cwd = "/"
        else:
            worker = os.path.join(self._files, "worker.py")
            prefix = [shutil.which("unshare") or "unshare", *_unshare_args()]
            cmd = [*(prefix if iso.method == "unshare" else []), python, "-I", worker]
            cwd = self._scratch_dir()
        self.cgroup = Cgroup(self.limits) if sys.platform.startswith("linux") else None
        use_nproc = not (self.cgroup and self.cgroup.ok)
        limits, cgroup = self.limits, self.cgroup

        def before_exec() -> None:
            if cgroup is not None:
                cgroup.add_self()
            _set_rlimits(limits, use_nproc)

        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            preexec_fn=before_exec,
            start_new_session=True,
        )
        os.set_blocking(self.proc.stdout.fileno(), False)

    def _bwrap_command(self, python: str) -> list[str]:
        roots = _python_roots()
        args = ["bwrap", *_bwrap_base_args(), "--proc", "/proc", "--dev", "/dev"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        args += ["--ro-bind", "/usr", "/usr"]
        # /tmp first: a venv or checkout under /tmp must stay visible above it.
        args += ["--size", str(16 << 20), "--tmpfs", "/tmp"]
        for etc in ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"):
            args += ["--ro-bind-try", etc, etc]
        for root in roots:
            args += ["--ro-bind", root, root]
        for masked in _masked_paths(roots):
            args += ["--tmpfs", masked, "--remount-ro", masked]
        args += ["--ro-bind", self._files, WORKER_DIR]
        args += ["--size", str(self.limits.scratch_bytes), "--tmpfs", SCRATCH]
        args += ["--chdir", SCRATCH, "--", python, "-I", f"{WORKER_DIR}/worker.py"]
        return args

    def _stage_worker_files(self) -> str:
        """Copy only worker.py and wire.py out, so the sandbox sees nothing else of ours."""
        d = tempfile.mkdtemp(prefix="grader-worker-")
        for name in ("worker.py", "wire.py"):
            shutil.copy(HERE / name, os.path.join(d, name))
        os.chmod(d, 0o755)
        return d

    def _scratch_dir(self) -> str:
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="grader-scratch-")
        return self._scratch

    def request(self, message: dict, timeout: float) -> Reply:
        """Send one request and wait up to ``timeout`` seconds for its answer."""
        return self.send(message) or self.receive(timeout)

    def send(self, message: dict) -> Reply | None:
        """Send without waiting (the worker may still be booting); a Reply only on failure."""
        if self.proc is None or self.proc.poll() is not None:
            return Reply("crashed", detail=self._exit_detail())
        try:
            wire.write_all(self.proc.stdin.fileno(), wire.encode(message))
        except (BrokenPipeError, OSError):
            return Reply("crashed", detail=self._exit_detail())
        return None

    def receive(self, timeout: float) -> Reply:
        """Wait up to ``timeout`` seconds for the answer to the last request."""
        return self._read_reply(time.monotonic() + timeout)

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
        if code is not None and code > 128 and isolation().method == "bubblewrap":
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
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.proc = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None

    def close(self) -> None:
        self.kill()
        for d in (self._files, self._scratch):
            if d:
                shutil.rmtree(d, ignore_errors=True)
        self._files = self._scratch = None


def _buffer_lengths(header: bytes) -> list[int]:
    import json

    try:
        lengths = json.loads(header)["buffers"]
    except (ValueError, KeyError, TypeError):
        raise wire.WireError("malformed header") from None
    if not isinstance(lengths, list) or not all(type(n) is int and n >= 0 for n in lengths):
        raise wire.WireError("malformed buffer table")
    return lengths


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
