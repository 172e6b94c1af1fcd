"""The runner: applies a `Stage` to subjects (structure files or compositions) through an executor and
writes every result to the store under the stage's resume key.

Structures: the unit of work is one input file; each result is written in its own transaction as soon
as it arrives, so a killed batch loses nothing finished. Compositions: the stage scores a chunk at a
time and a chunk is written in one transaction (10^6 rows in seconds, not hours). A re-run with the
same inputs and science parameters recomputes nothing finished; execution options never matter.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from perovscreen.core.errors import InputError
from perovscreen.core import interrupt
from perovscreen.core.hashing import file_sha256
from perovscreen.core.provenance import provenance
from perovscreen.core.results import Result, encode
from perovscreen.jobs.executors import call_task, get_executor
from perovscreen.jobs.stage import Stage
from perovscreen.store import DEFAULT_DB, RunRecord, open_store
from perovscreen.structures.intake import DEFAULT_MAX_ATOMS, expand_paths, load_file


@dataclass
class CompositionRows:
    """What a composition stage returns for a chunk of {id, formula} entries, already serialised: per row
    the store key, the JSON line printed with --json, the result JSON stored (None for an error) and the
    error (None when ok). Serialising once, in bulk, is what makes 10^6 rows cheap."""
    keys: list
    lines: list
    results: list
    errors: list
    formulas: list


@dataclass(frozen=True)
class IngestParams:
    """Intake has no parameters of its own: the mobile ion and --max-atoms are the run's intake settings."""


def _ingest(record, params) -> dict:
    return {}


INGEST = Stage("ingest", 1, IngestParams, _ingest, help="read, validate and register structures")


@dataclass
class RunOptions:
    """How and where a batch runs (never part of a resume key), plus the intake settings (which are)."""
    db: str = DEFAULT_DB
    jobs: int = 1
    executor: str = "local"
    address: str | None = None
    force: bool = False
    quiet: bool = False
    json: bool = False
    ion: str = "Li"
    max_atoms: int = DEFAULT_MAX_ATOMS
    task_timeout_s: float | None = None  # wall-time limit of one task (one file); None: no limit

    def __post_init__(self):
        if self.jobs is not None and self.jobs < 1:
            raise InputError(f"--jobs must be at least 1, got {self.jobs}")
        if self.task_timeout_s is not None and not self.task_timeout_s > 0:
            raise InputError(f"--task-timeout must be a positive number of seconds, got {self.task_timeout_s}")

    @classmethod
    def from_args(cls, args) -> "RunOptions":
        return cls(**{k: getattr(args, k) for k in ("db", "jobs", "executor", "address", "force", "quiet", "json",
                                                    "ion", "max_atoms", "task_timeout_s") if hasattr(args, k)})

    @property
    def intake(self) -> dict:
        return {"ion": self.ion, "max_atoms": self.max_atoms}


def emit_json(obj: dict, stream=None) -> None:
    """One JSON object per line on stdout (inf/nan written as strings so every line is valid JSON)."""
    print(json.dumps(_json_safe(encode(obj)), default=str), file=stream or sys.stdout, flush=True)


def _json_safe(x):
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return str(x)
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


def add_batch_arguments(parser, paths: bool = True) -> None:
    """Flags every batch command shares: inputs, intake, store and execution options."""
    if paths:
        parser.add_argument("paths", nargs="+", help="structure files, directories or glob patterns")
    parser.add_argument("--ion", default="Li", help="mobile ion (default Li; 'none' accepts structures without one)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"results store (SQLite file, default {DEFAULT_DB})")
    parser.add_argument("--json", action="store_true", help="print one JSON object per input on stdout")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="parallel workers (default 1)")
    parser.add_argument("--executor", choices=["local", "ray", "serial"], default="local",
                        help="where tasks run: local process pool (default) or a Ray cluster")
    parser.add_argument("--address", default=None, help="Ray address: auto or HOST:PORT (default: start local Ray)")
    parser.add_argument("--max-atoms", type=int, default=DEFAULT_MAX_ATOMS, help="reject larger cells")
    parser.add_argument("--task-timeout", dest="task_timeout_s", type=float, default=None, metavar="SECONDS",
                        help="stop a task (one file) after this wall time and record it as failed (default: no limit)")
    parser.add_argument("--force", action="store_true", help="recompute results already in the store")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")


