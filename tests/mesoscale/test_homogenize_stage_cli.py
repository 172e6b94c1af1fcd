"""LLZO regression (Te, Tc), brick layer, GB shares, the stage, results round trip, and the CLI."""
import argparse
import json
import math

import numpy as np
import pytest

from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate, decode
from perovscreen.mesoscale.arrhenius import K_B, LLZO_BULK, LLZO_GB, diffusivity, equal_temperature, temperature_sweep
from perovscreen.mesoscale.homogenize import brick_layer, effective_conductivity
from perovscreen.mesoscale.microstructure import Microstructure, color_grains, periodic_voronoi


def test_llzo_equal_temperature_regression():
    te = equal_temperature(LLZO_BULK, LLZO_GB)
    assert te == pytest.approx(0.24 / (K_B * math.log(10 / 3.72e-4)), rel=1e-12)
    assert te == pytest.approx(273.1, abs=0.1)
    assert diffusivity(te, *LLZO_BULK) == pytest.approx(diffusivity(te, *LLZO_GB), rel=1e-10)


def test_llzo_crossover_on_a_polycrystal():
    m = periodic_voronoi((48, 48), 12, seed=0).with_gb(2)

    def solve(db, dg):
        r = effective_conductivity(m, db, dg, dg)
        return r.sigma_mean, r.gb_resistance_share, r.gb_current_share
    sw = temperature_sweep(solve, [250, 300, 400], tol_log10=0.05)
    assert sw.Tc > sw.Te > sw.T_gb_limited  # GB-limited when cold, GB-dominated conduction when hot
    assert sw.ratio_at_Tc > 1 > sw.ratio_at_gb_limited
    assert decode(json.loads(json.dumps(sw.to_dict()))) == sw


def bricks(n_cells=4, cell=10):
    i = np.arange(n_cells * cell) // cell
    grains = (i[:, None] * n_cells + i[None, :]).astype(np.int32)
    return Microstructure(grains, np.zeros(n_cells ** 2), color_grains(grains)).with_gb(1)


def test_brick_layer_estimate_beside_fv():
    m = bricks()  # 9-voxel grains, one-voxel GBs: delta/D = 0.1
    assert m.gb.mean() == pytest.approx(0.19)
    r = effective_conductivity(m, 1.0, 1e-2, 1e-2, solver="fv")
    blm = brick_layer(1.0, 1e-2, 1e-2, 1.0, 10.0, 2)
    assert blm == pytest.approx(1 / (0.9 + 0.1 / 1e-2) * 0.9 + 0.1 * 1e-2)
    assert abs(r.sigma_mean / blm - 1) < 0.15  # measured FV 0.0818 vs brick layer 0.0838
    assert r.gb_resistance_share > 0.85


def test_effective_conductivity_result_round_trip_and_errors():
    m = periodic_voronoi((32, 32), 6, seed=1).with_gb(2)
    r = effective_conductivity(m, [1.0, 4.0], 0.1, 0.2)
    assert r.solver.startswith("fv") and r.converged
    assert decode(json.loads(json.dumps(r.to_dict()))) == r
    assert r.bulk_resistance_share == pytest.approx(1 - r.gb_resistance_share)
    with pytest.raises(InputError, match="gb_perp"):
        effective_conductivity(m, 1.0)
    with pytest.raises(InputError, match="positive definite"):
        effective_conductivity(m, [[1.0, 2.0], [2.0, 1.0]], 0.1)
    with pytest.raises(InputError, match="> 0"):
        effective_conductivity(m, 1.0, 0.0)
    with pytest.raises(InputError, match="> 0"):
        effective_conductivity(m, 1.0, float("nan"))


def test_stage_takes_candidate_bulk_and_keeps_its_interval():
    from perovscreen.mesoscale.stage import MESOSCALE, bulk_from, run_mesoscale

    p = MESOSCALE.make(size=32, grains=8, gb_width=2.0, gb_ratio=1e-2)
    bulk = Estimate(1e-3, 5e-4, 2e-3, 0.95, "S/cm", "bayesian")
    res = run_mesoscale(None, p, bulk={"arrhenius": {"sigma_target": bulk}})
    assert res.sigma_eff.value == pytest.approx(1e-3 * res.ratio)
    assert res.sigma_eff.lower == pytest.approx(5e-4 * res.ratio) and res.sigma_eff.level == 0.95
    assert 0 < res.ratio < 1 and res.gb_resistance_share > 0.5
    assert decode(json.loads(json.dumps(res.to_dict()))) == res
    assert bulk_from({"log10_sigma": Estimate(-3.0)}).value == pytest.approx(1e-3)
    with pytest.raises(InputError, match="no bulk"):
        run_mesoscale(None, p)
    with pytest.raises(InputError, match="gb_ratio"):
        MESOSCALE.make(gb_ratio=0.0)


def _cli(argv, capsys):
    from perovscreen.cli.mesoscale import add_parser

    ap = argparse.ArgumentParser(prog="perovscreen")
    add_parser(ap.add_subparsers(dest="cmd", required=True))
    args = ap.parse_args(argv)
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_conductivity_known_answer_json(capsys):
    code, out, _ = _cli("mesoscale conductivity --dim 2 --size 128 --grains 60 --bulk-eigenvalues 1,10 "
                        "--gb-width 0 --seed 0 --json".split(), capsys)
    assert code == 0
    d = json.loads(out)
    assert abs(math.sqrt(np.linalg.det(np.array(d["sigma_eff"]))) / math.sqrt(10) - 1) < 0.005


def test_cli_generate_sweep_temperature_and_errors(capsys, tmp_path):
    f = tmp_path / "m.npz"
    code, out, _ = _cli(f"mesoscale generate --size 32 --grains 8 --gb-width 2 --out {f} --image {tmp_path / 'g.png'} "
                        "--json".split(), capsys)
    assert code == 0 and json.loads(out)["n_grains"] == 8 and (tmp_path / "g.png").exists()
    code, out, _ = _cli(f"mesoscale conductivity --micro {f} --gb-sigma 0.01 --json".split(), capsys)
    assert code == 0 and json.loads(out)["gb_width"] == 2
    code, out, _ = _cli(f"mesoscale sweep --size 32 --grains-list 4,8 --gb-ratios 0.01,1 --json "
                        f"--plot {tmp_path / 's.png'}".split(), capsys)
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4 and all(r["sigma_eff"] <= 1.0 + 1e-9 for r in rows)
    code, out, _ = _cli("mesoscale temperature --size 32 --grains 6 --temperatures 250,350 --json".split(), capsys)
    assert code == 0 and json.loads(out)["Te"] == pytest.approx(273.1, abs=0.1)
    for bad in ("--bulk-eigenvalues 1,-1", "--bulk-eigenvalues 1,nan", "--size 4", "--gb-sigma 0"):
        code, out, err = _cli(f"mesoscale conductivity --size 32 --grains 6 {bad}".split(), capsys)
        assert code == 2 and err.startswith("error:") and err.count("\n") == 1
