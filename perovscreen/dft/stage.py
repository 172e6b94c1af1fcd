"""DFT stages: dft-static, dft-relax (GPAW or Quantum ESPRESSO through ASE) and dft-gw (GPAW G0W0 on small
cells). The pseudopotential directory and the working directory are execution paths; what the answer depends
on enters the resume key through `identities`: the engine's package versions and the SHA-256 of the
pseudopotential files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perovscreen.core.hashing import value_hash
from perovscreen.core.paths import cache_dir
from perovscreen.dft.engines import ENGINES, engine_identity
from perovscreen.jobs.stage import Resources, Stage, param


@dataclass(frozen=True)
class DFTParams:
    engine: str = param("gpaw", "DFT code", choices=ENGINES)
    kpoint_density: float = param(3.0, "k-points per reciprocal length (2 pi included), Gamma-centred grid",
                                  "1/A", minimum=0.0, exclusive=True)
    ecut: float = param(0.0, "plane-wave cutoff; 0: espresso the largest SSSP/PseudoDojo value of the cell's "
                        "elements, gpaw 600 eV", "eV", minimum=0.0)
    xc: str = param("PBE", "exchange-correlation functional (espresso: the pseudopotentials' unless overridden)")
    smearing: float = param(0.05, "Fermi-Dirac smearing width (0: fixed occupations, espresso only)", "eV",
                            minimum=0.0)
    maxiter: int = param(100, "SCF iterations before the run fails as not converged", minimum=1)
    pseudo_dir: str = param("", "espresso pseudopotential directory with <El>.upf and <El>.toml metadata "
                            "(identified by the SHA-256 of its files)", science=False, kind="path")
    workdir: str = param("", "working directories, kept for inspection (default <cache root>/dft)", science=False,
                         kind="path")
    nprocs: int = param(1, "MPI processes per calculation", science=False, minimum=1)

    def calc_kw(self) -> dict:
        return {"kpoint_density": self.kpoint_density, "ecut": self.ecut, "xc": self.xc, "smearing": self.smearing,
                "maxiter": self.maxiter, "pseudo_dir": self.pseudo_dir or None, "nprocs": self.nprocs}


@dataclass(frozen=True)
class DFTRelaxParams(DFTParams):
    fmax: float = param(0.05, "force threshold", "eV/A", minimum=0.0, exclusive=True)
    steps: int = param(100, "maximum optimiser steps (in total, across restarts)", minimum=1)
    optimizer: str = param("BFGS", "optimiser", choices=("BFGS", "FIRE"))
    relax_cell: bool = param(False, "relax the cell too (FrechetCellFilter)", flag="--relax-cell")


@dataclass(frozen=True)
class GWParams:
    kpoint_density: float = param(1.5, "k-points per reciprocal length (2 pi included)", "1/A", minimum=0.0,
                                  exclusive=True)
    ecut: float = param(400.0, "ground-state plane-wave cutoff", "eV", minimum=0.0, exclusive=True)
    ecut_gw: float = param(50.0, "response (dielectric) cutoff; also sets the number of bands", "eV",
                           minimum=0.0, exclusive=True)
    ppa: bool = param(True, "plasmon-pole model (--full-frequency: numerical frequency integration)",
                      flag="--full-frequency")
    gw_max_atoms: int = param(8, "largest cell G0W0 accepts", minimum=1)
    workdir: str = param("", "working directories (default <cache root>/dft)", science=False, kind="path")
    nprocs: int = param(1, "MPI processes", science=False, minimum=1)


def workdir(stage: str, record, params) -> Path:
    """One folder per structure and set of science parameters, so a rerun finds its own files to restart from."""
    science = {k: v for k, v in vars(params).items() if k not in ("pseudo_dir", "workdir", "nprocs")}
    tag = value_hash([record.key, science], 12)
    return cache_dir("dft", params.workdir or None) / f"{stage}-{tag}"


def run_static(record, params: DFTParams):
    from perovscreen.dft.tasks import static

    return static(record.structure, params.engine, workdir("dft-static", record, params), **params.calc_kw())


def run_relax(record, params: DFTRelaxParams):
    from perovscreen.dft.tasks import relax

    return relax(record.structure, params.engine, workdir("dft-relax", record, params), fmax=params.fmax,
                 steps=params.steps, relax_cell=params.relax_cell, optimizer=params.optimizer, **params.calc_kw())


def run_gw(record, params: GWParams):
    from perovscreen.dft.gw import gw_gap

    return gw_gap(record.structure, workdir("dft-gw", record, params), params.kpoint_density, ecut=params.ecut,
                  ecut_gw=params.ecut_gw, ppa=params.ppa, max_atoms=params.gw_max_atoms, nprocs=params.nprocs)


def _identities(params) -> dict:
    return engine_identity(params.engine, params.pseudo_dir or None)


DFT_STATIC = Stage("dft-static", 1, DFTParams, run_static, help="DFT single point (GPAW or Quantum ESPRESSO)",
                   resources=Resources(cores=4, memory_gb=8.0, walltime_min=120.0), identities=_identities)
DFT_RELAX = Stage("dft-relax", 1, DFTRelaxParams, run_relax, help="DFT relaxation, fixed or variable cell",
                  resources=Resources(cores=8, memory_gb=16.0, walltime_min=720.0), identities=_identities)
DFT_GW = Stage("dft-gw", 1, GWParams, run_gw, help="G0W0@PBE band gap of a small cell (GPAW)",
               resources=Resources(cores=8, memory_gb=32.0, walltime_min=720.0),
               identities=lambda p: engine_identity("gpaw"))
