"""Model and entries files are data: a file that names code is refused before anything runs (docs/security.md).

Each attack test plants a payload that would create a marker file in tmp_path, then checks that a one-line
error naming the file is raised and that the marker does not exist. The legitimate-path tests check that real
SevenNet checkpoints, matgl model directories and pymatgen entries JSON still load.
"""
import json
import math
import os
import re
import shutil
import sys
import time
import uuid

import numpy as np
import pytest
import torch

from perovscreen.core.errors import InputError, ModelError
from perovscreen.potentials import calculators, get_calculator
from perovscreen.potentials.stability import load_entries
from perovscreen.structures.examples import get_example


def _one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    return msg


def _refused(load, error, marker, settle: float = 0.0) -> str:
    """Call ``load``; first check that the payload did not run (no marker), then that ``error`` was raised
    with a one-line message, which is returned."""
    try:
        load()
        exc = None
    except Exception as e:  # noqa: BLE001 - checked below, after the marker
        exc = e
    if settle:
        time.sleep(settle)  # a spawned process (subprocess.Popen) would touch the marker asynchronously
    assert not marker.exists(), f"the payload ran: {marker} was created"
    assert isinstance(exc, error), f"expected {error.__name__}, got {exc!r}"
    msg = str(exc)
    assert "\n" not in msg, msg
    return msg


class _System:
    """Pickles as os.system(cmd): unpickling it with weights_only=False runs the command."""

    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return os.system, (self.cmd,)


class _Exec:
    """Pickles as builtins.exec(code)."""

    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return exec, (self.code,)


def _payloads(marker):
    return {
        "os.system": _System(f"touch {marker}"),
        "builtins.exec": _Exec(f"open({str(marker)!r}, 'w').close()"),
    }


# ---------------------------------------------------------------- SevenNet

@pytest.mark.parametrize("kind", ["os.system", "builtins.exec"])
def test_sevenn_pickle_payload_is_refused(tmp_path, kind):
    pytest.importorskip("sevenn")
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"model": _payloads(marker)[kind]}, evil)
    msg = _refused(lambda: get_calculator("sevenn", model_path=evil), ModelError, marker)
    assert str(evil) in msg and "refused" in msg and kind.split(".")[-1] in msg


def test_sevenn_payload_inside_a_real_looking_checkpoint_is_refused(tmp_path):
    """The payload sits next to a real config/state dict (sevenn would read config first)."""
    pytest.importorskip("sevenn")
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"config": {"cutoff": 5.0, "hook": _System(f"touch {marker}")}, "model_state_dict": {},
                "epoch": 1}, evil)
    msg = _refused(lambda: get_calculator("sevenn", model_path=evil), ModelError, marker)
    assert re.search(r"evil\.pth refused: it names the non-data global posix\.system", msg), msg


def test_sevenn_non_checkpoint_data_gives_clear_error(tmp_path):
    pytest.importorskip("sevenn")
    p = tmp_path / "tensor.pth"
    torch.save({"weights": torch.zeros(3)}, p)
    with pytest.raises(ModelError, match=r"tensor\.pth is not a SevenNet checkpoint") as excinfo:
        get_calculator("sevenn", model_path=p)
    _one_line(excinfo)
    p.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match=r"tensor\.pth is not a readable torch checkpoint") as excinfo:
        get_calculator("sevenn", model_path=p)
    _one_line(excinfo)
    # numpy arrays are allowed (SevenNet configs hold float32 shift/scale), object arrays are not
    torch.save({"config": {"shift": np.array([None], dtype=object)}, "model_state_dict": {"w": torch.zeros(1)}}, p)
    with pytest.raises(ModelError, match=r"tensor\.pth refused: it names the non-data global "
                                         r"numpy\.dtypes\.ObjectDType") as excinfo:
        get_calculator("sevenn", model_path=p)
    _one_line(excinfo)


def test_sevenn_bundled_and_user_checkpoint_load_without_sevenns_unsafe_loader(tmp_path, monkeypatch):
    """A copy of the bundled 7net-0 checkpoint at a user path is accepted and gives the bundled energies;
    neither load goes through sevenn's torch.load(weights_only=False)."""
    sevenn_checkpoint = pytest.importorskip("sevenn.checkpoint")
    from sevenn.calculator import SevenNetCalculator
    from sevenn.util import pretrained_name_to_path

    from perovscreen.potentials.tasks import to_atoms

    atoms = to_atoms(get_example("Li3OCl"))
    atoms.rattle(0.02, seed=1)
    direct = atoms.copy()
    direct.calc = SevenNetCalculator("7net-0", device="cpu")  # sevenn's own loader, on the trusted bundled file
    e_direct, f_direct = direct.get_potential_energy(), direct.get_forces()

    def unsafe_load(*a, **kw):
        raise AssertionError("sevenn's weights_only=False loader was used")

    monkeypatch.setattr(sevenn_checkpoint, "torch_load", unsafe_load)
    calculators._sevenn.__wrapped__.cache_clear()
    user = tmp_path / "my_7net.pth"
    shutil.copyfile(pretrained_name_to_path("7net-0"), user)
    try:
        for calc in (get_calculator("sevenn", model="7net-0"), get_calculator("sevenn", model_path=user)):
            assert calculators.backend_name(calc) == "sevenn"
            a = atoms.copy()
            a.calc = calc
            assert a.get_potential_energy() == pytest.approx(e_direct, abs=1e-5)
            assert a.get_forces() == pytest.approx(f_direct, abs=1e-5)
    finally:
        calculators._sevenn.__wrapped__.cache_clear()  # do not leave calculators built under the patch


