"""`perovscreen learn replay`: bad input gives one-line errors; a tiny OBELiX replay; JSON round trip."""
import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from perovscreen.cli import learn as cli_learn
from perovscreen.core.errors import InputError
from perovscreen.core.results import decode

OBELIX = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "obelix" / "obelix_train.csv"


def _run(argv, capsys):
    ap = argparse.ArgumentParser(prog="perovscreen")
    sub = ap.add_subparsers(dest="command", required=True)
    cli_learn.add_parser(sub)
    args = ap.parse_args(["learn", "replay", *argv])
    rc = args.func(args)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    formulas = [f"Li{a}La{b}Ti{c}O{d}" for a in (1, 2, 3) for b in (1, 2) for c in (1, 2, 3) for d in (3, 4, 5, 6)]
    lines = ["formula,sigma,label"] + [f"{f},{rng.normal():.4f},x" for f in formulas]
    lines.append(f"{formulas[0]},{rng.normal():.4f},dup")           # a duplicate composition
    p = tmp_path / "t.csv"
    p.write_text("\n".join(lines) + "\n")
    from perovscreen.ml.dataset import composition_group

    return p, len({composition_group(f) for f in formulas})    # Li2La2Ti2O6 is LiLaTiO3: one item


def _one_line_error(rc, err, *words):
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("error: "), err
    for w in words:
        assert w in err, err


def test_bad_input_one_line_errors(table, tmp_path, capsys):
    p, n = table
    base = ["--csv", str(p), "--budget", "20", "--seeds", "2"]
    _one_line_error(*_run([*base, "--target", "nope"], capsys)[::2], "no column 'nope'")
    _one_line_error(*_run([*base, "--target", "label"], capsys)[::2], "not numeric")
    _one_line_error(*_run(["--csv", str(p), "--target", "sigma", "--budget", "5", "--init", "10"], capsys)[::2],
                    "smaller than the seed set")
    empty = tmp_path / "empty.csv"
    empty.write_text("formula,sigma\nLiCl,\nLi2O,\n")
    _one_line_error(*_run(["--csv", str(empty), "--target", "sigma"], capsys)[::2], "empty candidate set")
    header = tmp_path / "header.csv"
    header.write_text("formula,sigma\n")
    _one_line_error(*_run(["--csv", str(header), "--target", "sigma"], capsys)[::2], "empty candidate set")
    _one_line_error(*_run([*base, "--target", "sigma", "--policies", "greedy,magic"], capsys)[::2], "magic")
    _one_line_error(*_run([*base[:2], "--target", "sigma", "--budget", str(n + 5)], capsys)[::2], "exceeds")
    _one_line_error(*_run(["--csv", str(tmp_path / "none.csv"), "--target", "sigma"], capsys)[::2], "no such")


def test_grouping_and_minimize(table):
    from perovscreen.learn.oracle import load_oracle

    p, n = table
    o = load_oracle(p, "sigma")
    assert o.n == n                                   # duplicates joined their groups
    assert np.isfinite(o.noise[0]) and np.isnan(o.noise).sum() < n
    assert load_oracle(p, "sigma", group_by="none").n == 73
    m = load_oracle(p, "sigma", minimize=True)
    assert np.allclose(m.y, -o.y) and m.sign == -1


def test_small_replay_json_and_round_trip(table, tmp_path, capsys):
    p, n = table
    out = tmp_path / "r.json"
    rc, stdout, _ = _run(["--csv", str(p), "--target", "sigma", "--budget", "30", "--batch", "4", "--seeds", "3",
                          "--init", "6", "--policies", "random,greedy,ucb,ei,thompson,variance,egreedy,bandit",
                          "--top", "0.05", "0.2", "--json", "--out", str(out), "--plot", str(tmp_path / "f.png")],
                         capsys)
    assert rc == 0
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert [r["policy"] for r in rows] == ["random", "greedy", "ucb", "ei", "thompson", "variance", "egreedy",
                                           "bandit"]
    assert set(rows[0]["enhancement"]) == {"top 5%", "top 20%"}
    assert (tmp_path / "f.png").stat().st_size > 1000
    report = decode(json.loads(out.read_text()))
    assert report.items == n and len(report.policies) == 8
    assert all(len(o) == 30 and len(set(o)) == 30 for o in report.policy("bandit").orders)
    assert sum(report.policy("bandit").arms.values()) == 3 * 6     # (30 - 6) / 4 batches per seed


@pytest.mark.skipif(not OBELIX.is_file(), reason="OBELiX training split not available")
def test_obelix_smoke(capsys):
    rc, stdout, err = _run(["--csv", str(OBELIX), "--target", "log10_sigma", "--budget", "40", "--batch", "5",
                            "--seeds", "2", "--policies", "random,oracle,greedy,bandit"], capsys)
    assert rc == 0, err
    assert "389 items" in stdout and "oracle" in stdout
    assert "top 1% = 4, top 10% = 39" in stdout


def test_replay_params_validation():
    from perovscreen.learn.oracle import oracle_from_arrays
    from perovscreen.learn.replay import run_replay

    o = oracle_from_arrays(np.random.default_rng(0).random((20, 2)), np.arange(20.0))
    with pytest.raises(InputError, match="smaller than the seed set"):
        run_replay(o, budget=3, init=5)
    with pytest.raises(InputError, match="top fractions"):
        run_replay(o, budget=10, init=2, top=(1.5,))
    with pytest.raises(InputError, match="empty candidate set"):
        oracle_from_arrays(np.zeros((0, 2)), [])
