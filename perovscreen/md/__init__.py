"""perovscreen.md: MD (ASE with any calculator, LAMMPS for classical potentials) -> MSD -> D -> conductivity."""
from perovscreen.md.analysis import DiffusionResult, analyse, estimate_d, msd_fft, nernst_einstein
from perovscreen.md.arrhenius import ArrheniusResult, arrhenius_fit, arrhenius_from_results
from perovscreen.md.cell import CellReport, build_md_cell, create_vacancies
from perovscreen.md.engine_ase import MDSettings, run_ase
from perovscreen.md.runner import AnalysisSettings, MDResult, run_md
from perovscreen.md.trajectory import MobileTrajectory, unwrap

__all__ = ["AnalysisSettings", "ArrheniusResult", "CellReport", "DiffusionResult", "MDResult", "MDSettings",
           "MobileTrajectory", "analyse", "arrhenius_fit", "arrhenius_from_results", "build_md_cell",
           "create_vacancies", "estimate_d", "msd_fft", "nernst_einstein", "run_ase", "run_md", "unwrap"]
