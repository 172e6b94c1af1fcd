"""Hardening of intake against hostile or broken inputs (the outside probe's repros).

Every refusal is one line naming the file, stored as that input's error; the batch goes on.
"""
import os
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from perovscreen.core.errors import InputError
from perovscreen.structures.intake import DEFAULT_MAX_ATOMS, expand_paths, load_file, load_structures
from perovscreen.structures.space import parse_space

HEAD = """data_{name}
_cell_length_a {a}
_cell_length_b 3.909
_cell_length_c 3.909
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_symmetry_equiv_pos_as_xyz
'x, y, z'
"""
SITES = """loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Li0 {li} 0.5 0 0 {occ}
Li1 {li} 0 0.5 0 1
Li2 {li} 0 0 0.5 1
O3 {o} 0 0 0 1
Cl4 {cl} 0.5 0.5 0.5 1
"""
STATES = """loop_
_atom_type_symbol
_atom_type_oxidation_number
{li} 1
{o} -2
{cl} {clq}
"""


def li3ocl_cif(name="t", a="3.909", occ="1", li="Li", o="O", cl="Cl", clq=None):
    text = HEAD.format(name=name, a=a)
    if clq is not None:
        text += STATES.format(li=li, o=o, cl=cl, clq=clq)
    return text + SITES.format(li=li, o=o, cl=cl, occ=occ)


def big_p1_cif(path: Path, n: int) -> Path:
    """A P1 CIF with n atoms on a simple grid (Li2O-like, no overlaps)."""
    m = int(np.ceil(n ** (1 / 3)))
    a = m * 2.2
    lines = ["data_big", f"_cell_length_a {a:.4f}", f"_cell_length_b {a:.4f}", f"_cell_length_c {a:.4f}",
             "_cell_angle_alpha 90", "_cell_angle_beta 90", "_cell_angle_gamma 90",
             "loop_", "_symmetry_equiv_pos_as_xyz", "'x, y, z'", "loop_", "_atom_site_label",
             "_atom_site_type_symbol", "_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z"]
    idx = np.array(np.unravel_index(np.arange(n), (m, m, m))).T / m
    for i, (x, y, z) in enumerate(idx):
        el = "O" if i % 3 == 0 else "Li"
        lines.append(f"{el}{i} {el} {x:.6f} {y:.6f} {z:.6f}")
    path.write_text("\n".join(lines) + "\n")
    return path


PM3M = """data_Li3OCl_Pm-3m
_cell_length_a 3.909
_cell_length_b 3.909
_cell_length_c 3.909
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P m -3 m'
_symmetry_Int_Tables_number 221
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Li1 Li 0.5 0 0
O1 O 0 0 0
Cl1 Cl 0.5 0.5 0.5
"""


def one(path, **kw):
    recs = load_file(path, **kw)
    assert len(recs) == 1
    return recs[0]


def assert_one_line_error(rec, path, *needles):
    assert rec.error, f"{path} accepted: {rec.formula}"
    assert "\n" not in rec.error
    assert str(path) in rec.error
    for n in needles:
        assert n.lower() in rec.error.lower(), (n, rec.error)


# 1. giant inputs --------------------------------------------------------------------------------------


def test_giant_p1_cif_rejected_before_parsing(tmp_path):
    path = big_p1_cif(tmp_path / "giant.cif", 20_000)
    t0 = time.perf_counter()
    rec = one(path)
    elapsed = time.perf_counter() - t0
    assert_one_line_error(rec, path, "20000", str(DEFAULT_MAX_ATOMS), "--max-atoms")
    assert elapsed < 2.0, elapsed


def test_p1_cif_within_limit_still_read(tmp_path):
    path = big_p1_cif(tmp_path / "medium.cif", 64)
    rec = one(path, ion="Li", max_atoms=64)
    assert rec.ok, rec.error
    assert rec.n_sites == 64


