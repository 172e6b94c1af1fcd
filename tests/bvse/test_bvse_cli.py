"""`perovscreen bvse`: batch over files, errors recorded per structure, resume from the store, CSV."""
import csv

import pytest

from perovscreen.structures.examples import write_examples

cli = pytest.importorskip("perovscreen.cli.main")


def test_bvse_cli_batch_resume_and_csv(tmp_path, capsys):
    files = write_examples(tmp_path / "in", names=["Li3OCl", "SrTiO3"])
    args = ["bvse", *map(str, files), "--db", str(tmp_path / "r.db"), "--executor", "serial",
            "--resolution", "0.3", "--csv", str(tmp_path / "out.csv"), "--grid-dir", str(tmp_path / "grids")]
    assert cli.main(args) == 0
    rows = {r["id"]: r for r in csv.DictReader(open(tmp_path / "out.csv"))}
    assert rows["Li3OCl"]["status"] == "ok" and rows["Li3OCl"]["dimensionality"] == "3"
    assert float(rows["Li3OCl"]["E1D"]) == pytest.approx(float(rows["Li3OCl"]["E3D"]), abs=1e-6)
    assert rows["SrTiO3"]["status"] == "error" and "Li" in rows["SrTiO3"]["error"]
    assert len(list((tmp_path / "grids").glob("Li3OCl-*.cube"))) == 1  # <id>-<file hash>: same stems kept apart
    assert len(list((tmp_path / "grids").glob("Li3OCl-*.grd"))) == 1
    capsys.readouterr()
    assert cli.main(args) == 0  # second run: everything comes from the store
    assert "2 from the store" in capsys.readouterr().err
    assert len(list(csv.DictReader(open(tmp_path / "out.csv")))) == 2
