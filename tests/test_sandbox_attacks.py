"""Hostile submissions: whatever one tries, the TA's machine and the grade stay safe.

Each case is a sheet-2 submission that is correct except for ``logcosh_grad``
(10 points), whose body is the attack. An attack that *succeeds* returns the
right answer, so a score above 90 means containment failed; a failed attack
returns a wrong one. The grader runs as a TA would run it, in a subprocess with
its own working directory and HOME holding files to protect, a secret in its
environment and a listener on 127.0.0.1. After every run: exit 0, exactly one
JSON document, the expected score, nothing outside the sandbox changed, no
connection, no process of the submission alive, bounded time.

Every attack is bounded (counts, sizes, sleeps), so even a sandbox that fails
cannot hurt the machine running the tests. The runs are independent and mostly
start-up, so the selected ones run three at a time; each takes a few seconds.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, by_function
from grader.isolation import verified_isolation
from grader.limits import Limits, cgroup_problem

pytestmark = pytest.mark.skipif(
    verified_isolation().method != "bubblewrap", reason="the containment promises need bubblewrap"
)

CORRECT = (EXAMPLES / "sheet2" / "correct.py").read_text()
GRAD = "def logcosh_grad(y, t):\n    return np.tanh(y - t)\n"
FULL, WITHOUT_GRAD = 100.0, 90.0
MAX_SECONDS = 60.0
LIMITS = Limits()
CGROUP_PROBLEM = cgroup_problem()

PRELUDE = '''

import os
import sys
from pathlib import Path

ATTACK = {attack!r}


def _verdict(found, y, t):
    """The right answer only if the attack worked."""
    return np.tanh(y - t) if found else -np.tanh(y - t)
'''


def _package_file(package: str, name: str) -> str:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return str(Path(next(iter(spec.submodule_search_locations))) / name)


@dataclass(frozen=True)
class Case:
    name: str
    body: str = ""  # logcosh_grad's body (an attack), or
    source: bytes | None = None  # a whole submission file
    score: float = WITHOUT_GRAD
    status: str | None = "failed"  # of logcosh_grad's first check: the attack ran to its end
    fragment: str | tuple[str, ...] | None = None  # (one of them) in that message or load error
    neighbours: tuple[tuple[str, str], ...] = ()
    # Generous: on a loaded machine a contained bomb must end as an error, not as a
    # timeout. Attacks that are meant to time out set a short limit themselves.
    args: tuple[str, ...] = ("--timeout", "15")
    # The limit a bomb runs into: "memory" or "processes" per submission need a cgroup.
    limit: str | None = None


@dataclass
class Scene:
    """A TA's machine in miniature: files to protect, a secret and a listener."""

    base: Path
    token: str = field(default_factory=lambda: f"atk{secrets.token_hex(5)}")
    secret_name: str = field(default_factory=lambda: f"GRADER_TEST_SECRET_{secrets.token_hex(4)}")

    def __post_init__(self) -> None:
        self.cwd, self.home, self.student, self.other = (
            self.base / d for d in ("cwd", "home", "student", "other_student")
        )
        for d in (self.cwd, self.home, self.student, self.other):
            d.mkdir()
        (self.cwd / "gradebook.csv").write_text("alice,100\n")
        (self.home / ".ssh_key").write_text("private\n")
        (self.other / "submission.py").write_text("# another student's work\n")
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]

    def attack(self) -> dict:
        """What the submission is told: where the treasures are (never the secret itself)."""
        protected = [
            self.cwd / "gradebook.csv",
            self.home / ".ssh_key",
            self.other / "submission.py",
        ]
        return {
            "token": self.token,
            "secret_name": self.secret_name,
            "port": self.port,
            "read": [
                *map(str, protected),
                str(ROOT / "grader" / "runner.py"),
                str(ROOT / "grader" / "sandbox.py"),
                _package_file("reference", "sheet2.py"),
                _package_file("exercises", "sheet2.py"),
                "/etc/shadow",
            ],
            "append": list(map(str, protected)),
            "write_dirs": [str(d) for d in self.watched_dirs()],
            "list_dirs": [str(ROOT), str(self.cwd), str(self.home), str(self.other)],
            "import_paths": [str(ROOT), str(ROOT.parent)],
            "limit_processes": LIMITS.processes,
            "memory_bytes": LIMITS.memory_bytes,
        }

    def watched_dirs(self) -> list[Path]:
        return [
            self.cwd,
            self.home,
            self.student,
            self.other,
            ROOT,
            ROOT / "grader",
            Path(_package_file("reference", "")),
            Path(sys.prefix),
            Path(tempfile_dir()),
            Path("/"),
            Path("/tmp"),
            Path("/usr"),
            Path("/dev"),
        ]

    def snapshot(self) -> dict[str, bytes]:
        files = {}
        for d in (self.cwd, self.home, self.student, self.other):
            for p in sorted(d.rglob("*")):
                files[str(p)] = p.read_bytes() if p.is_file() else b"<dir>"
        return files

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            HOME=str(self.home),
            PYTHONPATH=str(ROOT),
            **{self.secret_name: secrets.token_hex(16)},
        )
        env.pop("GRADER_ISOLATION", None)
        return env


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


