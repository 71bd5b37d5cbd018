"""The engine, and so the student kit, off Linux: Windows and macOS, as far as Linux can show.

Nothing here runs on Windows or macOS. What Linux can show is shown for real:
every module the kit ships imports with the POSIX-only modules blocked and the
platform faked, and reports the isolation it has in plain words; the threaded
transport Windows needs grades every example as the default one does and
survives the attacks that matter to a transport; the worker runs without the
signals Windows lacks; reading a submission works without descriptor walks.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT
from grader import cli, doctor, kit, loading, report, sandbox, selfcheck, sheets, winjob, wire
from grader.isolation import Isolation
from grader.limits import Limits
from grader.runner import grade_file

# A fresh interpreter made to look like Windows or macOS before the engine is imported:
# the POSIX-only modules blocked, the attributes the platform lacks removed, sys.platform set.
FAKE_PLATFORM = r"""
import ast, importlib, json, os, signal, sys, tempfile
from pathlib import Path

platform, modules, sample = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
BLOCKED = {
    "win32": ["resource", "fcntl", "termios", "pwd", "grp", "pty", "tty", "posix"],
    "darwin": [],
}[platform]
# The outside modules the engine imports, loaded first as the real platform would have them.
for name in json.loads(sys.argv[4]):
    try:
        importlib.import_module(name)
    except ImportError:
        pass
import sysconfig, zoneinfo  # noqa: E401  the platform's own stdlib state, read as it would be
sysconfig.get_config_vars()
for name in BLOCKED:
    if name != "posix":  # os itself is built on it; what Windows lacks is removed below
        sys.modules[name] = None
missing = {
    "win32": {
        os: ["O_NOFOLLOW", "O_DIRECTORY", "O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_PATH",
             "geteuid", "getuid", "getsid", "setsid", "killpg", "fork", "sched_getaffinity",
             "fchmod"],
        signal: ["SIGKILL", "SIGSTOP", "SIGALRM", "SIGHUP", "alarm", "setitimer",
                 "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"],
    },
    "darwin": {os: ["O_PATH", "sched_getaffinity", "pipe2"]},
}[platform]
for module, names in missing.items():
    for name in names:
        if hasattr(module, name):
            delattr(module, name)
if platform == "win32":
    for fn in (os.open, os.stat, os.mkdir, os.unlink, os.rmdir, os.chmod):
        os.supports_dir_fd.discard(fn)
sys.platform = platform

for name in modules:
    importlib.import_module(name)

from grader import doctor, limits, loading, sandbox
from grader.isolation import isolation

