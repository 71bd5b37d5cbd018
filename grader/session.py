"""A submission loaded in a sandboxed worker, started as early as possible.

Booting the worker (a Python process importing numpy, then the submission)
costs about as much as the grader's own imports, so the CLI opens the session
first and builds the spec while the worker boots. This module therefore imports
nothing heavy: no numpy, no pydantic.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader import wire
from grader.isolation import launch_failed
from grader.limits import Limits
from grader.loading import LoadError, Source, read_submission
from grader.sandbox import Reply, Worker

if TYPE_CHECKING:
    from grader.spec import Case

DEFAULT_CALL_TIMEOUT = 10.0
LOAD_TIMEOUT = 60.0
# Per submission, in all: every crash or timeout restarts the worker and reloads
# the submission, which may itself take up to LOAD_TIMEOUT.
SUBMISSION_TIMEOUT = 300.0
MAX_RESTARTS = 20


@dataclass
class Options:
    run_seed: int = 0
    call_timeout: float | None = None
    load_timeout: float = LOAD_TIMEOUT
    submission_timeout: float = SUBMISSION_TIMEOUT
    max_restarts: int = MAX_RESTARTS
    limits: Limits = field(default_factory=Limits)
    # Called as progress(done, total, what) while grading; the CLI shows it on a TTY.
    progress: Callable[[int, int, str], None] | None = None


def add_grading_arguments(parser: argparse.ArgumentParser) -> None:
    """The seed and time limits, spelt the same in every command that grades."""
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="vary the hidden random inputs (default 0); they also depend on the "
        "submission's code, so a changed file gets new ones and inputs read off one "
        "report are no use to the next version",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"per-call time limit for checks that set none (default {DEFAULT_CALL_TIMEOUT:g})",
    )
    parser.add_argument(
        "--load-timeout",
        type=float,
        default=LOAD_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit for loading a submission (default {LOAD_TIMEOUT:g})",
    )
    parser.add_argument(
        "--submission-timeout",
        type=float,
        default=SUBMISSION_TIMEOUT,
        metavar="SECONDS",
        help="wall-time limit for each submission in all, reloads included "
        f"(default {SUBMISSION_TIMEOUT:g})",
    )


def grading_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    """Options from ``add_grading_arguments``; a limit that is not positive is a usage error."""
    limits = (args.timeout or 1.0, args.load_timeout, args.submission_timeout)
    if (args.timeout is not None and args.timeout <= 0) or min(limits) <= 0:
        parser.error("time limits must be positive")
    return Options(
        run_seed=args.seed,
        call_timeout=args.timeout,
        load_timeout=args.load_timeout,
        submission_timeout=args.submission_timeout,
    )


@dataclass(frozen=True)
class Stop:
    """Why no more of a submission's checks run: ``status`` for them, ``why`` for people."""

    status: str  # "error" | "timeout"
    why: str


