"""The Stage contract: parameters written once, a resume key of what (never how), typed results."""
import argparse
import dataclasses
import json
import math
from dataclasses import dataclass

import pytest
from pymatgen.io.cif import CifWriter

from perovscreen.core.errors import InputError
from perovscreen.core.results import Estimate, Result, decode, encode
from perovscreen.jobs.stage import Stage, add_param_arguments, param, params_from_args
from perovscreen.store import open_store
from perovscreen.structures.examples import get_example

from core_helpers import DENSITY, batch_args, run


@pytest.fixture
def two_cifs(tmp_path):
    d = tmp_path / "ex"
    d.mkdir()
    for name in ("Li3OCl", "LiNbO3"):
        CifWriter(get_example(name)).write_file(d / f"{name}.cif")
    return d


def _resumed(capsys):
    return [json.loads(x)["resumed"] for x in capsys.readouterr().out.splitlines()]


def test_execution_options_never_enter_the_key(tmp_path, two_cifs, capsys):
    db = tmp_path / "r.db"
    run(DENSITY, batch_args([two_cifs], db, executor="serial", jobs=1), k=2.0)
    assert _resumed(capsys) == [False, False]
    # --jobs 2 on a process pool, and a changed execution parameter: nothing recomputed
    run(DENSITY, batch_args([two_cifs], db, executor="local", jobs=2), k=2.0, jobs_hint=7)
    assert _resumed(capsys) == [True, True]
    run(DENSITY, batch_args([two_cifs], db), k=2.5)  # a science parameter: recomputed
    assert _resumed(capsys) == [False, False]


def test_bumping_the_stage_version_recomputes(tmp_path, two_cifs, capsys):
    db = tmp_path / "r.db"
    run(DENSITY, batch_args([two_cifs], db))
    capsys.readouterr()
    run(dataclasses.replace(DENSITY, version=2), batch_args([two_cifs], db))
    assert _resumed(capsys) == [False, False]
    with open_store(db) as store:
        versions = sorted(r["params"]["version"] for r in store.runs("density"))
    assert versions == [1, 1, 2, 2]


def test_a_changed_identity_recomputes(tmp_path, two_cifs, capsys):
    """A model file rewritten at the same path (retrained) has another SHA-256: its rows are recomputed."""
    from perovscreen.core.hashing import file_sha256

    weights = tmp_path / "model.bin"
    weights.write_bytes(b"first model")
    stage = dataclasses.replace(DENSITY, identities=lambda p: {"model": file_sha256(weights)})
    db = tmp_path / "r.db"
    run(stage, batch_args([two_cifs], db))
    run(stage, batch_args([two_cifs], db))
    capsys.readouterr()
    weights.write_bytes(b"retrained model")
    run(stage, batch_args([two_cifs], db))
    assert _resumed(capsys) == [False, False]


def test_params_are_validated_with_the_name():
    with pytest.raises(InputError, match="density k: expected float"):
        DENSITY.make(k="big")
    with pytest.raises(InputError, match=r"unknown parameter\(s\) \['kk'\]"):
        DENSITY.make(kk=1.0)
    with pytest.raises(InputError, match="must be finite"):
        DENSITY.make(k=math.nan)
    from perovscreen.bvse.stage import BVSE

    with pytest.raises(InputError, match="bvse resolution: must be >= 0.02"):
        BVSE.make(resolution=0.0)
    with pytest.raises(InputError, match="must be one of half, full"):
        BVSE.make(d0_convention="third")
    assert BVSE.make(cutoff=8).cutoff == 8.0  # ints are accepted for floats


def test_cli_flags_derive_from_the_parameters():
    from perovscreen.potentials.stage import StabilityParams

    parser = argparse.ArgumentParser()
    add_param_arguments(parser, StabilityParams)
    p = params_from_args(StabilityParams, parser.parse_args([]))
    assert p == StabilityParams()  # unset flags keep the defaults written once in the dataclass
    p = params_from_args(StabilityParams, parser.parse_args(["--no-relax", "--potential", "sevenn", "--fmax", "0.1"]))
    assert (p.relax_candidate, p.calculator, p.fmax, p.use_references) == (False, "sevenn", 0.1, True)
    with pytest.raises(SystemExit):
        parser.parse_args(["--potential", "mace"])


def test_key_separates_science_from_execution():
    from perovscreen.potentials.stage import STABILITY

    a = STABILITY.make()
    b = STABILITY.make(device="cuda", cache="/elsewhere")
    assert STABILITY.resume_key(a) == STABILITY.resume_key(b)
    assert STABILITY.resume_key(a) != STABILITY.resume_key(STABILITY.make(fmax=0.1))
    parts = STABILITY.key_parts(a)
    assert parts["identities"]["potential"] == "chgnet" and parts["identities"]["references"]
    assert "device" not in parts["params"] and "cache" not in parts["params"]


def test_entries_file_enters_the_key_by_content(tmp_path):
    from perovscreen.potentials.stage import STABILITY

    f = tmp_path / "entries.json"
    f.write_text("[]")
    k1 = STABILITY.resume_key(STABILITY.make(entries=str(f)))
    f.write_text("[ ]")
    assert STABILITY.resume_key(STABILITY.make(entries=str(f))) != k1
    with pytest.raises(InputError, match="entries file not found"):
        STABILITY.resume_key(STABILITY.make(entries=str(tmp_path / "missing.json")))


