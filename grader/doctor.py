"""``grade doctor``: what isolation and limits this machine gives, and how to get what is missing.

The diagnosis is made by trying, not by guessing: ``probe`` launches
bubblewrap with the grader's own command line on ``true`` and makes (and
removes) a cgroup with the grader's limits, and records what happened along
with the settings that explain a failure (the sysctls that block user
namespaces, the package manager that installs bubblewrap). ``diagnose`` is a
pure function of that record, so every case a CI runner or a laptop can be in
is testable without being that machine. ``--require-isolation`` on ``grade``
and ``grade batch`` refuses to grade with the same advice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from grader.limits import CgroupStatus, Limits

EXIT_FULL, EXIT_REDUCED = 0, 1

# The sysctls that can keep bubblewrap from making user namespaces (read from /proc/sys).
SYSCTLS = (
    "kernel.apparmor_restrict_unprivileged_userns",
    "kernel.unprivileged_userns_clone",
    "user.max_user_namespaces",
)
# How each package manager installs bubblewrap, in the order they are looked for.
INSTALLERS = {
    "apt-get": "sudo apt-get install -y bubblewrap",
    "dnf": "sudo dnf install -y bubblewrap",
    "yum": "sudo yum install -y bubblewrap",
    "zypper": "sudo zypper install -y bubblewrap",
    "pacman": "sudo pacman -S --noconfirm bubblewrap",
    "apk": "sudo apk add bubblewrap",
}
OWN_SCOPE = "systemd-run --user --scope -p Delegate=yes grade ..."
AS_ROOT = 'sudo "$(command -v grade)" ...'


@dataclass(frozen=True)
class Probe:
    """What was found by trying: everything ``diagnose`` reads."""

    platform: str
    euid: int
    forced: str  # GRADER_ISOLATION as set ("" when unset)
    bwrap: str | None  # the bubblewrap found on PATH
    bwrap_error: str | None  # None: the trial run worked; else what it said
    unshare_works: bool
    sysctls: dict[str, int | None]
    package_manager: str | None
    cgroup: CgroupStatus
    cgroup_error: str | None  # None: a test cgroup with the limits was made and removed
    limits: Limits = field(default_factory=Limits)
    rlimits: bool = True  # the platform has rlimits (Windows has none)
    job_error: str | None = None  # Windows: None when a job object with the limits was made


@dataclass(frozen=True)
class Finding:
    """One part of the isolation: in force or not, why, and the commands that fix it."""

    what: str
    ok: bool
    detail: str
    fixes: tuple[str, ...] = ()
    state: str = ""  # shown instead of ok / MISSING


@dataclass(frozen=True)
class Diagnosis:
    method: str  # what the grader would run submissions with
    full: bool
    findings: tuple[Finding, ...]


def probe(limits: Limits | None = None) -> Probe:
    """Try bubblewrap, unshare and a cgroup here, for real."""
    from grader import winjob
    from grader.isolation import ISOLATION_ENV, bwrap_args, unshare_args
    from grader.limits import cgroup_status, rlimits_available

    limits = limits or Limits()
    linux = sys.platform.startswith("linux")
    bwrap = shutil.which("bwrap") if linux else None
    bwrap_error = None
    if bwrap is not None:
        bwrap_error = _trial(bwrap_args(bwrap, None, limits, ["true"]))
    unshare = shutil.which("unshare") if linux else None
    unshare_works = unshare is not None and _trial([unshare, *unshare_args(), "true"]) is None
    status = cgroup_status()
    cgroup_error = status.problem if status.problem is not None else _cgroup_trial(limits)
    return Probe(
        platform=sys.platform,
        euid=os.geteuid() if hasattr(os, "geteuid") else -1,
        forced=os.environ.get(ISOLATION_ENV, "").strip().lower(),
        bwrap=bwrap,
        bwrap_error=bwrap_error,
        unshare_works=unshare_works,
        sysctls={name: _read_int("/proc/sys/" + name.replace(".", "/")) for name in SYSCTLS},
        package_manager=next((pm for pm in INSTALLERS if shutil.which(pm)), None),
        cgroup=status,
        cgroup_error=cgroup_error,
        limits=limits,
        rlimits=rlimits_available(),
        job_error=winjob.trial(limits),
    )


def _cgroup_trial(limits: Limits) -> str | None:
    """Make a cgroup with ``limits``, start a process in it as the sandbox does, remove it all."""
    from grader.limits import make_cgroup

    trial = make_cgroup(limits)
    try:
        if not trial.ok:
            return "making a test cgroup with the memory and process limits failed"
        wait = [sys.executable, "-I", "-c", "import sys; sys.stdin.read()"]
        with subprocess.Popen(wait, stdin=subprocess.PIPE, preexec_fn=trial.add_self) as proc:
            joined = proc.pid in trial.pids()
            proc.stdin.close()
        if not joined:
            return "a process could not join the test cgroup"
        return None
    except OSError as exc:
        return f"trying a test cgroup failed: {exc}"
    finally:
        trial.remove()


def _trial(cmd: list[str]) -> str | None:
    """None when ``cmd`` ran and exited 0; else what went wrong, in its own words."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if proc.returncode == 0:
        return None
    said = proc.stderr.strip().splitlines()
    return said[-1] if said else f"exit status {proc.returncode}"


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def diagnose(p: Probe) -> Diagnosis:
    """What the grader would use with what ``p`` found, and what is missing, with fixes."""
    from grader.isolation import METHODS

    linux = p.platform.startswith("linux")
    bwrap_ok = p.bwrap is not None and p.bwrap_error is None
    works = {"bubblewrap": bwrap_ok, "unshare": p.unshare_works, "process": True}
    asked = p.forced if p.forced in METHODS else ""
    candidates = METHODS[METHODS.index(asked) :] if asked else METHODS
    method = next(m for m in candidates if works[m])
    findings = [_sandbox_finding(p, linux, bwrap_ok, method, asked)]
    findings.append(_cgroup_finding(p))
    full = method == "bubblewrap" and findings[1].ok
    findings.append(_limits_finding(p, findings[1].ok))
    return Diagnosis(method, full, tuple(findings))


