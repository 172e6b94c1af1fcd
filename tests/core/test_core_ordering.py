import numpy as np

from perovscreen.structures.examples import get_example
from perovscreen.structures.ordering import ordered_supercell, scaling_for


def test_ordered_supercell_reproducible_and_close_in_composition():
    s = get_example("LLTO_disordered")
    a, ra = ordered_supercell(s, min_length=10.0, seed=7)
    b, rb = ordered_supercell(s, min_length=10.0, seed=7)
    c, _ = ordered_supercell(s, min_length=10.0, seed=8)
    assert a.is_ordered
    assert a == b and ra == rb
    assert a != c  # another seed, another arrangement
    assert min(a.lattice.abc) >= 10.0
    # 27 A sites: La 15.3 -> 15, Li 8.1 -> 8 (largest remainder), each within one atom
    assert ra.achieved_composition["La"] == 15 and ra.achieved_composition["Li"] == 8
    assert ra.max_abs_deviation <= 0.5
    assert ra.achieved_composition["Ti"] == 27 and ra.achieved_composition["O"] == 81


def test_scaling_uses_perpendicular_widths():
    s = get_example("LiNbO3")  # hexagonal: perpendicular width a*sin(60) < a
    m = scaling_for(s, 10.0)
    sc = s * m
    lat = sc.lattice
    widths = lat.volume / np.linalg.norm(np.cross(lat.matrix[[1, 2, 0]], lat.matrix[[2, 0, 1]]), axis=1)
    assert np.all(widths >= 10.0)
    assert m[0] == 3  # 5.148 * sin(60) = 4.46 -> 3 cells


def test_ordered_input_is_unchanged_but_repeated():
    s = get_example("Li3OCl")
    o, r = ordered_supercell(s, min_length=7.0, seed=0)
    assert r.scaling == [2, 2, 2] and len(o) == 40 and r.max_abs_deviation == 0