# --- Estimate and typed results ---------------------------------------------------------------------

def test_estimate_normal_interval_and_round_trip():
    e = Estimate.normal(1.0, 0.5, level=0.9, unit="eV", method="ensemble")
    assert e.lower == pytest.approx(1.0 - 1.6448536 * 0.5) and e.upper == pytest.approx(1.0 + 1.6448536 * 0.5)
    assert e.contains(1.8) and not e.contains(1.9)
    e95 = Estimate.normal(0.0, 1.0, level=0.95)
    assert e95.upper == pytest.approx(1.959964, abs=1e-6)
    s = Estimate(2.0, 1.0, 3.0, 0.68, "S/cm", "bootstrap", samples=(1.5, 2.0, 2.5))
    assert Estimate.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    with pytest.raises(InputError):
        Estimate(1.0, 2.0, 0.5)
    with pytest.raises(InputError):
        Estimate(1.0, 0.0, 2.0, level=1.5)


@dataclass
class _Nested(Result):
    TYPE = "TestNested"
    name: str
    values: dict
    est: Estimate | None = None


def test_generic_result_round_trip_through_json():
    r = _Nested("x", {"a": Estimate(1.0, 0.0, 2.0, 0.9)}, Estimate(3.0))
    d = json.loads(json.dumps(r.to_dict()))
    assert d["@type"] == "TestNested" and d["@version"] == 1
    assert decode(d) == r
    assert decode(encode([r, {"k": r}])) == [r, {"k": r}]
    with pytest.raises(InputError, match="version"):
        _Nested.from_dict({**d, "@version": 9})


def test_bvse_result_round_trips_with_its_calibrated_estimate():
    from perovscreen.bvse.stage import BVSE, run_bvse
    from perovscreen.structures.intake import StructureRecord

    rec = StructureRecord(id="Li3OCl", file="", file_hash="", ion="Li", structure=get_example("Li3OCl"))
    res = run_bvse(rec, BVSE.make(resolution=0.3))
    assert res.Ea_calibrated is None and "calibrated at 0.2" in res.warnings[-1]  # no silent mis-calibration
    res = run_bvse(rec, BVSE.make())
    ea = res.Ea_calibrated
    assert isinstance(ea, Estimate) and ea.level == 0.9 and 0 < ea.lower and ea.lower < ea.value < ea.upper and ea.unit == "eV"
    back = decode(json.loads(json.dumps(res.to_dict())))
    assert back.barriers == res.barriers and back.Ea_calibrated == ea and back.minima == res.minima
    assert back.dimensionality == res.dimensionality == 3


def test_potential_results_round_trip():
    from perovscreen.ml.gnn.predict import PropertyPrediction
    from perovscreen.ml.model import Prediction
    from perovscreen.potentials.stability import StabilityResult
    from perovscreen.potentials.tasks import Relaxation, SinglePoint

    objs = [Relaxation("LiF", 2, -9.0, -9.1, -4.55, 0.01, 12, True, "FIRE", True, 16.4, 16.2, "chgnet", 1.5,
                       "data_LiF\n", None, [{"energy": -9.0, "fmax": 0.3, "volume": 16.4}]),
            StabilityResult("Li3ClO", -4.1, 0.02, 0.02, -1.9, {"Li2O": 0.5, "LiCl": 0.5}, "chgnet", 12, [], True,
                            {"max_rel_deviation": 0.0}),
            SinglePoint("LiF", 2, -9.0, -4.5, [[0.0, 0.0, 0.1], [0.0, 0.0, -0.1]], [0.0] * 6, "chgnet"),
            Prediction("a", "Li3OCl", None, predictions={"log10_sigma": Estimate(-3.0, -4.0, -2.0, 0.9)}),
            PropertyPrediction("SrTiO3", Estimate.normal(-0.4, 0.05), Estimate.normal(1.8, 0.2), 0.1, 2,
                               ["cgcnn"])]
    for o in objs:
        assert decode(json.loads(json.dumps(o.to_dict()))) == o
    assert objs[4].heat_std == pytest.approx(0.05)


def test_stage_registry_names_and_versions_are_unique():
    from perovscreen.pipeline.stages import STAGES

    names = [s.name for s in STAGES]
    assert len(names) == len(set(names))
    for s in STAGES:
        assert isinstance(s, Stage) and s.version >= 1 and s.resources.cores >= 1
        s.make()  # the defaults are valid
        for f in s.fields():
            assert f.metadata.get("help"), f"{s.name}.{f.name} has no help text"


@dataclass(frozen=True)
class _P:
    n: int = param(3, "a count", minimum=1)
    temps: tuple = param((300.0, 600.0), "temperatures", "K", minimum=0.0, exclusive=True)


def test_tuple_parameters():
    s = Stage("t", 1, _P, lambda r, p: {})
    assert s.make(temps=[400, 500]).temps == (400.0, 500.0)
    with pytest.raises(InputError, match="at least one"):
        s.make(temps=[])
    with pytest.raises(InputError, match="must be > 0.0"):
        s.make(temps=[-5.0])
    with pytest.raises(InputError, match="must be >= 1"):
        s.make(n=0)
