"""perovscreen.neb: climbing-image NEB of Li hops (vacancy or interstitial) with any ASE calculator
(CHGNet, SevenNet, GPAW, Quantum ESPRESSO), and the BVSE / uMLIP / DFT cross-validation table."""
from perovscreen.core.lazy import lazy_exports

_EXPORTS = {"BandSettings": "band", "NEB_STAGE": "stage", "NebParams": "stage", "NebPathway": "results",
            "NebResult": "results", "analyse_profile": "results", "check_endpoints": "endpoints",
            "distinct_hops": "hops", "hop_endpoints": "hops", "plot_profile": "plots", "run_band": "band"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
