"""Local process pool executor."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from perovscreen.jobs.executors.base import Executor, TaskResult, call_task, timeout_message

DIED = "worker process died (crash or out of memory)"
_STARTED = None  # worker side: where a task reports (index, pid, start time) when a time limit is set


def _init_worker(threads: int, owner: int, started=None) -> None:
    """Give each worker its share of the cores (oversubscribed torch/BLAS threads slow CHGNet 10x)
    and make it exit when the process that owns the pool dies (even by SIGKILL)."""
    import signal
    import sys
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the pool

    global _STARTED
    _STARTED = started
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)

    def watch():
        while True:
            time.sleep(1.0)
            try:
                os.kill(owner, 0)
            except OSError:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _run(func, item, index: int) -> TaskResult:
    """Worker side: report the start (so the owner can stop this worker at the time limit), run the task."""
    if _STARTED is not None:
        _STARTED.put((index, os.getpid(), time.time()))
    return call_task(func, item, index)


class LocalExecutor(Executor):
    """A pool of worker processes ('forkserver' start, so threads in the parent cannot deadlock them).

    At most `2 * max_workers` tasks are in flight, so huge batches do not pile up in memory. Each worker
    limits its math-library threads to cpu_count // max_workers.

    A dead worker (segfault, OOM kill, os._exit) breaks the whole pool and does not say which task
    killed it: the tasks in flight then run again on a fresh pool one at a time, and only a task that
    breaks the pool alone fails. A task over `task_timeout_s` has its worker killed; the other tasks in
    flight run again on a fresh pool.
    """

    name = "local"

    def __init__(self, max_workers: int | None = None, start_method: str = "forkserver",
                 task_timeout_s: float | None = None):
        self.max_workers = max_workers or os.cpu_count() or 1
        self.ctx = mp.get_context(start_method)
        self.task_timeout_s = task_timeout_s
        self.pool = None
        self.started = None
        self.running: dict = {}  # task index -> (pid, start time), when a time limit is set

    def _pool(self):
        if self.pool is None:
            threads = max(1, (os.cpu_count() or 1) // self.max_workers)
            self.started = self.ctx.SimpleQueue() if self.task_timeout_s else None
            self.pool = ProcessPoolExecutor(self.max_workers, mp_context=self.ctx, initializer=_init_worker,
                                            initargs=(threads, os.getpid(), self.started))
        return self.pool

    def map_unordered(self, func, items):
        fresh = iter(enumerate(items))
        retry: deque = deque()     # (index, item) to run again, as usual
        suspects: deque = deque()  # (index, item) in flight when a worker died: run again one at a time
        pending: dict = {}         # future -> (index, item, alone)
        while True:
            alone = bool(suspects) or any(a for _, _, a in pending.values())
            while len(pending) < (1 if alone else 2 * self.max_workers):
                isolated = bool(suspects)
                queue = suspects or retry
                job = queue.popleft() if queue else next(fresh, None)
                if job is None:
                    break
                try:
                    pending[self._pool().submit(_run, func, job[1], job[0])] = (*job, isolated)
                except BrokenProcessPool:  # broke since the last wait: its futures say so below
                    (suspects if isolated else retry).appendleft(job)
                    if not pending:
                        self._drop_pool()
                    break
                if isolated:
                    break
            if not pending:
                return
            done, _ = wait(pending, timeout=0.2 if self.task_timeout_s else None, return_when=FIRST_COMPLETED)
            for fut in done:
                if not _broken(fut):
                    yield _result(fut, pending.pop(fut)[0])
            late = self._late(pending)
            if late or any(_broken(f) for f in pending):
                yield from self._rebuild(pending, late, retry, suspects)

    def _late(self, pending) -> dict:
        """{index: pid} of tasks running past the time limit."""
        if not self.task_timeout_s:
            return {}
        while not self.started.empty():
            i, pid, t0 = self.started.get()
            self.running[i] = (pid, t0)
        now = time.time()
        return {i: self.running[i][0] for f, (i, _, _) in pending.items()
                if not f.done() and i in self.running and now - self.running[i][1] > self.task_timeout_s}

    def _rebuild(self, pending: dict, late: dict, retry: deque, suspects: deque):
        """Stop the late tasks' workers, drop the (broken) pool and sort what was in flight: finished
        results, late tasks (time limit), a task that broke the pool alone (died), the rest run again."""
        for pid in set(late.values()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        starts = {i: self.running.get(i, (0, time.time()))[1] for i in late}
        self._drop_pool()  # waits for the pool's manager: every future is settled now
        for fut, (i, item, alone) in pending.items():
            if not _broken(fut) and not fut.cancelled():
                yield _result(fut, i)
            elif i in late:
                yield TaskResult(i, False, error=timeout_message(self.task_timeout_s), error_kind="runtime",
                                 seconds=time.time() - starts[i])
            elif late:
                retry.append((i, item))
            elif alone:
                yield TaskResult(i, False, error=DIED, error_kind="runtime")
            else:
                suspects.append((i, item))
        pending.clear()

    def _drop_pool(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool, self.started = None, None
        self.running.clear()

    def close(self):
        self._drop_pool()


def _broken(fut) -> bool:
    return fut.done() and not fut.cancelled() and isinstance(fut.exception(), BrokenProcessPool)


def _result(fut, i: int) -> TaskResult:
    try:
        return fut.result()
    except Exception as exc:  # pickling errors and the like
        return TaskResult(i, False, error=f"{type(exc).__name__}: {exc}", error_kind="runtime")
