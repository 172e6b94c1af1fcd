"""`perovscreen dft static | relax | gw | vasp-inputs`: GPAW / Quantum ESPRESSO through ASE, VASP inputs only."""
from __future__ import annotations

import sys

from perovscreen.cli.common import guarded, run_stage_batch


def add_parser(sub) -> None:
    from perovscreen.dft.stage import DFTParams, DFTRelaxParams, GWParams
    from perovscreen.jobs.runner import add_batch_arguments
    from perovscreen.jobs.stage import add_param_arguments

    d = sub.add_parser("dft", help="DFT with GPAW or Quantum ESPRESSO (pw.x), G0W0 gaps, VASP inputs")
    dsub = d.add_subparsers(dest="dft_command", required=True)
    for name, params, fn, text in (("static", DFTParams, cmd_static, "single point: energy, forces, stress, gap"),
                                   ("relax", DFTRelaxParams, cmd_relax, "relaxation (fixed or variable cell), "
                                    "continues after a kill"),
                                   ("gw", GWParams, cmd_gw, "G0W0@PBE band gap of small cells (GPAW)")):
        p = dsub.add_parser(name, help=text)
        add_batch_arguments(p)
        add_param_arguments(p, params)
        p.set_defaults(func=fn)
    v = dsub.add_parser("vasp-inputs", help="Materials-Project VASP folders (POTCAR.spec) or a VTST CI-NEB folder")
    v.add_argument("files", nargs="+", help="one structure (relax/static), or the NEB's initial and final ones")
    v.add_argument("--task", choices=["relax", "static", "neb"], default="relax")
    v.add_argument("--images", type=int, default=5, help="NEB intermediate images (default 5)")
    v.add_argument("--output", "-o", required=True, help="folder to write")
    v.set_defaults(func=cmd_vasp_inputs)


def _run_checked(stage, args) -> int:
    """Resolve the engine (packages, pseudopotential hashes) before the batch: a bad setup fails in one line."""
    params = stage.from_args(args)
    stage.identities(params)
    return run_stage_batch(stage, args, params)


@guarded
def cmd_static(args) -> int:
    from perovscreen.dft.stage import DFT_STATIC

    return _run_checked(DFT_STATIC, args)


@guarded
def cmd_relax(args) -> int:
    from perovscreen.dft.stage import DFT_RELAX

    return _run_checked(DFT_RELAX, args)


@guarded
def cmd_gw(args) -> int:
    from perovscreen.dft.stage import DFT_GW

    return _run_checked(DFT_GW, args)


@guarded
def cmd_vasp_inputs(args) -> int:
    from pymatgen.core import Structure

    from perovscreen.core.errors import InputError
    from perovscreen.dft.vasp import neb_images, neb_inputs, vasp_inputs

    structures = []
    for f in args.files:  # read as given: NEB end points with a vacancy are charged cells, not intake material
        try:
            structures.append(Structure.from_file(f))
        except Exception as exc:  # noqa: BLE001 - any reader failure is bad input, reported in one line
            raise InputError(f"{f}: cannot read a structure ({type(exc).__name__}: {str(exc)[:120]})") from exc
    if args.task == "neb":
        if len(structures) != 2:
            raise InputError(f"--task neb needs the initial and the final structure, got {len(structures)} files")
        out = neb_inputs(neb_images(*structures, args.images), args.output)
    else:
        if len(structures) != 1:
            raise InputError(f"--task {args.task} takes one structure, got {len(structures)} files")
        out = vasp_inputs(structures[0], args.output, args.task)
    print(f"wrote {out}", file=sys.stderr)
    return 0