iso = isolation()
options = sandbox._spawn_options(lambda: None)
probe = doctor.probe()
print(json.dumps({
    "method": iso.method,
    "full": iso.full,
    "note": iso.note,
    "transport": sandbox.transport(),
    "spawn": sorted(options),
    "flags": options.get("creationflags"),
    "rlimits": limits.rlimit_setter(limits.Limits(), nproc=True) is not None,
    "prctl": limits.prctl(limits.PR_SET_DUMPABLE, 0),
    "walk_by_fd": loading.WALK_BY_FD,
    "read": loading.read_file(Path(sample)).decode(),
    "doctor": doctor.render(doctor.diagnose(probe)),
    "doctor_full": doctor.diagnose(probe).full,
}))
"""


def _shipped_modules() -> list[str]:
    """The kit's engine modules, by the kit's own list, as import names."""
    names = []
    for path in kit.engine_files():
        rel = path.relative_to(kit.ENGINE_DIR.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] != "__main__":  # runs the CLI when imported; it imports grader.cli
            names.append(".".join(parts))
    return names


def _outside_imports() -> list[str]:
    """Every module outside the engine that a shipped module imports, anywhere in it."""
    import ast

    found: set[str] = set()
    for path in kit.engine_files():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    engine = ("grader", "gradekit", "wire")
    return sorted(n for n in found if n.split(".")[0] not in engine)


# What only Linux can show by faking another platform: on Windows and macOS themselves the
# kit runs for real (the kit-portability workflow), and a fake would be checked against itself.
FAKES_FROM_LINUX = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="fakes Windows and macOS from Linux"
)
POSIX_LINKS = pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX links and permission bits: Windows needs a privilege to make a symbolic "
    "link, makes a file link unless told otherwise, and has only a read-only attribute",
)


@FAKES_FROM_LINUX
@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_every_shipped_module_imports_off_linux_and_says_what_isolation_it_has(platform, tmp_path):
    sample = tmp_path / "mine.py"
    sample.write_bytes(b"x = 1\r\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env["PYTHONPATH"] = str(ROOT)
    modules = _shipped_modules()
    assert "grader.sandbox" in modules and "grader.worker" in modules and "grader.cli" in modules
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            FAKE_PLATFORM,
            platform,
            json.dumps(modules),
            str(sample),
            json.dumps(_outside_imports()),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout)
    assert got["method"] == "process" and got["full"] is False
    note = got["note"]
    assert f"no namespaces on this platform ({platform})" in note
    assert "can read and write your files, reach the network" in note
    assert got["prctl"] is False
    assert got["read"] == "x = 1\r\n"  # bytes as saved: no newline translation
    assert got["doctor_full"] is False
    assert f"no namespaces on this platform ({platform})" in got["doctor"]
    if platform == "win32":
        assert "a Windows job object holds the submission" in note
        assert "killed with it on a timeout" in note and "no CPU-time" in note
        assert "no filesystem or network isolation" in note
        assert "per process, not to the submission" not in note  # there are no rlimits
        assert got["transport"] == "threads"
        assert got["spawn"] == ["creationflags"]  # no preexec_fn, no session
        assert got["flags"] == 0x0200 | 0x0004  # its own process group, suspended until in a job
        assert got["rlimits"] is False and got["walk_by_fd"] is False
        # doctor tries a job for real; Linux's ctypes has no WinDLL, so here it fails, and says so
        doctor_text = " ".join(got["doctor"].split())
        assert "limits: none" in doctor_text and "no Windows job object (" in doctor_text
        assert "not killed with it" in doctor_text
    else:
        assert "no cgroups on this platform (darwin)" in note
        assert "macOS does not enforce the memory limit" in note
        assert got["transport"] == "select"
        assert got["spawn"] == ["preexec_fn", "start_new_session"]
        assert got["rlimits"] is True and got["walk_by_fd"] is True
        assert "macOS does not enforce the memory limit" in got["doctor"]


def test_windows_always_gets_the_threaded_transport(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("GRADER_TRANSPORT", "select")
    assert sandbox.transport() == "select"
    monkeypatch.setattr(sys, "platform", "win32")
    assert sandbox.transport() == "threads"  # its pipes cannot be selected
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("GRADER_TRANSPORT", "carrier-pigeon")
    assert sandbox.transport() == "select"


def test_the_windows_worker_gets_what_python_needs_there_and_nothing_else(monkeypatch):
    monkeypatch.setenv("SYSTEMROOT", r"C:\Windows")
    monkeypatch.setenv("PATH", r"C:\Python\Library\bin;C:\Windows")
    monkeypatch.setenv("GRADER_TEST_SECRET", "s3cret")
    monkeypatch.setattr(sys, "platform", "linux")
    linux = sandbox._worker_env("/scratch-dir")
    assert "SYSTEMROOT" not in linux and linux["PATH"] == "/usr/bin:/bin"
    monkeypatch.setattr(sys, "platform", "win32")
    env = sandbox._worker_env(r"C:\Temp\grader-scratch-1-x")
    assert env["SYSTEMROOT"] == r"C:\Windows" and env["PATH"].startswith(r"C:\Python")
    assert env["TEMP"] == env["TMP"] == r"C:\Temp\grader-scratch-1-x"
    assert "GRADER_TEST_SECRET" not in env


# The worker itself, as Windows would run it: no alarm, no interval timers, no SIGKILL.

WINDOWS_SIGNALS = """
import runpy, signal, sys
for name in ("SIGKILL", "SIGSTOP", "SIGALRM", "SIGHUP", "alarm", "setitimer",
             "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"):
    if hasattr(signal, name):  # on Windows itself, none of them is there
        delattr(signal, name)
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _read_frame(stream) -> object:
    (hlen,) = wire.HEADER.unpack(stream.read(wire.HEADER.size))
    header = stream.read(hlen)
    _, lengths = wire.parse_header(header)
    return wire.decode(header, stream.read(sum(lengths)))


