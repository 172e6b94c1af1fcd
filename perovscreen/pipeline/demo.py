"""The main job on the built-in examples: write them, run the stages, export and report."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from perovscreen.structures.examples import write_examples


def run_demo(out: str | Path = "results", jobs: int = 2) -> int:
    from perovscreen.pipeline.batch import run_batch
    from perovscreen.store import export_runs, open_store

    out = Path(out)
    t0 = time.perf_counter()
    paths = write_examples(out / "examples")
    db = out / "perovscreen.db"
    args = argparse.Namespace(paths=[str(p) for p in paths], ion="Li", db=str(db), json=False, jobs=jobs,
                              executor="local", address=None, max_atoms=2000, force=False, quiet=False)
    run_batch(args, stage="ingest", func=None, params={})
    with open_store(db) as store:
        (out / "results.csv").write_text(export_runs(store.runs(), "csv"))
    print(f"demo: wrote {out / 'results.csv'} and {db} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0
