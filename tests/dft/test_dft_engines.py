"""DFT engines on rocksalt LiF (2-atom primitive cell, few k-points): pseudopotential lookup and SSSP cutoffs,
k-point grids, real pw.x and GPAW single points against the numbers in ../shared/pseudos/qe/README.md and PBE,
bad input (missing pseudopotential or package), SCF non-convergence, charge-density reuse, identities."""
import shutil

import numpy as np
import pytest
from ase.units import GPa, Ry

from perovscreen.core.errors import InputError
from perovscreen.dft.engines import SCFNotConverged, dft_calculator, engine_identity, kpoint_grid
from perovscreen.dft.espresso import cutoffs, find_pseudos

QE_LIF_SSSP_RY = -63.36475289  # README: pw.x 6.7, SSSP 45/360 Ry, 4x4x4, a = 4.03 A, P = 19.41 kbar


def test_sssp_and_dojo_cutoffs_are_the_maximum_over_elements(sssp, dojo):
    # README table: SSSP Li 40/320, F 45/360 Ry; PseudoDojo normal Li 74, F 84 Ry with ecutrho = 4 ecutwfc
    assert cutoffs(sssp, ["Li", "F"]) == pytest.approx((45.0, 360.0))
    assert cutoffs(dojo, ["Li", "F"]) == pytest.approx((84.0, 336.0))
    assert cutoffs(sssp, ["Li", "O", "La", "Ti"]) == pytest.approx((50.0, 400.0))  # O sets it
    wfc, rho = cutoffs(sssp, ["Li", "F"], ecut=544.2)  # eV given: the SSSP dual (8) is kept
    assert wfc == pytest.approx(544.2 / Ry) and rho == pytest.approx(8 * wfc)
    assert find_pseudos(sssp, ["Li", "F"]) == {"F": "F.upf", "Li": "Li.upf"}


def test_kpoint_grid_from_density(lif):
    # fcc primitive: |b| = 2 pi sqrt(3) / a = 2.700 A^-1, so n = ceil(2.700 * density)
    assert kpoint_grid(lif(), 1.2) == (4, 4, 4)
    assert kpoint_grid(lif(), 3.0) == (9, 9, 9)
    slab = lif()
    slab.pbc = (True, True, False)
    assert kpoint_grid(slab, 3.0) == (9, 9, 1)


def test_missing_pseudopotential_is_one_line_naming_the_element(engines, sssp, tmp_path):  # pw.x is checked first
    from ase.build import bulk

    with pytest.raises(InputError) as exc:
        dft_calculator("espresso", tmp_path, pseudo_dir=str(sssp), atoms=bulk("NaCl", "rocksalt", a=5.64))
    msg = str(exc.value)
    assert "\n" not in msg and "no pseudopotential for Na" in msg and "Cl" not in msg.split(" in ")[0]


def test_missing_packages_are_named(sssp, lif, tmp_path):
    # simulate an absent pw.x / GPAW by pointing the command and the python at files that do not exist
    with pytest.raises(InputError, match="quantum-espresso"):
        dft_calculator("espresso", tmp_path, pseudo_dir=str(sssp), atoms=lif(), command=["/nonexistent/pw.x"])
    with pytest.raises(InputError, match="gpaw gpaw-data"):
        dft_calculator("gpaw", tmp_path, atoms=lif(), python="/nonexistent/python3")
    with pytest.raises(InputError, match="unknown DFT engine"):
        dft_calculator("vasp", tmp_path)
    with pytest.raises(InputError, match="pseudopotential directory"):
        dft_calculator("espresso", tmp_path, atoms=lif())


def test_pw_x_single_point_matches_the_reference_run(engines, sssp, lif, tmp_path):
    a = lif()
    calc = dft_calculator("espresso", tmp_path / "qe", kpoint_density=1.2, pseudo_dir=str(sssp), atoms=a,
                          conv_thr=1e-6)
    a.calc = calc
    e = a.get_potential_energy()
    assert calc.kpts == (4, 4, 4) and (calc.ecutwfc, calc.ecutrho) == pytest.approx((45, 360))
    assert e == pytest.approx(QE_LIF_SSSP_RY * Ry, abs=2e-3)  # same input up to the tiny smearing
    p_kbar = -np.mean(a.get_stress()[:3]) / GPa * 10
    assert p_kbar == pytest.approx(19.41, abs=2.0)            # compressed at 4.03 A: PBE a is ~4.06-4.07 A
    assert np.abs(a.get_forces()).max() < 1e-4                # every atom on an inversion centre
    assert 8.5 < calc.info["band_gap"] < 9.5                  # PBE LiF gap ~9 eV (experiment 14.2 eV)
    assert calc.info["converged"] and calc.info["iterations"] > 1 and calc.info["reused"] == ""
    for name in ("pw.in", "pw.out", "out/pw.save/charge-density.dat"):  # the working directory is kept
        assert (tmp_path / "qe" / name).is_file()
    # the next geometry starts from the saved density and wavefunctions (same k-point set under isotropic strain)
    a.set_cell(a.cell * 1.01, scale_atoms=True)
    e2 = a.get_potential_energy()
    assert calc.info["reused"] == "density+wavefunctions" and calc.info["converged"]
    assert e2 < e + 0.5 and len(calc.history) == 2


def test_gpaw_single_point_in_the_debian_python(engines, lif, tmp_path):
    a = lif()
    calc = dft_calculator("gpaw", tmp_path / "gpaw", kpoint_density=0.8, ecut=400, atoms=a, conv_thr=1e-5)
    a.calc = calc
    a.get_potential_energy()
    s = a.get_stress()
    assert calc.kpts == (3, 3, 3) and calc.info["gpaw_version"].startswith("22.")
    assert np.abs(a.get_forces()).max() < 1e-3
    assert s[0] == pytest.approx(s[1]) == pytest.approx(s[2]) and np.abs(s[3:]).max() < 1e-6  # cubic
    assert 8.5 < calc.info["band_gap"] < 9.5 and calc.info["band_gap"] == pytest.approx(calc.info["direct_gap"])
    assert (tmp_path / "gpaw" / "gpaw.txt").is_file() and (tmp_path / "gpaw" / "result.json").is_file()


@pytest.mark.parametrize("engine", ["espresso", "gpaw"])
def test_scf_non_convergence_fails_with_its_reason(engines, engine, sssp, lif, tmp_path):
    a = lif()
    a.calc = dft_calculator(engine, tmp_path, kpoint_density=0.5, ecut=300, pseudo_dir=str(sssp), atoms=a,
                            maxiter=1)
    with pytest.raises(SCFNotConverged, match=r"not converged after 1 iterations \(maxiter=1\)"):
        a.get_potential_energy()
    assert a.calc.info["converged"] is False


def test_identity_hashes_the_pseudopotential_files(sssp, tmp_path):
    ident = engine_identity("espresso", str(sssp), ["Li", "F"])
    assert set(ident["pseudos"]) == {"Li.upf", "F.upf"} and all(len(h) == 64 for h in ident["pseudos"].values())
    assert "quantum-espresso" in ident["packages"]
    copy = tmp_path / "pseudos"
    shutil.copytree(sssp, copy)
    assert engine_identity("espresso", str(copy), ["Li", "F"]) == ident  # the path does not matter
    with open(copy / "F.upf", "a") as fh:
        fh.write("\n")
    assert engine_identity("espresso", str(copy), ["Li", "F"])["pseudos"]["F.upf"] != ident["pseudos"]["F.upf"]
    assert set(engine_identity("gpaw")["packages"]) == {"gpaw", "gpaw-data"}
