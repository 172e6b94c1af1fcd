"""Local process pool executor."""
from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from perovscreen.jobs.executors.base import Executor, TaskResult, call_task


def _init_worker(threads: int, owner: int) -> None:
    """Give each worker its share of the cores (oversubscribed torch/BLAS threads slow CHGNet 10x)
    and make it exit when the process that owns the pool dies (even by SIGKILL)."""
    import sys
    import threading
    import time

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


class LocalExecutor(Executor):
    """A pool of worker processes ('forkserver' start, so threads in the parent cannot deadlock them).

    At most `2 * max_workers` tasks are in flight, so huge batches do not pile up in memory. A
    crashed worker (segfault, OOM kill) fails its task and the pool is rebuilt for the rest. Each
    worker limits its math-library threads to cpu_count // max_workers.
    """

    name = "local"

    def __init__(self, max_workers: int | None = None, start_method: str = "forkserver"):
        self.max_workers = max_workers or os.cpu_count() or 1
        self.ctx = mp.get_context(start_method)
        self.pool = None

    def _pool(self):
        if self.pool is None:
            threads = max(1, (os.cpu_count() or 1) // self.max_workers)
            self.pool = ProcessPoolExecutor(self.max_workers, mp_context=self.ctx, initializer=_init_worker,
                                            initargs=(threads, os.getpid()))
        return self.pool

    def map_unordered(self, func, items):
        items = iter(enumerate(items))
        pending = {}
        done_all = False
        while True:
            while not done_all and len(pending) < 2 * self.max_workers:
                try:
                    i, item = next(items)
                except StopIteration:
                    done_all = True
                    break
                pending[self._pool().submit(call_task, func, item, i)] = i
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    self.pool = None
                    yield TaskResult(i, False, error="worker process died (crash or out of memory)",
                                     error_kind="runtime")
                except Exception as exc:  # pickling errors and the like
                    yield TaskResult(i, False, error=f"{type(exc).__name__}: {exc}", error_kind="runtime")

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