def test_the_worker_runs_without_the_signals_windows_lacks(tmp_path):
    worker = Path(sandbox.HERE) / "worker.py"
    code = "import time\ndef f(x):\n    return x * 2\n"
    proc = subprocess.Popen(
        [sys.executable, "-I", "-c", WINDOWS_SIGNALS, str(worker)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        load = {"op": "load", "filename": "submission.py", "notebook": False, "cells": [code]}
        call = {"op": "call", "function": "f", "args": [21], "kwargs": {}}
        for message in (load, call, call):  # the second call runs after the first's reset
            proc.stdin.write(wire.encode(message))
        proc.stdin.flush()
        loaded, first, second = (_read_frame(proc.stdout) for _ in range(3))
    finally:
        proc.stdin.close()
        proc.wait(10)
    assert loaded["ok"] and "f" in loaded["functions"], loaded
    assert first == second == {"ok": True, "value": 42}


# The threaded transport on Linux, end to end.

EXAMPLE_FILES = sorted(
    (p for p in EXAMPLES.rglob("*") if p.suffix in (".py", ".ipynb")),
    key=lambda p: p.as_posix(),
)


@pytest.fixture
def threaded(monkeypatch) -> list[sandbox.ThreadPipes]:
    """Every ThreadPipes the grader makes in this test, so a test knows which transport ran."""
    made: list[sandbox.ThreadPipes] = []

    class Counted(sandbox.ThreadPipes):
        def __init__(self, proc: subprocess.Popen) -> None:
            super().__init__(proc)
            made.append(self)

    monkeypatch.setattr(sandbox, "ThreadPipes", Counted)
    return made


def _graded(path: Path, monkeypatch, transport: str | None) -> dict:
    if transport is None:
        monkeypatch.delenv("GRADER_TRANSPORT", raising=False)
    else:
        monkeypatch.setenv("GRADER_TRANSPORT", transport)
    sheet_id = path.parent.name.removeprefix("sheet")
    out = report.to_json(grade_file(path, lambda: sheets.load(sheet_id)))
    out.pop("seconds")
    return out


@pytest.mark.parametrize(
    "path", EXAMPLE_FILES, ids=[p.relative_to(EXAMPLES).as_posix() for p in EXAMPLE_FILES]
)
def test_every_example_grades_the_same_under_the_threaded_transport(path, monkeypatch, threaded):
    default = _graded(path, monkeypatch, None)
    assert bool(threaded) == (sys.platform == "win32")  # Windows' default is the threaded one
    graded = _graded(path, monkeypatch, "threads")
    assert threaded, "the threaded transport was not used"
    assert graded == default
    assert [c["status"] for c in graded["checks"]]  # graded, not refused


def test_examples_cover_every_sheet_and_both_kinds_of_file():
    assert {p.parent.name for p in EXAMPLE_FILES} >= {"sheet2", "sheet7", "sheet9", "sheet10"}
    assert {p.suffix for p in EXAMPLE_FILES} == {".py", ".ipynb"}


# The attacks that matter to a transport, run again under the threaded one: a function
# that hangs, a worker that dies, forged and flooding frames, a request never read.
TRANSPORT_ATTACKS = (
    "sigterm_ignored_endless_loop",
    "os_exit",
    "self_sigkill",
    "forged_frame_with_a_non_dict_answer",
    "forged_frame_nested_too_deeply",
    "forged_frame_referencing_one_buffer_forty_times",
    "forged_frame_with_an_array_of_65_dimensions",
    "forged_answer_then_a_full_request_pipe",
    "import_that_never_ends",
)


@pytest.mark.parametrize("name", TRANSPORT_ATTACKS)
def test_transport_attacks_are_contained_under_the_threaded_transport(name, monkeypatch, tmp_path):
    import test_sandbox_attacks as attacks

    from grader.isolation import verified_isolation

    if verified_isolation().method != "bubblewrap":
        pytest.skip("the containment promises need bubblewrap")
    case = next(c for c in attacks.CASES if c.name == name)
    monkeypatch.setenv("GRADER_TRANSPORT", "threads")
    attacks.assert_contained(attacks.run_case(case, tmp_path))


def test_a_hanging_function_times_out_and_the_rest_is_graded_with_threads(
    monkeypatch, tmp_path, threaded
):
    """Without bubblewrap too: the plain-process path is the one Windows takes."""
    from grader.session import Options

    monkeypatch.setenv("GRADER_TRANSPORT", "threads")
    monkeypatch.setenv("GRADER_ISOLATION", "process")
    from grader import isolation as iso_mod

    iso_mod.reset()
    try:
        source = (EXAMPLES / "sheet2" / "correct.py").read_text()
        hang = "def logcosh(y, t):\n    while True:\n        pass\n"
        crash = "def logcosh_grad(y, t):\n    import os\n    os._exit(3)\n"
        path = tmp_path / "submission.py"
        path.write_text(source + "\n" + hang + "\n" + crash)
        outcome = grade_file(path, lambda: sheets.load("2"), Options(call_timeout=2))
    finally:
        monkeypatch.delenv("GRADER_ISOLATION")
        iso_mod.reset()
    by = {}
    for c in outcome.checks:
        by.setdefault(c.function, set()).add(c.status)
    assert by.pop("logcosh") == {"timeout"}
    assert by.pop("logcosh_grad") == {"error"}
    assert all(statuses == {"passed"} for statuses in by.values()), by
    assert outcome.isolation.method == "process"
    assert len(threaded) >= 3  # the first worker, and one after each of the two failures


# Reading a submission without descriptor walks (Windows cannot open a folder).


@POSIX_LINKS
def test_reading_by_path_refuses_links_as_reading_by_descriptor_does(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    Path("real").mkdir()
    Path("real/mine.py").write_bytes(b"x = 1\r\n")
    os.symlink("real", "linked")
    os.symlink("mine.py", "real/link.py")
    monkeypatch.setattr(loading, "WALK_BY_FD", False)
    assert loading.read_file(Path("real/mine.py")) == b"x = 1\r\n"
    assert loading.read_file(tmp_path / "real" / "mine.py") == b"x = 1\r\n"
    for refused, words in (("linked/mine.py", "linked is a symbolic link"),
                           ("real/link.py", "real/link.py is a symbolic link"),
                           ("real", "folder"),
                           ("real/none.py", "cannot be read")):  # fmt: skip
        with pytest.raises(loading.LoadError, match=words):
            loading.read_file(Path(refused))


# Removing the staged worker where directories cannot be opened (Windows).


@POSIX_LINKS
def test_permissions_are_given_back_by_path_where_directories_cannot_be_opened(
    monkeypatch, tmp_path
):
    root = tmp_path / "grader-worker-1-x"
    inner = root / "locked"
    inner.mkdir(parents=True)
    (inner / "wire.py").write_text("")
    os.chmod(inner / "wire.py", 0o444)
    os.chmod(inner, 0o500)
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o500)
    os.symlink(outside, root / "link")
    monkeypatch.setattr(sandbox, "_DIR_FDS", False)
    monkeypatch.setattr(sandbox, "_chmod_inside", None)  # never reached: it would fail here
    sandbox._unlock(str(root), str(inner / "wire.py"))
    assert stat.S_IMODE(os.stat(inner).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(inner / "wire.py").st_mode) == 0o700
    sandbox._unlock(str(root), str(root / "link"))
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o500  # a link is not followed
    before = stat.S_IMODE(os.stat(tmp_path).st_mode)
    sandbox._unlock(str(root), str(tmp_path / "elsewhere"))  # outside the tree: untouched
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == before
    sandbox._remove_tree(str(root))
    assert not root.exists() and outside.exists()


def test_staged_paths_with_backslashes_are_named_neutrally():
    staged = os.path.join(tempfile.gettempdir(), "grader-worker-123-abc")
    text = f"File {staged}\\wire.py and {staged}/worker.py"
    shown = sandbox.neutral_paths(text)
    assert shown == "File <worker>\\wire.py and <worker>/worker.py"


# grade doctor, told it is on Windows or macOS.


def _probe(platform: str, rlimits: bool, job_error: str | None = None) -> doctor.Probe:
    from grader.limits import CgroupStatus

    problem = f"no cgroups on this platform ({platform})"
    return doctor.Probe(
        platform=platform,
        euid=-1,
        forced="",
        bwrap=None,
        bwrap_error=None,
        unshare_works=False,
        sysctls={},
        package_manager=None,
        cgroup=CgroupStatus(None, "platform", problem),
        cgroup_error=problem,
        rlimits=rlimits,
        job_error=job_error,
    )


def test_doctor_on_windows_says_what_the_job_object_gives():
    d = doctor.diagnose(_probe("win32", rlimits=False))
    text = " ".join(doctor.render(d).split())
    assert not d.full and d.method == "process"
    assert "no namespaces on this platform (win32)" in text
    assert "can read and write your files and reach the network" in text
    assert "limits: job object" in text
    assert "3 GiB of committed memory for each process and for the submission in all" in text
    assert "64 processes at once" in text and "killed with it on a timeout" in text
    assert "no CPU-time, file-size or open-file limits" in d.findings[2].detail
    assert "bind each process" not in text and "per process only" not in text


def test_doctor_on_windows_without_a_job_says_there_are_no_limits_but_the_time_limits():
    d = doctor.diagnose(_probe("win32", rlimits=False, job_error="CreateJobObjectW failed"))
    text = " ".join(doctor.render(d).split())
    assert "limits: none" in text
    assert "no Windows job object (CreateJobObjectW failed)" in text
    assert "per-call time limit" in d.findings[2].detail
    assert "not killed with it" in text


def test_doctor_on_macos_says_the_memory_limit_is_not_enforced():
    text = " ".join(doctor.render(doctor.diagnose(_probe("darwin", rlimits=True))).split())
    assert "no namespaces on this platform (darwin)" in text
    assert "macOS does not enforce the memory limit" in text
    # no cgroup and no subreaper: only the worker's process group is killed
    assert "starts in a new session of its own is not killed with it" in text
    assert "per process only" in text


def test_an_absolute_windows_path_is_walked_from_its_own_drive():
    from pathlib import PurePosixPath, PureWindowsPath

    root, parts = loading.walk_start(PureWindowsPath(r"D:\course\sheet9\mine.py"))
    assert root == PureWindowsPath("D:\\") and parts == ("course", "sheet9", "mine.py")
    assert loading.walk_start(PurePosixPath("/home/a/mine.py")) == (
        PurePosixPath("/"),
        ("home", "a", "mine.py"),
    )
    assert loading.walk_start(PureWindowsPath("mine.py")) == (PureWindowsPath("."), ("mine.py",))


# What each platform gets, said where students and TAs read it.


def test_the_kit_readme_says_what_each_platform_gets_and_what_was_not_run():
    text = " ".join(kit.README.split())
    assert "not supported yet" not in text
    for platform in ("**Linux**", "**macOS**", "**Windows**"):
        assert platform in text
    assert "held in a Windows job object: limits on memory and on the number of processes" in text
    assert "macOS does not enforce the memory limit" in text
    assert "in a session of its own is not stopped with it" in text
    assert "redirected to a file (`grade ... > report.txt`) is written as UTF-8" in text
    assert "Windows and macOS were not run in the course's automated tests" in text


def test_the_sandbox_section_says_what_each_platform_gets_and_what_was_not_run():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The sandbox", 1)[1].split("\n## ", 1)[0]
    text = " ".join(section.split())
    assert "*macOS*" in text and "*Windows*" in text
    assert "held by a Windows job object" in text and "no filesystem or network isolation" in text
    assert "no memory, CPU, file-size or process limits" in text  # should the job fail
    assert "GRADER_TRANSPORT=threads" in text
    assert "created suspended" in text  # so the venv launcher's child starts in the job
    assert "starts in a new session of its own is not killed with it" in text  # macOS
    assert "Windows and macOS were not run in this project's CI" in text


# The Windows job object: its structures as Windows lays them out, and the sandbox's calls.

# Microsoft's winnt.h layouts on 64-bit Windows (LARGE_INTEGER, ULONGLONG 8 bytes, DWORD 4,
# SIZE_T and ULONG_PTR 8, each field aligned to its size): name -> offset, and the sizes.
BASIC_LIMIT_OFFSETS = {
    "PerProcessUserTimeLimit": 0,
    "PerJobUserTimeLimit": 8,
    "LimitFlags": 16,
    "MinimumWorkingSetSize": 24,
    "MaximumWorkingSetSize": 32,
    "ActiveProcessLimit": 40,
    "Affinity": 48,
    "PriorityClass": 56,
    "SchedulingClass": 60,
}
EXTENDED_LIMIT_OFFSETS = {
    "BasicLimitInformation": 0,
    "IoInfo": 64,
    "ProcessMemoryLimit": 112,
    "JobMemoryLimit": 120,
    "PeakProcessMemoryUsed": 128,
    "PeakJobMemoryUsed": 136,
}


@pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="the 64-bit layout")
def test_the_job_structures_have_the_documented_64_bit_layout():
    basic = winjob.JOBOBJECT_BASIC_LIMIT_INFORMATION
    extended = winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
    assert ctypes.sizeof(basic) == 64
    assert ctypes.sizeof(winjob.IO_COUNTERS) == 48
    assert ctypes.sizeof(extended) == 144
    assert {name: getattr(basic, name).offset for name, _ in basic._fields_} == (
        BASIC_LIMIT_OFFSETS
    )
    assert {name: getattr(extended, name).offset for name, _ in extended._fields_} == (
        EXTENDED_LIMIT_OFFSETS
    )
    assert [getattr(winjob.IO_COUNTERS, n).offset for n, _ in winjob.IO_COUNTERS._fields_] == [
        0,
        8,
        16,
        24,
        32,
        40,
    ]


def test_the_job_gets_the_linux_budgets_and_dies_with_its_handle():
    limits = Limits(memory_bytes=3 << 30, processes=64)
    info = winjob.limit_information(limits)
    flags = info.BasicLimitInformation.LimitFlags
    assert flags == 0x0008 | 0x0100 | 0x0200 | 0x0400 | 0x2000  # values from winnt.h
    assert info.ProcessMemoryLimit == info.JobMemoryLimit == 3 << 30
    assert info.BasicLimitInformation.ActiveProcessLimit == 64
    assert info.BasicLimitInformation.PerProcessUserTimeLimit == 0  # no CPU-time flag set
    assert winjob.JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS == 9


class FakeKernel32:
    """kernel32's job functions as the sandbox calls them, recorded in order."""

    JOB, PROCESS = 0x4A0B, 0x9C

    def __init__(self, worker_state=None, fail: str = "") -> None:
        self.calls: list[tuple] = []
        self.created: list[int] = []  # the creationflags of each process started
        self.limits: dict = {}
        self.worker_state = worker_state
        self.fail = fail

    def _call(self, name: str, *args, result=1):
        self.calls.append((name, *args))
        return 0 if name == self.fail else result

    def CreateJobObjectW(self, attributes, name):
        return self._call("CreateJobObjectW", attributes, name, result=self.JOB)

    def SetInformationJobObject(self, job, klass, info, size):
        given = info._obj
        self.limits = {
            "flags": given.BasicLimitInformation.LimitFlags,
            "processes": given.BasicLimitInformation.ActiveProcessLimit,
            "memory": (given.ProcessMemoryLimit, given.JobMemoryLimit),
        }
        return self._call("SetInformationJobObject", job, klass, size)

    def OpenProcess(self, access, inherit, pid):
        return self._call("OpenProcess", access, inherit, pid, result=self.PROCESS)

    def AssignProcessToJobObject(self, job, process):
        state = self.worker_state() if self.worker_state else None
        return self._call("AssignProcessToJobObject", job, process, state)

    def TerminateJobObject(self, job, code):
        return self._call("TerminateJobObject", job, code)

    def CloseHandle(self, handle):
        return self._call("CloseHandle", handle)

    def NtResumeProcess(self, process):  # ntdll's; NTSTATUS 0 is success
        state = self.worker_state() if self.worker_state else None
        return 0 if self._call("NtResumeProcess", process, state) else 0xC0000022


@pytest.fixture
def fake_windows(monkeypatch):
    """Windows as the sandbox sees it: ``win32``, no rlimits, and a fake kernel32 (and
    ntdll) to install. The worker's creation flags are recorded in ``fake.created`` and,
    off Windows, where Popen refuses them and a process cannot start suspended, dropped.

    What was worked out and cached under it (cgroups, isolation) is forgotten afterwards.
    """
    from grader import isolation as iso
    from grader.limits import forget_cgroups

    def install(fake: FakeKernel32) -> None:
        real_popen = subprocess.Popen

        def popen(*args, creationflags=0, **kwargs):
            fake.created.append(creationflags)
            flags = {"creationflags": creationflags} if os.name == "nt" else {}
            return real_popen(*args, **flags, **kwargs)

        monkeypatch.setattr(sandbox.subprocess, "Popen", popen)
        monkeypatch.setattr(winjob, "_KERNEL32", fake)
        monkeypatch.setattr(winjob, "_NTDLL", fake)
        monkeypatch.setattr(winjob, "_PROBLEM", [])
        monkeypatch.setattr(iso, "rlimits_available", lambda: False)
        monkeypatch.setattr(sys, "platform", "win32")
        monkeypatch.delenv("GRADER_TRANSPORT", raising=False)
        forget_cgroups()
        iso.isolation.cache_clear()

    yield install
    monkeypatch.undo()
    forget_cgroups()
    iso.isolation.cache_clear()


def test_the_worker_is_in_its_job_before_it_is_sent_anything_and_the_job_dies_on_timeout(
    fake_windows,
):
    worker = sandbox.Worker(method=Isolation("process", False))
    # What the worker has been sent when it is assigned: nothing, there is no pipe yet.
    fake = FakeKernel32(worker_state=lambda: ("pipes", worker._pipes is not None))
    fake_windows(fake)
    try:
        worker.start()
        pid = worker.proc.pid
        assert isinstance(worker._pipes, sandbox.ThreadPipes)
        assert worker.receive(0.2).status == "timeout"  # a request that never answers
    finally:
        worker.close()
    job, process = FakeKernel32.JOB, FakeKernel32.PROCESS
    assert fake.created == [0x0004 | 0x0200]  # CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP
    assert fake.calls == [
        ("CreateJobObjectW", None, None),
        ("SetInformationJobObject", job, 9, 144 if ctypes.sizeof(ctypes.c_void_p) == 8 else 112),
        ("OpenProcess", 0x0100 | 0x0001, False, pid),
        ("AssignProcessToJobObject", job, process, ("pipes", False)),
        ("CloseHandle", process),
        # Only then does it run: created suspended, in its own process group.
        ("OpenProcess", 0x0800, False, pid),
        ("NtResumeProcess", process, ("pipes", False)),
        ("CloseHandle", process),
        ("TerminateJobObject", job, 1),  # the timeout
        ("CloseHandle", job),
    ]
    assert fake.limits == {
        "flags": winjob.LIMIT_FLAGS,
        "processes": worker.limits.processes,
        "memory": (worker.limits.memory_bytes, worker.limits.memory_bytes),
    }
    assert worker.job is None


def test_without_a_job_the_worker_still_runs_and_the_note_says_so(fake_windows):
    from grader.isolation import isolation

    fake = FakeKernel32(fail="AssignProcessToJobObject")
    fake_windows(fake)
    worker = sandbox.Worker(method=Isolation("process", False))
    try:
        before = isolation().note
        worker.start()
        assert worker.job is None and worker.proc.poll() is None
        note = isolation().note
    finally:
        worker.close()
    assert "a Windows job object holds the submission" in before
    assert "no filesystem or network isolation" in before
    assert [c[0] for c in fake.calls] == [
        "CreateJobObjectW",
        "SetInformationJobObject",
        "OpenProcess",
        "AssignProcessToJobObject",
        "CloseHandle",  # the process handle
        "CloseHandle",  # the job that could not hold it
        "OpenProcess",  # the worker is resumed all the same
        "NtResumeProcess",
        "CloseHandle",
    ]
    assert "no Windows job object (AssignProcessToJobObject failed" in note
    assert "processes the submission starts are not killed with it" in note


def test_a_worker_that_cannot_be_resumed_is_killed_rather_than_left_to_hang(fake_windows):
    fake_windows(FakeKernel32(fail="NtResumeProcess"))
    worker = sandbox.Worker(method=Isolation("process", False))
    try:
        worker.start()
        assert worker.proc.wait(5) is not None
        load = {"op": "load", "filename": "submission.py", "notebook": False, "cells": ["x = 1"]}
        assert worker.request(load, 5).status == "crashed"
    finally:
        worker.close()


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows every worker gets a job")
def test_linux_workers_make_no_job(monkeypatch):
    fake = FakeKernel32()
    monkeypatch.setattr(winjob, "_KERNEL32", fake)
    worker = sandbox.Worker(method=Isolation("process", False))
    try:
        worker.start()
        assert worker.job is None
    finally:
        worker.close()
    assert fake.calls == []


# Standard output that is a file or a pipe on Windows: cp1252, which has no ✔, σ or box line.


@pytest.fixture
def cp1252_stdout(monkeypatch):
    """Call it in the test (pytest puts its own stdout back after setup): sys.stdout as
    Windows gives it when redirected, cp1252, strict, not a terminal; what was written
    comes back as bytes."""
    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    raw = io.BytesIO()

    def install() -> Callable[[], bytes]:
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="cp1252"))

        def written() -> bytes:
            sys.stdout.flush()
            return raw.getvalue()

        return written

    return install


