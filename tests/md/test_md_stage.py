"""The md stage: MDParams (defaults, validation, CLI), identities, typed MDResult round trip, and the
stale-run guard: a work folder holding a run of another structure, potential or cell is never reused."""
import dataclasses
import json
import time
from types import SimpleNamespace

import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from test_md_engine import SETTINGS, cu3au

from perovscreen.core.errors import InputError
from perovscreen.core.results import decode
from perovscreen.md.engine_ase import MDSettings, run_ase
from perovscreen.md.engine_lammps import lammps_available
from perovscreen.md.runner import AnalysisSettings, MDResult, run_md
from perovscreen.md.identity import md_identity
from perovscreen.md.settings import DEFAULTS
from perovscreen.md.stage import MD

needs_lammps = pytest.mark.skipif(not lammps_available(), reason="LAMMPS Python module not installed")


def cu3au_structure(a=3.75, swap=False) -> Structure:
    """L1_2 Cu3Au (Au mobile, for EMT); swap=True exchanges two species on one site class (another cell)."""
    au, cu = ("Cu", "Au") if swap else ("Au", "Cu")
    return Structure(Lattice.cubic(a), [au, cu, cu, cu], [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


# ---- parameters -------------------------------------------------------------------------------------
def test_defaults_are_written_once():
    p = MD.make()
    assert p == DEFAULTS and p.temperatures == (1000.0, 1200.0) and p.time_ps == 50.0
    assert (p.equilibration_ps, p.timestep_fs, p.sample_fs, p.thermostat) == (5.0, 2.0, 50.0, "nhc")
    assert (p.calculator, p.engine, p.min_length, p.vacancies, p.compensation) == ("chgnet", "ase", 10.0, 0, "schottky")
    assert (p.haven, p.fit_window_ps, p.seed) == (1.0, None, 0)
    s = MDSettings()  # the engine's defaults come from MDParams
    assert (s.time_ps, s.equil_ps, s.timestep_fs, s.sample_fs, s.checkpoint_steps, s.thermostat, s.seed) == (
        p.time_ps, p.equilibration_ps, p.timestep_fs, p.sample_fs, p.checkpoint_steps, p.thermostat, p.seed)
    assert AnalysisSettings().haven_ratio == p.haven and AnalysisSettings().fit_window_ps is None
    assert set(MD.execution(p)) == {"model_path", "device", "checkpoint_steps", "workdir", "jobs"}
    assert "temperatures" in MD.science(p) and "workdir" not in MD.science(p)


@pytest.mark.parametrize("values,match", [
    ({"time_ps": -1.0}, "md time_ps: must be > 0"),
    ({"equilibration_ps": -0.5}, "md equilibration_ps: must be >= 0"),
    ({"temperatures": (300.0, -5.0)}, "md temperatures: must be > 0"),
    ({"thermostat": "berendsen"}, "md thermostat: must be one of"),
    ({"engine": "gromacs"}, "md engine"),
    ({"vacancies": -1}, "md vacancies"),
    ({"timestep_fs": "2"}, "md timestep_fs: expected float"),
    ({"fit_window_ps": (5.0, 2.0)}, "fit_window_ps"),
    ({"fit_window_ps": (1.0,)}, "fit_window_ps"),
    ({"jobs": 0}, "md jobs"),
    ({"temp": 300}, "unknown parameter"),
])
def test_validation_names_the_parameter(values, match):
    with pytest.raises(InputError, match=match):
        MD.make(values)


def test_cli_flags_come_from_mdparams():
    import argparse

    from perovscreen.cli.md import add_parser, params_from_cli

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["md", "x.cif", "--temps", "600", "800", "--time", "500fs", "--equil", "1ps",
                              "--potential", "buckingham-li2o", "--engine", "lammps", "--min-length", "9",
                              "--vacancies", "2", "--fit-window", "0.1", "0.3", "--out", "W", "-j", "2"])
    p = params_from_cli(args)
    assert p.temperatures == (600.0, 800.0) and p.time_ps == 0.5 and p.equilibration_ps == 1.0
    assert (p.calculator, p.engine, p.min_length, p.vacancies) == ("buckingham-li2o", "lammps", 9.0, 2)
    assert p.fit_window_ps == (0.1, 0.3) and p.workdir == "W" and p.jobs == 2
    assert params_from_cli(parser.parse_args(["md", "x.cif"])) == DEFAULTS
    with pytest.raises(InputError, match="time_ps"):
        params_from_cli(parser.parse_args(["md", "x.cif", "--time", "0ps"]))


def test_identities_of_universal_and_classical_potentials(tmp_path):
    ident = MD.identities(DEFAULTS)
    assert ident["potential"] == "chgnet" and ident["package"].startswith("chgnet==")
    cl = md_identity("buckingham-li2o", "lammps")
    assert cl["potential"] == "buckingham-li2o" and cl["engine"] == "lammps" and len(cl["parameters"]) == 16
    assert md_identity("buckingham-li2o", "openmm")["engine"] == "openmm"
    f = tmp_path / "pot.json"
    f.write_text(json.dumps({"charges": {"Li": 0.6, "O": -1.2}, "cutoff": 8.0,
                             "pairs": {"Li-O": [41051.938, 0.15116, 0], "O-O": [2029.2204, 0.343645, 192.58],
                                       "Li-Li": [0, 1, 0]}}))
    fi = md_identity("mine", "lammps", str(f))
    assert len(fi["file_sha256"]) == 64 and fi["parameters"] != cl["parameters"]
    with pytest.raises(InputError, match="unknown classical potential"):
        md_identity("chgnet", "lammps")
    assert md_identity(EMT(), "ase")["calculator"].endswith("EMT")
    # different science settings -> different resume keys; execution options leave the key alone
    assert MD.resume_key(DEFAULTS) != MD.resume_key(MD.make(min_length=12.0))
    assert MD.resume_key(DEFAULTS) == MD.resume_key(MD.make(jobs=4, device="cuda", workdir="elsewhere"))


# ---- the stale-run bug ------------------------------------------------------------------------------
def test_another_structure_in_the_same_workdir_is_not_given_the_old_trajectory(tmp_path):
    """md A --out W; md B --out W (same options) used to report B with A's trajectory."""
    s = MDSettings(**SETTINGS)
    a = run_md(cu3au_structure(), [600.0], s, potential=EMT(), workdir=tmp_path / "W", min_length=7.0)
    assert not a.failed and a.cell.formula_md == "Cu24Au8"
    b_fresh = run_md(cu3au_structure(3.80), [600.0], s, potential=EMT(), workdir=tmp_path / "B", min_length=7.0)
    assert b_fresh.temperatures[0].to_dict() != a.temperatures[0].to_dict()
    for structure, kw in ((cu3au_structure(3.80), {}),                     # another lattice
                          (cu3au_structure(swap=True), {}),                # other species on the sites
                          (cu3au_structure(), {"min_length": 11.0}),       # --min-length: another cell
                          (cu3au_structure(), {"potential": LennardJones(sigma=2.3, epsilon=0.1)})):  # --potential
        kw = {"potential": EMT(), "min_length": 7.0, **kw}
        if structure.composition["Au"] == 24:  # swapped: the mobile ion is Cu in the same positions
            s2 = dataclasses.replace(s, mobile="Cu")
        else:
            s2 = s
        with pytest.raises(InputError, match="other settings"):
            run_md(structure, [600.0], s2, workdir=tmp_path / "W", **kw)
    # the same run is reused (not rerun), also with another checkpoint interval (an execution option)
    t0 = time.perf_counter()
    again = run_md(cu3au_structure(), [600.0], dataclasses.replace(s, checkpoint_steps=30), potential=EMT(),
                   workdir=tmp_path / "W", min_length=7.0)
    assert time.perf_counter() - t0 < 5
    assert again.temperatures[0].to_dict() == a.temperatures[0].to_dict()


def test_engine_refuses_a_finished_run_of_another_cell_or_calculator(tmp_path):
    s = MDSettings(**SETTINGS)
    ref = run_ase(cu3au(), EMT(), 600.0, s, tmp_path)
    other = cu3au()
    other.positions[0] += 0.05
    with pytest.raises(InputError, match="other settings"):
        run_ase(other, EMT(), 600.0, s, tmp_path)
    with pytest.raises(InputError, match="other settings"):
        run_ase(cu3au(), LennardJones(sigma=2.3), 600.0, s, tmp_path)
    with pytest.raises(InputError, match="other settings"):
        run_ase(cu3au(), EMT(), 600.0, s, tmp_path, identity={"potential": "chgnet", "model": "x"})
    assert np.array_equal(run_ase(cu3au(), EMT(), 600.0, s, tmp_path).positions, ref.positions)


def test_vacancies_change_the_run_key():
    from perovscreen.md.cell import build_md_cell
    from perovscreen.md.runner import run_key_for
    from perovscreen.structures.examples import get_example

    keys = set()
    for vac in (0, 1):
        cell, _ = build_md_cell(get_example("Li3OCl"), 7.0, vacancies=vac)
        cell.remove_oxidation_states()
        keys.add(run_key_for(AseAtomsAdaptor.get_atoms(cell), 600.0, MDSettings(), "ase", "chgnet", {"p": 1}))
    assert len(keys) == 2


# ---- the stage and the typed result ------------------------------------------------------------------
def li2o_structure(a=4.61) -> Structure:
    return Structure(Lattice.cubic(a), ["Li"] * 8 + ["O"] * 4,
                     [[x, y, z] for x in (0.25, 0.75) for y in (0.25, 0.75) for z in (0.25, 0.75)]
                     + [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


TINY = dict(temperatures=(1500.0, 1800.0), time_ps=0.4, equilibration_ps=0.05, timestep_fs=1.0, sample_fs=10.0,
            calculator="buckingham-li2o", engine="lammps", min_length=4.0)


@needs_lammps
def test_stage_runs_in_its_own_folder_and_result_round_trips(tmp_path):
    params = MD.make(TINY, workdir=str(tmp_path))
    rec = SimpleNamespace(id="li2o", key="f00:0", structure=li2o_structure(), ion="Li")
    res = MD.run(rec, params)
    assert isinstance(res, MDResult) and not res.failed and len(res.temperatures) == 2
    folders = [p.name for p in tmp_path.iterdir()]
    assert len(folders) == 1 and folders[0].startswith("li2o-")
    assert all(r.curve is None and r.msd is None for r in res.temperatures)  # summary only
    assert (res.arrhenius_plot is not None) == (res.arrhenius is not None)
    assert res.identity == md_identity("buckingham-li2o", "lammps")
    d = json.loads(json.dumps(res.to_dict()))
    assert d["@type"] == "MDResult" and d["cell"]["@type"] == "CellReport"
    back = MDResult.from_dict(d)
    assert json.dumps(back.to_dict()) == json.dumps(res.to_dict())
    assert isinstance(decode(d), MDResult) and back.failed == res.failed
    assert back.cell == res.cell and back.settings == res.settings and back.analysis == res.analysis
    # another structure (same id) or other settings -> another folder, never the first one's result
    rec2 = SimpleNamespace(id="li2o", key="bar:0", structure=li2o_structure(4.5), ion="Li")
    MD.run(rec2, params)
    MD.run(rec, MD.make(TINY, workdir=str(tmp_path), seed=1))
    assert len(list(tmp_path.iterdir())) == 3


@needs_lammps
def test_md_command_json_is_one_line_and_stale_out_is_refused(tmp_path, capsys):
    from ase.io import write
    from perovscreen.cli.main import main

    a, b = tmp_path / "A.cif", tmp_path / "B.cif"
    write(a, AseAtomsAdaptor.get_atoms(li2o_structure()))
    write(b, AseAtomsAdaptor.get_atoms(li2o_structure(4.5)))
    opts = ["--temps", "1500", "--time", "0.3ps", "--equil", "50fs", "--timestep", "1", "--sample", "10",
            "--engine", "lammps", "--potential", "buckingham-li2o", "--min-length", "4", "--out", str(tmp_path / "W")]
    assert main(["md", str(a), *opts, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    d = json.loads(out)
    assert d["@type"] == "MDResult" and d["temperatures"][0]["temperature"] == 1500.0
    assert main(["md", str(b), *opts]) == 2
    assert "other settings" in capsys.readouterr().err
    assert main(["md", str(a), *opts, "--min-length", "9"]) == 2
    assert "other settings" in capsys.readouterr().err
    assert main(["md", str(a), *opts, "--time", "0ps"]) == 2
    assert "md time_ps: must be > 0" in capsys.readouterr().err
    assert main(["md", str(a), *opts]) == 0  # the same run again: reused
    assert "Li2O" in capsys.readouterr().out


def test_too_few_frames_is_refused_before_any_md(tmp_path):
    """0.4 ps sampled every 50 fs is 9 frames: every analysis would fail after the MD (the demo's MD did);
    the run is refused up front with the numbers, and nothing is written."""
    s = MDSettings(time_ps=0.4, equil_ps=0.1, sample_fs=50.0, mobile="Au")
    with pytest.raises(InputError, match="gives 9 frames; the MSD fit needs at least 20"):
        run_md(cu3au_structure(), [600.0], s, potential=EMT(), workdir=tmp_path / "W", min_length=7.0)
    assert not (tmp_path / "W").exists()