def test_symmetric_cif_on_special_positions_not_rejected(tmp_path):
    """3 rows x 48 operations = 144 > 4 x 5, but the cell has 5 sites: the bound must not reject it."""
    path = tmp_path / "pm3m.cif"
    path.write_text(PM3M)
    rec = one(path, max_atoms=5)
    assert rec.ok, rec.error
    assert rec.n_sites == 5
    rec = one(path, max_atoms=4)  # within the slack: parsed, then refused on the exact count
    assert_one_line_error(rec, path, "5 sites", "--max-atoms")
    rec = one(path, max_atoms=2)  # refused before parsing, from the expanded rows
    assert_one_line_error(rec, path, "about 5 atoms", "symmetry operations", "--max-atoms")


def test_giant_poscar_rejected_from_counts_line(tmp_path):
    n_li, n_o = 15_000, 5_000
    rng = np.random.default_rng(0)
    coords = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in rng.random((n_li + n_o, 3)))
    path = tmp_path / "POSCAR_giant"
    path.write_text(f"giant\n1.0\n60 0 0\n0 60 0\n0 0 60\nLi O\n{n_li} {n_o}\nDirect\n{coords}\n")
    t0 = time.perf_counter()
    rec = one(path)
    assert time.perf_counter() - t0 < 2.0
    assert_one_line_error(rec, path, "20000", "--max-atoms")


def test_giant_xyz_rejected_from_count_line(tmp_path):
    n = 30_000
    rng = np.random.default_rng(0)
    body = "\n".join(f"Li {x:.5f} {y:.5f} {z:.5f}" for x, y, z in rng.random((n, 3)) * 80)
    path = tmp_path / "giant.xyz"
    path.write_text(f"{n}\ncomment\n{body}\n")
    t0 = time.perf_counter()
    rec = one(path)
    assert time.perf_counter() - t0 < 2.0
    assert_one_line_error(rec, path, str(n), "--max-atoms")


# 2. accepted as ok, must be refused ----------------------------------------------------------------


def test_negative_occupancy_refused(tmp_path):
    path = tmp_path / "negocc.cif"
    path.write_text(li3ocl_cif(occ="-0.5"))
    assert_one_line_error(one(path), path, "negative occupancy", "Li0")


def test_unknown_element_refused_with_and_without_file_states(tmp_path):
    plain = tmp_path / "xx.cif"
    plain.write_text(li3ocl_cif(cl="Xx"))
    assert_one_line_error(one(plain), plain, "unknown element", "Xx")
    labelled = tmp_path / "xx_states.cif"
    labelled.write_text(li3ocl_cif(li="Li+", o="O2-", cl="Xx-", clq=-1))
    assert_one_line_error(one(labelled), labelled, "unknown element", "Xx")


def test_negative_lattice_parameter_refused(tmp_path):
    path = tmp_path / "neglat.cif"
    path.write_text(li3ocl_cif(a="-3.909"))
    assert_one_line_error(one(path), path, "_cell_length_a", "-3.909")


def test_unbalanced_file_oxidation_states_refused(tmp_path):
    path = tmp_path / "unbalanced.cif"
    path.write_text(li3ocl_cif(li="Li+", o="O2-", cl="Cl+", clq=1))  # +3 +1 -2: net +2 of 4
    assert_one_line_error(one(path), path, "oxidation states", "net charge")


def test_balanced_and_slightly_unbalanced_file_states(tmp_path):
    good = tmp_path / "balanced.cif"
    good.write_text(li3ocl_cif(li="Li+", o="O2-", cl="Cl-", clq=-1))
    rec = one(good)
    assert rec.ok and rec.oxidation_source == "file" and not rec.warnings
    # one Li site 70 % occupied (unlocated Li): net -0.3 of 2.7 cation charge: kept, with a warning
    part = tmp_path / "partial.cif"
    part.write_text(li3ocl_cif(li="Li+", o="O2-", cl="Cl-", clq=-1, occ="0.7"))
    rec = one(part)
    assert rec.ok, rec.error
    assert rec.oxidation_source == "file"
    assert any("charge imbalance" in w and "file" in w for w in rec.warnings), rec.warnings


# 3. multi-block CIFs ---------------------------------------------------------------------------------


BAD_BLOCK = "data_broken\n_cell_length_a 3\nloop_\n_atom_site_label\n_atom_site_fract_x\nLi1 zz\n"


