"""Hardening cases of the outside probe that live outside intake and the runner (each failed before)."""
import json
import math

import numpy as np
import pytest

from perovscreen.core.errors import InputError


def test_bvse_parameters_that_would_hang_are_refused():
    """`bvse --cutoff 1e9` hung; a tiny resolution would allocate a huge grid."""
    from perovscreen.bvse import compute_bvse
    from perovscreen.bvse.stage import BVSE
    from perovscreen.structures.examples import get_example

    with pytest.raises(InputError, match="cutoff: must be <= 30"):
        BVSE.make(cutoff=1e9)
    with pytest.raises(InputError, match="resolution: must be >= 0.02"):
        BVSE.make(resolution=0.001)
    with pytest.raises(InputError, match="compute_bvse cutoff: must be <= 30"):
        compute_bvse(get_example("Li3OCl"), cutoff=1e9)


def test_md_temperatures_nan_refused_before_running():
    from perovscreen.md.stage import MD

    with pytest.raises(InputError, match="must be finite"):
        MD.make(temperatures=(math.nan,))


def test_li_free_formulas_are_errors_not_predictions(tmp_path):
    from perovscreen.ml.predict import composition_rows

    class _Model:  # a unit-test stand-in for PropertyModel: only the Li check is under test
        features, alpha = ["li_frac"], 0.1

        def predict_arrays(self, X, compositions=None):
            v = np.zeros(len(X))
            return {"log10_sigma": (v, v - 1, v + 1)}

        def method(self, target):
            return "split-conformal"

    rows = composition_rows(_Model(), {}, [{"id": "a", "formula": "SrTiO3"}, {"id": "b", "formula": "LiF"}])
    assert rows.errors[0] and "no Li" in rows.errors[0] and rows.results[0] is None
    assert rows.errors[1] is None and json.loads(rows.lines[1])["status"] == "ok"


def test_report_survives_ids_with_markdown_characters():
    from perovscreen.report.report import _cell, _html

    text = "| id |\n|---|\n| " + _cell("a|b](c") + " |\n\n![arrhenius_x](y)](plots/a.png)"
    out = _html(text)
    assert out.count("<td>") == 1 and 'src="plots/a.png"' in out


class _ZeroCalc:
    """Unit-test stand-in for a potential (says so): zero energy, forces and stress for any cell."""

    def __new__(cls):
        from ase.calculators.calculator import Calculator, all_changes

        class Zero(Calculator):
            implemented_properties = ["energy", "forces", "stress"]

            def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
                super().calculate(atoms, properties, system_changes)
                self.results = {"energy": 0.0, "forces": np.zeros((len(atoms), 3)), "stress": np.zeros(6)}

        return Zero()


def test_stability_without_relaxation_accepts_oxidation_states():
    """`stability --no-relax` failed on every structure: the candidate kept its oxidation states and the
    phase diagram rejected 'Li+3 Cl-1 O2-1'. Hand-computed hull: references Li, O2, Cl2 at 0 eV/atom and
    Li2O at -2 eV/atom, LiCl at -1.5 eV/atom; Li3OCl at 0 eV sits above 1 Li2O + 1 LiCl (5 atoms, -9 eV):
    E_hull = 9/5 = 1.8 eV/atom."""
    from pymatgen.entries.computed_entries import ComputedEntry

    from perovscreen.potentials.stability import energy_above_hull
    from perovscreen.structures.examples import get_example

    s = get_example("Li3OCl")
    s.add_oxidation_state_by_element({"Li": 1, "O": -2, "Cl": -1})
    entries = [ComputedEntry("Li", 0.0), ComputedEntry("O2", 0.0), ComputedEntry("Cl2", 0.0),
               ComputedEntry("Li2O", -6.0), ComputedEntry("LiCl", -3.0)]
    res = energy_above_hull(s, _ZeroCalc(), entries=entries, use_references=False, relax_candidate=False)
    assert res.e_above_hull == pytest.approx(1.8) and not res.relaxed
    assert res.decomposition == {"Li2O": pytest.approx(0.6), "LiCl": pytest.approx(0.4)}


def test_same_stem_inputs_keep_their_own_grid_files(tmp_path):
    """Two `x.cif` from different folders wrote the same x.cube; the file hash now tells them apart."""
    from pymatgen.io.cif import CifWriter

    from perovscreen.bvse.stage import BVSE
    from perovscreen.jobs.runner import RunOptions, execute_batch
    from perovscreen.structures.examples import get_example

    for d, name in (("a", "Li3OCl"), ("b", "LiNbO3")):
        (tmp_path / d).mkdir()
        CifWriter(get_example(name)).write_file(tmp_path / d / "x.cif")
    grids = tmp_path / "grids"
    execute_batch(BVSE, [tmp_path / "a", tmp_path / "b"], BVSE.make(resolution=0.5, grid_dir=str(grids)),
                  RunOptions(db=str(tmp_path / "r.db"), quiet=True))
    assert len(list(grids.glob("x-*.cube"))) == 2 and len(list(grids.glob("x-*.grd"))) == 2


def test_ctrl_c_gives_one_line_not_a_traceback(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from pymatgen.io.cif import CifWriter

    from perovscreen.structures.examples import get_example

    for k in range(40):
        s = get_example("LiFePO4")
        s.scale_lattice(s.volume * (1 + 1e-3 * k))
        CifWriter(s).write_file(tmp_path / f"s{k}.cif")
    p = subprocess.Popen([sys.executable, "-m", "perovscreen", "bvse", str(tmp_path), "--db", str(tmp_path / "r.db"),
                          "--resolution", "0.1", "-q"], stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # a crash prints where it happened
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    deadline = time.time() + 60
    while time.time() < deadline and not (tmp_path / "r.db").exists():
        time.sleep(0.1)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=60)[1]
    assert p.returncode == 130 and "Traceback" not in err and "interrupted" in err, err[-3000:]


def test_missing_entries_file_is_refused_not_stored(tmp_path):
    """`--entries missing.json` was stored as a final input error and replayed after the file existed."""
    import subprocess
    import sys

    from perovscreen.structures.examples import write_examples

    cif = write_examples(tmp_path, ["Li3OCl"])[0]
    db = tmp_path / "r.db"
    r = subprocess.run([sys.executable, "-m", "perovscreen", "stability", str(cif), "--entries",
                        str(tmp_path / "missing.json"), "--db", str(db), "-q"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2 and "entries file not found" in r.stderr
    if db.exists():
        from perovscreen.store import open_store

        with open_store(db) as store:
            assert store.runs("stability") == []
