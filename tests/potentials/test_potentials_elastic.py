"""Elastic constants from stress-strain fits: exact cases with ASE's EMT, CHGNet against experiment."""
import numpy as np
import pytest
from ase.calculators.emt import EMT
from pymatgen.core import Lattice, Structure
from scipy.spatial.transform import Rotation

from perovscreen.core.errors import InputError
from perovscreen.core.results import decode
from perovscreen.potentials.elastic import elastic_constants
from perovscreen.potentials.references import REFERENCES_BY_NAME, build_reference
from perovscreen.potentials.tasks import relax, to_atoms


def fcc_cu(a=3.61):
    return Structure(Lattice.cubic(a), ["Cu"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def hcp_cu(a=2.55, c=4.16):
    return Structure(Lattice.hexagonal(a, c), ["Cu", "Cu"], [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]])


def _energy_density(structure, voigt, calc):
    """E / V0 (GPa) of the cell under the Green-Lagrange strain ``voigt``."""
    from ase.units import GPa
    from pymatgen.core.elasticity.strain import Strain

    atoms = to_atoms(structure)
    v0 = atoms.get_volume()
    atoms.set_cell(atoms.cell[:] @ np.asarray(Strain.from_voigt(voigt).get_deformation_matrix()).T, scale_atoms=True)
    atoms.calc = calc
    return atoms.get_potential_energy() / v0 / GPa


@pytest.fixture(scope="module")
def cu():
    """EMT Cu (conventional fcc cell, 4 atoms) at zero pressure, and its elastic constants."""
    s = relax(fcc_cu(), EMT(), fmax=1e-4, steps=200, optimizer="BFGS").structure
    return s, elastic_constants(s, EMT(), relax_first=False)


def test_cubic_symmetry_and_moduli(cu):
    _, r = cu
    c = np.array(r.c_ij)
    assert np.allclose(np.diag(c)[:3], c[0, 0], atol=1e-6) and np.allclose(np.diag(c)[3:], c[3, 3], atol=1e-6)
    assert np.allclose([c[0, 1], c[0, 2], c[1, 2]], c[0, 1], atol=1e-6)
    off = c.copy()
    off[:3, :3] = 0
    off[[3, 4, 5], [3, 4, 5]] = 0
    assert np.abs(off).max() < 1e-6  # no normal-shear or shear-shear couplings
    # cubic VRH by hand: K = (C11 + 2 C12)/3 (Voigt = Reuss); G_V = (C11 - C12 + 3 C44)/5,
    # G_R = 5 (C11 - C12) C44 / (4 C44 + 3 (C11 - C12))
    c11, c12, c44 = c[0, 0], c[0, 1], c[3, 3]
    assert r.k_voigt == pytest.approx((c11 + 2 * c12) / 3, rel=1e-6) == pytest.approx(r.k_reuss, rel=1e-6)
    assert r.g_voigt == pytest.approx((c11 - c12 + 3 * c44) / 5, rel=1e-6)
    assert r.g_reuss == pytest.approx(5 * (c11 - c12) * c44 / (4 * c44 + 3 * (c11 - c12)), rel=1e-6)
    assert r.g_vrh.value == pytest.approx((r.g_voigt + r.g_reuss) / 2, rel=1e-6)
    assert r.pugh_ratio == pytest.approx(r.k_vrh.value / r.g_vrh.value) and r.ductile  # Cu is ductile
    # cubic Born criteria: C11 - C12 > 0, C11 + 2 C12 > 0, C44 > 0 <=> the 6x6 eigenvalues are positive
    assert r.born_stable and sorted(r.eigenvalues) == pytest.approx(
        sorted([c11 + 2 * c12, c11 - c12, c11 - c12, c44, c44, c44]), abs=1e-3)


def test_stress_route_matches_energy_route(cu):
    """C from stresses equals C from second derivatives of EMT's energy: E/V0 = 1/2 C_ij e_i e_j."""
    s, r = cu
    c, calc, h = np.array(r.c_ij), EMT(), 2e-3
    e0 = _energy_density(s, np.zeros(6), calc)

    def curvature(v):
        v = np.asarray(v, float)
        return (_energy_density(s, h * v, calc) + _energy_density(s, -h * v, calc) - 2 * e0) / h**2

    c11 = curvature([1, 0, 0, 0, 0, 0])
    c44 = curvature([0, 0, 0, 1, 0, 0])
    c12 = curvature([1, 1, 0, 0, 0, 0]) / 2 - c11  # (C11 + C22 + 2 C12) / 2
    assert [c[0, 0], c[0, 1], c[3, 3]] == pytest.approx([c11, c12, c44], rel=5e-3)
    # the bulk modulus of ASE's equation-of-state fit of the same potential
    from ase.eos import EquationOfState
    from ase.units import GPa

    atoms = to_atoms(s)
    cell = atoms.cell[:].copy()
    vols, energies = [], []
    for x in np.linspace(0.99, 1.01, 7):
        atoms.set_cell(cell * x, scale_atoms=True)
        atoms.calc = calc
        vols.append(atoms.get_volume())
        energies.append(atoms.get_potential_energy())
    _, _, b = EquationOfState(vols, energies).fit()
    assert r.k_vrh.value == pytest.approx(b / GPa, rel=5e-3)


def test_rotation_invariance(cu):
    """A rotated cell gives the same constants: the tensor is fitted in the cell's frame and reported in the
    crystal's IEEE standard frame (small strains: the cubic terms of the stress-strain curve, which differ
    between frames, stay below 0.01%)."""
    s, _ = cu
    small = (1e-3, 2e-3)
    r = elastic_constants(s, EMT(), strains=small, relax_first=False, fmax=1e-4)
    rot = Rotation.from_euler("zyx", [27, 41, 13], degrees=True).as_matrix()
    turned = Structure(Lattice(s.lattice.matrix @ rot.T), s.species, s.frac_coords)
    r2 = elastic_constants(turned, EMT(), strains=small, relax_first=False, fmax=1e-4)
    assert np.allclose(r2.c_ij, r.c_ij, atol=0.03)
    assert r2.k_vrh.value == pytest.approx(r.k_vrh.value, rel=1e-4)
    assert r2.g_vrh.value == pytest.approx(r.g_vrh.value, rel=1e-4)
    # the primitive cell (its axes are not the cubic ones) gives the conventional cell's C11, C12, C44
    prim = elastic_constants(s.get_primitive_structure(), EMT(), strains=small, relax_first=False, fmax=1e-4)
    assert np.allclose(prim.c_ij, r.c_ij, atol=0.03)


def test_relaxed_ion_constants_are_softer_than_clamped():
    """hcp: the atoms move inside a strained cell, which can only lower the elastic energy, so
    C(clamped) - C(relaxed) is positive semidefinite, and C33, C44 differ from C11, C66 = (C11 - C12)/2."""
    s = relax(hcp_cu(), EMT(), fmax=1e-4, steps=300, optimizer="BFGS").structure
    relaxed = elastic_constants(s, EMT(), strains=(0.005,), relax_first=False, fmax=1e-3)
    clamped = elastic_constants(s, EMT(), strains=(0.005,), relax_first=False, relax_ions=False)
    diff = np.array(clamped.c_ij) - np.array(relaxed.c_ij)
    assert np.linalg.eigvalsh(diff).min() > -0.05 and np.abs(diff).max() > 1.0  # ions do relax
    c = np.array(relaxed.c_ij)
    assert c[5, 5] == pytest.approx((c[0, 0] - c[0, 1]) / 2, abs=0.05)  # hexagonal relation
    assert relaxed.relaxed_ions and not clamped.relaxed_ions and clamped.notes


def test_round_trip(cu):
    _, r = cu
    back = decode(r.to_dict())
    assert back == r and back.k_vrh.unit == "GPa"


def test_bad_input():
    with pytest.raises(InputError, match="strain magnitudes"):
        elastic_constants(fcc_cu(), EMT(), strains=(0.2,))
    s = fcc_cu()
    s.replace_species({"Cu": {"Cu": 0.5, "Au": 0.5}})
    with pytest.raises(InputError, match="partial occupancies"):
        elastic_constants(s, EMT())


# LiF, room-temperature ultrasonic constants (GPa): C. V. Briscoe, C. F. Squire, Phys. Rev. 106, 1175 (1957)
LIF_EXP = {"C11": 111.2, "C12": 42.0, "C44": 62.8}


def test_chgnet_lif_against_experiment(tmp_path):
    """CHGNet 0.3.0 on rocksalt LiF, through the elastic stage with its defaults as the CLI runs it
    (measured: C11 95.6, C12 41.3, C44 32.1, K 59.4 GPa). C11, C12 and the bulk modulus lie within 15% of
    experiment; C44 is half the measured value (uMLIPs soften shear; docs/advanced.md), so it is asserted
    as what it is, not as a pass."""
    from perovscreen.jobs.runner import RunOptions, execute_batch
    from perovscreen.potentials.advanced_stage import ELASTIC

    cif = tmp_path / "LiF.cif"
    build_reference(REFERENCES_BY_NAME["LiF-rocksalt"]).to(filename=str(cif))
    opts = RunOptions(db=str(tmp_path / "r.db"), executor="serial", quiet=True)
    row = execute_batch(ELASTIC, [str(cif)], ELASTIC.make(), opts)[0]
    assert row["status"] == "ok", row["error"]
    r = decode(row["result"])
    c = np.array(r.c_ij)
    k_exp = (LIF_EXP["C11"] + 2 * LIF_EXP["C12"]) / 3
    assert r.k_vrh.value == pytest.approx(k_exp, rel=0.15)
    assert c[0, 1] == pytest.approx(LIF_EXP["C12"], rel=0.15)
    assert c[0, 0] == pytest.approx(LIF_EXP["C11"], rel=0.2)  # -14%: near the edge, CHGNet's stress noise
                                                              # moves it by +-3 GPa (c_spread)
    assert 0.4 < c[3, 3] / LIF_EXP["C44"] < 0.6
    assert r.born_stable and r.backend == "chgnet"


# NaCl, room temperature (GPa), the commonly tabulated ultrasonic values (primary source not re-checked here)
NACL_EXP = (49.1, 12.8, 12.8)


def test_sevennet_nacl_within_15_percent():
    """SevenNet 7net-0 on rocksalt NaCl (measured: C11 49.3, C12 14.0, C44 11.9 GPa): every independent
    constant within 15% of experiment (CHGNet misses C12 by +63% and C44 by -54% on the same cell)."""
    pytest.importorskip("sevenn")
    r = elastic_constants(build_reference(REFERENCES_BY_NAME["NaCl-rocksalt"]), "sevenn")
    c = np.array(r.c_ij)
    assert [c[0, 0], c[0, 1], c[3, 3]] == pytest.approx(NACL_EXP, rel=0.15)
    assert r.born_stable and r.backend == "sevenn"
