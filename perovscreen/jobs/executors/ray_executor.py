"""Ray executor: the same batch on a laptop (`address=None` starts a local Ray) or a cluster."""
from __future__ import annotations

from perovscreen.jobs.executors.base import Executor, TaskResult, call_task


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, max_workers: int | None = None, address: str | None = None,
                 task_timeout_s: float | None = None, **init_kwargs):
        import ray

        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=None if address in (None, "", "local") else address, include_dashboard=False,
                     log_to_driver=False, ignore_reinit_error=True, **init_kwargs)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.max_in_flight = 2 * (max_workers or cpus)
        self.remote = ray.remote(call_task)
        self.task_timeout_s = task_timeout_s  # SIGALRM in the worker (where tasks run in its main thread)

    def map_unordered(self, func, items):
        ray = self.ray
        func_ref = ray.put(func)
        items = iter(enumerate(items))
        pending = {}
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.max_in_flight:
                try:
                    i, item = next(items)
                except StopIteration:
                    exhausted = True
                    break
                pending[self.remote.remote(func_ref, item, i, self.task_timeout_s)] = i
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as exc:  # worker died, object lost, ...
                    yield TaskResult(i, False, error=f"{type(exc).__name__}: {str(exc)[:300]}", error_kind="runtime")

    def close(self):
        pass  # leave Ray running: the user (or cluster) owns it; ray.shutdown() at process exit
