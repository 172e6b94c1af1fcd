"""DFT tasks and stages: the static stage through the runner (resume, JSON round trip, a failed SCF as a failed
run with its reason, a batch that goes on past a missing pseudopotential), a relaxation killed and continued,
the CLI, and VASP inputs (MP INCAR keys, POTCAR.spec, CI-NEB folders)."""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from perovscreen.core.results import decode
from perovscreen.dft.stage import DFT_STATIC
from perovscreen.dft.tasks import DFTResult, relax, saved_steps
from perovscreen.jobs.runner import RunOptions, execute_batch

ROOT = Path(__file__).resolve().parents[2]


def _rocksalt(tmp_path, name, a, anion="F", cation="Li"):
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [cation, anion], [[0, 0, 0], [0.5, 0.5, 0.5]])
    path = tmp_path / f"{name}.cif"
    s.get_primitive_structure().to(filename=str(path))
    return path


def test_static_stage_resumes_round_trips_and_reports_failures(engines, sssp, tmp_path):
    lif = _rocksalt(tmp_path, "LiF", 4.03)
    licl = _rocksalt(tmp_path, "LiI", 6.0, anion="I")   # no iodine pseudopotential in the folder
    opts = RunOptions(db=str(tmp_path / "r.db"), executor="serial", quiet=True)
    params = DFT_STATIC.make(engine="espresso", kpoint_density=0.8, pseudo_dir=str(sssp), workdir=str(tmp_path / "w"))
    rows = {r["id"]: r for r in execute_batch(DFT_STATIC, [str(lif), str(licl)], params, opts)}
    assert rows["LiI"]["status"] == "error" and "no pseudopotential for I in" in rows["LiI"]["error"]
    ok = rows["LiF"]
    assert ok["status"] == "ok", ok["error"]
    res = decode(ok["result"])
    assert isinstance(res, DFTResult) and res.kpts == [3, 3, 3] and res.ecut == pytest.approx(45 * 13.605693, rel=1e-6)
    assert 8.5 < res.band_gap < 9.5 and res.n_scf == 1 and Path(res.workdir).is_dir()
    assert decode(json.loads(json.dumps(res.to_dict()))) == res
    again = execute_batch(DFT_STATIC, [str(lif)], params, opts)[0]           # resumed, not recomputed
    assert again["resumed"] and decode(again["result"]).energy == res.energy
    # SCF non-convergence: a failed (runtime) run whose error says why
    bad = DFT_STATIC.make(engine="espresso", kpoint_density=0.8, pseudo_dir=str(sssp), maxiter=1,
                          workdir=str(tmp_path / "w"))
    row = execute_batch(DFT_STATIC, [str(lif)], bad, opts)[0]
    assert row["status"] == "error" and "SCF not converged after 1 iterations" in row["error"]


RELAX_SCRIPT = """
import sys
from ase.build import bulk
from perovscreen.dft.tasks import relax
a = bulk("LiF", "rocksalt", a=4.03)
a.positions[1] += [0.12, 0.06, 0.0]
r = relax(a, "espresso", sys.argv[1], fmax=0.01, steps=40, kpoint_density=0.5, ecut=300, pseudo_dir=sys.argv[2],
          conv_thr=1e-7)
print(r.steps, r.restarted_from)
"""


