"""Analytic one-atom potentials for known-answer NEB tests."""
import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

# Mueller & Brown, Theor. Chim. Acta 53, 75 (1979)
MB_A = np.array([-200.0, -100.0, -170.0, 15.0])
MB_a = np.array([-1.0, -1.0, -6.5, 0.7])
MB_b = np.array([0.0, 0.0, 11.0, 0.6])
MB_c = np.array([-10.0, -10.0, -6.5, 0.7])
MB_x0 = np.array([1.0, 0.0, -0.5, -1.0])
MB_y0 = np.array([0.0, 0.5, 1.5, 1.0])


class SinSquared(Calculator):
    """E = Eb sin^2(pi x / a) on atom 0 (x only): minima at x = n a, barrier Eb at x = a/2."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, eb=0.3, period=3.0, **kw):
        super().__init__(**kw)
        self.eb, self.period = eb, period

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        x = self.atoms.positions[0, 0]
        k = np.pi / self.period
        f = np.zeros((len(self.atoms), 3))
        f[0, 0] = -self.eb * k * np.sin(2 * k * x)
        self.results = {"energy": self.eb * np.sin(k * x) ** 2, "forces": f}


class MuellerBrown(Calculator):
    """The Mueller-Brown surface in (x, y) of atom 0; z carries no energy (and is frozen by the test)."""

    implemented_properties = ["energy", "forces"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        x, y = self.atoms.positions[0, :2]
        dx, dy = x - MB_x0, y - MB_y0
        t = MB_A * np.exp(MB_a * dx ** 2 + MB_b * dx * dy + MB_c * dy ** 2)
        f = np.zeros((len(self.atoms), 3))
        f[0, 0] = -np.sum(t * (2 * MB_a * dx + MB_b * dy))
        f[0, 1] = -np.sum(t * (MB_b * dx + 2 * MB_c * dy))
        self.results = {"energy": float(t.sum()), "forces": f}


def one_atom(x, y=0.0, z=0.0, cell=(9.0, 10.0, 10.0), pbc=True) -> Atoms:
    return Atoms("Li", positions=[[x, y, z]], cell=cell, pbc=pbc)
