"""Universal potentials (CHGNet, SevenNet, matgl, any ASE calculator), stability, graph property networks."""
from perovscreen.potentials.calculators import get_calculator
from perovscreen.potentials.tasks import relax, single_point, single_points

__all__ = ["get_calculator", "relax", "single_point", "single_points"]
