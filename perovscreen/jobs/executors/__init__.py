"""Executors: serial, local process pool (default) and Ray, behind one interface."""
from perovscreen.jobs.executors.base import Executor, SerialExecutor, TaskResult, call_task


def get_executor(name: str = "local", max_workers: int | None = None, address: str | None = None,
                 task_timeout_s: float | None = None) -> Executor:
    """'local' (process pool; serial when max_workers == 1), 'serial' or 'ray' (address: auto|HOST:PORT|None);
    a task running longer than `task_timeout_s` seconds is stopped and fails (None: no limit)."""
    if name == "serial" or (name == "local" and max_workers == 1):
        return SerialExecutor(task_timeout_s)
    if name == "local":
        from perovscreen.jobs.executors.local import LocalExecutor

        return LocalExecutor(max_workers, task_timeout_s=task_timeout_s)
    if name == "ray":
        from perovscreen.jobs.executors.ray_executor import RayExecutor

        return RayExecutor(max_workers, address, task_timeout_s=task_timeout_s)
    raise ValueError(f"unknown executor {name!r} (local, serial or ray)")


__all__ = ["Executor", "SerialExecutor", "TaskResult", "call_task", "get_executor"]
