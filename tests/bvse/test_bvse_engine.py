"""BVSE energies and barriers on known structures, invariances, disorder, errors and writers."""
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from perovscreen.bvse import compute_bvse
from perovscreen.bvse.stage import BVSE, run_bvse
from perovscreen.bvse.framework import COULOMB_EV_A
from perovscreen.bvse.params import load_table
from perovscreen.bvse.writers import read_cube, read_grd
from perovscreen.core.errors import InputError
from perovscreen.structures import get_example


@pytest.fixture(scope="module")
def lfp():
    return get_example("LiFePO4")


@pytest.fixture(scope="module")
def li3ocl():
    return get_example("Li3OCl")


def direct_energy(structure, ion, frac_point, screening=0.74, cutoff=10.0):
    """Site energy at one point by explicit summation over pymatgen neighbours (reference for the kernel)."""
    table = load_table()
    mkey = f"{ion}+1"
    r_m, n_m = table.radius(ion, 1), table.n(ion)
    frame = structure.copy()
    frame.remove_species([sp for sp in structure.types_of_species if sp.symbol == ion])
    cart = structure.lattice.get_cartesian_coords(frac_point)
    e = 0.0
    for nb in frame.get_sites_in_sphere(cart, cutoff):
        r = max(nb.nn_distance, 1e-3)
        for sp, occ in nb.species.items():
            q = sp.oxi_state
            if q < 0:
                p = table.pair(mkey, f"{sp.symbol}{int(q):+d}")
                e += occ * 0.5 * p.d0 * ((math.exp((p.rmin - r) / p.b) - 1) ** 2 - 1)
            else:
                rho = screening * (r_m + table.radius(sp.symbol, q))
                e += occ * COULOMB_EV_A * q / math.sqrt(n_m * table.n(sp.symbol)) / r * math.erfc(r / rho)
    return e


def test_kernel_matches_direct_sum(lfp):
    res = compute_bvse(lfp, resolution=0.5)
    rng = np.random.default_rng(0)
    n = np.array(res.energy.shape)
    for _ in range(6):
        ijk = tuple(rng.integers(0, n))
        assert res.energy[ijk] == pytest.approx(direct_energy(lfp, "Li", np.array(ijk) / n), abs=1e-6)


def test_grid_has_no_duplicated_plane(lfp):
    res = compute_bvse(lfp, resolution=0.3)
    lengths = np.array(lfp.lattice.abc)
    assert res.grid_shape == tuple(int(math.ceil(x / 0.3)) for x in lengths)
    assert all(s <= 0.3 for s in res.spacing)
    assert not np.allclose(res.energy[0], res.energy[-1])  # last plane is not a copy of the first


def test_lifepo4_matches_bvlain_published_1d_barrier(lfp):
    """bvlain README: E1D 0.4395 eV at 0.1 A with ASE covalent radii (its default)."""
    res = compute_bvse(lfp, resolution=0.1, covalent_radii="ase")
    assert res.barriers["E1D"] == pytest.approx(0.4395, abs=0.02)
    assert res.barriers["E2D"] > 3.0 and res.barriers["E3D"] > 3.0
    b1 = res.bottlenecks[0]
    assert b1["wrap_vector"] in ([0, 1, 0], [0, -1, 0])  # olivine channel along b
    path = res.paths[0]
    assert max(path["energy"]) == pytest.approx(res.barriers["E1D"], abs=1e-4)
    assert abs(path["wrap_vector"][1]) == 1


def test_lifepo4_softbv_radii(lfp):
    res = compute_bvse(lfp, resolution=0.2)
    assert 0.35 < res.barriers["E1D"] < 0.5
    assert min(res.barriers["E2D"], res.barriers["E3D"]) > res.barriers["E1D"] + 2.5
    assert res.minima[0]["energy"] == 0.0
    li = [s.frac_coords for s in lfp if s.specie.symbol == "Li"]
    d = lfp.lattice.get_all_distances(np.array([m["frac"] for m in res.minima[:4]]), np.array(li))
    assert d.min(axis=1).max() < 0.3  # the lowest sites are the Li 4a sites


def test_li3ocl_isotropic(li3ocl):
    res = compute_bvse(li3ocl, resolution=0.2)
    e = res.barriers
    assert math.isfinite(e["E3D"]) and 0.2 < e["E1D"] < 1.0
    assert e["E1D"] == pytest.approx(e["E2D"], abs=1e-9) and e["E1D"] == pytest.approx(e["E3D"], abs=1e-9)
    assert res.dimensionality == 3


def test_supercell_and_origin_invariance(li3ocl, lfp):
    base = compute_bvse(li3ocl, resolution=0.2).barriers  # 20 points per 3.909 A, 40 in the 2x cell
    sc = compute_bvse(li3ocl * (2, 1, 1), resolution=0.2).barriers
    for k in base:
        assert sc[k] == pytest.approx(base[k], abs=1e-6)
    ref = compute_bvse(lfp, resolution=0.2).barriers
    for shift, tol1, tol23 in (([0.5, 0.5, 0.5], 1e-6, 1e-6), ([0.13, 0.37, 0.71], 0.02, 0.1)):
        t = lfp.copy()
        t.translate_sites(range(len(t)), shift, frac_coords=True)
        got = compute_bvse(t, resolution=0.2).barriers
        assert got["E1D"] == pytest.approx(ref["E1D"], abs=tol1)
        assert got["E3D"] == pytest.approx(ref["E3D"], abs=tol23)