# ---------------------------------------------------------------- CHGNet (already weights_only; regression)

def test_chgnet_pickle_payload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth.tar"
    torch.save({"model": _System(f"touch {marker}")}, evil)
    msg = _refused(lambda: get_calculator("chgnet", model_path=evil), ModelError, marker)
    assert re.search(r"evil\.pth\.tar is not a compatible CHGNet checkpoint: it names the non-data global "
                     r"posix\.system", msg), msg


# ---------------------------------------------------------------- matgl

@pytest.fixture(scope="module")
def matgl_model_dir(tmp_path_factory):
    """A real (untrained, small) matgl M3GNet potential saved with matgl's own ``save()``."""
    pytest.importorskip("matgl")
    from matgl.apps.pes import Potential
    from matgl.models import M3GNet

    torch.manual_seed(0)
    model = M3GNet(element_types=("Li", "O", "Cl"), is_intensive=False, dim_node_embedding=16,
                   dim_edge_embedding=16, units=16, nblocks=1)
    d = tmp_path_factory.mktemp("matgl_model")
    Potential(model=model, element_refs=np.zeros(89, dtype=np.float32)).save(d)
    return d


def _matgl_copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_matgl_legitimate_model_loads(matgl_model_dir):
    from perovscreen.potentials.tasks import to_atoms

    calc = get_calculator("matgl", model_path=matgl_model_dir)
    assert calculators.backend_name(calc) == "matgl"
    atoms = to_atoms(get_example("Li3OCl"))
    atoms.calc = calc
    assert math.isfinite(atoms.get_potential_energy())


@pytest.mark.parametrize("ref", [
    {"@module": "subprocess", "@class": "Popen"},  # the measured repro
    {"@module": "os", "@class": "system"},
    {"@module": "matgl.utils.io", "@class": "hf_hub_download"},  # a matgl module, but not a model class
    {"@module": "matgl.models", "@class": "__builtins__"},
])
def test_matgl_model_pt_naming_code_is_refused(matgl_model_dir, tmp_path, ref):
    marker = tmp_path / "pwned"
    d = _matgl_copy(matgl_model_dir, tmp_path / "model")
    args = torch.load(d / "model.pt", weights_only=True)
    args["model"] = {**ref, "init_args": {"args": ["touch", str(marker)]}}
    torch.save(args, d / "model.pt")
    assert torch.load(d / "model.pt", weights_only=True)["model"]["@module"] == ref["@module"]  # loadable data
    msg = _refused(lambda: get_calculator("matgl", model_path=d), ModelError, marker, settle=0.3)
    assert str(d / "model.pt") in msg and f"{ref['@module']}.{ref['@class']}" in msg
    assert "not a matgl model class" in msg


def test_matgl_nested_and_model_json_references_are_refused(matgl_model_dir, tmp_path):
    marker = tmp_path / "pwned"
    evil = {"@module": "subprocess", "@class": "Popen", "init_args": {"args": ["touch", str(marker)]}}
    d = _matgl_copy(matgl_model_dir, tmp_path / "nested")
    args = torch.load(d / "model.pt", weights_only=True)
    args["model"]["init_args"]["extra"] = [evil]  # deeper than matgl looks today
    torch.save(args, d / "model.pt")
    msg = _refused(lambda: get_calculator("matgl", model_path=d), ModelError, marker, settle=0.3)
    assert re.search(r"model\.pt refused: it names subprocess\.Popen", msg), msg

    d = _matgl_copy(matgl_model_dir, tmp_path / "json")
    meta = json.loads((d / "model.json").read_text())
    meta["kwargs"]["model"] = evil
    (d / "model.json").write_text(json.dumps(meta))
    msg = _refused(lambda: get_calculator("matgl", model_path=d), ModelError, marker, settle=0.3)
    assert re.search(r"model\.json refused: it names subprocess\.Popen", msg), msg


@pytest.mark.parametrize("name", ["model.pt", "state.pt"])
def test_matgl_pickle_payload_is_refused(matgl_model_dir, tmp_path, name):
    marker = tmp_path / "pwned"
    d = _matgl_copy(matgl_model_dir, tmp_path / "model")
    torch.save({"x": _System(f"touch {marker}")}, d / name)
    msg = _refused(lambda: get_calculator("matgl", model_path=d), ModelError, marker)
    assert re.search(rf"{name} refused: it names the non-data global posix\.system", msg), msg