def _sandbox_finding(p: Probe, linux: bool, bwrap_ok: bool, method: str, asked: str) -> Finding:
    what = "sandbox"
    if not linux:
        return Finding(
            what,
            False,
            f"no namespaces on this platform ({p.platform}): submissions run as plain "
            "processes with your rights (they can read and write your files and reach the "
            "network); grade on Linux with bubblewrap for isolation",
        )
    if asked and asked != "bubblewrap" and bwrap_ok:
        return Finding(
            what,
            False,
            f"GRADER_ISOLATION={p.forced} asks for {method} although bubblewrap works here",
            ("unset GRADER_ISOLATION",),
        )
    if bwrap_ok:
        return Finding(
            what,
            True,
            f"bubblewrap ({p.bwrap}) runs the sandbox: no network, its own user, pid, ipc, "
            "uts and mount namespaces, a read-only system without the grader's files, an "
            "unprivileged uid without capabilities",
        )
    fallback = f"submissions run under {method}, with reduced isolation"
    if p.bwrap is None:
        install = INSTALLERS.get(p.package_manager or "", "install bubblewrap (bwrap)")
        return Finding(what, False, f"bubblewrap (bwrap) is not installed: {fallback}", (install,))
    said = f"bubblewrap ({p.bwrap}) is installed but cannot make its namespaces"
    said += f" here ({_quoted(p.bwrap_error)}): {fallback}"
    fixes: list[str] = []
    reasons: list[str] = []
    if p.sysctls.get("kernel.apparmor_restrict_unprivileged_userns") == 1 and p.euid != 0:
        reasons.append(
            "AppArmor blocks unprivileged user namespaces "
            "(kernel.apparmor_restrict_unprivileged_userns = 1, as on Ubuntu 23.10 and later)"
        )
        fixes += [
            "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
            "echo kernel.apparmor_restrict_unprivileged_userns=0 "
            "| sudo tee /etc/sysctl.d/60-grader-userns.conf   # to keep it after a reboot",
        ]
    if p.sysctls.get("kernel.unprivileged_userns_clone") == 0 and p.euid != 0:
        reasons.append(
            "unprivileged user namespaces are off (kernel.unprivileged_userns_clone = 0)"
        )
        fixes.append("sudo sysctl -w kernel.unprivileged_userns_clone=1")
    if p.sysctls.get("user.max_user_namespaces") == 0:
        reasons.append("user namespaces are off (user.max_user_namespaces = 0)")
        fixes.append("sudo sysctl -w user.max_user_namespaces=10000")
    if reasons:
        said += "; " + "; ".join(reasons)
    else:
        said += (
            "; in a container, run it with user namespaces allowed (e.g. docker run "
            "--security-opt seccomp=unconfined --security-opt apparmor=unconfined), or grade "
            "on the host"
        )
    return Finding(what, False, said, tuple(fixes))


def _quoted(text: str | None) -> str:
    from grader.text import safe

    return safe(text or "it failed", 300)


