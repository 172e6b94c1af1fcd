"""`perovscreen bvse PATHS...`: BVSE barriers for a batch of structures (store, resume, --jobs, CSV)."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

CSV_FIELDS = ("id", "file", "formula", "status", "E1D", "E2D", "E3D", "dimensionality", "Ea_calibrated",
              "Ea_68_low", "Ea_68_high", "screening", "grid_shape", "seconds", "error")


def add_parser(sub) -> None:
    from perovscreen.pipeline.batch import add_batch_arguments
    p = sub.add_parser("bvse", help="bond-valence site energy barriers (softBV) of structures")
    add_batch_arguments(p)
    p.add_argument("--resolution", type=float, default=0.2, help="grid spacing upper bound in A (default 0.2)")
    p.add_argument("--cutoff", type=float, default=10.0, help="interaction cutoff in A (default 10)")
    p.add_argument("--screening", type=float, default=0.74, help="Coulomb screening factor f (default 0.74)")
    p.add_argument("--tune-screening", action="store_true", help="choose f for zero softBV pressure")
    p.add_argument("--d0", dest="d0_convention", choices=["half", "full"], default="half",
                   help="Morse depth convention: D0/2 (bvlain, default) or D0")
    p.add_argument("--radii", dest="covalent_radii", choices=["softbv", "ase"], default="softbv",
                   help="covalent radii in the Coulomb term (default softbv)")
    p.add_argument("--energy-cap", type=float, default=10.0,
                   help="search percolation up to this energy above the minimum, eV (default 10)")
    p.add_argument("--grid-dir", default=None, help="also write <id>.cube and <id>.grd energy grids here")
    p.add_argument("--csv", default=None, help="write one row per structure to this CSV file")
    p.set_defaults(func=_handler)


def stage_params(args) -> dict:
    params = {k: getattr(args, k) for k in ("resolution", "cutoff", "screening", "d0_convention",
                                            "covalent_radii", "energy_cap")}
    params["tune_screening"] = bool(args.tune_screening)
    if args.grid_dir:
        params["grid_dir"] = str(Path(args.grid_dir).resolve())
    return params


def _handler(args) -> int:
    from perovscreen.bvse.core import bvse_stage
    from perovscreen.errors import InputError
    from perovscreen.pipeline.batch import run_batch
    for name in ("resolution", "cutoff", "screening", "energy_cap"):
        if not getattr(args, name) > 0:
            print(f"error: --{name.replace('_', '-')} must be positive", file=sys.stderr)
            return 2
    params = stage_params(args)
    code = run_batch(args, stage="bvse", func=bvse_stage, params=params)
    if args.csv and code == 0:
        try:
            n = write_csv(args, params, args.csv)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not args.quiet:
            print(f"wrote {n} rows to {args.csv}", file=sys.stderr)
    return code


def _row(run: dict) -> dict:
    res = run.get("result") or {}
    bar = res.get("barriers", {})
    ea = res.get("Ea_calibrated") or {}
    lo, hi = (ea.get("interval_68") or [None, None])
    return {"id": run.get("id"), "file": run.get("file"), "formula": run.get("formula") or res.get("formula"),
            "status": run.get("status"), "E1D": bar.get("E1D"), "E2D": bar.get("E2D"), "E3D": bar.get("E3D"),
            "dimensionality": res.get("dimensionality"), "Ea_calibrated": ea.get("value"), "Ea_68_low": lo,
            "Ea_68_high": hi, "screening": (res.get("params") or {}).get("screening"),
            "grid_shape": "x".join(map(str, res.get("grid_shape", []))), "seconds": run.get("seconds"),
            "error": run.get("error")}


def write_csv(args, params: dict, path) -> int:
    """Rows of this batch's inputs for these parameters, read back from the store (new and resumed)."""
    from perovscreen.provenance import params_hash
    from perovscreen.store import open_store
    from perovscreen.structures.intake import expand_paths, file_sha256
    full = {"stage": "bvse", "ion": args.ion, "max_atoms": args.max_atoms, **params}  # as run_batch keys it
    phash = params_hash(full)
    hashes = {file_sha256(f) for f in expand_paths(args.paths)}
    with open_store(args.db) as store:
        keys = {s["key"] for s in store.structures() if s.get("file_hash") in hashes}
        runs = [r for r in store.runs("bvse") if r["params_hash"] == phash and r["structure_key"] in keys]
    latest = {r["structure_key"]: r for r in runs}  # runs are ordered by run_id: keep the newest
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in latest.values():
            w.writerow(_row(r))
    return len(latest)
