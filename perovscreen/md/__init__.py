"""perovscreen.md: MD (ASE with any calculator, LAMMPS for classical potentials) -> MSD -> D -> conductivity."""
from perovscreen.core.lazy import lazy_exports

_EXPORTS = {"AnalysisSettings": "runner", "ArrheniusResult": "arrhenius", "CellReport": "cell", "DiffusionResult": "analysis", "MD": "stage", "MDParams": "stage", "MDResult": "runner", "MDSettings": "engine_ase", "MobileTrajectory": "trajectory", "analyse": "analysis", "arrhenius_fit": "arrhenius", "arrhenius_from_results": "arrhenius", "build_md_cell": "cell", "create_vacancies": "cell", "estimate_d": "analysis", "msd_fft": "analysis", "nernst_einstein": "analysis", "run_ase": "engine_ase", "run_md": "runner", "run_md_stage": "stage", "unwrap": "trajectory"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
