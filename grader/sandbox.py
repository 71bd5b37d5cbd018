"""Starting, talking to and killing the sandboxed worker process.

The trusted grader never runs student code: it starts ``worker.py`` in a
separate process, isolated as ``isolation`` decides and limited as ``limits``
sets, and exchanges plain-data frames with it (see ``wire``): over non-blocking
pipes multiplexed with ``selectors`` on POSIX, through a reader and a writer
thread on Windows, whose pipes allow neither (``transport``).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from grader import standins, winjob, wire
from grader.isolation import (
    HERE,
    SCRATCH,
    WORKER_DIR,
    Isolation,
    become,
    bwrap_args,
    isolation,
    own_uid_works,
    release_uid,
    unshare_args,
    worker_uid,
)
from grader.limits import (
    PR_SET_DUMPABLE,
    PR_SET_PDEATHSIG,
    Cgroup,
    Cgroup2,
    Limits,
    Orphans,
    alive,
    cgroup_problem,
    cgroups_failed,
    libc,
    make_cgroup,
    prctl,
    rlimit_setter,
)

WORKER_FILES = ("worker.py", "wire.py", "standins.py")
# Windows ends a process that raised a hardware exception with its NTSTATUS as the exit
# code (0xC0000000 and up); POSIX exit codes never come near.
NTSTATUS_ERROR = 0xC0000000
NTSTATUS_NAMES = {
    0xC0000005: "an access violation",
    0xC00000FD: "a stack overflow",
    0xC0000017: "no memory left",
}
MAX_HEADER = 16 << 20
MAX_PAYLOAD = 64 << 20


@dataclass
class Reply:
    """What came back from one request: a decoded answer, or why there is none."""

    status: str  # "ok" | "timeout" | "crashed" | "protocol" | "stopped" (budget used up)
    value: Any = None
    detail: str = ""


_swept = False
_sweep_lock = threading.Lock()


def _sweep_stale_dirs() -> None:
    """Once per process, under a lock: ``grade batch`` starts workers from several threads."""
    global _swept
    with _sweep_lock:
        if not _swept:
            _swept = True
            _sweep(Path(tempfile.gettempdir()))


def _sweep(base: Path) -> None:
    """Remove staged workers and scratch left in ``base`` by graders that were killed.

    Only real directories (not links) owned by us whose name carries a dead
    pid: anyone may plant a name in a shared /tmp.
    """
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        parts = name.split("-")
        if len(parts) < 4 or parts[0] != "grader" or parts[1] not in ("worker", "scratch"):
            continue
        if parts[2].isdigit() and not alive(int(parts[2])):
            _remove_tree(str(base / name))


TRANSPORT_ENV = "GRADER_TRANSPORT"
TRANSPORTS = ("select", "threads")
CHUNK = 1 << 20
# Chunks the reader thread may hold that the grader has not taken yet: beyond the
# answer being decoded, a worker flooding its pipe costs at most this many MiB.
QUEUED_CHUNKS = 8
# How long a request's write may still be finishing once its answer is in: a worker
# that read all of it lets the write end at once; one that forged its answer never does.
WRITE_GRACE = 1.0


def transport() -> str:
    """How the grader talks to its worker: ``select`` on POSIX, ``threads`` on Windows.

    Windows pipes can be neither selected nor made non-blocking, so there a reader
    and a writer thread stand in. ``GRADER_TRANSPORT=threads`` picks them anywhere
    (tests run them on Linux); nothing picks ``select`` on Windows.
    """
    if sys.platform == "win32":
        return "threads"
    asked = os.environ.get(TRANSPORT_ENV, "").strip().lower()
    return asked if asked in TRANSPORTS else "select"


class SelectPipes:
    """The worker's pipes made non-blocking and multiplexed with ``selectors`` (POSIX)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.streams = (proc.stdin, proc.stdout)
        self.out, self.into = proc.stdout.fileno(), proc.stdin.fileno()
        os.set_blocking(self.out, False)
        os.set_blocking(self.into, False)
        self.outgoing = memoryview(b"")
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.out, selectors.EVENT_READ)

    def idle(self) -> bool:
        """Whether the last request was written in full (else the worker never read it)."""
        return not self.outgoing

    def send(self, frame: bytes) -> bool:
        """Write what the pipe takes now, the rest in ``next_chunk``; False: the worker is gone."""
        self.outgoing = memoryview(frame)
        return self._write_some()

    def _write_some(self) -> bool:
        try:
            while self.outgoing:
                n = os.write(self.into, self.outgoing)
                self.outgoing = self.outgoing[n:]
        except BlockingIOError:
            pass
        except OSError:  # a broken pipe: the worker died, which reading its output will tell
            self.outgoing = memoryview(b"")
            return False
        return True

    def next_chunk(self, deadline: float) -> bytes | None:
        """The worker's next bytes (b"" at its end), writing meanwhile; None at the deadline."""
        writing = bool(self.outgoing)
        if writing:
            self.sel.register(self.into, selectors.EVENT_WRITE)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                for key, _ in self.sel.select(left):
                    if key.fd == self.into:
                        if not self._write_some() or not self.outgoing:
                            self.sel.unregister(self.into)
                            writing = False
                        continue
                    try:
                        return os.read(self.out, CHUNK)
                    except BlockingIOError:
                        continue
        finally:
            if writing:
                self.sel.unregister(self.into)

    def close(self) -> None:
        """After the worker was killed: nothing can be blocked on these pipes."""
        self.sel.close()
        for stream in self.streams:
            with contextlib.suppress(OSError):
                stream.close()


