"""SQLite results store: one file, WAL journal, one transaction per write (safe under SIGKILL)."""
from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from pathlib import Path

from perovscreen.core.errors import InputError
from perovscreen.store.base import RunRecord, Store

SHARED = "@shared:"
SCHEMA = """
CREATE TABLE IF NOT EXISTS structures (
    key TEXT PRIMARY KEY, id TEXT, file TEXT, file_hash TEXT, identity TEXT, formula TEXT, ion TEXT,
    oxidation_source TEXT, n_sites INTEGER, is_ordered INTEGER, duplicate_of TEXT, error TEXT,
    record TEXT NOT NULL, updated TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    structure_key TEXT NOT NULL, stage TEXT NOT NULL, params_hash TEXT NOT NULL, params TEXT NOT NULL,
    status TEXT NOT NULL, error TEXT, error_kind TEXT, seconds REAL, result TEXT, provenance TEXT NOT NULL,
    started TEXT, finished TEXT,
    UNIQUE (structure_key, stage, params_hash)
);
CREATE INDEX IF NOT EXISTS runs_stage ON runs (stage);
CREATE TABLE IF NOT EXISTS compositions (
    key TEXT PRIMARY KEY, id TEXT, file TEXT, file_hash TEXT, formula TEXT, ion TEXT, error TEXT
);
CREATE TABLE IF NOT EXISTS cluster_jobs (
    name TEXT NOT NULL, submission INTEGER NOT NULL, job_id TEXT, scheduler TEXT, folder TEXT, script TEXT,
    logs TEXT, tasks TEXT, request TEXT, states TEXT, updated TEXT DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (name, submission)
);
CREATE TABLE IF NOT EXISTS shared (
    hash TEXT PRIMARY KEY, value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cache (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated TEXT DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (namespace, key)
);
"""


TABLES = {"structures", "runs", "compositions", "shared", "cache"}