@dataclass
class Outcome:
    case: Case
    proc: subprocess.CompletedProcess
    seconds: float
    changed: list[str]
    planted: list[str]
    leftovers: list[str]
    connections: int

    @property
    def report(self) -> dict:
        return json.loads(self.proc.stdout)


def source_for(case: Case, scene: Scene) -> bytes:
    if case.source is not None:
        return case.source
    head, tail = CORRECT.split(GRAD)
    body = textwrap.indent(textwrap.dedent(case.body).strip("\n"), "    ")
    attack = head + "def logcosh_grad(y, t):\n" + body + "\n" + tail
    return (attack + PRELUDE.format(attack=scene.attack())).encode()


def run_case(case: Case, base: Path) -> Outcome:
    scene = Scene(base)
    path = scene.student / "submission.py"
    path.write_bytes(source_for(case, scene))
    for name, text in case.neighbours:
        (scene.student / name).write_text(text.replace("TOKEN", scene.token))
    before = scene.snapshot()
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []  # the cwd shadows nothing
    cmd = [sys.executable, *safe_path, "-m", "grader", str(path), "--sheet", "2"]
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [*cmd, "--format", "json", *case.args],
            cwd=scene.cwd,
            env=scene.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        seconds = time.monotonic() - started
        leftovers = processes_with(scene.token)
        planted = files_with(scene.token, scene.watched_dirs())
        connections = accepted(scene.listener)
    after = scene.snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return Outcome(case, proc, seconds, changed, planted, leftovers, connections)


def processes_with(token: str, wait: float = 3.0) -> list[str]:
    """Processes (not zombies) whose name or command line holds ``token``; killed if found."""
    deadline = time.monotonic() + wait
    while True:
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                status = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            state = status[status.rindex(")") + 2 :].split()[0]
            if state != "Z" and (token in status or token.encode() in cmdline):
                found[int(entry)] = status[:120]
        if not found or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid in found:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return list(found.values())


def files_with(token: str, dirs: list[Path]) -> list[str]:
    """Files named with ``token`` in the watched places; removed if found."""
    found = []
    for d in dirs:
        with contextlib.suppress(OSError):
            for entry in os.listdir(d):
                if token in entry:
                    found.append(str(d / entry))
                    with contextlib.suppress(OSError):
                        os.unlink(d / entry)
    return found


def accepted(listener: socket.socket) -> int:
    count = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            conn, _ = listener.accept()
            conn.close()
            count += 1
    listener.close()
    return count