class ThreadPipes:
    """The worker's pipes through a reader and a writer thread, where pipes cannot be selected.

    The reader moves what the worker writes into a bounded queue, so a worker that
    floods its pipe holds at most ``QUEUED_CHUNKS`` MiB of the grader's memory
    beyond the answer being decoded; the writer writes each request with blocking
    writes, so a worker that stops reading blocks that thread, never the grader,
    which waits on the queue with its deadline. Each thread closes its own stream
    when it ends: a pipe closed under a thread blocked on it could have its
    descriptor reused by another worker's pipe before that thread reads again.
    """

    def __init__(self, proc: subprocess.Popen) -> None:
        self.chunks: queue.Queue[bytes] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self.frames: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.written = threading.Event()
        self.written.set()
        self.stopped = threading.Event()
        self.broken = False
        self.ended = False
        roles = (("reader", self._read, proc.stdout), ("writer", self._write, proc.stdin))
        for role, work, stream in roles:
            name = f"grader-worker-{proc.pid}-{role}"
            threading.Thread(target=work, args=(stream,), name=name, daemon=True).start()

    def idle(self) -> bool:
        """Whether the last request was written in full, its write given ``WRITE_GRACE`` to end."""
        return self.written.wait(WRITE_GRACE)

    def send(self, frame: bytes) -> bool:
        """Hand the request to the writer thread; False when a write found the worker gone."""
        if self.broken:
            return False
        self.written.clear()
        self.frames.put(frame)
        return True

    def next_chunk(self, deadline: float) -> bytes | None:
        """The worker's next bytes (b"" at its end); None at the deadline."""
        if self.ended:
            return b""
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            chunk = self.chunks.get(timeout=left)
        except queue.Empty:
            return None
        self.ended = not chunk
        return chunk

    def _read(self, stream: Any) -> None:
        try:
            fd = stream.fileno()
            while not self.stopped.is_set():
                try:
                    chunk = os.read(fd, CHUNK)
                except OSError:
                    chunk = b""
                while not self.stopped.is_set():
                    try:
                        self.chunks.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if not chunk:
                    return
        finally:
            with contextlib.suppress(OSError):
                stream.close()

    def _write(self, stream: Any) -> None:
        try:
            fd = stream.fileno()
            while (frame := self.frames.get()) is not None:
                try:
                    wire.write_all(fd, frame)
                except OSError:  # the worker died, which reading its output will tell
                    self.broken = True
                    return
                finally:
                    self.written.set()
        finally:
            with contextlib.suppress(OSError):
                stream.close()

    def close(self) -> None:
        """After the worker was killed: both threads end once its pipes do."""
        self.stopped.set()
        self.frames.put(None)


