"""The generic batch runner every structure stage uses: intake, executor, store, resume, --json.

A stage is a module-level function `func(record, params) -> dict` (JSON-serialisable result fields)
that raises `InputError` for bad input. The unit of work is one input file; its results are written
to the store, one transaction each, as soon as they arrive, so a killed batch loses nothing finished
and a re-run with the same inputs and parameters recomputes nothing finished.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Callable

from perovscreen.executors import call_task, get_executor
from perovscreen.provenance import params_hash, provenance
from perovscreen.store import DEFAULT_DB, RunRecord, open_store
from perovscreen.structures.intake import DEFAULT_MAX_ATOMS, expand_paths, file_sha256, load_file


def emit_json(obj: dict, stream=None) -> None:
    """One JSON object per line on stdout (inf/nan written as strings so every line is valid JSON)."""
    print(json.dumps(_json_safe(obj), default=str), file=stream or sys.stdout, flush=True)


def _json_safe(x):
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return str(x)
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


def add_batch_arguments(parser, paths: bool = True) -> None:
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
    parser.add_argument("--force", action="store_true", help="recompute results already in the store")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")


@dataclass
class _FileTask:
    path: str
    file_hash: str
    ion: str
    max_atoms: int
    stage: str
    params: dict  # the stage's own parameters (what func receives)
    done_keys: frozenset


def _process_file(task: _FileTask, func: Callable | None) -> list[dict]:
    """Worker side: read one file, run the stage on every readable structure not yet done."""
    out = []
    for rec in load_file(task.path, ion=task.ion, max_atoms=task.max_atoms):
        if rec.key in task.done_keys:
            continue
        t0 = time.perf_counter()
        started = _now()
        item = {"record": rec.to_dict(), "started": started}
        if rec.error:
            item.update(status="error", error=rec.error, error_kind="input", result=None)
        elif func is None:
            item.update(status="ok", error=None, error_kind=None, result={})
        else:
            res = call_task(partial(func, params=task.params), rec, 0)
            error = res.error
            if not res.ok and task.path not in error:
                error = f"{task.path}: {error}"
            item.update(status="ok" if res.ok else "error", error=None if res.ok else error,
                        error_kind=res.error_kind, result=res.value)
        item["seconds"] = time.perf_counter() - t0
        item["finished"] = _now()
        out.append(item)
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_batch(args, stage: str, func: Callable | None, params: dict) -> int:
    """CLI entry: run `func` over every structure in args.paths (see the module docstring); exit code."""
    if not expand_paths(args.paths):
        print(f"error: no input files match {' '.join(map(str, args.paths))}", file=sys.stderr)
        return 2
    execute_batch(args, stage, func, params)
    return 0


def execute_batch(args, stage: str, func: Callable | None, params: dict) -> list[dict]:
    """Run the stage over args.paths; returns one row per structure (resumed ones included).

    A row has id, file, key, status, error, formula, identity, duplicate_of, resumed, seconds and the
    stage's result fields.
    """
    stage_params = params
    params = {"stage": stage, "ion": args.ion, "max_atoms": args.max_atoms, **params}
    phash = params_hash(params)
    files = expand_paths(args.paths)
    store = open_store(args.db)
    stored = store.structures()
    seen = {s["identity"]: s["id"] for s in stored if s.get("identity")}
    by_hash: dict[str, list[dict]] = {}
    for s in stored:
        by_hash.setdefault(s["file_hash"], []).append(s)
    tasks, resumed, rows = [], [], []
    for f in files:
        try:
            fh = file_sha256(f)
        except OSError as exc:
            rows.append({"id": Path(f).stem, "file": str(f), "key": None, "status": "error",
                         "error": f"{f}: cannot read ({exc.strerror or exc})"})
            continue
        known = by_hash.get(fh, [])
        done = {} if args.force else _finished(store, known, stage, phash)
        if known and all(s["key"] in done for s in known):
            resumed += [(s, done[s["key"]]) for s in known]
            continue
        tasks.append(_FileTask(str(f), fh, args.ion, args.max_atoms, stage, stage_params, frozenset(done)))
    for s, run in resumed:
        rows.append(_row(s, run.status, run.error, run.result, resumed=True, seconds=run.seconds))
        if args.json:
            emit_json(rows[-1])
    executor = get_executor(args.executor, max_workers=args.jobs, address=args.address)
    progress = _progress(len(tasks), stage, args.quiet)
    try:
        for tr in executor.map_unordered(partial(_process_file, func=func), tasks):
            task = tasks[tr.item_index]
            items = tr.value if tr.ok else [{
                "record": {"key": f"{task.file_hash}:0", "id": Path(task.path).stem, "file": task.path,
                           "file_hash": task.file_hash, "ion": args.ion, "error": tr.error},
                "status": "error", "error": f"{task.path}: {tr.error}", "error_kind": tr.error_kind,
                "result": None, "seconds": tr.seconds, "started": _now(), "finished": _now()}]
            for it in items:
                rec = it["record"]
                if rec.get("identity"):
                    if rec["identity"] in seen and seen[rec["identity"]] != rec["id"]:
                        rec["duplicate_of"] = seen[rec["identity"]]
                    seen.setdefault(rec["identity"], rec["id"])
                store.put_structure(rec)
                run = RunRecord(rec["key"], stage, phash, it["status"], it["result"], it["error"], it["error_kind"],
                                it["seconds"], params, provenance(params, inputs={task.path: task.file_hash}),
                                it["started"], it["finished"])
                store.put_run(run)
                rows.append(_row(rec, it["status"], it["error"], it["result"], seconds=it["seconds"]))
                if args.json:
                    emit_json(rows[-1])
            progress.update(1)
    finally:
        progress.close()
        executor.close()
        store.close()
    if not args.quiet:
        _summary(rows, stage)
    return rows


def _finished(store, structures: list[dict], stage: str, phash: str) -> dict:
    """Runs of these structures that are final: ok, or failed on bad input (deterministic)."""
    out = {}
    for s in structures:
        run = store.get_run(s["key"], stage, phash)
        if run and (run.status == "ok" or run.error_kind == "input"):
            out[s["key"]] = run
    return out


def _row(rec: dict, status: str, error: str | None, result: dict | None, resumed: bool = False,
         seconds: float | None = None) -> dict:
    row = {"id": rec.get("id"), "file": rec.get("file"), "key": rec.get("key"), "status": status, "error": error,
           "formula": rec.get("formula"), "identity": rec.get("identity"), "duplicate_of": rec.get("duplicate_of"),
           "resumed": resumed, "seconds": seconds}
    row.update(result or {})
    return row


def _progress(total: int, stage: str, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=stage, unit="file", file=sys.stderr, disable=quiet or total < 2 or None)


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
