"""One executor interface: submit many tasks, iterate results as they finish.

A task that raises never stops the batch: its exception becomes a failed `TaskResult`.
"""
from __future__ import annotations

import time
import traceback
from abc import ABC, abstractmethod
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


def call_task(func: Callable, item, index: int) -> TaskResult:
    """Run func(item), turning any exception into a failed result."""
    t0 = time.perf_counter()
    try:
        return TaskResult(index, True, func(item), seconds=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - a task must never kill the batch
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        kind = "input" if isinstance(exc, InputError) else "runtime"
        text = msg if kind == "input" else f"{type(exc).__name__}: {msg}"
        return TaskResult(index, False, None, text, kind, traceback.format_exc(), time.perf_counter() - t0)


class Executor(ABC):
    name = "base"

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

    def map_unordered(self, func, items):
        for i, item in enumerate(items):
            yield call_task(func, item, i)