def _worker_env(home: str) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's but what Python needs to run.

    On Windows, Python needs ``SYSTEMROOT`` and finds numpy's DLLs on ``PATH``, and
    ``tempfile`` reads ``TEMP``/``TMP``; elsewhere a fixed ``PATH`` is enough.
    """
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
    if sys.platform == "win32":
        env.update(TEMP=home, TMP=home, USERPROFILE=home)
        for key in ("PATH", "SYSTEMROOT", "WINDIR"):
            if key in os.environ:
                env[key] = os.environ[key]
    return env


def _spawn_options(before_exec: Callable[[], None]) -> dict[str, Any]:
    """How the worker is started: in its own session, set up before exec (POSIX); on
    Windows, which has neither ``preexec_fn`` nor sessions, in its own process group and
    suspended until its job holds it (see ``winjob``)."""
    if sys.platform == "win32":
        return {"creationflags": winjob.CREATION_FLAGS}
    return {"preexec_fn": before_exec, "start_new_session": True}


def _job_for(proc: subprocess.Popen, limits: Limits) -> winjob.Job | None:
    """The job object that holds the just-started worker, or None (and the note says why).

    Called right after ``Popen``, before the worker is sent anything: see ``winjob``
    for why no student code can run before this.
    """
    try:
        return winjob.contain(proc.pid, limits)
    except (OSError, AttributeError) as exc:
        winjob.failed(str(exc))
        isolation.cache_clear()
        return None


def _resume(proc: subprocess.Popen) -> None:
    """Let the worker, created suspended, run now that it is in its job (or could not be).

    One that cannot be resumed would only hang until the load times out: it is killed,
    and the load reports a crash.
    """
    try:
        winjob.resume(proc.pid)
    except (OSError, AttributeError):
        with contextlib.suppress(OSError):
            proc.kill()


@dataclass
class Worker:
    """One sandboxed worker process; restartable after a timeout or crash."""

    limits: Limits = field(default_factory=Limits)
    method: Isolation | None = None  # None: what ``isolation()`` found
    proc: subprocess.Popen | None = None
    cgroup: Cgroup | Cgroup2 | None = None
    _files: str | None = None
    _scratch: str | None = None
    _op: str = ""
    _adopting: bool = False
    _pipes: SelectPipes | ThreadPipes | None = None
    started_with: str = ""
    job: winjob.Job | None = None  # Windows: the job object holding the worker
    uid: int | None = None  # a root grader's worker without bubblewrap: its own uid
    # Bytes read past the last answer: a stream of answers may arrive several to a chunk.
    _buf: bytearray = field(default_factory=bytearray)
    budget_left: int = wire.MAX_DECODED  # what the last answer's budget had left once decoded

    def start(self) -> None:
        iso = self.method or isolation()
        self.started_with = iso.method
        self._files = self._files or self._stage_worker_files()
        if self.uid is None and own_uid_works(iso.method):
            self.uid = worker_uid()
        uid = self.uid if own_uid_works(iso.method) else None
        python = sys.executable
        home = SCRATCH if iso.method == "bubblewrap" else self._home(uid)
        env = _worker_env(home)
        worker = [python, "-I", os.path.join(self._files, "worker.py")]
        if iso.method == "bubblewrap":
            command = [python, "-I", f"{WORKER_DIR}/worker.py"]
            cmd = bwrap_args(shutil.which("bwrap") or "bwrap", self._files, self.limits, command)
        elif iso.method == "unshare":
            as_uid = (become(uid) or []) if uid is not None else []  # known to work: probed
            cmd = [shutil.which("unshare") or "unshare", *unshare_args(), *as_uid, *worker]
        else:
            cmd = worker
        self.cgroup = make_cgroup(self.limits) if cgroup_problem() is None else None
        contained = self.cgroup is not None and self.cgroup.ok
        if self.cgroup is not None and not contained:
            cgroups_failed("making a cgroup for the submission failed")
            isolation.cache_clear()
        if not iso.full:
            # Same uid as the submission: keep it out of our memory and /proc/<pid>/environ.
            prctl(PR_SET_DUMPABLE, 0)
        self._adopting = iso.method == "process" and not contained
        if self._adopting and sys.platform.startswith("linux"):
            Orphans.adopt()
        cgroup = self.cgroup
        set_limits = rlimit_setter(self.limits, nproc=not contained)
        c = libc() if sys.platform.startswith("linux") else None

        drop = uid if iso.method == "process" else None  # unshare drops it itself

        def before_exec() -> None:
            if cgroup is not None:
                cgroup.add_self()
            if set_limits is not None:
                set_limits()
            if drop is not None:  # after the cgroup, which only root may join; before PDEATHSIG,
                os.setgroups([])  # which a change of uid clears
                os.setgid(drop)
                os.setuid(drop)
            if c is not None:
                c.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

        with Orphans.lock:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd="/" if iso.method == "bubblewrap" else home,
                env=env,
                **_spawn_options(before_exec),
            )
            Orphans.live.add(proc.pid)
        if sys.platform == "win32":
            self.job = _job_for(proc, self.limits)
            _resume(proc)
        self.connect(proc)

    def connect(self, proc: subprocess.Popen) -> None:
        """Talk to the started ``proc`` from now on, through this platform's ``transport``."""
        self.proc = proc
        self._buf = bytearray()
        self._pipes = ThreadPipes(proc) if transport() == "threads" else SelectPipes(proc)

    def _stage_worker_files(self) -> str:
        """Copy only the worker's own files out, so the sandbox sees nothing else of ours."""
        _sweep_stale_dirs()
        d = tempfile.mkdtemp(prefix=f"grader-worker-{os.getpid()}-")
        for name in WORKER_FILES:
            shutil.copy(HERE / name, os.path.join(d, name))
            os.chmod(os.path.join(d, name), 0o444)
        os.chmod(d, 0o555)
        return d

    def _scratch_dir(self) -> str:
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix=f"grader-scratch-{os.getpid()}-")
        return self._scratch

    def _home(self, uid: int | None) -> str:
        """The worker's writable folder: the scratch directory, or, for a worker with a uid of
        its own, a folder of that uid's inside it (the scratch directory stays ours, 0711, so
        the worker can neither rename nor replace what the grader removes at the end)."""
        top = self._scratch_dir()
        if uid is None:
            return top
        home = os.path.join(top, "home")
        if not os.path.isdir(home):  # kept across restarts, as the scratch directory is
            os.chmod(top, 0o711)
            os.mkdir(home, 0o700)
            os.chown(home, uid, uid)
        return home

    def request(self, message: dict, timeout: float) -> Reply:
        """Send one request and wait up to ``timeout`` seconds, writing included, for its answer."""
        return self.send(message) or self.receive(timeout)

    def send(self, message: dict) -> Reply | None:
        """Queue a request and write what the pipe takes now; a Reply only on failure.

        Nothing here blocks: the worker may still be booting, and the submission
        shares its process, so it can stop reading or shrink the pipe. Whatever
        does not fit goes out in ``receive``, within that call's deadline.
        """
        self._op = str(message.get("op", ""))
        self._buf = bytearray()
        if self.proc is None or self._pipes is None or self.proc.poll() is not None:
            return Reply("crashed", detail=self._exit_detail())
        if not self._pipes.idle():  # it answered a request it had not even read: a forged answer
            self.kill()
            return Reply("protocol", detail="the worker answered before reading the request")
        if not self._pipes.send(wire.encode(message)):
            return Reply("crashed", detail=self._exit_detail())
        return None

    def receive(self, timeout: float, budget: int = wire.MAX_DECODED) -> Reply:
        """Wait up to ``timeout`` seconds for the (next) answer to the last request.

        ``budget`` is what the answer may cost once decoded (``wire.MAX_DECODED``);
        ``budget_left`` says what it left, for the next answer of a stream.

        On the deadline the worker is killed: it may be stuck, or about to
        answer this request late as if it were the next one.
        """
        if self.proc is None or self._pipes is None:
            return Reply("crashed", detail=self._exit_detail())
        reply = self._read_reply(self._pipes, time.monotonic() + timeout, budget)
        if reply.status == "timeout":
            self.kill()
        elif reply.status == "ok":
            problem = malformed_answer(self._op, reply.value)
            if problem:
                return Reply("protocol", detail=problem)
        return reply

    def _read_reply(self, pipes: SelectPipes | ThreadPipes, deadline: float, budget: int) -> Reply:
        buf = self._buf
        need = wire.HEADER.size
        header: bytes | None = None
        while True:
            if header is None and len(buf) >= wire.HEADER.size:
                (hlen,) = wire.HEADER.unpack(bytes(buf[: wire.HEADER.size]))
                if hlen > MAX_HEADER:
                    return Reply("protocol", detail="the answer was too large")
                need = wire.HEADER.size + hlen
                if len(buf) >= need:
                    header = bytes(buf[wire.HEADER.size : need])
                    try:
                        _, lengths = wire.parse_header(header)
                    except Exception as exc:
                        return Reply("protocol", detail=_unreadable(exc))
                    if sum(lengths) > MAX_PAYLOAD:
                        return Reply("protocol", detail="the answer was too large")
                    need += sum(lengths)
            if header is not None and len(buf) >= need:
                start = wire.HEADER.size + len(header)
                try:
                    value, left = wire.decode_within(header, memoryview(buf)[start:need], budget)
                except Exception as exc:
                    return Reply("protocol", detail=_unreadable(exc))
                del buf[:need]
                self.budget_left = left if left is not None else budget
                return Reply("ok", value=value)
            chunk = pipes.next_chunk(deadline)
            if chunk is None:
                return Reply("timeout")
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
        if code is not None and code >= NTSTATUS_ERROR:
            known = NTSTATUS_NAMES.get(code)
            return (
                f"the process crashed (Windows status {code:#010x}{f': {known}' if known else ''})"
            )
        if code is not None:
            return f"the process exited with status {code}"
        return "the process stopped answering"

    def kill(self) -> None:
        """Kill the worker and everything it started; nothing of the submission survives.

        On Windows its job object is terminated, which kills every process in it; without
        a job (see ``winjob``) only the worker itself dies.
        """
        if self.proc is not None:
            if self.job is not None:
                self.job.terminate()
            if hasattr(os, "killpg"):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
            with Orphans.lock:
                Orphans.live.discard(self.proc.pid)
            if self._pipes is not None:
                self._pipes.close()
            self._pipes = None
            self.proc = None
        if self.job is not None:
            self.job.close()
            self.job = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self._adopting:
            Orphans.sweep()

    def close(self) -> None:
        self.kill()
        for d in (self._files, self._scratch):
            if d:
                _remove_tree(d)
        self._files = self._scratch = None
        if self.uid is not None:
            release_uid(self.uid)
            self.uid = None


