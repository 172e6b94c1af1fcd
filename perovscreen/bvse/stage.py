"""The BVSE stage: barriers of one structure record, with the calibrated Ea where the settings allow."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from perovscreen.bvse.calibrate import CALIBRATION_FILE, predict_ea
from perovscreen.bvse.core import compute_bvse
from perovscreen.bvse.params import DATA_FILE as PARAMS_FILE
from perovscreen.bvse.settings import BVSEParams
from perovscreen.core.hashing import file_sha256
from perovscreen.jobs.stage import Resources, Stage


def run_bvse(record, params: BVSEParams):
    kwargs = {f.name: getattr(params, f.name) for f in dataclasses.fields(params) if f.name != "grid_dir"}
    res = compute_bvse(record.structure, ion=getattr(record, "ion", None) or "Li", **kwargs)
    if params.grid_dir:
        d = Path(params.grid_dir)
        d.mkdir(parents=True, exist_ok=True)
        # the file hash keeps same-stem inputs from different folders apart
        name = f"{getattr(record, 'id', None) or res.formula}-{(getattr(record, 'file_hash', '') or '')[:8]}".rstrip("-")
        res.write_cube(d / f"{name}.cube")
        res.write_grd(d / f"{name}.grd")
    res.Ea_calibrated, why = predict_ea(res.barriers, res.params)
    if why and why != "no percolating path":
        res.warnings.append(why)
    res.paths = []  # bulky; the Python API gives them
    return res


def _identities(params) -> dict:
    """The softBV parameter table and the Ea calibration are data files: a changed file recomputes."""
    return {"softbv_params": file_sha256(PARAMS_FILE)[:16], "calibration": file_sha256(CALIBRATION_FILE)[:16]}


BVSE = Stage("bvse", 1, BVSEParams, run_bvse, help="bond-valence site energy barriers (softBV) of structures",
             resources=Resources(cores=1, memory_gb=2.0, walltime_min=10.0), identities=_identities)