CASES = [
    # Escaping the sandbox to read, write, reach or kill what is outside.
    Case(
        "read_grader_reference_specs_and_ta_files",
        """
        found = []
        for path in ATTACK["read"]:
            try:
                with open(path, "rb") as f:
                    f.read(1)
                found.append(path)
            except OSError:
                pass
        # A folder that only holds the way to the bound interpreter (a venv in the
        # checkout) may exist inside; anything else listed in it is a leak.
        skeleton = set(Path(sys.prefix).parts) | set(Path(sys.base_prefix).parts)
        for path in ATTACK["list_dirs"]:
            try:
                if set(os.listdir(path)) - skeleton:
                    found.append(path)
            except OSError:
                pass
        return _verdict(found, y, t)
        """,
    ),
    Case(
        "import_grader_reference_exercises",
        """
        import importlib
        import sys

        sys.path[:0] = ATTACK["import_paths"]
        found = []
        for name in ("grader", "grader.runner", "reference", "reference.sheet2", "exercises"):
            try:
                importlib.import_module(name)
                found.append(name)
            except BaseException:
                pass
        return _verdict(found, y, t)
        """,
    ),
    Case(
        "write_outside_the_scratch_directory",
        """
        done = []
        for d in ATTACK["write_dirs"] + ["/proc", "/opt/grader-worker"]:
            path = os.path.join(d, "pwned-" + ATTACK["token"])
            try:
                with open(path, "w") as f:
                    f.write("x")
                done.append(path)
            except OSError:
                pass
        for path in ATTACK["append"]:
            try:
                with open(path, "a") as f:
                    f.write("tampered")
                done.append(path)
            except OSError:
                pass
        return _verdict(done, y, t)
        """,
    ),
    Case(
        "write_a_kernel_setting_through_proc_sys",
        """
        path = "/proc/sys/kernel/printk_ratelimit"  # rewritten with its own value
        try:
            with open(path) as f:
                value = f.read()
            with open(path, "w") as f:
                f.write(value)
            wrote = True
        except OSError:
            wrote = False
        return _verdict(wrote, y, t)
        """,
    ),
    Case(
        "read_the_graders_secret_environment",
        """
        import glob

        name = ATTACK["secret_name"]
        found = [k for k in os.environ if name in k]
        for path in [f"/proc/{os.getppid()}/environ", *glob.glob("/proc/*/environ")]:
            try:
                with open(path, "rb") as f:
                    if name.encode() in f.read():
                        found.append(path)
            except OSError:
                pass
        return _verdict(found, y, t)
        """,
    ),
    Case(
        "connect_to_the_network",
        """
        import socket

        reached = []
        for host, port in (("127.0.0.1", ATTACK["port"]), ("10.255.255.1", 80)):
            try:
                with socket.create_connection((host, port), timeout=1) as s:
                    s.sendall(ATTACK["token"].encode())
                reached.append(host)
            except OSError:
                pass
        return _verdict(reached, y, t)
        """,
    ),
    Case(
        "kill_the_parent",
        """
        import signal

        targets = [os.getppid()]
        try:
            with open("/proc/1/cmdline", "rb") as f:
                if b"bwrap" in f.read():  # the sandbox's own init; never a real one
                    targets.append(1)
        except OSError:
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in targets:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        return _verdict(False, y, t)
        """,
    ),
    Case(
        "ptrace_or_read_the_graders_memory",
        """
        import glob

        opened = []
        for path in glob.glob("/proc/[0-9]*/cmdline"):
            try:
                with open(path, "rb") as f:
                    argv = f.read().split(b"\\0")
            except OSError:
                continue
            if not any(a == b"-m" and b == b"grader" for a, b in zip(argv, argv[1:])):
                continue
            try:  # opening another process's memory needs the right to ptrace it
                with open(path.replace("cmdline", "mem"), "rb"):
                    opened.append(path)
            except OSError:
                pass
        return _verdict(opened, y, t)
        """,
    ),
    # Exhausting resources.
    Case(
        "fork_bomb",
        """
        import ctypes
        import time

        libc = ctypes.CDLL(None)
        forked = 0
        for _ in range(4 * ATTACK["limit_processes"]):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                libc.prctl(15, ATTACK["token"].encode(), 0, 0, 0)
                time.sleep(20)
                os._exit(0)
            forked += 1
        return _verdict(forked > ATTACK["limit_processes"], y, t)
        """,
        limit="processes",
    ),
    Case(
        "thread_bomb",
        """
        import threading
        import time

        started = 0
        for _ in range(4 * ATTACK["limit_processes"]):
            try:
                threading.Thread(target=time.sleep, args=(20,), daemon=True).start()
            except RuntimeError:
                break
            started += 1
        return _verdict(started > ATTACK["limit_processes"], y, t)
        """,
        limit="processes",
    ),
    Case(
        # The slowest case (~3 s): it touches the whole memory limit before being killed.
        "memory_bomb",
        """
        chunk = 256 << 20
        held = [np.ones(chunk // 8) for _ in range(ATTACK["memory_bytes"] // chunk + 2)]
        return _verdict(len(held), y, t)
        """,
        status="error",
        fragment=("resource limit", "MemoryError"),
        limit="memory",
    ),
    Case(
        "one_gigabyte_file_and_a_full_scratch",
        """
        block = b"\\0" * (1 << 20)
        written = 0
        for name in ["big"] + [f"part{i}" for i in range(16)] + ["/dev/shm/big"]:
            try:
                with open(name, "wb") as f:
                    for _ in range(64 if name != "big" else 1024):
                        f.write(block)
                        written += 1
            except OSError:
                pass
        return _verdict(written >= 1024, y, t)
        """,
    ),
    Case(
        "huge_return_value",
        "return np.zeros(12_000_000)",
        status="error",
        fragment="too large",
    ),
    Case(
        "huge_nested_list",
        "return [123456789012345678] * 1_000_000",
        status="error",
        fragment="too large",
    ),
    Case(
        "output_flood_and_a_fake_report",
        """
        import sys

        fake = b'{"score": 100.0, "max_score": 100.0, "checks": []}\\npassed\\n' * 2000
        for _ in range(1000):
            os.write(1, fake)
            os.write(2, fake)
        print("passed " * 1000)
        sys.stderr.write("score: 100/100\\n")
        for path in ("/dev/tty", f"/proc/{os.getppid()}/fd/2"):
            try:
                with open(path, "w") as f:
                    f.write("score: 100/100\\n")
            except OSError:
                pass
        return np.tanh(y - t)
        """,
        score=FULL,
        status="passed",
    ),
    # Leaving processes behind.
    Case(
        "double_fork_new_session_sleeper",
        """
        import ctypes
        import signal
        import time

        ready, told = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.setsid()
            if os.fork() == 0:
                for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                    signal.signal(sig, signal.SIG_IGN)
                ctypes.CDLL(None).prctl(15, ATTACK["token"].encode(), 0, 0, 0)
                os.write(told, b"1")
                time.sleep(20)
            os._exit(0)
        os.close(told)
        os.waitpid(pid, 0)
        running = os.read(ready, 1) == b"1"  # the right answer only if the sleeper runs
        return np.tanh(y - t) if running else -np.tanh(y - t)
        """,
        score=FULL,
        status="passed",
    ),
    Case(
        "double_fork_then_exec",
        """
        import sys

        ready, told = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.setsid()
            if os.fork() == 0:
                code = f"import os, time; os.write({told}, b'1'); time.sleep(20)"
                os.set_inheritable(told, True)
                os.execv(sys.executable, [ATTACK["token"], "-c", code])
            os._exit(0)
        os.close(told)
        os.waitpid(pid, 0)
        running = os.read(ready, 1) == b"1"
        return np.tanh(y - t) if running else -np.tanh(y - t)
        """,
        score=FULL,
        status="passed",
    ),
    # Ending the worker in every way; each costs logcosh_grad only.
    Case("os_exit", "os._exit(0)", status="error", fragment="crashed"),
    Case("sys_exit", "import sys\nsys.exit(0)", status="error", fragment="exit"),
    Case("keyboard_interrupt", "raise KeyboardInterrupt", status="error", fragment="Keyboard"),
    Case("generator_exit", "raise GeneratorExit", status="error", fragment="GeneratorExit"),
    Case(
        "sigterm_ignored_endless_loop",
        """
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            pass
        """,
        status="timeout",
        args=("--timeout", "3"),
    ),
    Case(
        "alarm_set_to_go_off_in_the_next_call",
        """
        import signal

        def boom(*_):
            raise KeyboardInterrupt

        signal.signal(signal.SIGALRM, boom)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        return -np.tanh(y - t)
        """,
        status="failed",
    ),
    Case(
        "tracer_that_raises_in_the_worker",
        """
        import sys

        def trace(*_):
            raise SystemExit

        sys.settrace(trace)
        sys.setprofile(trace)  # its own function's return now raises: that costs this check
        return -np.tanh(y - t)
        """,
        status="error",
    ),
    Case(
        "self_sigkill",
        "import signal\nos.kill(os.getpid(), signal.SIGKILL)",
        status="error",
        fragment="crashed",
    ),
    # Looking for the truth where it must never be: the worker holds inputs only.
    Case(
        "search_the_workers_frames_and_heap_for_the_truth",
        """
        import gc

        right = np.tanh(y - t)  # what the grader expects; found anywhere else, it leaked
        seen = []
        frame = sys._getframe(1)
        while frame is not None:
            seen += list(frame.f_locals.values()) + list(frame.f_globals.values())
            frame = frame.f_back
        for obj in [*seen, *gc.get_objects()]:  # arrays are not tracked: look inside containers
            if isinstance(obj, dict):
                inside = list(obj.values())
            elif isinstance(obj, (list, tuple)):
                inside = [obj, *obj]
            else:
                inside = [obj]
            for value in inside:
                if value is right:
                    continue
                sized = isinstance(value, (list, tuple)) and len(value) == right.size
                if not (isinstance(value, np.ndarray) and value.size == right.size or sized):
                    continue
                try:
                    a = np.asarray(value, dtype=float).reshape(right.shape)
                except Exception:
                    continue
                if np.allclose(a, right):
                    return right  # the truth was there: the attack worked
        return -right
        """,
    ),
    # Lying to the comparison.
    Case(
        "object_whose_eq_is_always_true",
        """
        class Liar:
            def __eq__(self, other):
                return True

            def __array__(self, *args, **kwargs):
                return -np.tanh(y - t)

            def __float__(self):
                return 0.0

        return Liar()
        """,
        status="failed",
    ),
    Case(
        "ndarray_subclass_that_equals_anything",
        """
        class Sneaky(np.ndarray):
            def __eq__(self, other):
                return np.ones(np.shape(self), bool)

            def __array_ufunc__(self, *args, **kwargs):
                return np.ones(np.shape(self), bool)

        return np.zeros(np.shape(y)).view(Sneaky)
        """,
        status="failed",
    ),
    Case(
        "pickle_payload",
        """
        class Payload:
            def __reduce__(self):
                marker = os.path.join(ATTACK["write_dirs"][0], "pwned-" + ATTACK["token"])
                return (os.system, ("touch " + marker,))

        return Payload()
        """,
        status="failed",
    ),
    Case(
        "integer_too_large_for_a_float",
        "return 10 ** 400",
        status="failed",
    ),
    Case(
        "forged_frame_with_a_non_dict_answer",
        """
        import json
        import struct

        header = json.dumps({"body": [1, 2], "buffers": []}).encode()
        for fd in range(3, 32):
            try:
                os.write(fd, struct.pack("<Q", len(header)) + header)
            except OSError:
                pass
        return np.tanh(y - t)
        """,
        status="error",
        fragment="could not read",
    ),
    Case(
        "forged_frame_nested_too_deeply",
        """
        import struct

        header = b"[" * 200_000 + b"]" * 200_000
        for fd in range(3, 32):
            try:
                os.write(fd, struct.pack("<Q", len(header)) + header)
            except OSError:
                pass
        return np.tanh(y - t)
        """,
        status="error",
        fragment="could not read",
    ),
    Case(
        "forged_frame_referencing_one_buffer_forty_times",
        """
        import fcntl
        import json
        import stat
        import struct

        size = 32 << 20
        body = [{"$a": 0, "dtype": "<f8", "shape": [size // 8]}] * 40
        header = json.dumps({"body": body, "buffers": [size]}).encode()
        frame = memoryview(struct.pack("<Q", len(header)) + header + bytes(size))
        for fd in range(3, 32):
            try:
                if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                    continue
                if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_WRONLY:
                    continue
                while frame:
                    frame = frame[os.write(fd, frame) :]
            except OSError:
                pass
        return np.tanh(y - t)
        """,
        status="error",
        fragment="too large",
    ),
    Case(
        "forged_frame_with_an_array_of_65_dimensions",
        """
        import json
        import struct

        body = {"$a": 0, "dtype": "<f8", "shape": [1] * 65}
        header = json.dumps({"body": body, "buffers": [8]}).encode()
        for fd in range(3, 32):
            try:
                os.write(fd, struct.pack("<Q", len(header)) + header + bytes(8))
            except OSError:
                pass
        return np.tanh(y - t)
        """,
        status="error",
        fragment="dimensions",
    ),
    Case(
        # A forged answer lets the grader go on while the worker sleeps over a full
        # request pipe. The forged error stands for the case (it could have raised
        # one) and ends the stream, so the worker is restarted: nothing waits on it.
        "forged_answer_then_a_full_request_pipe",
        """
        import fcntl
        import json
        import stat
        import struct
        import time

        error = {"kind": "exception", "type": "E", "builtin": "Exception", "message": "forged"}
        answer = {"$d": [["ok", False], ["error", {"$d": [list(kv) for kv in error.items()]}]]}
        header = json.dumps({"body": answer, "buffers": []}).encode()
        for fd in range(3, 32):
            try:
                if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                    continue
                mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
                if mode == os.O_WRONLY:
                    os.write(fd, struct.pack("<Q", len(header)) + header)
                elif mode == os.O_RDONLY:
                    fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ: the smallest pipe
                    filler = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
                    try:
                        while True:
                            os.write(filler, b"x" * 4096)
                    except BlockingIOError:
                        pass
            except OSError:
                pass
        time.sleep(100)
        return np.tanh(y - t)
        """,
        status="error",
        fragment="forged",
        args=("--timeout", "3"),
    ),
    # Bad input: every file is graded, with a message a student can act on.
    Case("empty_file", source=b"", score=0.0, status="error", fragment="empty"),
    Case("not_utf8", source=b"x = '\xff\xfe'\n", score=0.0, status="error", fragment="UTF-8"),
    Case(
        "binary_named_py",
        source=b"\x7fELF\x02\x01\x01\x00" * 64,
        score=0.0,
        status="error",
        fragment="binary",
    ),
    Case(
        "syntax_error",
        source=b"def f(:\n    pass\n",
        score=0.0,
        status="error",
        fragment="syntax error",
    ),
    Case(
        "import_that_never_ends",
        source=b"import time\nwhile True:\n    time.sleep(0.1)\n",
        score=0.0,
        status="timeout",
        fragment="longer than 2",
        args=("--load-timeout", "2"),
    ),
    Case(
        "numpy_and_grader_shadowed_beside_the_submission",
        source=CORRECT.encode(),
        score=FULL,
        status="passed",
        neighbours=tuple(
            (name, "open('pwned-TOKEN', 'w')\nraise SystemExit('shadowed')\n")
            for name in (
                "numpy.py",
                "grader.py",
                "wire.py",
                "worker.py",
                "standins.py",
                "sitecustomize.py",
            )
        ),
    ),
]


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> dict[str, Future]:
    """Start every selected case (three at a time) and hand out their futures."""
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "module", None) is request.module
        and "case" in getattr(getattr(item, "callspec", None), "params", {})
    ]
    pool = ThreadPoolExecutor(max_workers=3)
    futures = {
        case.name: pool.submit(run_case, case, tmp_path_factory.mktemp(case.name))
        for case in selected
    }
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def _limit_binds(limit: str | None) -> bool:
    """Whether the per-submission limit a bomb runs into is in force on this host.

    Without a cgroup (the report then says reduced isolation, asserted below)
    memory is limited per process to 1 GiB above the cgroup's limit, which the
    memory bomb stays under, and processes per user, which does not bind root.
    Everything else (exit, report, leftovers, files) is still asserted.
    """
    if limit is None or CGROUP_PROBLEM is None:
        return True
    return limit == "processes" and os.geteuid() != 0


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_attack_is_contained(case: Case, outcomes: dict[str, Future]) -> None:
    assert_contained(outcomes[case.name].result())