# Prefixes every machine has: naming them tells nothing about this host.
_SYSTEM_PREFIXES = frozenset({"/", "/usr", "/usr/local"})


@cache
def _host_paths() -> tuple[re.Pattern[str], dict[str, str]]:
    """Host paths the sandbox shows the submission, longest first, with their neutral names."""
    names: dict[str, str] = {}
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        for form in (os.path.abspath(prefix), os.path.realpath(prefix)):
            if form not in _SYSTEM_PREFIXES:
                names[form] = "<python>"
    names[WORKER_DIR] = "<worker>"
    tmp = {re.escape(os.path.abspath(d)) for d in (tempfile.gettempdir(), _real_tmp())}
    staged = rf"(?:{'|'.join(sorted(tmp))})[/\\]grader-(?P<kind>worker|scratch)-\d+-[\w]+"
    known = "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?:{staged}|(?P<known>{known}))(?![\w.-])"), names


def _real_tmp() -> str:
    return os.path.realpath(tempfile.gettempdir())


def neutral_paths(text: str) -> str:
    """``text`` with the host paths a sandboxed exception may quote under neutral names.

    Inside bubblewrap the Python installation keeps its host path and, without
    bubblewrap, the staged worker and scratch directories carry the grader's
    pid: ``<python>/...``, ``<worker>/...`` and ``<scratch>/...`` say as much to
    a student and nothing about the machine.
    """
    pattern, names = _host_paths()

    def name(match: re.Match[str]) -> str:
        if match.group("known"):
            return names[match.group("known")]
        return f"<{match.group('kind')}>"

    return pattern.sub(name, text)


