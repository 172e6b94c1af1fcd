from perovscreen.potentials.calculators import get_calculator

__all__ = ["get_calculator"]