def assert_contained(out: Outcome) -> None:
    """Everything an attack's run must show: its verdict, the isolation, nothing escaped."""
    case = out.case
    assert out.proc.returncode == 0, out.proc.stderr[-3000:]
    report = out.report  # stdout is exactly one JSON document
    grad = by_function(report)["logcosh_grad"][0]
    context = f"{grad['status']}: {grad['message']} / load error: {report['load_error']}"
    if _limit_binds(case.limit):
        assert report["score"] == case.score, context
    if case.status and _limit_binds(case.limit):
        assert grad["status"] == case.status, context
    if case.fragment and _limit_binds(case.limit):
        told = report["load_error"] or grad["message"]
        wanted = (case.fragment,) if isinstance(case.fragment, str) else case.fragment
        assert any(w in told for w in wanted), context
    assert report["isolation"]["method"] == "bubblewrap"
    # Full only with a per-submission cgroup (root, cgroup v1); without one the
    # limits bind each process and the report must say reduced.
    assert report["isolation"]["full"] is (CGROUP_PROBLEM is None), report["isolation"]
    assert not out.changed, f"files outside the sandbox changed: {out.changed}"
    assert not out.planted, f"files appeared outside the sandbox: {out.planted}"
    assert not out.leftovers, f"processes outlived the run: {out.leftovers}"
    assert out.connections == 0, "the submission reached a listener on 127.0.0.1"
    assert out.seconds < MAX_SECONDS