def result_dict(value) -> dict:
    """A stage's return value as a JSON-able dict (typed results keep their type tag)."""
    if isinstance(value, Result):
        return value.to_dict()
    return encode(value) if value is not None else {}


@dataclass
class _FileTask:
    path: str
    file_hash: str
    ion: str
    max_atoms: int
    params: object  # the stage's parameters dataclass
    done_keys: frozenset


def _process_file(task: _FileTask, stage: Stage | None) -> list[dict]:
    """Worker side: read one file, run the stage on every readable structure not yet done."""
    return [run_record(rec, stage, task.params, task.path)
            for rec in load_file(task.path, ion=task.ion, max_atoms=task.max_atoms) if rec.key not in task.done_keys]


def run_record(rec, stage: Stage, params, path: str) -> dict:
    """One structure record through the stage: {record, status, error, error_kind, result, seconds, started,
    finished}; bad input (the record's own error or an InputError) and runtime failures become items."""
    t0 = time.perf_counter()
    item = {"record": rec.to_dict(), "started": _now()}
    if rec.error:
        item.update(status="error", error=rec.error, error_kind="input", result=None)
    else:
        res = call_task(partial(_run_one, stage=stage, params=params), rec, 0)
        error = res.error
        if not res.ok and path not in error:
            error = f"{path}: {error}"
        item.update(status="ok" if res.ok else "error", error=None if res.ok else error,
                    error_kind=res.error_kind, result=res.value)
    item["seconds"] = time.perf_counter() - t0
    item["finished"] = _now()
    return item


def item_run(item: dict, stage_name: str, rkey: str, key_parts: dict, prov: dict) -> RunRecord:
    """The store row of a `run_record` item."""
    rec = item["record"]
    return RunRecord(rec["key"], stage_name, rkey, item["status"], item["result"], item["error"], item["error_kind"],
                     item["seconds"], key_parts, prov, item["started"], item["finished"])


def _run_one(record, stage: Stage, params) -> dict:
    return result_dict(stage.run(record, params))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_batch(stage: Stage, paths, params=None, opts: RunOptions | None = None, done=None) -> int:
    """CLI entry: run the stage over every structure in `paths`, then `done(rows)` if given; exit code 0,
    1 when no input succeeded, 2 when nothing matches."""
    if not expand_paths(paths):
        print(f"error: no input files match {' '.join(map(str, paths))}", file=sys.stderr)
        return 2
    rows = execute_batch(stage, paths, params, opts)
    if done:
        done(rows)
    return 0 if any(r["status"] == "ok" for r in rows) else 1


