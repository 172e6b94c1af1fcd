"""`perovscreen md` through the main CLI: LAMMPS Li2O at three temperatures -> Arrhenius, JSON, plots."""
import json

import pytest
from ase.io import write
from ase.spacegroup import crystal

from perovscreen.cli.main import main
from perovscreen.md.engine_lammps import lammps_available


@pytest.mark.skipif(not lammps_available(), reason="LAMMPS Python module not installed")
def test_md_command_lammps_li2o(tmp_path, capsys):
    cif = tmp_path / "Li2O.cif"
    write(cif, crystal(["Li", "O"], [(0.25, 0.25, 0.25), (0, 0, 0)], spacegroup=225, cellpar=[4.61] * 3 + [90] * 3))
    out = tmp_path / "run"
    rc = main(["md", str(cif), "--temps", "1300", "1500", "1700", "--time", "1.2ps", "--equil", "0.3ps",
               "--timestep", "1", "--sample", "20", "--engine", "lammps", "--potential", "buckingham-li2o",
               "--min-length", "9", "--out", str(out), "--json"])
    assert rc == 0
    text = capsys.readouterr().out
    assert text.count("\n") == 1  # JSON lines: one object on one line
    d = json.loads(text)
    assert d["cell"]["supercell"] == [2, 2, 2] and d["engine"] == "lammps"
    assert [t["temperature"] for t in d["temperatures"]] == [1300.0, 1500.0, 1700.0]
    fit = d["arrhenius"]
    assert fit is not None, d["arrhenius_error"]
    assert fit["Ea"]["lower"] < fit["Ea"]["value"] < fit["Ea"]["upper"] and fit["Ea"]["unit"] == "eV"
    st = fit["sigma_target"]
    assert st["lower"] < st["value"] < st["upper"] and st["level"] == 0.95 and st["unit"] == "S/cm"
    for t in d["temperatures"]:
        assert t["D"] is None or (t["D"]["lower"] < t["D"]["value"] < t["D"]["upper"] and t["D"]["unit"] == "cm2/s")
    assert (out / "arrhenius.png").exists() and (out / "msd.png").exists()


def test_md_command_bad_input(tmp_path, capsys):
    assert main(["md", str(tmp_path / "nope.cif"), "--temps", "600"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["md", "SrTiO3", "--temps", "600", "--time", "1ps", "--out", str(tmp_path)]) == 2
    assert "contains no Li" in capsys.readouterr().err