# Without bubblewrap (a container that forbids namespaces, Gradescope's among them) a
# root grader runs each worker as a uid of its own: the submission can then no longer
# read what only root may (the references, once setup.sh locks them), write the grader's
# files and results, or signal the grader.

ROOT_ONLY_ATTACK = """
import glob

found = ["root"] if 0 in (os.getuid(), os.geteuid(), os.getgid()) else []
for path in ATTACK["read"]:
    try:
        with open(path, "rb") as f:
            f.read(1)
        found.append(path)
    except OSError:
        pass
for path in ATTACK["append"]:
    try:
        with open(path, "a") as f:
            f.write("tampered")
        found.append(path)
    except OSError:
        pass
for d in ATTACK["write_dirs"]:
    try:
        with open(os.path.join(d, "pwned-" + ATTACK["token"]), "w") as f:
            f.write("x")
        found.append(d)
    except OSError:
        pass
for path in glob.glob("/proc/[0-9]*/cmdline"):
    try:
        with open(path, "rb") as f:
            argv = f.read().split(b"\\0")
        if b"grader" not in argv or not any(ATTACK["token"].encode() in a for a in argv):
            continue
        pid = int(path.split("/")[2])
        os.kill(pid, 0)  # the right to signal it
        found.append(pid)
    except (OSError, ValueError):
        pass
return _verdict(found, y, t)
"""


