import csv
import io
import json
import math

import pytest
from pymatgen.io.cif import CifWriter

from perovscreen.jobs.executors import get_executor
from perovscreen.store import export_runs, open_store
from perovscreen.structures.examples import get_example, list_examples

from core_helpers import DENSITY, batch_args, run


def _rows(out):
    """JSON rows keyed by id, without timings."""
    return {r["id"]: {k: v for k, v in r.items() if k != "seconds"} for r in map(json.loads, out.splitlines())}


def _square(x):
    if x == 3:
        raise ValueError("three is bad")
    return x * x


@pytest.fixture
def example_dir(tmp_path):
    d = tmp_path / "ex"
    d.mkdir()
    for name in list_examples():
        CifWriter(get_example(name)).write_file(d / f"{name}.cif")
    return d


def test_store_records_runs_provenance_and_exports(tmp_path, example_dir, capsys):
    db = tmp_path / "r.db"
    run(DENSITY, batch_args([example_dir], db), k=2.0, fail_on="LiFePO4")
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 7
    by = {r["id"]: r for r in rows}
    assert by["Li3OCl"]["status"] == "ok"
    assert by["Li3OCl"]["density"] == pytest.approx(get_example("Li3OCl").density, rel=1e-5)
    assert by["LiFePO4"]["status"] == "error" and "planted failure" in by["LiFePO4"]["error"]
    assert by["SrTiO3"]["status"] == "error" and "no Li sites" in by["SrTiO3"]["error"]
    with open_store(db) as store:
        runs = store.runs("density")
        assert len(runs) == 7
        prov = runs[0]["provenance"]
        assert prov["params"]["params"]["k"] == 2.0 and prov["params"]["version"] == 1 and len(prov["params_hash"]) == 16
        assert set(prov["inputs"].values()) and all(len(h) == 64 for h in prov["inputs"].values())
        assert "pymatgen" in prov["libraries"] and prov["code_version"] and prov["host"]
        conn = store.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        table = list(csv.DictReader(io.StringIO(export_runs(runs, "csv"))))
        assert {r["id"] for r in table} == set(list_examples())
        assert math.isclose(float(next(r for r in table if r["id"] == "Li3OCl")["result.scaled"]),
                            2 * get_example("Li3OCl").volume, rel_tol=1e-6)
        assert len(json.loads(export_runs(runs, "json"))) == 7


def test_rerun_skips_and_new_params_recompute(tmp_path, example_dir, capsys):
    db = tmp_path / "r.db"
    run(DENSITY, batch_args([example_dir], db), k=1.0)
    capsys.readouterr()
    run(DENSITY, batch_args([example_dir], db), k=1.0)
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(r["resumed"] for r in rows) and len(rows) == 7
    run(DENSITY, batch_args([example_dir], db), k=3.0)
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert not any(r["resumed"] for r in rows)


@pytest.mark.parametrize("name", ["serial", "local"])
def test_executor_completion_order_and_errors(name):
    with get_executor(name, max_workers=2) as ex:
        results = {r.item_index: r for r in ex.map_unordered(_square, range(6))}
    assert sorted(results) == list(range(6))
    assert results[3].ok is False and "three is bad" in results[3].error
    assert [results[i].value for i in (0, 1, 2, 4, 5)] == [0, 1, 4, 16, 25]


def test_local_pool_batch_equals_serial(tmp_path, example_dir, capsys):
    run(DENSITY, batch_args([example_dir], tmp_path / "a.db"), k=1.0)
    serial = _rows(capsys.readouterr().out)
    run(DENSITY, batch_args([example_dir], tmp_path / "b.db", executor="local", jobs=2), k=1.0)
    pooled = _rows(capsys.readouterr().out)
    assert serial == pooled


@pytest.mark.slow
def test_ray_executor_gives_same_results_as_local(tmp_path, example_dir, capsys):
    pytest.importorskip("ray")
    import ray

    run(DENSITY, batch_args([example_dir], tmp_path / "a.db", executor="local", jobs=2), k=1.0)
    local = _rows(capsys.readouterr().out)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(__import__("pathlib").Path(__file__).parent)}})
        run(DENSITY, batch_args([example_dir], tmp_path / "b.db", executor="ray", jobs=2), k=1.0)
    finally:
        ray.shutdown()
    remote = _rows(capsys.readouterr().out)
    assert local == remote


def test_store_cache_round_trip_and_persistence(tmp_path):
    db = tmp_path / "c.db"
    with open_store(db) as store:
        assert store.get_cached("descriptors", "abc") is None
        store.put_cached("descriptors", "abc", {"x": 1.5, "v": [1, 2]})
        store.put_cached("other", "abc", {"x": 2})
    with open_store(db) as store:
        assert store.get_cached("descriptors", "abc") == {"x": 1.5, "v": [1, 2]}
        assert store.get_cached("other", "abc") == {"x": 2}
