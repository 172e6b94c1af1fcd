"""Dataset loaders: counts, censored rows, root resolution, offline download."""
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from perovscreen.data import download_obelix, load_liverpool, load_obelix, load_perov5
from perovscreen.core.errors import InputError

SHARED = Path("../shared/data")
pytestmark = pytest.mark.skipif(not (SHARED / "obelix").is_dir(), reason="../shared/data not present")


def test_obelix_counts_and_censoring():
    df = load_obelix()
    assert len(df) == 478
    assert df["has_cif"].sum() == 254
    assert df["activation_energy_eV"].notna().sum() == 238
    cen = df[df["censored"]]
    assert len(cen) == 29
    # censored rows carry the bound (1e-10 or 1e-8 S/cm), not a measurement
    assert set(np.round(cen["log10_sigma"], 6)) <= {-10.0, -8.0}
    assert all(Path(p).is_file() for p in df["cif_path"].dropna())


def test_root_resolution(monkeypatch, tmp_path):
    shared = SHARED.resolve()
    monkeypatch.setenv("PEROVSCREEN_DATA", str(shared))
    monkeypatch.chdir(tmp_path)  # ../shared/data no longer reachable: the env var must be used
    assert len(load_obelix()) == 478
    monkeypatch.delenv("PEROVSCREEN_DATA")
    with pytest.raises(InputError, match="obelix"):
        load_obelix()
    assert len(load_obelix(shared / "obelix")) == 478  # dataset folder itself also works


def test_liverpool_and_perov5():
    lv = load_liverpool(parsable_only=False)
    assert len(lv) == 678
    assert len(load_liverpool()) == 678 - 83
    rt = load_liverpool(near_room_temperature=True)
    assert rt["temperature_C"].between(15, 35).all()
    p5 = load_perov5(limit=3)
    assert len(p5) == 3 and all(len(s) == 5 for s in p5["structure"])
    assert np.isfinite(p5["heat_ref"]).all()


def test_download_obelix_from_local_file_url(tmp_path):
    """Offline: the 'release' is served from file:// URLs built here (upstream column names)."""
    src = tmp_path / "mirror"
    src.mkdir()
    (src / "train.csv").write_text(
        "ID,Reduced Composition,True Composition,Ionic conductivity (S cm-1),Family\n"
        "abc,Li3 O Cl,Li3 O1 Cl1,1.0E-6,antiperovskite\n"
        "def,Li2 O,Li8 O4,<1E-10,oxide\n")
    cif = (Path("../shared/data/obelix/cifs/jqc.cif")).read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("train_randomized_cifs/abc.cif")
        info.size = len(cif)
        tar.addfile(info, io.BytesIO(cif))
    (src / "cifs.tar.gz").write_bytes(buf.getvalue())
    dest = tmp_path / "dl"
    download_obelix(dest, url=(src / "train.csv").as_uri(), cifs_url=(src / "cifs.tar.gz").as_uri())
    df = load_obelix(dest)
    assert list(df["id"]) == ["abc", "def"]
    assert list(df["formula"]) == ["Li3OCl", "Li2O"]
    assert list(df["censored"]) == [False, True]
    assert df.loc[0, "log10_sigma"] == pytest.approx(-6.0)
    assert df.loc[0, "has_cif"] and not df.loc[1, "has_cif"]
