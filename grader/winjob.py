"""A Windows Job Object around the worker: memory, process count, and nothing left behind.

Windows has no rlimits, sessions or cgroups; a job object is what it has. The
worker is put in a job that caps the committed memory of each process and of
the job as a whole at the memory budget (the cgroup's ``memory.max`` on Linux),
caps how many processes may run at once at the process budget (``pids.max``),
lets a crashing process die instead of waiting on an error dialog, and kills
every process in it when the job is terminated (a timeout, a crash, ``close``)
or when its last handle closes, so also when the grader itself is killed.
Children of a process in the job are in the job too. A job gives no filesystem
or network isolation: the submission still runs as the student, with the
student's files and network.

When it is assigned: before the worker runs at all. It is created suspended, put in
the job, and only then resumed (``resume``). That matters beyond timing: in a virtual
environment, which is how students install the kit, ``sys.executable`` is a small
launcher (``Scripts\\python.exe``) that starts the real interpreter as its own child
at once. A child started before its parent is in the job would not be in it: its memory
and process limits would not hold, and whatever it started would survive a timeout.
Started inside the job, the launcher's child and all it starts are in it too (the
launcher's own job, which lets its children break away, nests inside this one, and a
breakaway never leaves this one). Nor can a ``.pth`` file that an earlier submission
wrote into a Python install the student owns run before the job holds the worker.

Only ``ctypes`` is used (no pywin32). The structures below follow Microsoft's
``winnt.h`` as documented; ``tests/test_portable.py`` checks their sizes and
offsets against the documented 64-bit layout and the order of the calls with a
fake ``kernel32``. None of this has been run on Windows.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from grader.limits import Limits

# LimitFlags of JOBOBJECT_BASIC_LIMIT_INFORMATION (winnt.h).
JOB_OBJECT_LIMIT_ACTIVE_PROCESS = 0x00000008
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x00000100
JOB_OBJECT_LIMIT_JOB_MEMORY = 0x00000200
JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x00000400
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
LIMIT_FLAGS = (
    JOB_OBJECT_LIMIT_ACTIVE_PROCESS
    | JOB_OBJECT_LIMIT_PROCESS_MEMORY
    | JOB_OBJECT_LIMIT_JOB_MEMORY
    | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
    | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
)
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9  # JobObjectExtendedLimitInformation
# What AssignProcessToJobObject needs of the process handle, and NtResumeProcess.
PROCESS_TERMINATE = 0x0001
PROCESS_SET_QUOTA = 0x0100
PROCESS_SUSPEND_RESUME = 0x0800
# How the worker is created (winbase.h): its own process group (no Ctrl+C from the
# grader's console), suspended until it is in its job.
CREATE_SUSPENDED = 0x00000004
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATION_FLAGS = CREATE_NEW_PROCESS_GROUP | CREATE_SUSPENDED
EXIT_CODE = 1  # what TerminateJobObject gives every process it ends

# Windows types: LARGE_INTEGER and ULONGLONG 8 bytes, DWORD 4, SIZE_T and ULONG_PTR
# pointer-sized (c_size_t: 8 on 64-bit Windows, 4 on 32-bit, as the header has them).
_LARGE_INTEGER = ctypes.c_int64
_ULONGLONG = ctypes.c_uint64
_DWORD = ctypes.c_uint32
_SIZE_T = ctypes.c_size_t
_HANDLE = ctypes.c_void_p
_BOOL = ctypes.c_int


class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = (
        ("PerProcessUserTimeLimit", _LARGE_INTEGER),
        ("PerJobUserTimeLimit", _LARGE_INTEGER),
        ("LimitFlags", _DWORD),
        ("MinimumWorkingSetSize", _SIZE_T),
        ("MaximumWorkingSetSize", _SIZE_T),
        ("ActiveProcessLimit", _DWORD),
        ("Affinity", _SIZE_T),  # ULONG_PTR
        ("PriorityClass", _DWORD),
        ("SchedulingClass", _DWORD),
    )


class IO_COUNTERS(ctypes.Structure):
    _fields_ = (
        ("ReadOperationCount", _ULONGLONG),
        ("WriteOperationCount", _ULONGLONG),
        ("OtherOperationCount", _ULONGLONG),
        ("ReadTransferCount", _ULONGLONG),
        ("WriteTransferCount", _ULONGLONG),
        ("OtherTransferCount", _ULONGLONG),
    )


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = (
        ("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION),
        ("IoInfo", IO_COUNTERS),
        ("ProcessMemoryLimit", _SIZE_T),
        ("JobMemoryLimit", _SIZE_T),
        ("PeakProcessMemoryUsed", _SIZE_T),
        ("PeakJobMemoryUsed", _SIZE_T),
    )


class JobError(OSError):
    """A job object call failed; the worker then runs without one, and the report says so."""


_KERNEL32: Any = None


def kernel32() -> Any:
    """kernel32 with the job functions typed; loaded on first use (it exists only on Windows)."""
    global _KERNEL32
    if _KERNEL32 is None:
        k = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        k.CreateJobObjectW.argtypes = (ctypes.c_void_p, ctypes.c_wchar_p)
        k.CreateJobObjectW.restype = _HANDLE
        k.SetInformationJobObject.argtypes = (_HANDLE, ctypes.c_int, ctypes.c_void_p, _DWORD)
        k.SetInformationJobObject.restype = _BOOL
        k.OpenProcess.argtypes = (_DWORD, _BOOL, _DWORD)
        k.OpenProcess.restype = _HANDLE
        k.AssignProcessToJobObject.argtypes = (_HANDLE, _HANDLE)
        k.AssignProcessToJobObject.restype = _BOOL
        k.TerminateJobObject.argtypes = (_HANDLE, ctypes.c_uint)
        k.TerminateJobObject.restype = _BOOL
        k.CloseHandle.argtypes = (_HANDLE,)
        k.CloseHandle.restype = _BOOL
        _KERNEL32 = k
    return _KERNEL32


_NTDLL: Any = None


def ntdll() -> Any:
    """ntdll with ``NtResumeProcess``: what resumes a process created suspended when its
    main thread's handle is gone (``subprocess`` closes it); psutil resumes processes so."""
    global _NTDLL
    if _NTDLL is None:
        n = ctypes.WinDLL("ntdll")  # type: ignore[attr-defined]
        n.NtResumeProcess.argtypes = (_HANDLE,)
        n.NtResumeProcess.restype = ctypes.c_long  # NTSTATUS: 0 is success
        _NTDLL = n
    return _NTDLL


