"""The MD stage: multi-temperature MD -> D -> Arrhenius of one structure record.

Parameters: `md.settings.MDParams`. The potential enters the resume key through `md.identity.md_identity`:
backend, model and SHA-256 of the weights of a universal potential, or the parameters (and file) of a
classical one.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from perovscreen.core.hashing import value_hash
from perovscreen.jobs.stage import Resources, Stage
from perovscreen.md.identity import md_identity
from perovscreen.md.settings import MDParams


def _identities(params: MDParams) -> dict:
    return md_identity(params.calculator, params.engine, params.model_path)


def run_md_params(structure, params: MDParams, workdir, mobile: str = "Li", executor: str = "local",
                  address: str | None = None, files=(), identity: dict | None = None):
    """`run_md` with MDParams (what the CLI and the stage run)."""
    from perovscreen.md.engine_ase import MDSettings
    from perovscreen.md.runner import AnalysisSettings, run_md

    settings = MDSettings(time_ps=params.time_ps, equil_ps=params.equilibration_ps, timestep_fs=params.timestep_fs,
                          sample_fs=params.sample_fs, checkpoint_steps=params.checkpoint_steps,
                          thermostat=params.thermostat, seed=params.seed, mobile=mobile)
    analysis = AnalysisSettings(fit_window_ps=params.fit_window_ps, haven_ratio=params.haven)
    return run_md(structure, params.temperatures, settings, potential=params.calculator, engine=params.engine,
                  workdir=workdir, jobs=params.jobs, executor=executor, address=address,
                  min_length=params.min_length, vacancies=params.vacancies, compensation=params.compensation,
                  analysis=analysis, device=params.device, files=files, model_path=params.model_path,
                  identity=identity)


def run_md_stage(record, params: MDParams):
    """MD of one structure record in its own work folder (a hash of the record, the science parameters and
    the potential's identity: different structures or settings never share one). Returns the MDResult
    without the MSD curves, with the path of the Arrhenius plot when one was written."""
    ids = _identities(params)
    ion = getattr(record, "ion", None) or "Li"
    h = value_hash({"record": record.key, "ion": ion, "params": MD.science(params), "identities": ids}, 12)
    wd = Path(params.workdir) / f"{record.id}-{h}"
    res = run_md_params(record.structure, params, wd, mobile=ion, identity=ids)
    res.temperatures = [dataclasses.replace(r, curve=None, lags_ps=None, msd=None, msd_collective=None)
                        for r in res.temperatures]
    plot = wd / "arrhenius.png"
    res.arrhenius_plot = str(plot) if plot.exists() else None
    return res


MD = Stage("md", 2, MDParams, run_md_stage,
           help="molecular dynamics -> MSD -> D -> Nernst-Einstein conductivity and Arrhenius fit",
           resources=Resources(cores=2, memory_gb=4.0, walltime_min=600.0), identities=_identities)