def _checked(method):
    """SQLite's errors for a file that is not a (sound) store become one InputError naming the file; a
    locked or busy database stays what it is."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if any(w in str(exc) for w in ("locked", "busy")):
                raise
            raise InputError(f"{self.path}: not a perovscreen results store ({exc})") from None
    return run


STRUCTURE_SQL = ("INSERT OR REPLACE INTO structures (key, id, file, file_hash, identity, formula, ion, oxidation_source,"
                 " n_sites, is_ordered, duplicate_of, error, record) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")
RUN_SQL = ("INSERT OR REPLACE INTO runs (structure_key, stage, params_hash, params, status, error, error_kind,"
           " seconds, result, provenance, started, finished) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")


def _structure_row(record: dict) -> tuple:
    return (record["key"], record["id"], record["file"], record["file_hash"], record.get("identity"),
            record.get("formula"), record.get("ion"), record.get("oxidation_source"), record.get("n_sites"),
            None if record.get("is_ordered") is None else int(record["is_ordered"]), record.get("duplicate_of"),
            record.get("error"), json.dumps(record, default=str))


def _run_row(run: RunRecord) -> tuple:
    return (run.structure_key, run.stage, run.params_hash, json.dumps(run.params, default=str), run.status,
            run.error, run.error_kind, run.seconds, json.dumps(run.result, default=str),
            json.dumps(run.provenance, default=str), run.started, run.finished)


class SQLiteStore(Store):
    @_checked
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and not tables & TABLES:
            self.conn.close()
            raise sqlite3.DatabaseError(f"an SQLite file with other tables: {', '.join(sorted(tables)[:5])}")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA cache_size=-262144")  # 256 MiB: bulk inserts with hashed keys stay in memory
        self.conn.executescript(SCHEMA)
        self._shared: dict = {}

    def _write(self, sql: str, args: tuple) -> None:
        with self.conn:  # BEGIN ... COMMIT, rolled back on error
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(sql, args)

    @_checked
    def put_structure(self, record: dict) -> None:
        self._write(STRUCTURE_SQL, _structure_row(record))

    @_checked
    def put_run(self, run: RunRecord) -> None:
        self._write(RUN_SQL, _run_row(run))

    @_checked
    def put_batch(self, records: list[dict], runs: list[RunRecord]) -> None:
        """Structures and their runs in one transaction (collecting a cluster job's spool)."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(STRUCTURE_SQL, [_structure_row(r) for r in records])
            self.conn.executemany(RUN_SQL, [_run_row(r) for r in runs])

    @_checked
    def put_cluster_job(self, job: dict) -> None:
        """One submission of a cluster job: name, submission, job_id, scheduler, folder, script, logs,
        tasks, request, states (JSON-able values)."""
        cols = ("name", "submission", "job_id", "scheduler", "folder", "script", "logs", "tasks", "request", "states")
        vals = tuple(json.dumps(job.get(c)) if c in ("tasks", "request", "states") else job.get(c) for c in cols)
        self._write(f"INSERT OR REPLACE INTO cluster_jobs ({', '.join(cols)}, updated) VALUES "
                    f"({', '.join('?' * len(cols))}, CURRENT_TIMESTAMP)", vals)

    @_checked
    def cluster_jobs(self, name: str | None = None) -> list[dict]:
        sql = "SELECT name, submission, job_id, scheduler, folder, script, logs, tasks, request, states, updated" \
              " FROM cluster_jobs" + (" WHERE name = ?" if name else "") + " ORDER BY name, submission"
        cols = ("name", "submission", "job_id", "scheduler", "folder", "script", "logs", "tasks", "request", "states",
                "updated")
        out = []
        for row in self.conn.execute(sql, (name,) if name else ()):
            d = dict(zip(cols, row))
            for k in ("tasks", "request", "states"):
                d[k] = json.loads(d[k]) if d[k] else None
            out.append(d)
        return out

    @_checked
    def put_compositions(self, structures: list[tuple], runs: list[tuple], params: dict, provenance: dict) -> None:
        """Many composition subjects and their runs in one transaction (shared params and provenance).
        structures: (key, id, file, file_hash, formula, ion, error); runs: (key, stage,
        params_hash, status, result JSON or None, error, error_kind, seconds, finished)."""
        shared = [json.dumps(params, default=str), json.dumps(provenance, default=str)]
        refs = [SHARED + hashlib.sha256(s.encode()).hexdigest()[:20] for s in shared]
        ptext, prov = refs  # a batch's rows share their parameters and provenance: stored once
        rrows = [(k, st, ph, ptext, status, err, kind, sec, res, prov, fin, fin)
                 for k, st, ph, status, res, err, kind, sec, fin in runs]
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany("INSERT OR IGNORE INTO shared (hash, value) VALUES (?,?)",
                                  [(r[len(SHARED):], s) for r, s in zip(refs, shared)])
            self.conn.executemany("INSERT OR REPLACE INTO compositions (key, id, file, file_hash, formula, ion, error)"
                                  " VALUES (?,?,?,?,?,?,?)", structures)
            self.conn.executemany(
                "INSERT OR REPLACE INTO runs (structure_key, stage, params_hash, params, status, error, error_kind,"
                " seconds, result, provenance, started, finished) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rrows)

    @_checked
    def get_run(self, structure_key: str, stage: str, params_hash: str) -> RunRecord | None:
        row = self.conn.execute(
            "SELECT structure_key, stage, params_hash, status, result, error, error_kind, seconds, params,"
            " provenance, started, finished FROM runs WHERE structure_key=? AND stage=? AND params_hash=?",
            (structure_key, stage, params_hash)).fetchone()
        if row is None:
            return None
        return RunRecord(row[0], row[1], row[2], row[3], json.loads(row[4]) if row[4] else None, row[5], row[6],
                         row[7], self._json(row[8]), self._json(row[9]), row[10] or "", row[11] or "")

    def _json(self, text):
        """A JSON column value; batch rows refer to one shared copy ("@shared:<hash>")."""
        if not text:
            return None
        if text.startswith(SHARED):
            h = text[len(SHARED):]
            if h not in self._shared:
                row = self.conn.execute("SELECT value FROM shared WHERE hash=?", (h,)).fetchone()
                self._shared[h] = json.loads(row[0]) if row else None
            return self._shared[h]
        return json.loads(text)

    @_checked
    def runs(self, stage: str | None = None) -> list[dict]:
        sql = ("SELECT r.run_id, r.structure_key, COALESCE(s.id, c.id), COALESCE(s.file, c.file),"
               " COALESCE(s.formula, c.formula), s.identity, r.stage, r.params_hash,"
               " r.status, r.error, r.error_kind, r.seconds, r.result, r.params, r.provenance, r.finished"
               " FROM runs r LEFT JOIN structures s ON s.key = r.structure_key"
               " LEFT JOIN compositions c ON c.key = r.structure_key")
        args: tuple = ()
        if stage:
            sql += " WHERE r.stage = ?"
            args = (stage,)
        cols = ["run_id", "structure_key", "id", "file", "formula", "identity", "stage", "params_hash", "status",
                "error", "error_kind", "seconds", "result", "params", "provenance", "finished"]
        out = []
        for row in self.conn.execute(sql + " ORDER BY r.run_id", args):
            d = dict(zip(cols, row))
            for k in ("result", "params", "provenance"):
                d[k] = self._json(d[k])
            out.append(d)
        return out

    @_checked
    def structures(self) -> list[dict]:
        return [json.loads(r[0]) for r in self.conn.execute("SELECT record FROM structures ORDER BY rowid")]

    @_checked
    def get_cached(self, namespace: str, key: str) -> dict | None:
        row = self.conn.execute("SELECT value FROM cache WHERE namespace=? AND key=?", (namespace, key)).fetchone()
        return json.loads(row[0]) if row else None

    @_checked
    def put_cached(self, namespace: str, key: str, value: dict) -> None:
        self._write("INSERT OR REPLACE INTO cache (namespace, key, value) VALUES (?,?,?)",
                    (namespace, key, json.dumps(value, default=str)))

    def close(self) -> None:
        self.conn.close()
