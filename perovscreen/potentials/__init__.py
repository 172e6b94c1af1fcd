"""Universal potentials (CHGNet, SevenNet, matgl, any ASE calculator), stability, graph property networks."""
from perovscreen.core.lazy import lazy_exports

_EXPORTS = {"get_calculator": "calculators", "relax": "tasks", "single_point": "tasks", "single_points": "tasks"}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
