"""`neb compare --published CSV`: reference barriers of extra structure files, read from the OBELiX split."""
from pathlib import Path

import pytest

from perovscreen.core.errors import InputError
from perovscreen.neb.compare import _names, load_published

OBELIX = Path("../shared/data/obelix/obelix_train.csv")


def test_obelix_activation_energies_by_id():
    pub = load_published(OBELIX)
    # Li3N (gvd, P6/mmm): 0.25 eV; Li(LaTiO4) (nua, layered perovskite): 0.83 eV, as in the CSV
    assert pub["gvd"][0] == 0.25 and "Li3N" in pub["gvd"][1]
    assert pub["nua"][0] == 0.83 and pub["nua"][2].startswith("10.")
    assert all(v[0] > 0 for v in pub.values())
    assert "jqc" in pub and len(pub) < 478  # rows without an Ea are skipped


def test_bad_published_file_is_one_line(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("name,value\na,1\n")
    with pytest.raises(InputError, match="needs an 'id'"):
        load_published(bad)
    with pytest.raises(InputError, match="cannot read"):
        load_published(tmp_path / "missing.csv")


def test_structure_names_are_stems_unless_they_clash():
    assert _names(["a/gvd.cif", "b/nua.cif"]) == ["gvd", "nua"]
    assert _names(["a/x.cif", "b/x.cif"]) == ["a/x.cif", "b/x.cif"]


def test_rows_in_completion_order_land_on_their_structures(monkeypatch):
    """Parallel jobs return rows as they finish; the table matches them to inputs by file (a stand-in batch
    runner here, returning rows in reverse order: the NEB itself is not the point of this test)."""
    import perovscreen.jobs.runner as runner
    from perovscreen.neb.compare import compare

    barriers = {"a/gvd.cif": 0.01, "a/nua.cif": 0.5, "a/bsa.cif": 0.8}

    def fake_batch(stage, files, params, opts):
        return [{"file": f, "status": "ok", "formula": f, "result": {"min_barrier": barriers[f], "hops": []}}
                for f in reversed(files)]

    monkeypatch.setattr(runner, "execute_batch", fake_batch)
    res = compare(["chgnet"], (), list(barriers), published=load_published(OBELIX))
    got = {r["structure"]: (r["chgnet"], r["published"]) for r in res["rows"]}
    assert got == {"gvd": (0.01, 0.25), "nua": (0.5, 0.83), "bsa": (0.8, 0.86)}
