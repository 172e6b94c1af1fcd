"""Helpers shared by the core tests (a uniquely named module: pool workers import it by name).
The stages here are test stages (not features): cheap functions of the structure and a parameter."""
import argparse
from dataclasses import dataclass

from perovscreen.jobs.runner import RunOptions, run_batch
from perovscreen.jobs.stage import Stage, param


def batch_args(paths, db, **kw):
    base = dict(paths=[str(p) for p in paths], ion="Li", db=str(db), json=True, jobs=1, executor="serial",
                address=None, max_atoms=2000, force=False, quiet=True)
    base.update(kw)
    return argparse.Namespace(**base)


def run(stage, args, **params) -> int:
    """Run `stage` with `params` over args.paths (the options of `batch_args`)."""
    return run_batch(stage, args.paths, stage.make(params), RunOptions.from_args(args))


@dataclass(frozen=True)
class DensityParams:
    k: float = param(1.0, "scale of the volume")
    fail_on: str = param("", "id whose task raises")
    jobs_hint: int = param(1, "an execution option (never in the key)", science=False)


def density_run(record, params):
    """A number that depends on the structure and a parameter."""
    s = record.structure
    if params.fail_on == record.id:
        raise RuntimeError("planted failure")
    return {"density": round(float(s.density), 6), "scaled": float(s.volume) * params.k}


DENSITY = Stage("density", 1, DensityParams, density_run)
