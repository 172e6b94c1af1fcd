"""Hardening of the runner, executors, store and CLI (cases an outside probe ran against the CLI)."""
import csv
import json
import shutil
import time

import pytest

from perovscreen.cli.main import build_parser, main
from perovscreen.jobs.runner import RunOptions, execute_batch
from perovscreen.store import open_store

from hardening_helpers import PROBE, calls, strained


def _opts(db, **kw):
    return RunOptions(db=str(db), executor=kw.pop("executor", "serial"), quiet=True, **kw)


def _cli(argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        return exc.code


# ---- 1, 2: byte-identical files ----------------------------------------------------------------------

def test_identical_files_are_own_subjects_and_renamed_file_resumes_under_new_name(tmp_path):
    src, = strained(tmp_path / "first", 1, "x")
    db, log = tmp_path / "r.db", tmp_path / "calls.log"
    execute_batch(PROBE, [src], PROBE.make(log=str(log)), _opts(db))
    d = tmp_path / "in"
    d.mkdir()
    shutil.move(src, d / "y.cif")  # renamed ...
    for name in ("a1", "a2", "a3"):  # ... plus three byte-identical copies
        shutil.copy(d / "y.cif", d / f"{name}.cif")
    rows = execute_batch(PROBE, [d], PROBE.make(log=str(log)), _opts(db))
    assert [r["id"] for r in rows] == ["a1", "a2", "a3", "y"]
    assert [r["file"] for r in rows] == [str(d / f"{n}.cif") for n in ("a1", "a2", "a3", "y")]
    assert [r["duplicate_of"] for r in rows] == [None, "a1", "a1", "a1"]
    assert all(r["resumed"] and r["status"] == "ok" for r in rows)
    assert len({r["key"] for r in rows}) == 1
    assert calls(log) == ["x0"]  # one computation in all


def test_identical_files_in_one_batch_are_computed_once(tmp_path):
    d = tmp_path / "in"
    strained(d, 2)
    for name in ("c1", "c2", "c3"):
        shutil.copy(d / "s0.cif", d / f"{name}.cif")
    db, log = tmp_path / "r.db", tmp_path / "calls.log"
    rows = execute_batch(PROBE, [d], PROBE.make(log=str(log)), _opts(db, executor="local", jobs=2))
    assert sorted(r["id"] for r in rows) == ["c1", "c2", "c3", "s0", "s1"]
    assert all(r["status"] == "ok" and not r["resumed"] for r in rows)
    assert sorted(calls(log)) == ["c1", "s1"]  # c1, c2, c3 and s0 share one content: computed once
    dups = {r["id"]: r["duplicate_of"] for r in rows}
    assert dups == {"c1": None, "c2": "c1", "c3": "c1", "s0": "c1", "s1": None}


def test_screen_of_two_identical_files_never_ranks_one_twice(tmp_path):
    from perovscreen.pipeline.config import validate_config
    from perovscreen.pipeline.funnel import run_screen

    d = tmp_path / "in"
    strained(d, 1, "a")
    shutil.copy(d / "a0.cif", d / "b0.cif")
    cfg = validate_config({"run": {"out": str(tmp_path / "out"), "jobs": 1, "executor": "serial"},
                           "bvse": {"resolution": 0.5}, "ml": {"enabled": False},
                           "stability": {"enabled": False}, "md": {"enabled": False}})
    outcomes = []
    for _ in range(2):  # fresh, then resumed from the store
        res = run_screen([d], None, cfg)
        ranked = [c.id for c in res.ranked]
        assert len(ranked) == len(set(ranked))
        dup = {i for i, why in res.stages[0].removed.items() if why.startswith("duplicate of")}
        assert set(ranked) | dup == {"a0", "b0"} and not set(ranked) & dup
        outcomes.append((ranked, dup, {c.id: c.file for c in res.ranked}))
    assert outcomes[0] == outcomes[1] == (["a0"], {"b0"}, {"a0": str(d / "a0.cif")})


# ---- 3, 4: CLI inputs ---------------------------------------------------------------------------------

def test_jobs_must_be_at_least_one(tmp_path, capsys):
    f, = strained(tmp_path, 1)
    assert _cli(["ingest", f, "--db", tmp_path / "r.db", "--jobs", "-1", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "--jobs" in err[0]
    assert _cli(["ingest", f, "--db", tmp_path / "r.db", "--jobs", "0", "-q"]) == 2


def test_missing_inputs_get_rows_and_exit_1_when_nothing_succeeds(tmp_path, capsys):
    f, = strained(tmp_path, 1)
    db, missing = tmp_path / "r.db", tmp_path / "nope.cif"
    assert _cli(["ingest", missing, "--db", db, "--json", "-q"]) == 1
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["status"], r["error"]) for r in rows] == [("nope", "error", f"{missing}: no such file")]
    assert _cli(["ingest", f, missing, "--db", db, "--json"]) == 0
    out = capsys.readouterr()
    assert sorted(json.loads(x)["status"] for x in out.out.splitlines()) == ["error", "ok"]
    assert f"error: {missing}: no such file" in out.err
    table = tmp_path / "b.csv"
    assert _cli(["bvse", f, missing, "--db", db, "--resolution", "0.5", "--csv", table, "-q"]) == 0
    rows = {r["id"]: r for r in csv.DictReader(table.open())}
    assert rows["s0"]["status"] == "ok" and rows["s0"]["E3D"]
    assert rows["nope"]["status"] == "error" and rows["nope"]["error"] == f"{missing}: no such file"


# ---- 5, 6: store and export ---------------------------------------------------------------------------

def test_corrupt_store_is_one_line_error(tmp_path, capsys):
    f, = strained(tmp_path, 1)
    text = tmp_path / "results.db"
    text.write_text("not a database\n" * 100)
    assert _cli(["ingest", f, "--db", text, "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {text}: not a perovscreen results store (")
    good = tmp_path / "good.db"
    with open_store(good) as store:
        for k in range(3000):
            store.put_cached("x", str(k), {"v": "y" * 200})
    data = good.read_bytes()
    cut = tmp_path / "cut.db"
    cut.write_bytes(data[: len(data) // 2])
    for argv in (["results", "export", "--db", cut], ["ingest", f, "--db", cut, "-q"]):
        assert _cli(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: {cut}: not a perovscreen results store ("), err


def test_export_to_a_directory_is_one_line_error(tmp_path, capsys):
    f, = strained(tmp_path, 1)
    db = tmp_path / "r.db"
    assert _cli(["ingest", f, "--db", db, "-q"]) == 0
    assert _cli(["results", "export", "--db", db, "-o", tmp_path]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and str(tmp_path) in err[0]


# ---- 7, 8: dying and stuck tasks ----------------------------------------------------------------------

def test_worker_killed_by_one_task_fails_only_that_task(tmp_path):
    files = strained(tmp_path / "in", 4)
    log = tmp_path / "calls.log"
    t0 = time.perf_counter()
    rows = execute_batch(PROBE, files, PROBE.make(log=str(log), kill_on="s1", sleep=1.0),
                         _opts(tmp_path / "r.db", executor="local", jobs=2))
    by = {r["id"]: r for r in rows}
    print(f"pool with a killed worker: {time.perf_counter() - t0:.1f} s")
    assert by["s1"]["status"] == "error" and "worker process died" in by["s1"]["error"]
    assert [by[i]["status"] for i in ("s0", "s2", "s3")] == ["ok"] * 3


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_task_over_the_time_limit_is_stopped_and_retried_later(tmp_path, executor):
    files = strained(tmp_path / "in", 4)
    db = tmp_path / "r.db"
    opts = _opts(db, executor=executor, jobs=2, task_timeout_s=2.0)
    t0 = time.perf_counter()
    rows = execute_batch(PROBE, files, PROBE.make(hang_on="s1", sleep=0.2), opts)
    dt = time.perf_counter() - t0
    print(f"{executor}: batch with a stuck task and a 2 s limit: {dt:.1f} s")
    by = {r["id"]: r for r in rows}
    assert by["s1"]["status"] == "error" and by["s1"]["error"].endswith("time limit of 2 s exceeded")
    assert [by[i]["status"] for i in ("s0", "s2", "s3")] == ["ok"] * 3 and dt < 30
    with open_store(db) as store:
        assert {r["error_kind"] for r in store.runs("probe") if r["status"] == "error"} == {"runtime"}
    rows = execute_batch(PROBE, files, PROBE.make(sleep=0.2), opts)  # retried on the next run
    assert {r["id"]: (r["status"], r["resumed"]) for r in rows}["s1"] == ("ok", False)


def test_task_timeout_flag():
    args = build_parser().parse_args(["ingest", "x.cif", "--task-timeout", "2.5"])
    assert RunOptions.from_args(args).task_timeout_s == 2.5
    assert build_parser().parse_args(["ingest", "x.cif"]).task_timeout_s is None
