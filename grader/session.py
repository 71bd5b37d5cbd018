"""A submission loaded in a sandboxed worker, started as early as possible.

Booting the worker (a Python process importing numpy, then the submission)
costs about as much as the grader's own imports, so the CLI opens the session
first and builds the spec while the worker boots. This module therefore imports
nothing heavy: no numpy, no pydantic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.isolation import launch_failed
from grader.limits import Limits
from grader.loading import LoadError, Source, read_submission
from grader.sandbox import Reply, Worker

if TYPE_CHECKING:
    from grader.spec import Case

DEFAULT_CALL_TIMEOUT = 10.0
LOAD_TIMEOUT = 60.0


@dataclass
class Options:
    run_seed: int = 0
    call_timeout: float | None = None
    load_timeout: float = LOAD_TIMEOUT
    limits: Limits = field(default_factory=Limits)
    # Called as progress(done, total, what) while grading; the CLI shows it on a TTY.
    progress: Callable[[int, int, str], None] | None = None


class Session:
    """A submission loaded in a (restartable) worker."""

    def __init__(self, path: Path, source: Source, options: Options) -> None:
        self.path = path
        self.source = source
        self.options = options
        self.worker = Worker(options.limits)
        self.shown_name = path.name
        self._pending: Reply | None = None
        self.given_up = False

    def start(self) -> None:
        self.worker.start()

    def begin_load(self) -> None:
        """Ask the worker to load the submission; it may still be booting."""
        message = {
            "op": "load",
            "filename": self.source.filename,
            "notebook": self.source.notebook,
            "cells": self.source.cells,
        }
        self._pending = self.worker.send(message)

    def load(self) -> Reply:
        self.begin_load()
        return self.wait_loaded()

    def wait_loaded(self) -> Reply:
        """The answer to the load request sent by ``open_session`` or ``load``.

        A worker that died before answering may mean the isolation method does
        not work on this machine (bubblewrap is trusted untried): then the worker
        is started once more under the next method.
        """
        reply = self._pending or self.worker.receive(self.options.load_timeout)
        self._pending = None
        if reply.status == "crashed" and launch_failed(self.worker.started_with):
            self.worker.kill()
            self.worker.start()
            self.begin_load()
            reply = self._pending or self.worker.receive(self.options.load_timeout)
            self._pending = None
        return reply

    def restart(self) -> bool:
        """Reload after a crash or timeout; after one failed reload, give up for good.

        A reload that hangs or fails would fail again, each time costing up to the
        load timeout, and a hung worker must not answer a later call with its load.
        """
        self.worker.kill()
        if self.given_up:
            return False
        self.worker.start()
        reply = self.load()
        if reply.status == "ok" and reply.value.get("ok"):
            return True
        self.worker.kill()
        self.given_up = True
        return False

    def call_many(self, function: str, cases: list[Case], timeout: float) -> list[dict] | None:
        """All of a check's cases in one round trip, or None when that did not work out.

        The batch gets one call's time limit; fast functions finish far within
        it. If it times out, crashes or comes back malformed, the worker is
        restarted and the caller runs the cases one by one, which finds the case
        that misbehaves and keeps every call's own limit.
        """
        if self.given_up:
            return None
        calls = [[list(c.args), dict(c.kwargs)] for c in cases]
        reply = self.worker.request({"op": "calls", "function": function, "calls": calls}, timeout)
        if reply.status == "ok" and reply.value.get("ok"):
            answers = reply.value["answers"]
            if len(answers) == len(cases):
                return answers
        if reply.status != "ok":
            self.restart()
        return None

    def call(self, function: str, case: Case, timeout: float) -> Reply:
        if self.given_up:
            return Reply("crashed", detail="it could not be restarted after an earlier failure")
        message = {
            "op": "call",
            "function": function,
            "args": list(case.args),
            "kwargs": dict(case.kwargs),
        }
        return self.worker.request(message, timeout)

    def close(self) -> None:
        self.worker.close()


def open_session(path: Path, options: Options) -> Session | LoadError:
    """Read the file, start the worker and send it the code, without waiting."""
    try:
        source = read_submission(path)
    except LoadError as exc:
        exc.path = path
        return exc
    session = Session(path, source, options)
    session.start()
    session.begin_load()
    return session