def limit_information(limits: Limits) -> JOBOBJECT_EXTENDED_LIMIT_INFORMATION:
    """The job's limits: the memory budget per process and in all, the process budget."""
    info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
    info.BasicLimitInformation.LimitFlags = LIMIT_FLAGS
    info.BasicLimitInformation.ActiveProcessLimit = limits.processes
    info.ProcessMemoryLimit = limits.memory_bytes
    info.JobMemoryLimit = limits.memory_bytes
    return info


def _failed(what: str) -> JobError:
    code = ctypes.get_last_error() if hasattr(ctypes, "get_last_error") else 0
    return JobError(f"{what} failed (Windows error {code})")


class Job:
    """One job object with ``limits``; ``assign`` a process to it, ``terminate``, ``close``."""

    def __init__(self, limits: Limits) -> None:
        k = kernel32()
        handle = k.CreateJobObjectW(None, None)
        if not handle:
            raise _failed("CreateJobObjectW")
        self.handle: int | None = handle
        info = limit_information(limits)
        size = ctypes.sizeof(info)
        if not k.SetInformationJobObject(
            handle, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS, ctypes.byref(info), size
        ):
            error = _failed("SetInformationJobObject")
            self.close()
            raise error

    def assign(self, pid: int) -> None:
        """Put the running process ``pid`` (and so every process it starts) in the job."""
        k = kernel32()
        process = k.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
        if not process:
            raise _failed("OpenProcess")
        try:
            if not k.AssignProcessToJobObject(self.handle, process):
                raise _failed("AssignProcessToJobObject")
        finally:
            k.CloseHandle(process)

    def terminate(self) -> None:
        """Kill every process in the job at once."""
        if self.handle is not None:
            kernel32().TerminateJobObject(self.handle, EXIT_CODE)

    def close(self) -> None:
        """Close the handle; with KILL_ON_JOB_CLOSE, whatever still runs in the job dies."""
        if self.handle is not None:
            handle, self.handle = self.handle, None
            kernel32().CloseHandle(handle)


def resume(pid: int) -> None:
    """Let the process ``pid``, created suspended (``CREATION_FLAGS``), run; ``JobError`` if not."""
    k = kernel32()
    process = k.OpenProcess(PROCESS_SUSPEND_RESUME, False, pid)
    if not process:
        raise _failed("OpenProcess")
    try:
        status = ntdll().NtResumeProcess(process)
        if status != 0:
            raise JobError(f"NtResumeProcess failed (NTSTATUS {status & 0xFFFFFFFF:#010x})")
    finally:
        k.CloseHandle(process)


def trial(limits: Limits) -> str | None:
    """Make a job with ``limits`` and close it (``grade doctor``): None, or why it failed."""
    if sys.platform != "win32":
        return problem()
    try:
        Job(limits).close()
    except (JobError, OSError, AttributeError) as exc:
        return str(exc)
    return problem()


def contain(pid: int, limits: Limits) -> Job:
    """A new job with ``limits`` holding the process ``pid``; ``JobError`` if that failed."""
    job = Job(limits)
    try:
        job.assign(pid)
    except JobError:
        job.close()
        raise
    return job


_PROBLEM: list[str] = []  # why the last job failed, in this process


def problem() -> str | None:
    """Why the worker has no job object here, or None when it gets one."""
    if sys.platform != "win32":
        return f"no job objects on this platform ({sys.platform})"
    return _PROBLEM[-1] if _PROBLEM else None


def failed(reason: str) -> None:
    """Remember that a job could not be made, so the isolation note says so from now on."""
    _PROBLEM.append(reason)


def isolation_note(reason: str | None) -> str:
    """What the job gives and lacks, in words, for the report's note and ``grade doctor``.

    ``reason`` is why there is no job (see ``problem``), None when there is one.
    """
    if reason is not None:
        return (
            f"no Windows job object ({reason}): no memory or process limits beyond the per-call "
            "time limit and the submission's wall-time budget, and processes the submission "
            "starts are not killed with it"
        )
    return (
        "a Windows job object holds the submission: its memory and its number of processes "
        "are capped, and every process it starts is killed with it on a timeout or when the "
        "grader exits; no CPU-time, file-size or open-file limits, and no filesystem or "
        "network isolation"
    )