def test_the_contract_redirected_into_a_cp1252_file_is_written_as_utf8(cp1252_stdout):
    written = cp1252_stdout()
    assert cli.main(["contract", "--sheet", "9"]) == cli.EXIT_GRADED
    text = written().decode("utf-8")
    assert "σ is the logistic sigmoid" in text and "T ≥ 1" in text


def test_a_report_redirected_into_a_cp1252_file_is_written_not_a_crash(cp1252_stdout):
    written = cp1252_stdout()
    path = EXAMPLES / "sheet2" / "partly_wrong.py"
    assert cli.main([str(path), "--sheet", "2"]) == cli.EXIT_GRADED
    text = written().decode("utf-8")
    assert "✘ failed" in text and "✔ passed" in text and "Total:" in text


def test_an_encoding_the_user_chose_is_kept_with_escapes(cp1252_stdout, monkeypatch):
    written = cp1252_stdout()
    monkeypatch.setenv("PYTHONIOENCODING", "cp1252")
    path = EXAMPLES / "sheet2" / "partly_wrong.py"
    assert cli.main([str(path), "--sheet", "2"]) == cli.EXIT_GRADED
    text = written().decode("cp1252")
    assert "\\u2718 failed" in text and "Total:" in text


def test_check_in_a_notebook_writes_to_cp1252_output_and_keeps_the_path_whole(
    cp1252_stdout, tmp_path
):
    written = cp1252_stdout()
    folder = tmp_path / ("a_folder_with_a_long_name_" * 4)
    folder.mkdir()
    notebook = folder / "sheet2.ipynb"
    notebook.write_bytes((EXAMPLES / "sheet2" / "correct.ipynb").read_bytes())
    selfcheck.check(notebook)
    lines = written().decode("utf-8").splitlines()
    assert any(f"graded {notebook.resolve()} as saved at" in line for line in lines), lines[:3]


