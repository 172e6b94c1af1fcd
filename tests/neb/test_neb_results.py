"""Barrier extraction and the typed results' JSON round trip."""
import json

import numpy as np
import pytest

from model_potentials import SinSquared, one_atom

from perovscreen.core.results import decode
from perovscreen.neb.band import run_band
from perovscreen.neb.results import NebPathway, NebResult, analyse_profile, pathway


def test_barriers_are_max_minus_ends():
    p = analyse_profile([-10.0, -9.8, -9.5, -9.7, -9.9])
    assert p["forward"] == pytest.approx(0.5) and p["reverse"] == pytest.approx(0.4) and p["i_max"] == 2


def test_spline_maximum_outside_the_path_is_not_used():
    """A monotonic profile: the spline's maximum lies beyond the final image (emmet #1255): the barrier
    stays max(E) - E0 and the spline is reported as not used."""
    p = analyse_profile([0.0, 0.3, 0.55, 0.75, 0.9])
    assert p["forward"] == pytest.approx(0.9) and p["reverse"] == 0.0
    assert p["spline"]["used"] is False and "outside the path" in p["spline"]["reason"]


def test_spline_inside_the_path_finds_the_true_top():
    x = np.linspace(0, 1, 6)  # no image at the top of sin^2(pi x): the spline finds it
    p = analyse_profile(np.sin(np.pi * x) ** 2)
    assert p["spline"]["used"] and p["spline"]["s"] == pytest.approx(0.5, abs=1e-6)
    assert p["spline"]["barrier"] == pytest.approx(1.0, abs=0.03)
    assert p["forward"] == pytest.approx(np.sin(0.4 * np.pi) ** 2)


def test_neb_result_and_pathway_round_trip(tmp_path):
    r = run_band(one_atom(0.0), one_atom(3.0), SinSquared(0.3, 3.0), n_images=3, fmax=1e-3,
                 hop={"mode": "vacancy", "supercell": [1, 1, 1]})
    back = decode(json.loads(json.dumps(r.to_dict())))
    assert isinstance(back, NebResult) and back == r
    assert back.images()[2].positions[0, 0] == pytest.approx(1.5, abs=1e-3)
    r.write_extxyz(tmp_path / "band.extxyz")
    from ase.io import read

    assert len(read(tmp_path / "band.extxyz", index=":")) == 5
    pw = pathway("Li", "vacancy", [r], [1, 1, 1], True, bvse={"E1D": 0.4})
    back = decode(json.loads(json.dumps(pw.to_dict())))
    assert isinstance(back, NebPathway) and isinstance(back.hops[0], NebResult)
    assert back.max_barrier == pytest.approx(0.3, abs=1e-3) and back == pw


def test_profile_plot(tmp_path):
    from perovscreen.neb.plots import plot_profile

    r = run_band(one_atom(0.0), one_atom(3.0), SinSquared(0.3, 3.0), n_images=3, fmax=1e-2)
    assert plot_profile([r], tmp_path / "p.png").stat().st_size > 5000