class Session:
    """A submission loaded in a (restartable) worker, within its budget of time and restarts.

    The budget is the submission's, not the call's: without it a submission whose
    every function crashes and whose import is slow would be reloaded for every
    check (27 reloads of a 12 s import took six minutes).
    """

    def __init__(self, path: Path, source: Source, options: Options) -> None:
        self.path = path
        self.source = source
        self.options = options
        self.worker = Worker(options.limits)
        self.shown_name = path.name
        self._pending: Reply | None = None
        self.started = time.monotonic()
        self.restarts = 0
        self._stop: Stop | None = None

    def start(self) -> None:
        self.worker.start()

    def begin_load(self) -> None:
        """Ask the worker to load the submission; it may still be booting."""
        message = {
            "op": "load",
            "filename": self.source.filename,
            "notebook": self.source.notebook,
            "cells": self.source.cells,
            "numbers": self.source.numbers,
        }
        self._pending = self.worker.send(message)

    def load(self) -> Reply:
        self.begin_load()
        return self.wait_loaded()

    def time_left(self) -> float:
        return self.started + self.options.submission_timeout - time.monotonic()

    def stopped(self) -> Stop | None:
        """Why the remaining checks are not run (budget used up, reload failed), or None."""
        if self._stop is None and self.time_left() <= 0:
            self._stop = self._out_of_time()
        return self._stop

    def _out_of_time(self) -> Stop:
        budget = self.options.submission_timeout
        return Stop("timeout", f"the submission used up its {budget:g} s time budget")

    def _limit(self, timeout: float) -> tuple[float, bool]:
        """``timeout`` cut to the time left; True when the cut binds."""
        left = max(self.time_left(), 0.0)
        return (left, True) if left < timeout else (timeout, False)

    def wait_loaded(self) -> Reply:
        """The answer to the load request sent by ``open_session`` or ``load``.

        A worker that died before answering may mean the isolation method does
        not work on this machine (bubblewrap is trusted untried): then the worker
        is started once more under the next method.
        """
        reply = self._pending or self.worker.receive(self._limit(self.options.load_timeout)[0])
        self._pending = None
        if reply.status == "crashed" and launch_failed(self.worker.started_with):
            self.worker.kill()
            self.worker.start()
            self.begin_load()
            timeout = self._limit(self.options.load_timeout)[0]
            reply = self._pending or self.worker.receive(timeout)
            self._pending = None
        return reply

    def restart(self) -> bool:
        """Reload after a crash or timeout, within the submission's budget.

        After one failed reload it gives up for good: a reload that hangs or fails
        would fail again, each time costing up to the load timeout, and a hung
        worker must not answer a later call with its load.
        """
        self.worker.kill()
        if self.stopped() is not None:
            return False
        if self.restarts >= self.options.max_restarts:
            self._stop = Stop("error", f"the submission used up its {self.restarts} restarts")
            return False
        self.restarts += 1
        self.worker.start()
        reply = self.load()
        if reply.status == "ok" and reply.value.get("ok"):
            return True
        self.worker.kill()
        if self.time_left() <= 0:
            self._stop = self._out_of_time()
        else:
            self._stop = Stop("error", "the submission could not be restarted after a failure")
        return False

    def call_many(self, function: str, cases: list[Case], timeout: float) -> list[Reply] | None:
        """A check's cases in one request, answered one by one as each finishes.

        Each case gets a whole call's limit, counted from the answer before it,
        so a case that hangs or crashes is known without running the cases
        again: the replies end with it, and the worker is restarted here. A reply
        list shorter than ``cases`` otherwise ends with an error the worker
        reported outside any call, after which it is restarted too; None when
        the budget allows no request. All answers share one
        decoded budget, and more answers than cases are a protocol error of the
        last case, so forged frames can claim no more than the function returns.
        """
        if self.stopped() is not None:
            return None
        calls = [[list(c.args), dict(c.kwargs)] for c in cases]
        failed = self.worker.send({"op": "calls", "function": function, "calls": calls})
        if failed is not None:
            self.restart()
            return [failed]
        replies: list[Reply] = []
        budget = wire.MAX_DECODED
        for index in range(len(cases) + 1):
            limit, cut = self._limit(timeout)
            reply = self.worker.receive(limit, budget)
            budget = self.worker.budget_left
            if reply.status == "ok":
                value = reply.value
                if not value["ok"]:  # the worker's own code failed (or a forger says so)
                    self.restart()  # either way the stream may be out of step
                    return [*replies, reply]
                if index == len(cases) and value.get("done") == len(cases):
                    return replies
                if value.get("case") == index and index < len(cases):
                    replies.append(Reply("ok", value=value["answer"]))
                    continue
                why = "more answers than cases" if index == len(cases) else "answers out of order"
                reply = Reply("protocol", detail=f"the worker sent {why}")
            elif reply.status == "timeout" and cut:
                reply = Reply("timeout", detail=self._out_of_time().why)
            replies[min(index, len(cases) - 1) :] = [reply]  # past the last: it is not trusted
            self.restart()
            return replies
        return replies

    def call(self, function: str, case: Case, timeout: float) -> Reply:
        """One call; a Reply with status "stopped" when the budget allows no more."""
        stop = self.stopped()
        if stop is not None:
            return Reply("stopped", detail=stop.why)
        message = {
            "op": "call",
            "function": function,
            "args": list(case.args),
            "kwargs": dict(case.kwargs),
        }
        limit, cut = self._limit(timeout)
        reply = self.worker.request(message, limit)
        if reply.status == "timeout" and cut:
            return Reply("timeout", detail=self._out_of_time().why)
        return reply

    def close(self) -> None:
        self.worker.close()


def open_session(
    path: Path, options: Options, source: Source | LoadError | None = None
) -> Session | LoadError:
    """Start the worker and send it the code, without waiting.

    ``source`` is the submission already read, or why it could not be
    (``grade batch`` hashes exactly the bytes it grades; the CLI refuses a
    symlink before grading); without it the file at ``path`` is read here,
    following no symlink.
    """
    if source is None:
        try:
            source = read_submission(path)
        except LoadError as exc:
            source = exc
    if isinstance(source, LoadError):
        source.path = path
        return source
    session = Session(path, source, options)
    session.start()
    session.begin_load()
    return session
