"""`perovscreen bvse PATHS...`: BVSE barriers for a batch of structures (store, resume, --jobs, CSV)."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

from perovscreen.cli.common import guarded, run_stage_batch

CSV_FIELDS = ("id", "file", "formula", "status", "E1D", "E2D", "E3D", "dimensionality", "Ea_calibrated",
              "Ea_low", "Ea_high", "screening", "grid_shape", "seconds", "error")


def add_parser(sub) -> None:
    from perovscreen.bvse.settings import BVSEParams
    from perovscreen.jobs.runner import add_batch_arguments
    from perovscreen.jobs.stage import add_param_arguments

    p = sub.add_parser("bvse", help="bond-valence site energy barriers (softBV) of structures")
    add_batch_arguments(p)
    add_param_arguments(p, BVSEParams)
    p.add_argument("--csv", default=None, help="write one row per structure to this CSV file")
    p.set_defaults(func=_handler)


@guarded
def _handler(args) -> int:
    from perovscreen.bvse.stage import BVSE

    if args.grid_dir:
        args.grid_dir = str(Path(args.grid_dir).resolve())
    params = BVSE.from_args(args)
    return run_stage_batch(BVSE, args, params, done=lambda rows: _write_csv(rows, args) if args.csv else None)


def _write_csv(rows, args) -> None:
    n = write_csv(rows, args.csv)
    if not args.quiet:
        print(f"wrote {n} rows to {args.csv}", file=sys.stderr)


def _row(run: dict) -> dict:
    res = run.get("result") or {}
    bar = res.get("barriers", {})
    ea = res.get("Ea_calibrated") or {}
    lo, hi = ea.get("lower"), ea.get("upper")
    return {"id": run.get("id"), "file": run.get("file"), "formula": run.get("formula") or res.get("formula"),
            "status": run.get("status"), "E1D": bar.get("E1D"), "E2D": bar.get("E2D"), "E3D": bar.get("E3D"),
            "dimensionality": res.get("dimensionality"), "Ea_calibrated": ea.get("value"), "Ea_low": lo,
            "Ea_high": hi, "screening": (res.get("params") or {}).get("screening"),
            "grid_shape": "x".join(map(str, res.get("grid_shape", []))), "seconds": run.get("seconds"),
            "error": run.get("error")}


def write_csv(rows: list[dict], path) -> int:
    """One CSV row per input structure of the batch (new, resumed and failed ones, unreadable paths too)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow(_row(r))
    return len(rows)
