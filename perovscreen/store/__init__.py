"""Results store: SQLite by default, behind the `Store` interface."""
from pathlib import Path

from perovscreen.store.base import RunRecord, Store
from perovscreen.store.export import export_runs
from perovscreen.store.sqlite import SQLiteStore

DEFAULT_DB = "results/perovscreen.db"


def open_store(path: str | Path = DEFAULT_DB) -> Store:
    """Open (creating if needed) the store at `path`; only SQLite files for now."""
    return SQLiteStore(path)


__all__ = ["DEFAULT_DB", "RunRecord", "SQLiteStore", "Store", "export_runs", "open_store"]
