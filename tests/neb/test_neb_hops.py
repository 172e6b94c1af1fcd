"""Distinct hops and their endpoint supercells (no calculator): widths, minimum image, both modes."""
import numpy as np
import pytest

from perovscreen.core.errors import InputError
from perovscreen.neb.endpoints import check_endpoints
from perovscreen.neb.hops import bvse_map, distinct_hops, hop_endpoints
from perovscreen.structures.examples import get_example


@pytest.fixture(scope="module")
def li3ocl():
    s = get_example("Li3OCl")
    return s, distinct_hops(s)[0]


def test_li3ocl_has_one_distinct_hop_the_nearest_neighbour_edge(li3ocl):
    s, hops = li3ocl
    assert len(hops) == 1 and hops[0].length == pytest.approx(3.909 / np.sqrt(2), abs=1e-3)


@pytest.mark.parametrize("min_length,scale,n", [(0.0, [2, 2, 1], 19), (7.8, [2, 2, 2], 39), (10.0, [3, 3, 3], 134)])
def test_vacancy_supercells_wide_enough_and_index_matched(li3ocl, min_length, scale, n):
    s, hops = li3ocl
    start, end, info = hop_endpoints(s, hops[0], "vacancy", min_length)
    assert info["supercell"] == scale and len(start) == len(end) == n
    assert min(start.lattice.abc) >= min_length
    _, _, chk = check_endpoints(start, end)
    assert chk["hop_length"] == pytest.approx(hops[0].length, abs=1e-4) and chk["max_other"] < 1e-6
    assert chk["mover_symbol"] == "Li"


def test_interstitial_is_one_li_in_the_li_free_host(li3ocl):
    s, hops = li3ocl
    start, end, info = hop_endpoints(s, hops[0], "interstitial", 0.0)
    assert start.composition.as_dict() == {"Li": 1, "O": 4, "Cl": 4} and len(start) == 9
    assert check_endpoints(start, end)[2]["hop_length"] == pytest.approx(hops[0].length, abs=1e-4)


def test_bvse_locates_the_hop_on_the_percolation_path(li3ocl):
    s, hops = li3ocl
    barriers, per_hop = bvse_map(s, hops)
    assert barriers["E3D"] == pytest.approx(0.49, abs=0.01)  # docs/bvse.md
    assert per_hop[0]["on_bvse_path"]


def test_no_li_refused():
    with pytest.raises(InputError, match="contains no Li"):
        distinct_hops(get_example("SrTiO3"))