# ---------------------------------------------------------------- --entries JSON

def _entries():
    from pymatgen.entries.computed_entries import (
        ComputedEntry,
        ComputedStructureEntry,
        ConstantEnergyAdjustment,
    )

    li = ComputedEntry("Li", -1.9, entry_id="mp-135",
                       energy_adjustments=[ConstantEnergyAdjustment(-0.1, name="test")],
                       parameters={"run_type": "GGA"}, data={"oxide_type": "None"})
    s = get_example("Li3OCl")
    cse = ComputedStructureEntry(s, -23.5, entry_id="mp-985585", data={"source": "test"})
    return li, cse


def test_entries_json_roundtrip(tmp_path):
    from pymatgen.entries.computed_entries import ComputedStructureEntry

    li, cse = _entries()
    p = tmp_path / "entries.json"
    p.write_text(json.dumps([li.as_dict(), cse.as_dict()]))
    got = load_entries(p)
    assert [type(e).__name__ for e in got] == ["ComputedEntry", "ComputedStructureEntry"]
    assert got[0].energy == pytest.approx(li.energy) and got[0].correction == pytest.approx(-0.1)
    assert got[0].entry_id == "mp-135" and got[0].parameters == {"run_type": "GGA"}
    assert isinstance(got[1], ComputedStructureEntry) and got[1].structure == cse.structure
    assert got[1].energy == pytest.approx(-23.5) and got[1].data == {"source": "test"}
    # a single dict (not a list) and a dict without @module/@class (legacy exports) are read too
    p.write_text(json.dumps({k: v for k, v in li.as_dict().items() if not k.startswith("@")}))
    assert load_entries(p)[0].energy == pytest.approx(li.energy)


@pytest.fixture
def evil_module(tmp_path, monkeypatch):
    """An importable module whose import creates tmp_path/pwned (what MontyDecoder's import would do)."""
    name = f"evil_{uuid.uuid4().hex}"
    marker = tmp_path / "pwned"
    (tmp_path / f"{name}.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n\nclass X:\n    @classmethod\n    def from_dict(cls, d):\n"
        "        return cls()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, marker
    sys.modules.pop(name, None)


@pytest.mark.parametrize("where", ["top", "structure", "data", "adjustment", "callable"])
def test_entries_json_naming_code_is_refused(tmp_path, evil_module, where):
    name, marker = evil_module
    li, cse = _entries()
    ref = {"@module": name, "@class": "X"}
    if where == "top":
        d = {**li.as_dict(), **ref}
    elif where == "structure":
        d = cse.as_dict()
        d["structure"] = {**d["structure"], **ref}
    elif where == "data":
        d = cse.as_dict()
        d["data"] = {"payload": ref}
    elif where == "adjustment":
        d = li.as_dict()
        d["energy_adjustments"] = [ref]
    else:
        d = li.as_dict()
        d["data"] = {"payload": {"@module": name, "@callable": "X"}}
    p = tmp_path / "entries.json"
    p.write_text(json.dumps([d]))
    msg = _refused(lambda: load_entries(p), InputError, marker)
    assert str(p) in msg and name in msg and "refusing to import" in msg
    assert name not in sys.modules


def test_entries_json_wrong_pymatgen_class_and_garbage(tmp_path):
    from pymatgen.core import Lattice

    p = tmp_path / "entries.json"
    p.write_text(json.dumps([Lattice.cubic(3.0).as_dict()]))
    with pytest.raises(InputError, match="expected ComputedEntry or ComputedStructureEntry"):
        load_entries(p)
    p.write_text(json.dumps([{"@module": "pymatgen.entries.computed_entries", "@class": "ComputedEntry"}]))
    with pytest.raises(InputError, match="entry 0 is not a valid ComputedEntry"):
        load_entries(p)
    p.write_text(json.dumps([1, 2]))
    with pytest.raises(InputError, match="entry 0 is a int"):
        load_entries(p)


def test_structure_json_naming_code_is_refused(tmp_path):
    """A pymatgen structure JSON whose site properties name a module is refused before monty imports it;
    a real structure JSON still loads (intake reads .json structures as data)."""
    from perovscreen.structures.examples import get_example
    from perovscreen.structures.intake import load_file

    marker = tmp_path / "pwned"
    (tmp_path / "evilmod.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nclass P:\n    pass\n")
    sys.path.insert(0, str(tmp_path))
    try:
        d = get_example("Li3OCl").as_dict()
        d["sites"][0]["properties"] = {"x": {"@module": "evilmod", "@class": "P"}}
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(d))
        rec = load_file(bad)[0]
        assert rec.error and "evilmod.P, not a pymatgen data class" in rec.error
        assert not marker.exists(), "the payload ran"
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("evilmod", None)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(get_example("Li3OCl").as_dict()))
    rec = load_file(good)[0]
    assert rec.error is None and rec.formula == "Li3ClO"
