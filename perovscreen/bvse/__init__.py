"""Bond-valence site energy (softBV) landscapes and exact percolation barriers."""
from perovscreen.core.lazy import lazy_exports

_EXPORTS = {"BVSE": "stage", "BVSEParams": "settings", "BVSEResult": "core", "compute_bvse": "core"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
