"""Parsing on every core: a report's files go, as bytes, to a pool of worker processes
that run the same pure `assemble.build_report` (and so `parsers.parse_report`). The
crawl's reactor never waits for a parse, and `nianbao reparse` keeps every core busy.

A worker that dies (a parser bug that crashes the interpreter, the OOM killer) takes the
pool and every report in it with it. The pool is started again, and each of those
reports is parsed once more in a process of its own: the ones that were only in the
wrong place come through, and the one whose parse kills its worker again is a
`WorkerDied` error, recorded as a parse failure, while the rest goes on.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from .assemble import build_report

_SPAWN = multiprocessing.get_context("spawn")  # not fork: the crawl's process has threads


def _die_with(parent: int) -> None:
    """A worker's initializer: it is killed when the process that started it dies (a crawl
    killed outright leaves no parser behind, holding memory and its pipes)."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(1)


# the workers are replaced after this many reports each: what the PDF and Word libraries
# keep between calls (and the allocator's fragments) cannot build up over a national crawl.
# The pool retires itself (the next reports go to new workers, the old ones finish theirs
# and exit) rather than using `max_tasks_per_child`, which can leave Python 3.11's executor
# with no worker at all, waiting for ever.
TASKS_PER_WORKER = 500


def _workers(count: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=count, mp_context=_SPAWN, initializer=_die_with,
                               initargs=(os.getpid(),))


class WorkerDied(RuntimeError):
    """The parser's worker process died while reading this report, alone."""

    def __init__(self):
        super().__init__("the parser's worker process died while reading it")


def default_workers() -> int:
    return os.cpu_count() or 1


class ParsePool:
    """`build_report` in `workers` processes (0: in one thread of this process)."""

    # what the workers run (a module-level function: it is pickled by name)
    function = staticmethod(build_report)

    def __init__(self, workers: int | None = None):
        self.workers = default_workers() if workers is None else workers
        self._executor: Executor | None = None
        self._submitted = 0               # reports given to the current workers
        self._retired: list[Executor] = []  # workers finishing their last reports

    def _pool(self) -> Executor:
        if self._executor is not None and self.workers > 0 \
                and self._submitted >= TASKS_PER_WORKER * self.workers:
            self._executor.shutdown(wait=False)
            self._retired.append(self._executor)
            self._executor = None
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1) if self.workers <= 0 else \
                _workers(self.workers)
            self._submitted = 0
        return self._executor

    def _submit(self, url: str, files: list, context: dict) -> tuple[Future, Executor]:
        pool = self._pool()
        self._submitted += 1
        return pool.submit(self.function, url, files, **context), pool

    def _restart(self, broken: Executor) -> None:
        if self._executor is broken:  # another report may have restarted it already
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _alone(self, url: str, files: list, context: dict) -> Future:
        """The report parsed in a process of its own (after a worker died beside it)."""
        pool = _workers(1)
        future = pool.submit(self.function, url, files, **context)
        future.add_done_callback(lambda _: pool.shutdown(wait=False))
        return future

    async def build(self, url: str, files: list, **context):
        """The report record, parsed in a worker, awaited without blocking the loop."""
        future, pool = self._submit(url, files, context)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self._restart(pool)
        try:
            return await asyncio.wrap_future(self._alone(url, files, context))
        except BrokenProcessPool:
            raise WorkerDied() from None

    def build_all(self, jobs, window: int | None = None):
        """(key, record or exception) for each (key, url, files, context) of `jobs`, as
        they finish, with at most `window` reports in flight (their bytes in memory)."""
        window = window or 2 * max(self.workers, 1)
        jobs = iter(jobs)
        running: dict[Future, tuple] = {}  # future -> (job, its pool or None when alone)

        def start(job, alone=False):
            _, url, files, context = job
            if alone:
                running[self._alone(url, files, context)] = (job, None)
            else:
                future, pool = self._submit(url, files, context)
                running[future] = (job, pool)

        for job in jobs:
            start(job)
            if len(running) >= window:
                break
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job, pool = running.pop(future)
                try:
                    yield job[0], future.result()
                except BrokenProcessPool:
                    if pool is None:
                        yield job[0], WorkerDied()
                    else:
                        self._restart(pool)
                        start(job, alone=True)
                        continue
                except Exception as error:  # the parse itself failed: the caller records it
                    yield job[0], error
                following = next(jobs, None)
                if following is not None:
                    start(following)

    def close(self) -> None:
        for retired in self._retired:
            retired.shutdown(wait=True)
        self._retired = []
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> "ParsePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