def execute_batch(stage: Stage, paths, params=None, opts: RunOptions | None = None) -> list[dict]:
    """Run the stage over the structures in `paths`; one row per input path and structure (resumed ones
    and unreadable paths included).

    Results are content-addressed: files with the same bytes are computed once (and reused from the
    store), but each path is its own row: its own id and file, `duplicate_of` naming the first id of the
    batch with the same crystal (or bytes), `resumed` true when the result came from the store. A row has
    id, file, key, status, error, formula, identity, duplicate_of, resumed, seconds and the stage's result
    fields (what --json prints), plus "result": the stage's result dict as stored.
    """
    opts = opts or RunOptions()
    params = params if params is not None else stage.make()
    key_parts = stage.key_parts(params, opts.intake)
    rkey = stage.resume_key(params, opts.intake)
    prov_params = {**key_parts, "execution": stage.execution(params)}
    rows: list[dict] = []
    first: dict[str, str] = {}  # identity (or content key) -> first id of this batch

    def add(rec: dict, path: str, status: str, error, result, seconds, resumed: bool = False) -> None:
        row = _row(_as_input(rec, path, first), status, error and error.replace(rec["file"] or path, path), result,
                   resumed, seconds)
        rows.append(row)
        if opts.json:
            emit_json(row)
        row["result"] = result

    store = open_store(opts.db)  # first: a store that cannot be opened fails before any output
    skipped: list = []  # symlink loops and the like: a row each, the batch goes on
    groups = _group_inputs(expand_paths(paths, skipped=skipped), add)  # file hash -> its paths, in input order
    for p, why in skipped:
        add({"id": Path(p).stem, "file": str(p), "key": None}, str(p), "error", f"{p}: cannot read ({why})", None,
            None)
    by_hash = structures_by_hash(store)
    tasks = []
    for fh, group in groups.items():
        known = by_hash.get(fh, [])
        done = {} if opts.force else finished_runs(store, known, stage.name, rkey)
        for s in known:
            if s["key"] in done:
                run = done[s["key"]]
                for path in group:
                    add(s, path, run.status, run.error, run.result, run.seconds, resumed=True)
        if not known or any(s["key"] not in done for s in known):
            tasks.append(_FileTask(group[0], fh, opts.ion, opts.max_atoms, params, frozenset(done)))
    executor = get_executor(opts.executor, max_workers=opts.jobs, address=opts.address,
                            task_timeout_s=opts.task_timeout_s)
    progress = _progress(len(tasks), stage.name, opts.quiet)
    try:
        for tr in executor.map_unordered(partial(_process_file, stage=stage), tasks):
            interrupt.check()
            task = tasks[tr.item_index]
            for it in tr.value if tr.ok else [_failed_task(task, tr)]:
                rec = it["record"]
                store.put_structure(rec)
                store.put_run(item_run(it, stage.name, rkey, prov_params,
                                       provenance(prov_params, inputs={task.path: task.file_hash})))
                for path in groups[task.file_hash]:
                    add(rec, path, it["status"], it["error"], it["result"], it["seconds"])
            progress.update(1)
    finally:
        progress.close()
        executor.close()
        store.close()
    if not opts.quiet:
        _summary(rows, stage.name)
    return rows


def _group_inputs(files, add) -> dict[str, list[str]]:
    """Input paths grouped by content (SHA-256), in input order; a path that cannot be read gets its
    error row through `add` instead."""
    groups: dict[str, list[str]] = {}
    for f in files:
        try:
            groups.setdefault(file_sha256(f), []).append(str(f))
        except OSError as exc:
            why = "no such file" if not Path(f).exists() else f"cannot read ({exc.strerror or exc})"
            add({"id": Path(f).stem, "file": str(f), "key": None}, str(f), "error", f"{f}: {why}", None, None)
    return groups


def _as_input(rec: dict, path: str, first: dict) -> dict:
    """A (stored or fresh) record as the structure of input `path`: that file's id (plus the record's
    block suffix) and file; duplicate_of names the first id of this batch with the same crystal or bytes."""
    stem = Path(rec["file"] or path).stem
    suffix = rec["id"][len(stem):] if rec["id"].startswith(stem) else ""
    out = {**rec, "id": Path(path).stem + suffix, "file": path}
    same = first.setdefault(rec.get("identity") or rec.get("key") or path, out["id"])
    out["duplicate_of"] = same if same != out["id"] else None
    return out


def _failed_task(task: _FileTask, tr) -> dict:
    """The one item of a task that failed as a whole (worker died, time limit, ...)."""
    return {"record": {"key": f"{task.file_hash}:0", "id": Path(task.path).stem, "file": task.path,
                       "file_hash": task.file_hash, "ion": task.ion, "error": tr.error},
            "status": "error", "error": f"{task.path}: {tr.error}", "error_kind": tr.error_kind,
            "result": None, "seconds": tr.seconds, "started": _now(), "finished": _now()}


