"""`perovscreen ml predict`: JSON lines per input, clear errors for malformed compositions files."""
import argparse
import json

import pytest

from perovscreen.cli.ml import add_parser
from perovscreen.ml.dataset import obelix_table
from perovscreen.ml.train import save_property_model, train_model


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    table = obelix_table()
    model, card = train_model(table, ["log10_sigma", "Ea"], n_estimators=20, grid={})
    path = tmp_path_factory.mktemp("models") / "comp.skops"
    save_property_model(model, card, path)
    return path


def run(argv):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_predict_json_lines(model_path, tmp_path, capsys):
    f = tmp_path / "c.json"
    f.write_text(json.dumps(["Li3OCl", {"id": "llto", "formula": "Li0.33La0.56TiO3"}, "Li2Qq"]))
    rc = run(["ml", "predict", str(f), "--model-path", str(model_path), "--json", "--db", str(tmp_path / "r.db")])
    assert rc == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["c-0", "llto", "c-2"]
    assert [r["status"] for r in rows] == ["ok", "ok", "error"]
    assert "unknown element 'Qq'" in rows[2]["error"]
    p = rows[1]["predictions"]["log10_sigma"]
    assert p["lower"] < p["value"] < p["upper"] and p["level"] == 0.9
    assert set(rows[0]["predictions"]) == {"log10_sigma", "Ea"}
    # results are in the store
    from perovscreen.store import open_store

    with open_store(tmp_path / "r.db") as st:
        assert sum(r["stage"] == "ml" for r in st.runs("ml")) == 3


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"formula": "Li3OCl"}', "expected a JSON list"),
    ('[{"id": 1}]', "entry 0"),
])
def test_predict_malformed_file(model_path, tmp_path, capsys, content, message):
    f = tmp_path / "bad.json"
    f.write_text(content)
    rc = run(["ml", "predict", str(f), "--model-path", str(model_path), "--db", str(tmp_path / "r.db")])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and "bad" in err


def test_missing_model_is_a_clear_error(tmp_path, capsys):
    f = tmp_path / "c.json"
    f.write_text('["Li3OCl"]')
    rc = run(["ml", "predict", str(f), "--model-path", str(tmp_path / "none.skops"), "--db", str(tmp_path / "r.db")])
    assert rc == 2
    assert "model file not found" in capsys.readouterr().err


def test_predict_structure_file(model_path, tmp_path, capsys):
    from perovscreen.structures import get_example

    cif = tmp_path / "Li3OCl.cif"
    get_example("Li3OCl").to(filename=str(cif))
    rc = run(["ml", "predict", str(cif), "--model-path", str(model_path), "--json", "--executor", "serial",
              "--db", str(tmp_path / "r.db"), "--quiet"])
    assert rc == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1 and rows[0]["status"] == "ok", rows
    assert rows[0]["file"] == str(cif)
    assert set(rows[0]["predictions"]) == {"log10_sigma", "Ea"}


def test_structure_model_caches_descriptors_in_the_store(tmp_path, capsys, monkeypatch):
    """`ml predict` on a CIF with a structure model: descriptors land in the --db store's cache table and a
    forced re-run reads them back instead of recomputing."""
    from perovscreen.features import descriptors as desc_mod
    from perovscreen.features.descriptors import MemoryCache
    from perovscreen.store import SQLiteStore
    from perovscreen.structures import get_example

    table = obelix_table(structures=True, bvse=False, cache=MemoryCache())
    model, card = train_model(table, ["log10_sigma"], structures=True, n_estimators=20, grid={})
    assert card["descriptor_set"] == "structure"
    mp = tmp_path / "struct.skops"
    save_property_model(model, card, mp)
    s = get_example("Li3OCl")
    cif, db = tmp_path / "Li3OCl.cif", tmp_path / "r.db"
    s.to(filename=str(cif))
    argv = ["ml", "predict", str(cif), "--model-path", str(mp), "--json", "--executor", "serial", "--db", str(db),
            "--quiet"]
    assert run(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["status"] == "ok", first
    store = SQLiteStore(db)
    cached = store.conn.execute("SELECT count(*) FROM cache WHERE namespace='descriptors'").fetchone()[0]
    store.close()
    assert cached == 1
    monkeypatch.setattr(desc_mod.struct_mod, "structure_descriptors", lambda *a, **k: 1 / 0)
    assert run(argv + ["--force"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["status"] == "ok" and not again["resumed"], again
    assert again["predictions"] == first["predictions"]


def test_open_cache_by_path(tmp_path):
    from perovscreen.features.descriptors import DiskCache, StoreCache, open_cache

    assert open_cache(None) is None
    assert isinstance(open_cache(tmp_path / "d"), DiskCache)
    c = open_cache(tmp_path / "r.db")
    assert isinstance(c, StoreCache) and open_cache(str(tmp_path / "r.db")).store is c.store  # one connection
    c.put("k", {"a": 1.0})
    assert open_cache(tmp_path / "r.db").get("k") == {"a": 1.0}
