"""The neb stage through the runner and the CLI: parameters, identities, a batch with a bad input that
goes on, resume, and the compare table reading the same stored band."""
import argparse
import json

import pytest

from perovscreen.core.errors import InputError
from perovscreen.neb.settings import DEFAULTS
from perovscreen.neb.stage import NEB_STAGE

TINY = ["--potential", "chgnet", "--min-length", "0", "--n-images", "1", "--steps", "2", "--fmax", "0.5",
        "--no-relax-endpoints", "--max-hops", "1"]


def parser():
    from perovscreen.cli.neb import add_parser

    p = argparse.ArgumentParser()
    add_parser(p.add_subparsers())
    return p


def test_defaults_written_once_and_validated():
    p = NEB_STAGE.make()
    assert p == DEFAULTS and (p.spring, p.climb, p.n_images, p.optimizer) == (5.0, True, 5, "FIRE")
    assert {"model_path", "device", "pseudo_dir", "workdir", "plot_dir"} == set(NEB_STAGE.execution(p))
    with pytest.raises(InputError, match="neb potential: must be one of"):
        NEB_STAGE.make(potential="lj")
    with pytest.raises(InputError, match="neb mode"):
        NEB_STAGE.make(mode="split")
    ids = NEB_STAGE.identities(p)
    assert ids["potential"] == "chgnet" and ids["model"] == "0.3.0"
    assert NEB_STAGE.identities(NEB_STAGE.make(potential="sevenn"))["model"] == "7net-0"


@pytest.mark.slow
def test_batch_goes_on_resumes_and_compare_reads_the_store(tmp_path, capsys):
    from perovscreen.structures.examples import write_examples

    cifs = [str(p) for p in write_examples(tmp_path / "in", ["Li3OCl", "SrTiO3"])]
    db = str(tmp_path / "r.db")
    args = parser().parse_args(["neb", *cifs, "--db", db, "--json", "-q", "--executor", "serial", *TINY])
    assert args.func(args) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    ok = {r["file"].rsplit("/", 1)[-1]: r for r in rows}
    assert ok["SrTiO3.cif"]["status"] == "error" and "Li" in ok["SrTiO3.cif"]["error"]
    li = ok["Li3OCl.cif"]
    assert li["status"] == "ok" and li["hops"][0]["hop"]["supercell"] == [2, 2, 1]
    assert li["bvse"]["E1D"] == pytest.approx(0.49, abs=0.01) and li["hops"][0]["hop"]["on_bvse_path"]
    args = parser().parse_args(["neb", "compare", "--examples", "Li3OCl", "--potentials", "chgnet", "--db", db,
                                "--json", "--executor", "serial", *TINY])
    assert args.func(args) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    row = out[0]
    assert row["structure"] == "Li3OCl" and row["published"] == 0.367
    assert row["bvse"] == pytest.approx(0.49, abs=0.01)
    # a band that drops below its (here unrelaxed) endpoints is flagged and kept out of the metrics
    flagged = "not minima" in " ".join(li["hops"][0]["warnings"])
    assert (row["chgnet_raw"] if flagged else row["chgnet"]) == pytest.approx(li["min_barrier"])
    assert out[-1]["metrics"]["chgnet"]["vs_published"]["n"] == (0 if flagged else 1)


def test_structure_without_bvse_parameters_still_gets_its_band():
    """Li3P (OBELiX 11b): softBV has no Li-P(3-) pair, so the BVSE map is missing, with a warning; the NEB runs."""
    from types import SimpleNamespace

    from pymatgen.core import Structure

    from perovscreen.neb.stage import run_neb

    s = Structure.from_file("../shared/data/obelix/cifs/11b.cif")
    p = NEB_STAGE.make(potential="chgnet", min_length=0.0, n_images=1, steps=2, fmax=0.5, relax_endpoints=False,
                       max_hops=1)
    res = run_neb(SimpleNamespace(id="11b", structure=s), p)
    assert res.bvse == {} and any("no BVSE mapping" in w and "Li+1/P-3" in w for w in res.warnings)
    assert res.hops and res.hops[0].hop["on_bvse_path"] is None and len(res.hops[0].energies) == 3