def test_llto_disorder_opens_blocked_direction():
    ordered = compute_bvse(get_example("LLTO_ordered"), resolution=0.2).barriers
    disordered = compute_bvse(get_example("LLTO_disordered"), resolution=0.2).barriers
    assert ordered["E3D"] - ordered["E2D"] > 2.0  # La-full layers block transport along c
    assert math.isfinite(disordered["E3D"])
    assert disordered["E3D"] == pytest.approx(disordered["E1D"], abs=1e-6)  # cubic average structure
    assert disordered["E3D"] < ordered["E3D"] - 2.0


def test_occupancy_weighting_is_linear(li3ocl):
    """A framework site at occupancy 0.5 contributes exactly half its full-occupancy energy."""
    full = li3ocl * (2, 1, 1)
    idx = [i for i, s in enumerate(full) if s.specie.symbol == "Cl"][0]
    half, none = full.copy(), full.copy()
    half.replace(idx, {"Cl-": 0.5}, coords=full[idx].frac_coords)
    none.remove_sites([idx])
    e = {k: compute_bvse(s, resolution=0.4).energy for k, s in (("f", full), ("h", half), ("n", none))}
    np.testing.assert_allclose(e["h"], 0.5 * (e["f"] + e["n"]), rtol=1e-9, atol=1e-9)


def test_mixed_site_keeps_cohabiting_framework_species():
    s = get_example("SrTiO3")
    s.replace(0, {"Sr2+": 0.5, "Li+": 0.5}, coords=[0, 0, 0])
    t = get_example("SrTiO3")
    t.replace(0, {"Sr2+": 0.5}, coords=[0, 0, 0])
    t.append("Li+", [0.5, 0.5, 0.0])  # elsewhere: removed anyway
    np.testing.assert_allclose(compute_bvse(s, resolution=0.4).energy, compute_bvse(t, resolution=0.4).energy,
                               atol=1e-9)


def test_oxidation_states_guessed_when_missing(lfp):
    bare = lfp.copy()
    bare.remove_oxidation_states()
    res = compute_bvse(bare, resolution=0.3)
    assert res.oxidation_source == "bvanalyzer"
    assert res.barriers["E1D"] == pytest.approx(compute_bvse(lfp, resolution=0.3).barriers["E1D"], abs=1e-9)


def test_errors_name_the_problem(lfp):
    with pytest.raises(InputError, match="contains no Li"):
        compute_bvse(get_example("SrTiO3"))
    with pytest.raises(InputError, match="resolution"):
        compute_bvse(lfp, resolution=-1)
    s = Structure(Lattice.cubic(4.0), ["Li+", "Au-"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(InputError, match="Li\\+1/Au-1"):
        compute_bvse(s)


def test_energy_cap_gives_inf_not_error(li3ocl):
    res = compute_bvse(li3ocl, resolution=0.3, energy_cap=0.05)
    assert all(math.isinf(v) for v in res.barriers.values())
    d = json.loads(json.dumps(res.to_dict()))
    assert d["barriers"] == {"E1D": "inf", "E2D": "inf", "E3D": "inf"}
    assert float(d["barriers"]["E1D"]) == math.inf


def test_d0_convention_full_scales_morse(li3ocl):
    """Li3OCl has no framework cations: the full-D0 landscape is exactly twice the half-D0 one."""
    h = compute_bvse(li3ocl, resolution=0.4)
    f = compute_bvse(li3ocl, resolution=0.4, d0_convention="full")
    np.testing.assert_allclose(f.energy, 2 * h.energy, rtol=1e-12)
    assert f.barriers["E3D"] == pytest.approx(2 * h.barriers["E3D"])


def test_screening_tuning_zero_pressure(lfp):
    from perovscreen.bvse.screening import _pair_arrays, virial
    res = compute_bvse(lfp, resolution=0.3, tune_screening=True)
    f = res.params["screening"]
    info = res.screening_info
    assert info["converged"] and 0.3 < f < 2.0
    pairs = _pair_arrays(res.structure, load_table(), 10.0, 0.5)
    assert abs(virial(pairs, f)) < 1e-2 * abs(virial(pairs, 0.3))
    assert virial(pairs, f - 0.05) > 0 > virial(pairs, f + 0.05)  # monotone: more screening, less push


def test_writers_round_trip(lfp, tmp_path):
    res = compute_bvse(lfp, resolution=0.4)
    res.write_cube(tmp_path / "e.cube")
    res.write_grd(tmp_path / "e.grd")
    data, lat = read_cube(tmp_path / "e.cube")
    np.testing.assert_allclose(data, res.energy - res.e_min, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lat, lfp.lattice.matrix, atol=1e-5)
    g, cellpar = read_grd(tmp_path / "e.grd")
    np.testing.assert_allclose(g, res.energy - res.e_min, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(cellpar, list(lfp.lattice.abc) + list(lfp.lattice.angles), atol=1e-5)


def test_stage_function_json(lfp):
    rec = SimpleNamespace(structure=lfp, ion="Li")
    out = run_bvse(rec, BVSE.make(resolution=0.3, cutoff=10.0)).to_dict()
    json.dumps(out)
    assert out["barriers"]["E1D"] < 1.0 and out["ion"] == "Li+1" and out["@type"] == "BVSEResult"
    with pytest.raises(InputError):
        run_bvse(SimpleNamespace(structure=get_example("SrTiO3"), ion="Li"), BVSE.make())
