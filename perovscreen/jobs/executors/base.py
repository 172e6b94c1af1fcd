"""One executor interface: submit many tasks, iterate results as they finish.

A task that raises never stops the batch: its exception becomes a failed `TaskResult`. A task over the
executor's time limit (`task_timeout_s`) is stopped and fails with a runtime error (retried next run).
"""
from __future__ import annotations

import signal
import threading
import time
import traceback
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from perovscreen.core.errors import InputError


@dataclass
class TaskResult:
    item_index: int
    ok: bool
    value: Any = None
    error: str | None = None
    error_kind: str | None = None  # input | runtime
    traceback: str | None = None
    seconds: float = 0.0


class TaskTimeout(BaseException):
    """Raised in a task at its time limit (a BaseException, so a stage's `except Exception` cannot eat it)."""


def timeout_message(seconds: float) -> str:
    return f"time limit of {seconds:g} s exceeded"


@contextmanager
def time_limit(seconds: float | None):
    """Raise TaskTimeout in this thread after `seconds` (SIGALRM: main thread on POSIX only, else no limit)."""
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum, frame):
        raise TaskTimeout(timeout_message(seconds))

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def call_task(func: Callable, item, index: int, timeout_s: float | None = None) -> TaskResult:
    """Run func(item) (within `timeout_s` where SIGALRM allows), turning any exception into a failed result."""
    t0 = time.perf_counter()
    try:
        with time_limit(timeout_s):
            value = func(item)
        return TaskResult(index, True, value, seconds=time.perf_counter() - t0)
    except TaskTimeout as exc:
        return TaskResult(index, False, None, str(exc), "runtime", None, time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - a task must never kill the batch
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        kind = "input" if isinstance(exc, InputError) else "runtime"
        text = msg if kind == "input" else f"{type(exc).__name__}: {msg}"
        return TaskResult(index, False, None, text, kind, traceback.format_exc(), time.perf_counter() - t0)


class Executor(ABC):
    name = "base"
    task_timeout_s: float | None = None

    @abstractmethod
    def map_unordered(self, func: Callable, items: Iterable) -> Iterator[TaskResult]:
        """Yield a TaskResult per item, in completion order."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SerialExecutor(Executor):
    """Runs tasks in this process, one after another (jobs=1; also easiest to debug)."""

    name = "serial"

    def __init__(self, task_timeout_s: float | None = None):
        self.task_timeout_s = task_timeout_s

    def map_unordered(self, func, items):
        for i, item in enumerate(items):
            yield call_task(func, item, i, self.task_timeout_s)
