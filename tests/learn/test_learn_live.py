"""The live campaign with tiny synthetic stages through the real runner and store: resume without
recomputation, failures recorded and never retried, the state file and the report."""
import json
from dataclasses import dataclass

import pytest

from perovscreen.core.errors import InputError
from perovscreen.jobs.runner import RunOptions
from perovscreen.jobs.stage import Stage
from perovscreen.learn.live import Fidelity, LearnParams, run_campaign

CALLS: list = []


@dataclass(frozen=True)
class NoParams:
    pass


def _density(record, params):
    CALLS.append(("cheap", record.formula))
    return {"value": float(record.structure.density)}


def _expensive(record, params):
    CALLS.append(("expensive", record.formula))
    if record.formula == "LiTaO3":
        raise RuntimeError("toy calculation diverged")
    s = record.structure
    return {"value": float(s.density) - 0.05 * s.volume / len(s)}


CHEAP = Stage("toy_cheap", 1, NoParams, _density)
EXPENSIVE = Stage("toy_expensive", 1, NoParams, _expensive)


def fidelities():
    get = lambda r: r["value"]  # noqa: E731
    return {"ml": Fidelity("ml", CHEAP, NoParams(), get, True, "density"),
            "stability": Fidelity("stability", EXPENSIVE, NoParams(), get, False, "toy E")}


@pytest.fixture(scope="module")
def cifs(tmp_path_factory):
    """The built-in examples plus strained copies: 12 distinct candidates with Li (SrTiO3 is skipped)."""
    from perovscreen.structures.examples import get_example, list_examples

    d = tmp_path_factory.mktemp("cifs")
    for name in list_examples():
        s = get_example(name)
        s.to(filename=str(d / f"{name}.cif"))
        s.scale_lattice(s.volume * 1.08)
        s.to(filename=str(d / f"{name}_strained.cif"))
    return d


def _run(cifs, out, cycles, **kw):
    p = LearnParams(cycles=cycles, batch=3, objective="e_above_hull", cheap="ml", out=str(out), budget=1.0, **kw)
    opts = RunOptions(db=str(out / "perovscreen.db"), executor="serial", quiet=True)
    return run_campaign([str(cifs)], params=p, opts=opts, fidelities=fidelities())


def test_resume_reuses_calculations_and_never_retries_failures(cifs, tmp_path):
    CALLS.clear()
    s1 = _run(cifs, tmp_path, 1)
    n = len(s1["candidates"])
    assert n == 12
    assert len(s1["cycles"]) == 1 and len(s1["cycles"][0]["picks"]) == 3
    assert sum(k == "cheap" for k, _ in CALLS) == n                # cheap fidelity on every candidate
    first = [p["id"] for p in s1["cycles"][0]["picks"]]
    assert sum(k == "expensive" for k, _ in CALLS) == 3

    CALLS.clear()
    s2 = _run(cifs, tmp_path, 2)
    assert [p["id"] for p in s2["cycles"][0]["picks"]] == first   # cycle 1 kept as it was
    assert not any(k == "cheap" for k, _ in CALLS)                 # all from the store
    assert sum(k == "expensive" for k, _ in CALLS) == 3            # only cycle 2's picks
    second = [p["id"] for p in s2["cycles"][1]["picks"]]
    assert not set(first) & set(second)
    for p in s2["cycles"][1]["picks"]:
        assert p["predicted"]["stability"]["mean"] is not None     # prediction stored before the calculation
        assert p["acquisition"] is not None
    state = json.loads((tmp_path / "campaign.json").read_text())
    assert state["spent"]["ml"] > 0 and state["spent"]["stability"] > 0
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report.png").is_file()

    # a run killed after its picks were saved: the rerun computes exactly those picks
    CALLS.clear()
    state["cycles"].pop()
    last = s2["cycles"][1]
    drop = ("status", "observed", "computed_now", "error")
    state["pending"] = {"cycle": 2, "picks": [{k: v for k, v in p.items() if k not in drop} for p in last["picks"]],
                        "campaign": s1["campaign"] | {"rng": state["campaign"]["rng"]}}
    (tmp_path / "campaign.json").write_text(json.dumps(state))
    s3 = _run(cifs, tmp_path, 2)
    assert [p["id"] for p in s3["cycles"][1]["picks"]] == second
    assert not any(k == "expensive" and f != "LiTaO3" for k, f in CALLS)   # finished ones come from the store

    # failures: recorded, never picked again however long the campaign runs
    CALLS.clear()
    s4 = _run(cifs, tmp_path, 5)
    picked = [p["id"] for c in s4["cycles"] for p in c["picks"]]
    assert len(picked) == len(set(picked)) == 12
    failed = [p for c in s4["cycles"] for p in c["picks"] if p["status"] == "failed"]
    assert {p["formula"] for p in failed} == {"LiTaO3"} and len(failed) == 2
    assert "diverged" in failed[0]["error"]
    assert set(s4["failed"]) == {p["id"] for p in failed}


def test_other_settings_need_another_folder(cifs, tmp_path):
    _run(cifs, tmp_path, 1)
    with pytest.raises(InputError, match="other settings"):
        _run(cifs, tmp_path, 2, seed=3)


def test_mfgp_surrogate_in_a_live_campaign(cifs, tmp_path):
    """`--surrogate mfgp`: the cheap fidelity enters BoTorch's multi-fidelity GP as lower-fidelity data
    (another quantity than the objective: calibrated onto its scale); picks carry predictions."""
    s = _run(cifs, tmp_path, 2, surrogate="mfgp")
    picks = [p for c in s["cycles"] for p in c["picks"]]
    assert len({p["id"] for p in picks}) == 6
    assert all(p["predicted"]["stability"]["std"] > 0 for p in s["cycles"][1]["picks"])
    assert s["campaign"]["models"][0]["hyper"]                    # warm start kept for the next run