def run_compositions(stage: Stage, entries: list[dict], params=None, opts: RunOptions | None = None,
                     file: str | None = None, file_hash: str = "", chunk: int = 20_000, emit=None) -> dict:
    """Score {id, formula} entries with a composition stage (`stage.run(entries, params) -> CompositionRows`),
    a chunk at a time: one store transaction per chunk; `emit(rows)` sees each chunk in input order
    (default: with opts.json, one JSON line per entry on stdout). Returns counts {n, ok, error}."""
    opts = opts or RunOptions()
    if emit is None and opts.json:
        def emit(rows):
            sys.stdout.write("\n".join(rows.lines) + "\n")
            sys.stdout.flush()
    params = params if params is not None else stage.make()
    key_parts = stage.key_parts(params, {"ion": opts.ion})
    rkey = stage.resume_key(params, {"ion": opts.ion})
    prov = provenance({**key_parts, "execution": stage.execution(params)},
                      inputs={file: file_hash} if file else None)
    counts = {"n": 0, "ok": 0, "error": 0}
    progress = _progress(len(entries), stage.name, opts.quiet, unit="composition")
    with _StoreWriter(opts.db, key_parts, prov) as writer:  # writes overlap the next chunk's compute
        for s in range(0, len(entries), chunk):
            t0 = time.perf_counter()
            part = entries[s:s + chunk]
            rows: CompositionRows = stage.run(part, params)
            now, dt = _now(), (time.perf_counter() - t0) / max(1, len(part))
            structures, runs = [], []
            for e, key, res, err, formula in zip(part, rows.keys, rows.results, rows.errors, rows.formulas):
                structures.append((key, e["id"], file, file_hash, formula, opts.ion, err))
                runs.append((key, stage.name, rkey, "ok" if err is None else "error", res, err,
                             None if err is None else "input", dt, now))
            writer.put(structures, runs)
            n_err = sum(e is not None for e in rows.errors)
            counts["n"] += len(part)
            counts["error"] += n_err
            counts["ok"] += len(part) - n_err
            if emit:
                emit(rows)
            progress.update(len(part))
    progress.close()
    return counts


class _StoreWriter:
    """One writer thread with its own connection: the store writes of chunk k run while chunk k+1 is scored
    (SQLite releases the GIL). At most two chunks wait; a write error is raised in the caller."""

    def __init__(self, db, params: dict, prov: dict):
        import queue
        import threading

        self.db, self.params, self.prov = db, params, prov
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        try:
            with open_store(self.db) as store:
                while (item := self.queue.get()) is not None:
                    store.put_compositions(*item, self.params, self.prov)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            self.error = exc
            while self.queue.get() is not None:  # drain so the producer never blocks
                pass

    def put(self, structures, runs):
        if self.error:
            raise self.error
        self.queue.put((structures, runs))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.queue.put(None)
        self.thread.join()
        if self.error and exc[0] is None:
            raise self.error


def structures_by_hash(store) -> dict[str, list[dict]]:
    """Stored structure records grouped by their file's SHA-256."""
    by_hash: dict[str, list[dict]] = {}
    for s in store.structures():
        by_hash.setdefault(s["file_hash"], []).append(s)
    return by_hash


def finished_runs(store, structures: list[dict], stage: str, rkey: str) -> dict:
    """Runs of these structures that are final: ok, or failed on bad input (deterministic)."""
    out = {}
    for s in structures:
        run = store.get_run(s["key"], stage, rkey)
        if run and (run.status == "ok" or run.error_kind == "input"):
            out[s["key"]] = run
    return out


def _row(rec: dict, status: str, error: str | None, result: dict | None, resumed: bool = False,
         seconds: float | None = None) -> dict:
    row = {"id": rec.get("id"), "file": rec.get("file"), "key": rec.get("key"), "status": status, "error": error,
           "formula": rec.get("formula"), "identity": rec.get("identity"), "duplicate_of": rec.get("duplicate_of"),
           "resumed": resumed, "seconds": seconds}
    row.update(result or {})  # typed results keep "@type"/"@version" so readers can decode them
    return row


def _progress(total: int, stage: str, quiet: bool, unit: str = "file"):
    from tqdm import tqdm

    return tqdm(total=total, desc=stage, unit=unit, file=sys.stderr, disable=quiet or total < 2 or None,
                mininterval=0.5)


def _summary(rows: list[dict], stage: str) -> None:
    ok = sum(r["status"] == "ok" for r in rows)
    resumed = sum(r.get("resumed", False) for r in rows)
    dups = sum(bool(r.get("duplicate_of")) for r in rows)
    print(f"{stage}: {len(rows)} structures, {ok} ok, {len(rows) - ok} failed, {resumed} from the store, "
          f"{dups} duplicates", file=sys.stderr)
    for r in rows:
        if r["status"] != "ok":
            print(f"  error: {r['error']}", file=sys.stderr)
        elif r.get("duplicate_of"):
            print(f"  duplicate: {r['id']} is the same crystal as {r['duplicate_of']}", file=sys.stderr)
