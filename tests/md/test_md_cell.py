"""MD cell construction: supercell widths, Schottky vacancies with charge balance, disordered inputs."""
import numpy as np
import pytest

from perovscreen.core.errors import InputError
from perovscreen.md.cell import build_md_cell
from perovscreen.cli.md import parse_time_ps
from perovscreen.structures.examples import get_example


def test_supercell_meets_min_length_li3ocl():
    cell, rep = build_md_cell(get_example("Li3OCl"), min_length=10.0)
    assert rep.supercell == [3, 3, 3] and len(cell) == 135  # 3.909 A * 3 = 11.7 A >= 10 A
    assert rep.formula_md == "Li81Cl27O27"


def test_hexagonal_cell_uses_perpendicular_widths():
    # LiNbO3 hexagonal a = 5.148 A: perpendicular width a*sin(60) = 4.46 A -> 3 repeats, not 2
    cell, rep = build_md_cell(get_example("LiNbO3"), min_length=10.0)
    assert rep.supercell[:2] == [3, 3]
    m = cell.lattice.matrix
    widths = [cell.volume / np.linalg.norm(np.cross(m[(i + 1) % 3], m[(i + 2) % 3])) for i in range(3)]
    assert min(widths) >= 10.0


def test_schottky_pair_keeps_cell_neutral():
    cell, rep = build_md_cell(get_example("Li3OCl"), min_length=7.0, vacancies=1, seed=3)
    assert rep.vacancies["removed"] == {"Li": 1, "Cl": 1}
    assert cell.composition["Li"] == 23 and cell.composition["Cl"] == 7 and cell.composition["O"] == 8
    assert sum(s.specie.oxi_state for s in cell) == pytest.approx(0.0)
    # reproducible for a seed
    cell2, _ = build_md_cell(get_example("Li3OCl"), min_length=7.0, vacancies=1, seed=3)
    assert np.allclose(cell.cart_coords, cell2.cart_coords)


def test_oxide_vacancies_need_whole_anions():
    with pytest.raises(InputError, match="whole O"):
        build_md_cell(get_example("LiNbO3"), min_length=7.0, vacancies=1)
    cell, rep = build_md_cell(get_example("LiNbO3"), min_length=7.0, vacancies=2)
    assert rep.vacancies["removed"] == {"Li": 2, "O": 1}


def test_uncompensated_vacancy_is_stated():
    _, rep = build_md_cell(get_example("Li3OCl"), min_length=7.0, vacancies=2, compensation="none")
    assert rep.vacancies["net_charge"] == -2


def test_disordered_input_goes_through_ordered_supercell():
    cell, rep = build_md_cell(get_example("LLTO_disordered"), min_length=7.0, seed=1)
    assert cell.is_ordered and rep.ordering is not None
    assert rep.ordering["seed"] == 1


def test_bad_inputs():
    with pytest.raises(InputError, match="no Li"):
        build_md_cell(get_example("SrTiO3"))
    with pytest.raises(InputError, match="compensation"):
        build_md_cell(get_example("Li3OCl"), min_length=7.0, vacancies=1, compensation="magic")


def test_time_parsing():
    assert parse_time_ps("50ps") == 50 and parse_time_ps("500fs") == 0.5 and parse_time_ps("1ns") == 1000
    assert parse_time_ps("20") == 20
    with pytest.raises(InputError):
        parse_time_ps("fifty")
