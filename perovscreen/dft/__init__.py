"""DFT through ASE: GPAW (Debian's, in a subprocess) and Quantum ESPRESSO (pw.x), G0W0 gaps, VASP inputs."""
from perovscreen.core.lazy import lazy_exports

_EXPORTS = {"dft_calculator": "engines", "engine_identity": "engines", "ENGINES": "engines", "static": "tasks",
            "relax": "tasks", "band_gap": "tasks", "gw_gap": "gw", "vasp_inputs": "vasp", "neb_inputs": "vasp"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