def test_relaxation_continues_after_a_kill(engines, sssp, tmp_path):
    work = tmp_path / "relax"
    script = tmp_path / "relax.py"
    script.write_text(RELAX_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(work), str(sssp)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(saved_steps(work / "relax.traj")) < 3 and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)   # the python driver and its pw.x
    proc.wait()
    frames = saved_steps(work / "relax.traj")
    assert len(frames) >= 3, proc.stderr.read().decode()[-500:]
    from ase.build import bulk

    a = bulk("LiF", "rocksalt", a=4.03)
    a.positions[1] += [0.12, 0.06, 0.0]
    res = relax(a, "espresso", work, fmax=0.01, steps=40, kpoint_density=0.5, ecut=300, pseudo_dir=str(sssp),
                conv_thr=1e-7)
    assert res.restarted_from == len(frames) - 1 and res.converged
    # the rerun started from the last saved geometry, not from the input one
    first_new = saved_steps(work / "relax.traj")[len(frames)]
    assert np.allclose(first_new.positions, frames[-1].positions, atol=0.2)
    assert res.initial_energy == pytest.approx(frames[0].get_potential_energy())
    assert res.energy < frames[-1].get_potential_energy() + 1e-4
    # F back on the inversion centre, Li-F = (a/2, 0, 0), up to the residual force and the egg-box error of this
    # deliberately low cutoff (0.01 A at the SSSP cutoff, ~0.04 A at 300 eV)
    d = res.structure.cart_coords[1] - res.structure.cart_coords[0]
    assert np.linalg.norm(d - [4.03 / 2, 0, 0]) < 0.06
    # a converged relaxation rerun does no new step
    again = relax(a, "espresso", work, fmax=0.01, steps=40, kpoint_density=0.5, ecut=300, pseudo_dir=str(sssp),
                conv_thr=1e-7)
    assert again.steps == res.steps and again.n_scf == 1


def _cli(argv, capsys):
    from perovscreen.cli import dft as cli_dft

    ap = argparse.ArgumentParser(prog="perovscreen")
    sub = ap.add_subparsers(dest="command", required=True)
    cli_dft.add_parser(sub)
    args = ap.parse_args(["dft", *argv])
    rc = args.func(args)
    return rc, *capsys.readouterr()


def test_vasp_inputs_are_materials_project_compatible(tmp_path, capsys):
    from pymatgen.io.vasp import Incar

    lif = _rocksalt(tmp_path, "LiF", 4.03)
    rc, _, _ = _cli(["vasp-inputs", str(lif), "-o", str(tmp_path / "v")], capsys)
    assert rc == 0
    incar = Incar.from_file(tmp_path / "v" / "INCAR")
    assert incar["ENCUT"] == 520 and incar["ISPIN"] == 2 and incar["EDIFF"] == pytest.approx(5e-5 * 2)  # per atom
    assert incar["IBRION"] == 2 and incar["ISIF"] == 3 and incar["LASPH"] is True
    assert (tmp_path / "v" / "POTCAR.spec").read_text().split() == ["Li_sv", "F"]
    assert not (tmp_path / "v" / "POTCAR").exists() and (tmp_path / "v" / "KPOINTS").is_file()


def test_vasp_neb_folders(tmp_path, capsys):
    from pymatgen.io.vasp import Incar, Poscar

    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    start, end = s.copy(), s.copy()
    start.remove_sites([0])   # a Li vacancy hop: the vacancy moves from site 0 to site 1
    end.remove_sites([1])
    start.to(filename=str(tmp_path / "i.vasp"), fmt="poscar")
    end.to(filename=str(tmp_path / "f.vasp"), fmt="poscar")
    rc, _, err = _cli(["vasp-inputs", str(tmp_path / "i.vasp"), str(tmp_path / "f.vasp"), "--task", "neb",
                       "--images", "3", "-o", str(tmp_path / "neb")], capsys)
    assert rc == 0, err
    out = tmp_path / "neb"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["00", "01", "02", "03", "04"]
    incar = Incar.from_file(out / "INCAR")
    assert incar["IMAGES"] == 3 and incar["LCLIMB"] is True and incar["IBRION"] == 3 and incar["POTIM"] == 0
    assert incar["IOPT"] == 1 and incar["SPRING"] == -5 and incar["ENCUT"] == 520
    mid = Poscar.from_file(out / "02" / "POSCAR").structure
    ends = [Poscar.from_file(out / d / "POSCAR").structure for d in ("00", "04")]
    assert len(mid) == len(ends[0]) == 7
    # the middle image sits halfway between the end points (linear interpolation)
    halfway = (ends[0].frac_coords + ends[1].frac_coords) / 2
    assert np.allclose(mid.frac_coords, halfway, atol=1e-6) or len({tuple(x) for x in mid.frac_coords.round(3)}) == 7
    rc, _, err = _cli(["vasp-inputs", str(tmp_path / "i.vasp"), "--task", "neb", "-o", str(tmp_path / "x")], capsys)
    assert rc == 2 and err.strip().count("\n") == 0 and "initial and the final" in err