def _unreadable(exc: Exception) -> str:
    """Why a reply could not be decoded; only WireError texts are ours to show."""
    if isinstance(exc, wire.WireError):
        return str(exc)
    return f"malformed answer ({type(exc).__name__})"


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
        stand_ins = value.get("stand_ins", [])
        if type(stand_ins) is not list or not all(
            type(n) is str and n in standins.LIBRARIES for n in stand_ins
        ):
            return bad
        if type(cells) is not list or not all(
            _is_error(c) and type(c.get("cell")) is int for c in cells
        ):
            return bad
    elif op == "calls":  # one frame per case as it finishes, then one saying all are done
        if "done" in value:
            return None if value.keys() == {"ok", "done"} and type(value["done"]) is int else bad
        if value.keys() != {"ok", "case", "answer"} or type(value["case"]) is not int:
            return bad
        return malformed_answer("call", value["answer"])
    elif "value" not in value or not _are_warnings(value.get("warnings", [])):
        return bad
    return None


def _are_warnings(caught: Any) -> bool:
    """The optional warnings of a call: a few (category, message) pairs of short strings."""
    return (
        type(caught) is list
        and len(caught) <= wire.MAX_WARNINGS
        and all(
            type(w) is dict
            and w.keys() == {"category", "message"}
            and all(type(v) is str and len(v) <= wire.MAX_WARNING_TEXT for v in w.values())
            for w in caught
        )
    )


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


