"""Endpoints are checked before anything runs: atom count, species order, minimum-image displacement."""
import numpy as np
import pytest
from ase import Atoms

from perovscreen.core.errors import InputError
from perovscreen.neb.endpoints import check_endpoints


def cell(positions, symbols="LiLiO", a=8.0):
    return Atoms(symbols, positions=positions, cell=[a, a, a], pbc=True)


START = [[1.0, 1.0, 1.0], [4.0, 4.0, 4.0], [6.0, 1.0, 1.0]]


def test_atom_count_refused():
    with pytest.raises(InputError, match="atom count: 3 vs 2"):
        check_endpoints(cell(START), cell(START[:2], "LiLi"))


def test_species_order_refused():
    with pytest.raises(InputError, match="species order at atom 0: Li vs O"):
        check_endpoints(cell(START), cell(START, "OLiLi"))


def test_atom_crossing_the_cell_edge_is_taken_by_minimum_image():
    end = np.array(START)
    end[0] = [7.9, 1.0, 1.0]    # the mover: 1.0 -> -0.1 through the boundary (1.1 A), not 6.9 A across
    end[2] = [6.0, 8.99, 1.0]   # a spectator written one lattice vector away: 0.01 A, not 7.99 A
    a, b, info = check_endpoints(cell(START), cell(end))
    assert info["mover"] == 0 and info["hop_length"] == pytest.approx(1.1)
    assert info["max_other"] == pytest.approx(0.01)
    np.testing.assert_allclose(b.positions[0], [-0.1, 1.0, 1.0], atol=1e-9)  # end aligned to start


def test_two_atoms_moving_far_refused():
    end = np.array(START)
    end[0] += [2.0, 0, 0]
    end[1] += [0, 2.0, 0]
    with pytest.raises(InputError, match="moves 2.00 A besides the mover"):
        check_endpoints(cell(START), cell(end))


def test_identical_and_ambiguous_endpoints_refused():
    with pytest.raises(InputError, match="identical"):
        check_endpoints(cell(START), cell(START))
    end = np.array(START)
    end[0] += [4.0, 0, 0]  # half the cell: the hop and its periodic image are equally long
    with pytest.raises(InputError, match="ambiguous"):
        check_endpoints(cell(START), cell(end))


def test_different_cells_refused():
    with pytest.raises(InputError, match="different cells"):
        check_endpoints(cell(START), cell(START, a=8.5))