@pytest.fixture(scope="module")
def world_readable_python() -> Iterator[Path]:
    """A venv any uid may run: this machine's system Python, with our packages by a .pth.

    The test interpreter may live where only root can enter (pyenv in /root), which
    is exactly the case where the grader keeps its workers as root and says so.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("a uid of its own is for a root grader")
    minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = Path("/usr/bin") / minor
    if not system.exists():
        pytest.skip(f"no system {minor} to make a venv every uid may run")
    import site
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="venv-any-uid-"))  # pytest's own tmp is root's only
    try:
        top.chmod(0o755)
        venv = top / "venv"
        made = subprocess.run([system, "-m", "venv", "--without-pip", venv], capture_output=True)
        if made.returncode != 0:
            pytest.skip("the system Python cannot make a venv")
        (venv / "lib" / minor / "site-packages" / "ours.pth").write_text(
            "\n".join([str(ROOT), *site.getsitepackages()]) + "\n"
        )
        yield venv / "bin" / "python"
    finally:
        shutil.rmtree(top)


@pytest.mark.parametrize("method", ["process", "unshare"])
def test_hostile_a_root_grader_without_bubblewrap_runs_no_submission_as_root(
    method, world_readable_python, tmp_path
):
    base = tmp_path / "scene"
    base.mkdir()
    scene = Scene(base)
    secret = scene.home / "reference_sheet2.py"  # what setup.sh leaves the references as
    secret.write_text("def logcosh_grad(y, t): ...\n")
    secret.chmod(0o600)
    attack = scene.attack()
    attack["read"] = [str(secret), "/etc/shadow"]
    attack["write_dirs"] = [str(scene.cwd), str(scene.home), str(ROOT)]
    head, tail = CORRECT.split(GRAD)
    body = textwrap.indent(ROOT_ONLY_ATTACK.strip("\n"), "    ")
    source = head + "def logcosh_grad(y, t):\n" + body + "\n" + tail
    path = scene.student / "submission.py"
    path.write_text(source + PRELUDE.format(attack=attack))
    env = {**scene.env(), "GRADER_ISOLATION": method}
    before = scene.snapshot()
    cmd = [world_readable_python, "-m", "grader", path, "--sheet", "2", "--format", "json"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    planted = files_with(scene.token, [scene.cwd, scene.home, ROOT])
    accepted(scene.listener)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["isolation"]["method"] == method, report["isolation"]
    assert "unprivileged uid of its own" in report["isolation"]["note"]
    grad = by_function(report)["logcosh_grad"][0]
    assert report["score"] == WITHOUT_GRAD, f"{grad['status']}: {grad['message']}"
    assert grad["status"] == "failed", grad["message"]
    assert scene.snapshot() == before and not planted


# The grader dies (killed, out of memory) while a submission with a uid of its own
# computes: the worker must die with it, as every other worker does.
KILLED_GRADER = """
import os, signal, sys, time
from grader.isolation import Isolation
from grader.sandbox import Worker

