# SPDX-License-Identifier: Apache-2.0
"""Running blocking library calls without blocking Python.

ctypes releases the GIL during a foreign call, but a thread inside one cannot
run Python signal handlers: a 120 s models_chat() on the main thread would
hold Ctrl-C for 120 s. call_blocking() picks how to run a call so that it
cannot (see _sigint): directly, under the SIGINT watch, or -- when the
program installed its own SIGINT handler, which must run and may decide not
to raise -- on a worker thread that the main thread waits for in short
slices, running its signal handlers meanwhile; when one raises, the call is
cancelled through its models_call and the exception propagates.

run_async() does the same for asyncio: the call runs on a worker thread and a
cancelled task cancels the call.

The workers are daemon threads, created on demand and retired after a minute
idle, so an abandoned call can never keep the interpreter from exiting.
"""

from __future__ import annotations

import _thread
import asyncio
import os
import queue
import threading
from typing import Any, Callable, Optional, TypeVar

from . import _sigint

T = TypeVar("T")

#: How long the main thread sleeps between looks at pending signals. A signal
#: delivered to another thread (the kernel picks any) is noticed after this.
POLL_SECONDS = 0.05
_IDLE_SECONDS = 60.0


class _Pool:
    """Daemon worker threads taking jobs from one queue; grows when all are busy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: "queue.SimpleQueue[Callable[[], None]]" = queue.SimpleQueue()
        self._idle = 0
        self._count = 0

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._jobs.put(job)
            if self._idle > 0:
                self._idle -= 1
                return
            self._count += 1
            name = "libmodels-worker-%d" % self._count
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty() and self._idle > 0:
                        self._idle -= 1
                        self._count -= 1
                        return
                continue
            try:
                job()
            except BaseException:  # jobs report their own outcome; never kill the worker
                pass
            del job
            with self._lock:
                self._idle += 1


pool = _Pool()


def _after_fork_in_child() -> None:
    # The workers did not survive the fork; a pool that counted them idle would
    # queue jobs nobody runs.
    global pool
    pool = _Pool()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Job:
    __slots__ = ("fn", "done", "finished", "result", "error")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.finished = False
        self.result: Any = None
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:
            self.error = exc
        finally:
            self.fn = None  # type: ignore[assignment]
            self.finished = True
            self.done.release()


def _wait_job(job: _Job, cancel: Callable[[], None]) -> None:
    """Waits for `job` in short slices so signal handlers run meanwhile. When one
    raises (KeyboardInterrupt), cancels the call, waits for it to return (the
    library returns promptly once cancelled; further interrupts meanwhile are
    ignored, so nothing the call uses is freed under it) and re-raises."""
    try:
        while not job.done.acquire(timeout=POLL_SECONDS):
            pass
    except BaseException as first:
        if not job.finished:
            cancel()
            while True:
                try:
                    job.done.acquire()
                    break
                except BaseException:
                    continue
        raise first


def call_blocking(fn: Callable[[], T], cancel: Callable[[], None]) -> T:
    """Runs fn() -- a blocking library call that cancel() interrupts -- so that
    Ctrl-C interrupts it promptly: on the calling thread when it cannot receive
    KeyboardInterrupt, under the SIGINT watch on the main thread with Python's
    default handler, else on a worker thread the caller waits for in slices."""
    how = _sigint.mode()
    if how == _sigint.DIRECT:
        return fn()
    if how == _sigint.WATCH:
        token = _sigint.enter(cancel)
        if token is not None:
            try:
                result = fn()
            finally:
                _sigint.leave(token)
                _sigint.reraise()
            return result
    return offload(fn, cancel)


def offload(fn: Callable[[], T], cancel: Callable[[], None]) -> T:
    """Runs fn() on a worker thread and waits for it in slices, so that the
    calling (main) thread runs its signal handlers meanwhile."""
    job = _Job(fn)
    pool.submit(job.run)
    _wait_job(job, cancel)
    if job.error is not None:
        error, job.error = job.error, None
        raise error
    return job.result  # type: ignore[no-any-return]


def _settle(fut: "asyncio.Future[Any]", result: Any, error: Optional[BaseException]) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)


def wake_soon(loop: asyncio.AbstractEventLoop, fut: "asyncio.Future[Any]", result: Any = None,
              error: Optional[BaseException] = None) -> None:
    """Settles `fut` on its loop's thread; does nothing once the loop is closed."""
    try:
        loop.call_soon_threadsafe(_settle, fut, result, error)
    except RuntimeError:
        pass


async def run_async(fn: Callable[[], T], cancel: Callable[[], None]) -> T:
    """Runs fn() on a worker thread without blocking the event loop; when the
    awaiting task is cancelled, calls cancel() (fn must release its own resources)."""
    loop = asyncio.get_running_loop()
    fut: "asyncio.Future[T]" = loop.create_future()

    def job() -> None:
        try:
            result = fn()
        except BaseException as exc:
            wake_soon(loop, fut, None, exc)
        else:
            wake_soon(loop, fut, result)

    pool.submit(job)
    try:
        return await fut
    except asyncio.CancelledError:
        cancel()
        raise
