"""Known answers on rocksalt LiF (slow: E(V) scans, a variable-cell relaxation, G0W0). Experiment: a = 4.03 A,
gap 14.2 eV; PBE overestimates a by ~1% and underestimates the gap by ~5 eV."""
import numpy as np
import pytest
from ase.eos import EquationOfState

from perovscreen.dft.engines import dft_calculator

pytestmark = pytest.mark.slow
SCALES = (0.97, 0.985, 1.0, 1.015, 1.03)


def _scan(engine, lif, tmp_path, **kw):
    """Lattice constants and energies per formula unit over SCALES x 4.03 A."""
    a_list, energies = [], []
    calc = None
    for s in SCALES:
        atoms = lif(4.03 * s)
        # one calculator per engine: one k-grid for every volume, the density reused between volumes
        calc = calc or dft_calculator(engine, tmp_path / engine, kpoint_density=1.2, atoms=atoms, **kw)
        atoms.calc = calc
        a_list.append(4.03 * s)
        energies.append(atoms.get_potential_energy())
    return np.array(a_list), np.array(energies)


@pytest.fixture(scope="module")
def scans(engines, sssp, lif, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eos")
    return {"espresso": _scan("espresso", lif, tmp, pseudo_dir=str(sssp), conv_thr=1e-6),
            "gpaw": _scan("gpaw", lif, tmp, ecut=800, conv_thr=1e-6)}  # F is hard: 800 eV (600 eV: a0 4.096 A, the same)


@pytest.mark.parametrize("engine", ["espresso", "gpaw"])
def test_lif_lattice_constant_within_2_percent_of_experiment(scans, engine):
    a, e = scans[engine]
    v = a**3 / 4
    v0, e0, b = EquationOfState(v, e, eos="birchmurnaghan").fit()
    a0 = (4 * v0) ** (1 / 3)
    print(f"{engine}: a0 = {a0:.4f} A, B = {b * 160.21766:.1f} GPa")
    assert a0 == pytest.approx(4.03, rel=0.02)
    assert a0 > 4.03              # PBE underbinds: PBE LiF a0 ~4.06-4.07 A
    assert 55 < b * 160.21766 < 80  # bulk modulus, PBE ~67 GPa (experiment ~70 GPa)


def test_two_codes_agree_on_relative_energies(scans):
    # energies E(a) - E(4.03 A) per formula unit over +-3% in a. The codes differ in more than numerics: SSSP's
    # Li (GBRV) has the 1s semicore in valence (Z = 3), GPAW's default Li setup freezes it (Z = 1), which moves
    # GPAW's a0 up by 0.7% (4.095 vs 4.067 A, measured). Stated tolerance: 25 meV per LiF (measured at most 21 meV,
    # at 3.91 A; 7 meV at 4.09 A), against 50-75 meV of compression energy at -3%.
    rel = {k: e - e[SCALES.index(1.0)] for k, (_, e) in scans.items()}
    print({k: np.round(v, 4).tolist() for k, v in rel.items()})
    assert np.abs(rel["espresso"] - rel["gpaw"]).max() < 0.025
    assert abs(rel["espresso"][3] - rel["gpaw"][3]) < 0.01  # near the PBE minimum
    assert rel["espresso"][0] > 0.05  # compression by 3% costs energy


def test_variable_cell_relaxation_expands_lif(engines, sssp, lif, tmp_path):
    from perovscreen.dft.tasks import relax

    res = relax(lif(), "espresso", tmp_path, fmax=0.01, steps=30, relax_cell=True, kpoint_density=1.2,
                pseudo_dir=str(sssp), conv_thr=1e-7)
    a = res.structure.lattice.a * np.sqrt(2)  # primitive fcc vector = a / sqrt(2)
    print(f"relaxed a = {a:.4f} A in {res.steps} steps, P = {res.pressure_gpa:.2f} GPa")
    assert res.converged and a == pytest.approx(4.03, rel=0.02) and a > 4.03
    assert abs(res.pressure_gpa) < 0.5


def test_lif_g0w0_gap_against_experiment(engines, lif, tmp_path):
    from perovscreen.dft.gw import gw_gap

    r = gw_gap(lif(), tmp_path, kpts=(4, 4, 4), ecut=400, ecut_gw=50, ppa=True)
    print(f"PBE {r.pbe_gap:.2f} eV, G0W0@PBE {r.gw_gap:.2f} eV, experiment {r.experiment} eV, {r.wall_s:.0f} s")
    assert 8.5 < r.pbe_gap < 9.5 and r.pbe_underestimate > 4.5  # PBE misses ~1/3 of the gap
    assert r.gw_gap == pytest.approx(14.2, abs=1.0)                # G0W0@PBE: ~13.3-14 eV in the literature
    assert r.gw_gap == pytest.approx(r.gw_direct_gap, abs=1e-6)   # direct gap at Gamma
