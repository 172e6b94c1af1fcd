"""Bond-valence site energy (softBV) landscapes and exact percolation barriers."""
from perovscreen._lazy import lazy_exports

_EXPORTS = {"BVSEResult": "core", "bvse_stage": "core", "compute_bvse": "core"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
