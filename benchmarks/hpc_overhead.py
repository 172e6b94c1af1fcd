"""Cluster path overhead: worker + spool + collect per task against the local pool, and collect of 10^5
spooled results (goals: <= 50 ms per task, <= 60 s for 10^5).

The same 1,000 distinct tiny structures (Li3OCl with the lattice scaled by 1e-4 k) go through a trivial
stage (the structure's site count: what is measured is the machinery, not the science) in three ways:
(a) the local process pool (`execute_batch`, 2 workers), (b) the array-task path in this process: one
`run_task` per task (one structure per task, the worst case) then `collect`, (c) the Python start-up a real
array task pays on top (`python -m perovscreen worker --help`, measured, times N). Then 10^5 synthetic
result files (copies of a real one under distinct keys) are collected into a fresh store.

    python benchmarks/hpc_overhead.py [--n 1000] [--collect 100000]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from perovscreen.jobs.stage import Stage, param  # noqa: E402


@dataclass(frozen=True)
class TinyParams:
    scale: float = param(1.0, "a parameter, so the key has one")


def sites(record, params):
    return {"n": record.n_sites * params.scale}


TINY = Stage("tiny", 1, TinyParams, sites)


def inputs(n: int, folder: Path) -> list[Path]:
    from pymatgen.io.cif import CifWriter

    from perovscreen.structures.examples import get_example

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        s = get_example("Li3OCl")
        s.scale_lattice(s.volume * (1 + 1e-4 * k))
        p = folder / f"s{k:05d}.cif"
        CifWriter(s).write_file(p)
        out.append(p)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--collect", type=int, default=100_000)
    args = ap.parse_args(argv)
    from perovscreen.jobs.hpc.spool import JobDir, write_atomic
    from perovscreen.jobs.hpc.status import collect
    from perovscreen.jobs.hpc.worker import run_task
    from perovscreen.jobs.runner import RunOptions, execute_batch

    work = Path(tempfile.mkdtemp(prefix="perovscreen-hpc-bench-"))
    try:
        files = inputs(args.n, work / "in")
        params = TINY.make()
        t0 = time.perf_counter()
        execute_batch(TINY, files, params, RunOptions(db=str(work / "local.db"), jobs=2, quiet=True))
        local = time.perf_counter() - t0
        opts = RunOptions(db=str(work / "hpc.db"), quiet=True)
        jd = JobDir(work / "jobs" / "tiny")
        spec = {"name": "tiny", "dir": str(jd.root), "stage": "tiny", "version": 1, "stage_ref": "",
                "params": {"scale": 1.0}, "key_parts": TINY.key_parts(params, opts.intake),
                "resume_key": TINY.resume_key(params, opts.intake), "ion": "Li", "max_atoms": 2000,
                "db": opts.db, "scheduler": "slurm", "chunks": [[str(f)] for f in files], "submissions": []}
        jd.save(spec)
        t0 = time.perf_counter()
        for t in range(len(files)):
            jd.mark(t, "started", {})
            run_task(TINY, jd.root, t)
            jd.mark(t, "done", {"exit_code": 0})
        t_work = time.perf_counter() - t0
        t0 = time.perf_counter()
        c = collect(jd.root)
        t_collect = time.perf_counter() - t0
        assert c["ok"] == args.n, c
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "perovscreen", "worker", "--help"], capture_output=True, check=True)
        startup = time.perf_counter() - t0
        # 10^5 spooled results
        sample = json.loads(next((jd.task(0) / "results").glob("*.json")).read_text())
        big = JobDir(work / "jobs" / "big")
        per = 1000
        n_tasks = -(-args.collect // per)
        big.save({**spec, "name": "big", "dir": str(big.root), "db": str(work / "big.db"),
                  "chunks": [[] for _ in range(n_tasks)]})
        t0 = time.perf_counter()
        for i in range(args.collect):
            item = json.loads(json.dumps(sample))
            item["record"]["key"] = f"{i:064x}:0"
            item["record"]["id"] = f"s{i}"
            write_atomic(big.result_path(i // per, i % per, 0), json.dumps(item))
        t_spool = time.perf_counter() - t0
        t0 = time.perf_counter()
        c = collect(big.root)
        t_big = time.perf_counter() - t0
        assert c["ok"] == args.collect
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_task = (t_work + t_collect) / args.n
    print(f"{'':<62}{'seconds':>10}{'ms per task':>13}")
    print(f"{'local pool, 2 workers (execute_batch)':<62}{local:>10.1f}{local / args.n * 1e3:>13.1f}")
    print(f"{'array path: run_task per task + markers':<62}{t_work:>10.1f}{t_work / args.n * 1e3:>13.1f}")
    print(f"{'array path: collect into the store':<62}{t_collect:>10.1f}{t_collect / args.n * 1e3:>13.1f}")
    print(f"{'array path total (worker + spool + collect)':<62}{t_work + t_collect:>10.1f}{per_task * 1e3:>13.1f}")
    print(f"{'+ Python start-up of a real array task (measured once)':<62}{startup:>10.2f}{startup * 1e3:>13.0f}")
    print(f"{'write %d spooled results (synthetic)' % args.collect:<62}{t_spool:>10.1f}")
    print(f"{'collect %d spooled results' % args.collect:<62}{t_big:>10.1f}{t_big / args.collect * 1e3:>13.2f}")
    print(f"ratio array path / local pool: {(t_work + t_collect) / local:.2f}; goals: <= 50 ms per task "
          f"{'PASS' if per_task <= 0.05 else 'FAIL'}, collect 10^5 <= 60 s {'PASS' if t_big <= 60 else 'FAIL'}"
          f" (a real task also pays the start-up: chunk several structures per task with --chunk)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
