"""The results store interface: structures, stage runs and their results, with provenance."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass
class RunRecord:
    structure_key: str
    stage: str
    params_hash: str
    status: str  # ok | error
    result: dict | None
    error: str | None
    error_kind: str | None  # input | runtime
    seconds: float
    params: dict
    provenance: dict
    started: str = ""
    finished: str = ""


class Store(ABC):
    """Small interface so a server database can replace SQLite later."""

    @abstractmethod
    def put_structure(self, record: dict) -> None: ...

    @abstractmethod
    def put_run(self, run: RunRecord) -> None: ...

    @abstractmethod
    def put_cluster_job(self, job: dict) -> None:
        """Record one submission of a cluster job (scheduler id, script, logs, tasks, states)."""

    @abstractmethod
    def cluster_jobs(self, name: str | None = None) -> list[dict]: ...

    @abstractmethod
    def put_batch(self, records: list[dict], runs: list[RunRecord]) -> None:
        """Structures and their runs in one transaction."""

    @abstractmethod
    def put_compositions(self, structures: list[tuple], runs: list[tuple], params: dict, provenance: dict) -> None:
        """Many composition subjects and their runs in one transaction."""

    @abstractmethod
    def get_run(self, structure_key: str, stage: str, params_hash: str) -> RunRecord | None: ...

    @abstractmethod
    def runs(self, stage: str | None = None) -> list[dict]: ...

    @abstractmethod
    def structures(self) -> list[dict]: ...

    @abstractmethod
    def get_cached(self, namespace: str, key: str) -> dict | None:
        """A cached derived value (e.g. descriptors of a structure), or None."""

    @abstractmethod
    def put_cached(self, namespace: str, key: str, value: dict) -> None: ...

    def close(self) -> None:  # pragma: no cover - default no-op
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