worker = Worker(method=Isolation(sys.argv[1], False, "test"))
worker.start()
spin = {"op": "load", "filename": "s.py", "notebook": False, "cells": ["while True:\\n    pass\\n"]}
worker.send(spin)
print(worker.uid, flush=True)
deadline = time.monotonic() + 20
while time.monotonic() < deadline and not any(
    os.stat(f"/proc/{p}").st_uid == worker.uid for p in os.listdir("/proc") if p.isdigit()
):
    time.sleep(0.05)
time.sleep(0.5)  # the worker is in the submission's loop now
os.kill(os.getpid(), signal.SIGKILL)
"""


def _pids_of(uid: int) -> list[int]:
    """The live processes of ``uid`` (a zombie, not yet reaped, runs nothing)."""
    pids = []
    for name in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            if not name.isdigit() or os.stat(f"/proc/{name}").st_uid != uid:
                continue
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                pids.append(int(name))
    return pids


@pytest.mark.parametrize("method", ["process", "unshare"])
def test_hostile_a_worker_with_a_uid_of_its_own_dies_with_a_killed_grader(
    method, world_readable_python
):
    if method == "unshare" and shutil.which("unshare") is None:
        pytest.skip("no unshare")
    cmd = [world_readable_python, "-c", KILLED_GRADER, method]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    uid = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 5
    while _pids_of(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = _pids_of(uid)
    for pid in survivors:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not survivors, "the worker outlived the grader"


def test_a_root_grader_whose_temp_folder_only_root_may_enter_keeps_its_workers_as_root(
    world_readable_python, tmp_path
):
    """The worker's files are staged in the temp folder: a uid of its own that cannot reach
    them could start no worker, and every check of every submission would be an error."""
    private = tmp_path / "private"  # pytest's own tmp is root's only, as a TMPDIR in /root is
    private.mkdir(mode=0o700)
    env = {"PATH": os.environ["PATH"], "TMPDIR": str(private), "GRADER_ISOLATION": "process"}
    cmd = [
        world_readable_python,
        "-m",
        "grader",
        EXAMPLES / "sheet2" / "correct.py",
        "--sheet",
        "2",
    ]
    proc = subprocess.run(
        [*cmd, "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["score"] == report["max_score"], report.get("load_error")
    assert "uid of its own" not in report["isolation"]["note"], report["isolation"]
