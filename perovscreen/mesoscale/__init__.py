"""perovscreen.mesoscale: phase-field polycrystals and the effective conductivity of a microstructure."""
from perovscreen.core.lazy import lazy_exports

_EXPORTS = {"EffectiveConductivity": "homogenize", "GrainGrowth": "phasefield", "GrowthParams": "phasefield",
            "MESOSCALE": "stage", "MesoParams": "stage", "MesoResult": "stage", "Microstructure": "microstructure",
            "TemperatureSweep": "arrhenius", "effective_conductivity": "homogenize",
            "equal_temperature": "arrhenius", "periodic_voronoi": "microstructure", "solve_fft": "fft_solver",
            "solve_fv": "fv_solver", "temperature_sweep": "arrhenius", "voxel_field": "tensors"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