# Directories are opened by path only, never followed through a link: with
# O_PATH an fd needs no permission on the directory itself, only on the way to it.
_DIR_FLAGS = (
    getattr(os, "O_DIRECTORY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_PATH", os.O_RDONLY)
)
# Windows can neither open a directory nor walk from one: there the permissions
# given back are set by path (read-only is an attribute there, which rmtree trips on).
_DIR_FDS = hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd


def _own_directory(st: os.stat_result) -> bool:
    """A real directory of ours; on Windows, whose stat has no owner, any real directory."""
    mine = st.st_uid == os.geteuid() if hasattr(os, "geteuid") else True
    return stat.S_ISDIR(st.st_mode) and mine


def _remove_tree(path: str) -> None:
    """Remove a tree the grader made, even where the submission took permissions away.

    Only a real directory owned by us is touched, never a link; the removal
    itself follows no links (``shutil.rmtree`` works on directory fds), and the
    only permissions given back are on directories inside the tree, never on
    its parent. What cannot be removed (someone else's file, a removal racing
    another grader's) is left alone.
    """
    try:
        if not _own_directory(os.lstat(path)):
            return
    except OSError:
        return
    for _ in range(8):  # each pass unlocks one more level of locked directories
        failed: list[str] = []

        def note(_func: Any, name: str, _exc: Any, failed: list[str] = failed) -> None:
            failed.append(name)

        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=note)
        else:
            shutil.rmtree(path, onerror=note)
        if not failed or not os.path.lexists(path):
            return
        for name in failed:
            _unlock(path, name)


def _unlock(root: str, name: str) -> None:
    """Give us rwx back on ``name`` and its parent, where those are directories inside ``root``."""
    rel = os.path.relpath(name, root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return
    parts = [] if rel == os.curdir else rel.split(os.sep)
    for depth in {max(len(parts) - 1, 0), len(parts)}:
        with contextlib.suppress(OSError):
            if _DIR_FDS:
                _chmod_inside(root, parts[:depth])
            else:
                _chmod_by_path(root, parts[:depth])


def _chmod_by_path(root: str, parts: list[str]) -> None:
    """``_chmod_inside`` where directories cannot be opened (Windows): by path, links refused."""
    path = os.path.join(root, *parts)
    if not os.path.islink(path) and (os.path.isdir(path) or os.path.isfile(path)):
        os.chmod(path, stat.S_IRWXU)


def _chmod_inside(root: str, parts: list[str]) -> None:
    """chmod 0700 the directory ``root/parts...``, walking from ``root`` without following links."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts:
            inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = inner
        if not _own_directory(os.fstat(fd)):
            return
        if hasattr(os, "O_PATH"):  # fchmod refuses O_PATH fds; their /proc link does not
            os.chmod(f"/proc/self/fd/{fd}", stat.S_IRWXU)
        else:
            os.fchmod(fd, stat.S_IRWXU)
    finally:
        os.close(fd)