def _cgroup_finding(p: Probe) -> Finding:
    what = "cgroup"
    c = p.cgroup
    per_process = "memory and process limits bind each process, not the submission as a whole"
    if p.cgroup_error is None:
        where = f" under {c.where}" if c.where is not None else ""
        how = "cgroup v1 memory and pids controllers" if c.version == "v1" else "cgroup v2"
        trial = "a test cgroup was made with the limits, joined and removed"
        return Finding(what, True, f"per-submission cgroups ({how}{where}): {trial}")
    if not p.rlimits:
        per_process = "and no limits per process either (see limits)"
    detail = f"no per-submission cgroup ({_quoted(p.cgroup_error)}): {per_process}"
    fixes: tuple[str, ...] = ()
    if c.kind == "off":
        fixes = ("unset GRADER_CGROUPS",)
    elif c.kind == "v1_root":
        detail += "; on cgroup v1 only root may make cgroups"
        fixes = (AS_ROOT,)
    elif c.kind == "v2_delegation":
        detail += (
            "; on cgroup v2 the grader needs root, or a cgroup of its own that it may write "
            "(systemd delegates one with Delegate=yes)"
        )
        fixes = (AS_ROOT, OWN_SCOPE)
    elif c.kind == "v2_busy":
        detail += "; start the grader in a cgroup of its own"
        fixes = (OWN_SCOPE,)
    elif c.kind == "v2_controllers":
        detail += (
            "; the memory and pids controllers must be enabled for the grader's cgroup (its "
            "parent's cgroup.subtree_control); a host that keeps them on cgroup v1 (a hybrid "
            "set-up) boots with systemd.unified_cgroup_hierarchy=1 for cgroup v2"
        )
        fixes = (OWN_SCOPE, AS_ROOT)
    elif c.kind == "none":
        fixes = ("sudo mount -t cgroup2 none /sys/fs/cgroup",)
    return Finding(what, False, detail, fixes)


def _limits_finding(p: Probe, per_submission: bool) -> Finding:
    from grader.isolation import platform_limits_note

    limits = p.limits
    gib = limits.memory_bytes / (1 << 30)
    if p.platform == "win32" and p.job_error is None:
        return Finding(
            "limits",
            True,
            f"a Windows job object: {gib:g} GiB of committed memory for each process and for "
            f"the submission in all, {limits.processes} processes at once, and every process "
            "the submission starts is killed with it on a timeout or when the grader exits; "
            "no CPU-time, file-size or open-file limits",
            state="job object",
        )
    if not p.rlimits:
        note = platform_limits_note(p.platform, p.job_error)
        return Finding("limits", False, note, state="none")
    shared = (
        f"{gib:g} GiB of memory and {limits.processes} processes for the submission in all"
        if per_submission
        else f"{gib + 1:g} GiB of address space per process and {limits.processes} processes "
        "per user (not at all as root), so a submission that forks can hold more"
    )
    if p.platform == "darwin":
        shared += f" ({platform_limits_note(p.platform)})"
    return Finding(
        "limits",
        per_submission,
        f"{shared}; each process {limits.cpu_seconds} s of CPU time, files up to "
        f"{limits.file_bytes >> 20} MiB, {limits.open_files} open files; "
        f"a {limits.scratch_bytes >> 20} MiB scratch directory",
        state="per submission" if per_submission else "per process only",
    )


def render(d: Diagnosis) -> str:
    """The diagnosis as people read it: plain text, a block per part, fixes as commands."""
    import textwrap

    head = "full" if d.full else "REDUCED"
    lines = [f"isolation: {head} (submissions run under {d.method})"]
    for f in d.findings:
        lines += ["", f"{f.what}: {f.state or ('ok' if f.ok else 'MISSING')}"]
        lines += textwrap.wrap(f.detail, 88, initial_indent="  ", subsequent_indent="  ")
        lines += [f"  fix: {fix}" for fix in f.fixes]
    return "\n".join(lines) + "\n"


def refusal() -> str | None:
    """For ``--require-isolation``: None when full isolation is available here, else why not."""
    d = diagnose(probe())
    if d.full:
        return None
    return (
        "grade: refusing to grade: --require-isolation, and full isolation is not "
        "available here:\n" + render(d)
    )


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="grade doctor",
        description="Say what isolation and limits this machine gives submissions, and for "
        "each thing missing why and the command that fixes it. It tries for real: it runs "
        "bubblewrap with the grader's own command line and makes and removes a cgroup with "
        "the grader's limits.",
        epilog="exit status: 0 full isolation is available, 1 it is not (the output says why).",
    )
    p.parse_args(argv)
    d = diagnose(probe())
    sys.stdout.write(render(d))
    return EXIT_FULL if d.full else EXIT_REDUCED
