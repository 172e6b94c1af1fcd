"""`perovscreen elastic | interface | advanced CIFs...`: elastic constants, interface reactions and the
electrochemical window, or both, with one universal potential (docs/advanced.md)."""
from __future__ import annotations

from perovscreen.cli.common import guarded, run_stage_batch

COMMANDS = {
    "elastic": ("ELASTIC", "ElasticParams", "relaxed-ion elastic constants (GPa), VRH moduli, Born stability, Pugh "
                "ratio"),
    "interface": ("INTERFACE", "InterfaceParams", "reaction energy vs Li metal and a cathode (eV/atom) and the "
                  "electrochemical window (V vs Li/Li+)"),
    "advanced": ("ADVANCED", "AdvancedParams", "formation energy, interface reactions, window and elastic "
                 "constants together"),
}


def add_parser(sub) -> None:
    import perovscreen.potentials.advanced_stage as adv
    from perovscreen.jobs.runner import add_batch_arguments
    from perovscreen.jobs.stage import add_param_arguments

    for name, (stage, params, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_)
        add_batch_arguments(p)
        add_param_arguments(p, getattr(adv, params))
        p.set_defaults(func=_handler, advanced_stage=stage)


@guarded
def _handler(args) -> int:
    import perovscreen.potentials.advanced_stage as adv

    stage = getattr(adv, args.advanced_stage)
    params = stage.from_args(args)
    stage.identities(params)  # a missing weight file fails before the batch
    return run_stage_batch(stage, args, params)
