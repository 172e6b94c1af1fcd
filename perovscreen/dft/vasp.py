"""VASP input generation only (no VASP here): Materials-Project-compatible relaxation/static folders and VTST
climbing-image NEB folders, with POTCAR.spec (the POTCAR symbols) instead of the licensed POTCAR files."""
from __future__ import annotations

from pathlib import Path

from pymatgen.core import Structure

from perovscreen.core.errors import InputError

TASKS = ("relax", "static")
# VTST CI-NEB on top of the MP settings, after pymatgen's MVLCINEBSet / the MIT NEB base (see docs/dft.md)
CINEB_INCAR = {"IBRION": 3, "POTIM": 0, "IOPT": 1, "ICHAIN": 0, "LCLIMB": True, "SPRING": -5, "EDIFF": 5e-5,
               "EDIFFG": -0.02, "ISIF": 2, "NSW": 200, "ISMEAR": 0, "ISYM": 0, "LCHARG": False}


def _input_set(structure: Structure, task: str, user_incar: dict | None):
    from pymatgen.io.vasp.sets import MPRelaxSet, MPStaticSet

    if task not in TASKS:
        raise InputError(f"unknown VASP task {task!r} (known: {', '.join(TASKS)})")
    if not structure.is_ordered:
        raise InputError(f"{structure.formula}: partial occupancies; order the structure before writing VASP inputs")
    cls = MPRelaxSet if task == "relax" else MPStaticSet
    return cls(structure, user_incar_settings=user_incar or {})


def vasp_inputs(structure: Structure, outdir: str | Path, task: str = "relax", user_incar: dict | None = None) -> Path:
    """INCAR, KPOINTS, POSCAR and POTCAR.spec of an MP relaxation (MPRelaxSet) or static (MPStaticSet)."""
    out = Path(outdir)
    _input_set(structure, task, user_incar).write_input(str(out), potcar_spec=True)
    return out


def neb_images(initial: Structure, final: Structure, n_images: int) -> list[Structure]:
    """Linear interpolation with `n_images` intermediate images (end points included: n_images + 2)."""
    if n_images < 1:
        raise InputError(f"a NEB needs at least one intermediate image, got {n_images}")
    if len(initial) != len(final):
        raise InputError(f"NEB end points differ in size: {len(initial)} and {len(final)} sites")
    return initial.interpolate(final, nimages=n_images + 1, autosort_tol=0.5)


def neb_inputs(images: list[Structure], outdir: str | Path, user_incar: dict | None = None) -> Path:
    """A VTST CI-NEB folder: INCAR (MP settings + CINEB_INCAR, IMAGES = N), KPOINTS and POTCAR.spec at the top,
    one POSCAR in each of 00 .. N+1 (the end points' folders also hold the end point structures)."""
    if len(images) < 3:
        raise InputError(f"a NEB needs two end points and at least one image, got {len(images)} structures")
    out = Path(outdir)
    n = len(images) - 2
    incar = {**CINEB_INCAR, "IMAGES": n, **(user_incar or {})}
    _input_set(images[0], "relax", incar).write_input(str(out), potcar_spec=True)
    (out / "POSCAR").unlink(missing_ok=True)  # VASP reads 00/POSCAR ... NN/POSCAR in a NEB
    for i, s in enumerate(images):
        d = out / f"{i:02d}"
        d.mkdir(exist_ok=True)
        s.to(filename=str(d / "POSCAR"), fmt="poscar")
    return out