class _Ended:
    """A worker process that has ended with ``code``, as Popen reports it."""

    def __init__(self, code: int) -> None:
        self.returncode = code

    def poll(self) -> int:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        return self.returncode


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (0xC00000FD, "crashed (Windows status 0xc00000fd: a stack overflow)"),
        (0xC0000005, "crashed (Windows status 0xc0000005: an access violation)"),
        (0xC0000409, "crashed (Windows status 0xc0000409)"),
        (3, "exited with status 3"),
    ],
)
def test_a_worker_that_windows_ended_with_an_exception_is_said_to_have_crashed(code, said):
    """Windows ends a process that overflows its stack (deep recursion) with an NTSTATUS
    as its exit code: 0xC00000FD, not "exited with status 3221225725"."""
    worker = sandbox.Worker(method=Isolation("process", False))
    worker.proc = _Ended(code)
    assert said in worker._exit_detail()


def test_the_note_names_the_windows_user(monkeypatch):
    """Windows has neither pwd nor uids: the account is the one Windows names in USERNAME."""
    from grader import isolation as iso

    monkeypatch.setitem(sys.modules, "pwd", None)
    monkeypatch.delattr(os, "geteuid", raising=False)
    for name in ("LOGNAME", "USER", "LNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("USERNAME", "alice")
    assert iso._user_name() == "alice"
    monkeypatch.delenv("USERNAME")
    assert iso._user_name() == "your account"