def test_bad_block_keeps_its_index_and_gets_an_error(tmp_path):
    path = tmp_path / "multi.cif"
    path.write_text(li3ocl_cif(name="first") + BAD_BLOCK + li3ocl_cif(name="third"))
    recs = load_file(path)
    assert [r.block for r in recs] == [0, 1, 2]
    assert [r.id for r in recs] == ["multi#0", "multi#1", "multi#2"]
    assert recs[0].ok and recs[2].ok
    assert_one_line_error(recs[1], path, "block 1", "broken")
    assert len({r.key for r in recs}) == 3


def test_bad_first_block_does_not_renumber_the_rest(tmp_path):
    path = tmp_path / "multi2.cif"
    path.write_text(BAD_BLOCK + li3ocl_cif(name="second"))
    recs = load_file(path)
    assert [r.block for r in recs] == [0, 1]
    assert recs[0].error and not recs[1].error


# 4. pymatgen's real reason ---------------------------------------------------------------------------


def test_parse_error_keeps_pymatgens_reason(tmp_path):
    path = tmp_path / "malformed.cif"
    path.write_text(BAD_BLOCK)
    rec = one(path)
    assert_one_line_error(rec, path, "could not parse")
    assert "no structures" not in rec.error
    assert "zz" in rec.error or "_cell_length_b" in rec.error, rec.error


def test_bad_coordinate_reason_is_pymatgens(tmp_path):
    path = tmp_path / "badcoord.cif"
    path.write_text(li3ocl_cif().replace("Cl4 Cl 0.5 0.5 0.5 1", "Cl4 Cl 0.5 zz 0.5 1"))
    rec = one(path)
    assert_one_line_error(rec, path, "could not parse", "could not convert string to float", "zz")


def test_missing_coordinates_reason(tmp_path):
    path = tmp_path / "nocoords.cif"
    path.write_text(HEAD.format(name="n", a="3.9") + "loop_\n_atom_site_label\n_atom_site_type_symbol\nLi1 Li\n")
    rec = one(path)
    assert_one_line_error(rec, path, "_atom_site_fract_x")


# 5. symlink loops ------------------------------------------------------------------------------------


def test_symlink_loops_are_skipped_with_one_line(tmp_path, capsys):
    good = tmp_path / "good.cif"
    good.write_text(li3ocl_cif())
    loop = tmp_path / "loop"
    os.symlink("loop", loop)
    d = tmp_path / "d"
    d.mkdir()
    os.symlink("../d", d / "self")
    os.symlink("a.cif", d / "a.cif")
    (d / "b.cif").write_text(li3ocl_cif(name="b"))
    skipped = []
    files = expand_paths([str(loop), str(good), str(d), str(tmp_path / "*.cif")], skipped=skipped)
    assert files == [good, d / "b.cif"]
    assert sorted(str(p) for p, _ in skipped) == sorted([str(loop), str(d / "a.cif")])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("symlink loop" in line for line in err), err
    recs = load_structures([str(loop), str(good), str(d)])
    assert [r.ok for r in recs] == [True, True]


def test_load_file_on_a_symlink_loop_is_an_error_record(tmp_path):
    loop = tmp_path / "loop.cif"
    os.symlink("loop.cif", loop)
    rec = one(loop)
    assert_one_line_error(rec, loop, "cannot read")


# 6. chemical-space names -----------------------------------------------------------------------------


def _space(name):
    data = yaml.safe_load((Path(__file__).parents[2] / "perovscreen/pipeline/data/demo_space.yaml").read_text())
    data["name"] = name
    return data


@pytest.mark.parametrize("name", ["../x", "/tmp/evil", "a/b", "a\\b", ".hidden", "..", "", "a b", "x\x00y"])
def test_space_name_must_be_a_plain_file_name(name):
    with pytest.raises(InputError, match="name"):
        parse_space(_space(name), "s.yaml")


def test_space_name_plain_ok_and_default_from_file_stem():
    assert parse_space(_space("demo-abo3_v1.2"), "s.yaml").name == "demo-abo3_v1.2"
    data = _space("x")
    del data["name"]
    assert parse_space(data, "dir/.my space.yaml").name == "my_space"
